package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/table"
)

const insurance = "../../../../shared/datasets/insurance.train.csv"

func needDataset(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("dataset %s is missing (clone the project with ../shared beside it): %v", path, err)
	}
}

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

func readOut(t *testing.T, path string) *table.Table {
	t.Helper()
	tb, err := readTable(path, table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestGenerateFormatsAndDeterminism(t *testing.T) {
	t.Parallel()
	needDataset(t, insurance)
	dir := t.TempDir()
	for _, name := range []string{"a.csv", "b.csv", "c.jsonl", "d.parquet"} {
		if _, stderr, err := runCLI(t, "generate", insurance, "-n", "500", "-o", filepath.Join(dir, name), "--seed", "4", "--quiet"); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, stderr)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "a.csv"))
	b, _ := os.ReadFile(filepath.Join(dir, "b.csv"))
	if !bytes.Equal(a, b) {
		t.Error("same seed, different bytes")
	}
	csvT := readOut(t, filepath.Join(dir, "a.csv"))
	for _, name := range []string{"c.jsonl", "d.parquet"} {
		other := readOut(t, filepath.Join(dir, name))
		if len(other.Rows) != 500 || strings.Join(other.Columns, ",") != strings.Join(csvT.Columns, ",") {
			t.Errorf("%s: %d rows, columns %v", name, len(other.Rows), other.Columns)
		}
	}
}

func TestGenerateWhereAndSaveModel(t *testing.T) {
	t.Parallel()
	needDataset(t, insurance)
	dir := t.TempDir()
	model := filepath.Join(dir, "m.bin")
	out := filepath.Join(dir, "smokers.csv")
	if _, stderr, err := runCLI(t, "generate", insurance, "-n", "300", "-o", out, "--where", "smoker=yes", "--save-model", model, "--quiet"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	tb := readOut(t, out)
	col := tb.Col("smoker")
	for i, r := range tb.Rows {
		if r[col] != "yes" {
			t.Fatalf("row %d: smoker=%q despite --where smoker=yes", i, r[col])
		}
	}
	// Sampling again from the saved model needs no input.
	again := filepath.Join(dir, "again.csv")
	if _, stderr, err := runCLI(t, "generate", "--model-file", model, "-n", "50", "-o", again, "--quiet"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if n := len(readOut(t, again).Rows); n != 50 {
		t.Errorf("rows = %d", n)
	}
}

func TestGenerateRulesHoldInEveryRow(t *testing.T) {
	t.Parallel()
	needDataset(t, insurance)
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.json")
	if err := os.WriteFile(rulesPath, []byte(`{"rules":[{"type":"range","column":"age","min":30,"max":50},{"type":"compare","left":"bmi","op":">","value":25}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "o.csv")
	if _, stderr, err := runCLI(t, "generate", insurance, "-n", "400", "-o", out, "--rules", rulesPath, "--quiet"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	tb := readOut(t, out)
	age, bmi := tb.Col("age"), tb.Col("bmi")
	for i, r := range tb.Rows {
		var a, b float64
		if _, err := fmtSscan(r[age], &a); err != nil || a < 30 || a > 50 {
			t.Fatalf("row %d: age %q breaks the range rule", i, r[age])
		}
		if _, err := fmtSscan(r[bmi], &b); err != nil || b <= 25 {
			t.Fatalf("row %d: bmi %q breaks the compare rule", i, r[bmi])
		}
	}
}

func TestGenerateErrorsLeaveNoOutput(t *testing.T) {
	t.Parallel()
	needDataset(t, insurance)
	dir := t.TempDir()
	ragged := filepath.Join(dir, "ragged.csv")
	if err := os.WriteFile(ragged, []byte("a,b\n1,2\n3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	impossible := filepath.Join(dir, "impossible.json")
	if err := os.WriteFile(impossible, []byte(`{"rules":[{"type":"range","column":"age","min":200}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		usage   bool
		message string
	}{
		{"no rows", []string{"generate", insurance, "-o", "x.csv"}, true, "-n ROWS"},
		{"no output", []string{"generate", insurance, "-n", "5"}, true, "-o OUTPUT"},
		{"bad model", []string{"generate", insurance, "-n", "5", "-o", "x.csv", "--model", "gan"}, true, `--model "gan" is an unknown model; use one of tree, copula, dp`},
		{"bad format", []string{"generate", insurance, "-n", "5", "-o", "x.xlsx"}, true, "--format"},
		{"missing input", []string{"generate", filepath.Join(dir, "nope.csv"), "-n", "5", "-o", "x.csv"}, false, "nope.csv"},
		{"ragged input", []string{"generate", ragged, "-n", "5", "-o", "x.csv"}, false, "ragged"},
		{"impossible rule", []string{"generate", insurance, "-n", "5", "-o", "x.csv", "--rules", impossible}, false, "cannot be satisfied"},
		{"unseen condition", []string{"generate", insurance, "-n", "5", "-o", "x.csv", "--where", "region=mars"}, false, "mars"},
		{"dp without epsilon", []string{"generate", insurance, "-n", "5", "-o", "x.csv", "--model", "dp"}, true, "--epsilon"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string(nil), tc.args...)
			for i, a := range args {
				if a == "x.csv" || a == "x.xlsx" {
					args[i] = filepath.Join(dir, tc.name+"-"+a)
				}
			}
			_, _, err := runCLI(t, append(args, "--quiet")...)
			if err == nil {
				t.Fatal("want an error")
			}
			if errors.Is(err, errUsage) != tc.usage {
				t.Errorf("usage error = %v, want %v: %v", errors.Is(err, errUsage), tc.usage, err)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q does not mention %q", err, tc.message)
			}
			if _, err := os.Stat(filepath.Join(dir, tc.name+"-x.csv")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a failed run left an output file")
			}
		})
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), "tmp") {
			t.Errorf("temp file left behind: %s", e.Name())
		}
	}
}

func TestGenerateReport(t *testing.T) {
	t.Parallel()
	needDataset(t, insurance)
	dir := t.TempDir()
	html, js := filepath.Join(dir, "r.html"), filepath.Join(dir, "r.json")
	stdout, stderr, err := runCLI(t, "generate", insurance, "-n", "1000", "-o", filepath.Join(dir, "o.csv"), "--report", html, "--json", js, "--target", "charges", "--quiet")
	if err != nil && !strings.Contains(err.Error(), "release gate failed") {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, p := range []string{html, js} {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", p, err)
		}
	}
	if !strings.Contains(stdout, "Column Shapes") {
		t.Errorf("summary lacks the scores: %s", stdout)
	}
}

func TestInputLimitsNameRowAndColumn(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "wide.csv")
	if err := os.WriteFile(in, []byte("a,b,c\n1,2,3\n4,5,"+strings.Repeat("x", 100)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--max-columns", "2"}, "column"},
		{[]string{"--max-cell-bytes", "10"}, `row 2`},
		{[]string{"--max-rows", "1"}, "row"},
	}
	for _, tc := range tests {
		args := append([]string{"profile", in, "--json", "-"}, tc.args...)
		_, _, err := runCLI(t, args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
	if _, _, err := runCLI(t, "profile", in, "--json", "-"); err != nil {
		t.Errorf("within the default limits: %v", err)
	}
}
