package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/table"
)

func readReport(t *testing.T, path string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r report.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestGenerateConditionalReport: smokers generated with --where smoker=yes
// from examples/insurance.csv are judged against the real smokers and pass
// the release gate with its default thresholds (exit status 0).
func TestGenerateConditionalReport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	_, stderr, err := runCLI(t, "generate", "../../../examples/insurance.csv", "-n", "2000", "-o", filepath.Join(dir, "smokers.csv"),
		"--where", "smoker=yes", "--json", js, "--target", "charges", "--quiet")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	r := readReport(t, js)
	if !r.Gate.Pass || r.Quality == nil || r.Quality.RealRows >= r.Inputs.Train.Rows/2 {
		t.Errorf("gate %v, judged against %d of %d training rows", r.Gate.Pass, r.Quality.RealRows, r.Inputs.Train.Rows)
	}
}

// TestEvaluateReadsRawCells: a synthetic CSV written by synthos holds
// escaped text cells ("'=x"); evaluate reads them raw, so a copied
// training row is seen as a copy and the text column's shape matches.
func TestEvaluateReadsRawCells(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tags := []string{"@web", "=x", "-note", "+1 555", "plain"}
	write := func(name string, from, n int, kinds bool) string {
		p := filepath.Join(dir, name)
		cols := []table.Column{{Name: "tag"}, {Name: "n"}}
		if kinds {
			cols[1].Kind = table.Int
		}
		w, err := table.Create(p, table.CSV, cols)
		if err != nil {
			t.Fatal(err)
		}
		for i := from; i < from+n; i++ {
			if err := w.Write([]string{tags[i%len(tags)], fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The real tables as a user has them (unescaped), and a synthetic
	// table that copies 200 training rows, as synthos writes it.
	real := filepath.Join(dir, "real.csv")
	holdout := filepath.Join(dir, "holdout.csv")
	var rb, hb []byte
	rb, hb = append(rb, "tag,n\n"...), append(hb, "tag,n\n"...)
	for i := range 300 {
		rb = fmt.Appendf(rb, "%s,%d\n", tags[i%len(tags)], i)
	}
	for i := 1000; i < 1100; i++ {
		hb = fmt.Appendf(hb, "%s,%d\n", tags[i%len(tags)], i)
	}
	if err := os.WriteFile(real, rb, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(holdout, hb, 0o600); err != nil {
		t.Fatal(err)
	}
	syn := write("syn.csv", 0, 200, true)
	js := filepath.Join(dir, "r.json")
	_, stderr, err := runCLI(t, "evaluate", real, syn, "--holdout", holdout, "--json", js, "--discriminator-rows", "-1")
	if err == nil {
		t.Fatal("a table of copies passed the gate")
	}
	r := readReport(t, js)
	if s := r.Privacy.Identical.SyntheticShare; s != 1 {
		t.Errorf("identical-row share %v of copied rows, want 1\n%s", s, stderr)
	}
	for _, c := range r.Quality.Columns {
		if c.Name == "tag" && c.Shape < 0.95 {
			t.Errorf("tag shape %v: escaped cells were scored as other values", c.Shape)
		}
	}
}
