package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/gate"
)

// adultSplit writes the Adult training file's first rows as train.csv and
// its last 6,512 as holdout.csv into dir, and returns them with the
// holdout file, which plays a synthetic table of unseen real rows.
func adultSplit(t *testing.T, dir string) (train, holdout, synth string) {
	t.Helper()
	const datasets = "../../../../shared/datasets"
	synth = filepath.Join(datasets, "adult.holdout.csv")
	f, err := os.Open(filepath.Join(datasets, "adult.train.csv"))
	if err != nil {
		t.Fatalf("dataset adult.train.csv is missing (expected in %s relative to functions/cmd/synthos): %v", datasets, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(synth); err != nil {
		t.Fatalf("dataset adult.holdout.csv is missing: %v", err)
	}
	cut := len(recs) - 6512
	write := func(name string, rows [][]string) string {
		p := filepath.Join(dir, name)
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		if err := w.WriteAll(append([][]string{recs[0]}, rows...)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("train.csv", recs[1:cut]), write("holdout.csv", recs[cut:]), synth
}

// TestEvaluateAdult runs the command end to end: unseen real rows pass the
// gate; the same rows fail it under strict thresholds or without a
// holdout, and the reports are written either way.
func TestEvaluateAdult(t *testing.T) {
	dir := t.TempDir()
	train, holdout, synth := adultSplit(t, dir)
	strict := filepath.Join(dir, "strict.json")
	if err := os.WriteFile(strict, []byte(`{"min_column_shapes": 0.999}`), 0o644); err != nil {
		t.Fatal(err)
	}
	misspelt := filepath.Join(dir, "misspelt.json")
	if err := os.WriteFile(misspelt, []byte(`{"min_column_shape": 0.9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--target", "income", "--sensitive", "income", "--quasi", "age,sex, race", "--seed", "3", "--discriminator-rows", "1500"}
	tests := []struct {
		name    string
		args    []string
		err     error    // nil: success
		stdout  []string // substrings of the summary
		reports bool     // the JSON and HTML reports are written
		pass    bool     // the JSON report's gate.pass
	}{
		{"unseen rows pass", []string{train, synth, "--holdout", holdout}, nil,
			[]string{"Release gate: PASS", "Faithful: synthetic columns match the real ones closely", "Safe: synthetic rows are no closer", "DCR share"}, true, true},
		{"strict thresholds fail", []string{train, synth, "--holdout", holdout, "--thresholds", strict}, errGateFailed,
			[]string{"Release gate: FAIL (1 of 9 checks)", "Column Shapes"}, true, false},
		{"no holdout fails", []string{train, synth}, errGateFailed,
			[]string{"Release gate: FAIL", "Privacy   not measured", "DCR share not measured"}, true, false},
		{"misspelt threshold", []string{train, synth, "--holdout", holdout, "--thresholds", misspelt}, gate.ErrThresholds, nil, false, false},
		{"one table", []string{train}, errUsage, nil, false, false},
		{"missing synthetic file", []string{train, filepath.Join(dir, "absent.csv")}, os.ErrNotExist, nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			jsonPath, htmlPath := filepath.Join(out, "report.json"), filepath.Join(out, "report.html")
			args := append(append(append([]string{}, tt.args...), common...), "--json", jsonPath, "--report", htmlPath)
			var stdout, stderr bytes.Buffer
			err := runEvaluate(context.Background(), args, &stdout, &stderr)
			switch {
			case tt.err == nil && err != nil:
				t.Fatalf("evaluate: %v\n%s", err, stderr.String())
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Fatalf("evaluate error = %v, want %v", err, tt.err)
			}
			for _, s := range tt.stdout {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("summary lacks %q:\n%s", s, stdout.String())
				}
			}
			b, jerr := os.ReadFile(jsonPath)
			_, herr := os.Stat(htmlPath)
			if !tt.reports {
				if jerr == nil || herr == nil {
					t.Errorf("reports written after a failure before evaluation")
				}
				return
			}
			if jerr != nil || herr != nil {
				t.Fatalf("reports not written: %v, %v", jerr, herr)
			}
			var rep struct {
				Version int `json:"version"`
				Gate    struct {
					Pass bool `json:"pass"`
				} `json:"gate"`
				Inputs struct {
					Seed  uint64   `json:"seed"`
					Quasi []string `json:"quasi"`
				} `json:"inputs"`
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatalf("JSON report: %v", err)
			}
			if rep.Version != 1 || rep.Gate.Pass != tt.pass || rep.Inputs.Seed != 3 || strings.Join(rep.Inputs.Quasi, ",") != "age,sex,race" {
				t.Errorf("JSON report = %+v", rep)
			}
			leftovers, _ := filepath.Glob(filepath.Join(out, ".*tmp*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary files left behind: %v", leftovers)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a", []string{"a"}},
		{" a, b ,,c ", []string{"a", "b", "c"}},
		{",", nil},
	}
	for _, tt := range tests {
		if got := splitList(tt.in); strings.Join(got, "|") != strings.Join(tt.want, "|") || len(got) != len(tt.want) {
			t.Errorf("splitList(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
