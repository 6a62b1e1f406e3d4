package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestComplianceCLI builds the evidence for a verbatim copy of insurance's
// training rows: GDPR finds risks, both files are written, and the summary
// lists what a person must do.
func TestComplianceCLI(t *testing.T) {
	const dir = "../../../../shared/datasets/"
	needDataset(t, dir+"insurance.train.csv")
	out := t.TempDir()
	js, page := filepath.Join(out, "c.json"), filepath.Join(out, "c.html")
	stdout, stderr, err := runCLI(t, "compliance", dir+"insurance.train.csv", dir+"insurance.train.csv", "--holdout", dir+"insurance.holdout.csv",
		"--json", js, "--html", page, "--attacks", "200", "--regimes", "gdpr,hipaa")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var r struct {
		Regimes []string
		GDPR    struct{ Verdict string }
		CCPA    *struct{}
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil || r.GDPR.Verdict != "risks_found" || r.CCPA != nil || len(r.Regimes) != 2 {
		t.Errorf("report: %v %+v", err, r)
	}
	if _, err := os.Stat(page); err != nil {
		t.Error(err)
	}
	if !strings.Contains(stdout, "GDPR:  risks_found") || !strings.Contains(stdout, "a person must still") {
		t.Errorf("summary:\n%s", stdout)
	}
	if _, _, err := runCLI(t, "compliance", dir+"insurance.train.csv", dir+"insurance.train.csv"); err == nil {
		t.Error("compliance without --holdout succeeded")
	}
}

// TestAnonymizeCLI de-identifies insurance with k = 5 over age and region,
// creating the keyring in the secrets directory, then rotates the key.
func TestAnonymizeCLI(t *testing.T) {
	const in = "../../../../shared/datasets/insurance.csv"
	needDataset(t, in)
	sec := t.TempDir()
	t.Setenv("SYNTHOS_SECRETS_URL", "file://"+sec)
	out := filepath.Join(t.TempDir(), "anon.csv")
	stdout, stderr, err := runCLI(t, "anonymize", in, "-o", out, "--k", "5", "--quasi", "age,region", "--report", out+".json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "1338 rows written") || !strings.Contains(stdout, "hmac v1") {
		t.Errorf("summary:\n%s", stdout)
	}
	tab := readOut(t, out)
	counts := map[string]int{}
	for _, row := range tab.Rows {
		counts[row[tab.Col("age")]+"|"+row[tab.Col("region")]]++
	}
	for k, n := range counts {
		if n < 5 {
			t.Errorf("class %s has %d rows", k, n)
		}
	}
	stdout, _, err = runCLI(t, "anonymize", "--rotate-key")
	if err != nil || !strings.Contains(stdout, "hmac v2") {
		t.Errorf("rotate: %v %s", err, stdout)
	}
}
