package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGenerateSamplesALargeInput fits on a table larger than --sample-mb
// holds: the model sees a sample, the report says how many rows, and a
// DP fit (whose guarantee does not cover a subsample) sees every row.
func TestGenerateSamplesALargeInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "big.csv")
	// 3 columns: 1 MiB holds 1 MiB / (4 × 64 B) = 4096 rows; 12000 do not
	// fit. Every 1000th row has the rare category "z".
	var b strings.Builder
	b.WriteString("age,group,score\n")
	const n = 12_000
	for i := range n {
		g := []string{"a", "b", "c"}[i%3]
		if i%1000 == 500 {
			g = "z"
		}
		fmt.Fprintf(&b, "%d,%s,%d.5\n", 20+i%50, g, i%997)
	}
	if err := os.WriteFile(in, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		sampled bool
	}{
		{"budget", []string{"--sample-mb", "1"}, true},
		{"no budget", []string{"--sample-mb", "0"}, false},
		{"dp fits on every row", []string{"--sample-mb", "1", "--epsilon", "5"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := filepath.Join(dir, tc.name+".json")
			args := append([]string{"generate", in, "-n", "2000", "-o", filepath.Join(dir, tc.name+".csv"), "--json", rep, "--quiet", "--eval-rows", "2000"}, tc.args...)
			_, stderr, err := runCLI(t, args...)
			// The gate's verdict is not what this test is about (a DP
			// model on a made-up table may fail it); the report is.
			if err != nil && !errors.Is(err, errGateFailed) {
				t.Fatalf("%v\n%s", err, stderr)
			}
			raw, err := os.ReadFile(rep)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Inputs struct {
					Train    struct{ Rows int }
					Holdout  struct{ Rows int }
					Sampling *struct {
						RowsSeen  int64 `json:"rows_seen"`
						RowsTotal int64 `json:"rows_total"`
					}
				}
			}
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatal(err)
			}
			s := got.Inputs.Sampling
			if !tc.sampled {
				// Whole: the holdout is the usual 20% and the rest trains.
				if s != nil || got.Inputs.Train.Rows != n-n/5 || got.Inputs.Holdout.Rows != n/5 {
					t.Fatalf("sampling %+v, train %d, holdout %d; want every row (%d + %d)", s, got.Inputs.Train.Rows, got.Inputs.Holdout.Rows, n-n/5, n/5)
				}
				return
			}
			if s == nil || s.RowsTotal != n || s.RowsSeen != int64(got.Inputs.Train.Rows) || s.RowsSeen < 4096 || s.RowsSeen >= n-int64(got.Inputs.Holdout.Rows) {
				t.Fatalf("sampling %+v with train %d holdout %d; want a sample of 4096+ of %d rows", s, got.Inputs.Train.Rows, got.Inputs.Holdout.Rows, n)
			}
			if !strings.Contains(stderr, "stratified sample") {
				t.Errorf("stderr does not say the fit was on a sample:\n%s", stderr)
			}
		})
	}
}
