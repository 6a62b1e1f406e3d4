package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/state"
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
	// A token made under version 1 re-identifies after the rotation.
	pol := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(pol, []byte(`{"columns":{"smoker":{"op":"token"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCLI(t, "anonymize", in, "-o", out, "--policy", pol); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	tab = readOut(t, out)
	token := tab.Rows[0][tab.Col("smoker")]
	orig := readOut(t, in)
	stdout, _, err = runCLI(t, "anonymize", "--rotate-key")
	if err != nil || !strings.Contains(stdout, "hmac v2") {
		t.Errorf("rotate: %v %s", err, stdout)
	}
	stdout, stderr, err = runCLI(t, "anonymize", "--detokenize", token)
	if want := token + "\t" + orig.Rows[0][orig.Col("smoker")] + "\n"; err != nil || stdout != want {
		t.Errorf("detokenize after rotation = %q, %v %s; want %q", stdout, err, stderr, want)
	}
	if _, _, err := runCLI(t, "anonymize", "--detokenize", "tk_AAAA"); err == nil {
		t.Error("a bogus token detokenized")
	}
}

// TestComplianceJobCLI builds the report of a job stored in a local store
// (bolt state, file objects) whose output copies its training rows, for a
// tenant that stores them in the clear and one that encrypts them at rest
// (the training and holdout rows and the output, as the platform seals them).
func TestComplianceJobCLI(t *testing.T) {
	for _, encrypt := range []bool{false, true} {
		t.Run(fmt.Sprintf("encrypt=%v", encrypt), func(t *testing.T) { testComplianceJobCLI(t, encrypt) })
	}
}

func testComplianceJobCLI(t *testing.T, encrypt bool) {
	const dir = "../../../../shared/datasets/"
	needDataset(t, dir+"insurance.train.csv")
	root := t.TempDir()
	t.Setenv("SYNTHOS_STATE_URL", "bolt://"+filepath.Join(root, "state.db"))
	t.Setenv("SYNTHOS_OBJECTS_URL", "file://"+filepath.Join(root, "objects"))
	ctx := context.Background()
	if err := os.MkdirAll(filepath.Join(root, "objects"), 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, "bolt://"+filepath.Join(root, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	j := &jobs.Job{ID: "job_1", Tenant: "acme", State: jobs.Succeeded, Request: jobs.Request{Dataset: "ds_1", Model: "tree", Seed: 3},
		Outputs: map[string]string{"data": datasets.OutputKey("acme", "job_1", "csv")}}
	if err := jobs.New(st).Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	// As the pipeline leaves it: evaluated and succeeded.
	if _, _, err := jobs.New(st).Update(ctx, "job_1", "test", func(j *jobs.Job) error {
		j.State = jobs.Succeeded
		j.Outputs = map[string]string{"data": datasets.OutputKey("acme", "job_1", "csv")}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var ring *keyring.Keyring
	if encrypt {
		kek := filepath.Join(root, "master-keyset.json")
		if _, err := keyring.CreateMasterKeyset(kek); err != nil {
			t.Fatal(err)
		}
		t.Setenv("SYNTHOS_KEK_URI", "file://"+kek)
		a, err := keyring.OpenKEK(ctx, "file://"+kek)
		if err != nil {
			t.Fatal(err)
		}
		if ring, err = keyring.New(st, a); err != nil {
			t.Fatal(err)
		}
		if err := ring.SetEncryptData(ctx, "acme", true); err != nil {
			t.Fatal(err)
		}
	}
	b, err := objects.Open(ctx, "file://"+filepath.Join(root, "objects"))
	if err != nil {
		t.Fatal(err)
	}
	for key, file := range map[string]string{
		datasets.TrainKey("acme", "job_1"): "insurance.train.csv", datasets.HoldoutKey("acme", "job_1"): "insurance.holdout.csv",
		datasets.OutputKey("acme", "job_1", "csv"): "insurance.train.csv"} {
		data, err := os.ReadFile(dir + file)
		if err != nil {
			t.Fatal(err)
		}
		if encrypt {
			var sealed bytes.Buffer
			w, err := ring.ObjectWriter(ctx, "acme", &sealed)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil || w.Close() != nil {
				t.Fatalf("seal %s: %v", key, err)
			}
			data = sealed.Bytes()
		}
		if err := b.WriteAll(ctx, key, data, nil); err != nil {
			t.Fatal(err)
		}
	}
	b.Close()
	st.Close() // the CLI opens the store itself
	js := filepath.Join(root, "c.json")
	stdout, stderr, err := runCLI(t, "compliance", "--job", "job_1", "--tenant", "acme", "--json", js)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	raw, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "GDPR:  risks_found") || !strings.Contains(string(raw), `"job": "job_1"`) {
		t.Errorf("summary:\n%s\nreport: %.400s", stdout, raw)
	}
}
