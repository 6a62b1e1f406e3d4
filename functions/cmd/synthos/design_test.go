package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/rules"
	"synthos.dev/synthos/shared/table"
)

// TestDesignCommand runs the command with the offline provider:
// three related tables, the spec written, every row meeting its rules.
func TestDesignCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SYNTHOS_SECRETS_URL", "env://")
	t.Setenv("SYNTHOS_AI_PROVIDERS", "offline")
	out, specPath := filepath.Join(dir, "orders.csv"), filepath.Join(dir, "spec.json")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"design", "10,000 e-commerce orders from EU customers, with returns",
		"-n", "2000", "-o", out, "--spec-out", specPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s%s", err, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(specPath)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := design.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range spec.Tables {
		path := tablePath(out, spec, tb.Name)
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(recs)-1) != tb.Rows {
			t.Errorf("%s: %d rows, want %d", path, len(recs)-1, tb.Rows)
		}
		set, err := rules.Compile(&rules.File{Rules: tb.Rules}, nil, tb.Profile())
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range recs[1:] {
			for j := range row { // undo the CSV formula escaping of text cells
				row[j] = table.Unescape(row[j])
			}
			if err := set.Check(row); err != nil {
				t.Fatalf("%s row %d: %v", tb.Name, i, err)
			}
		}
	}
	if spec.MainTable().Rows != 2000 || !strings.Contains(stdout.String(), "designed by offline") {
		t.Errorf("main rows %d; output %s", spec.MainTable().Rows, stdout.String())
	}
	// A bad invocation is a usage error.
	err = run(context.Background(), []string{"design", "-n", "5"}, &stdout, &stderr)
	if !errors.Is(err, errUsage) {
		t.Errorf("no description: %v", err)
	}
}
