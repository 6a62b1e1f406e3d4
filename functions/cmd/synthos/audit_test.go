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
	"time"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/state"
)

func runAuditCmd(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	err := runAudit(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

// TestAuditVerifyCLI exports a bundle and a checkpoint from a log, then
// verifies the bundle, the live log and a consistency proof with the CLI,
// before and after tampering.
func TestAuditVerifyCLI(t *testing.T) {
	stateURL, dir := keysEnv(t)
	ctx := context.Background()
	if err := ensureAuditKey(filepath.Join(dir, "secrets"), "synthos-audit"); err != nil {
		t.Fatal(err)
	}
	skey, err := os.ReadFile(filepath.Join(dir, "secrets", audit.SigningKeySecret))
	if err != nil {
		t.Fatal(err)
	}
	signer, vkey, err := audit.LocalSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.Open(ctx, stateURL)
	if err != nil {
		t.Fatal(err)
	}
	l := audit.NewLog(st)
	for i := range 8 {
		if _, _, err := l.Append(ctx, audit.Event{ID: fmt.Sprintf("e%d", i), Tenant: "acme", Actor: "key:k", Action: "job.created",
			At: time.Date(2026, 5, 4, 10, 0, i, 0, time.UTC)}); err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			_, old, err := l.Checkpoint(ctx, "tenant-acme", signer)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "old.cp"), old, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, cp, err := l.Checkpoint(ctx, "tenant-acme", signer)
	if err != nil {
		t.Fatal(err)
	}
	var bundle bytes.Buffer
	if err := l.Export(ctx, "tenant-acme", 0, 8, signer, &bundle); err != nil {
		t.Fatal(err)
	}
	rec, _, _ := l.RecordAt(ctx, "tenant-acme", 5)
	rec.Outcome = "rewritten"
	if err := st.Set(ctx, audit.CollEvents, rec.ID, rec); err != nil {
		t.Fatal(err)
	}
	st.Close()
	cpFile, bundleFile, vkeyFile := filepath.Join(dir, "new.cp"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "vkey")
	for f, b := range map[string][]byte{cpFile: cp, bundleFile: bundle.Bytes(), vkeyFile: []byte(vkey + "\n")} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	if out, err := runAuditCmd("verify", "--key", vkey, bundleFile); err != nil || !strings.HasPrefix(out, "OK: 8 records of tenant-acme") {
		t.Fatalf("verify bundle: %v\n%s", err, out)
	}
	if out, err := runAuditCmd("verify", "--checkpoint", cpFile, bundleFile); err != nil { // the key derived from the local secret
		t.Fatalf("verify bundle with the local key: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(bundle.String(), "\n"), "\n")
	tampered := filepath.Join(dir, "t.jsonl")
	if err := os.WriteFile(tampered, []byte(strings.Join(append(lines[:3], lines[4:]...), "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runAuditCmd("verify", "--key", "@"+vkeyFile, tampered); err == nil || !strings.Contains(out, "record 2 is missing") {
		t.Fatalf("verify of a bundle missing record 2: %v\n%s", err, out)
	}
	if out, err := runAuditCmd("verify", "--key", vkey, "--live", "--checkpoint", cpFile); err == nil || !strings.Contains(out, "record 5 (event e5) was altered") {
		t.Fatalf("live verify after an edit in the store: %v\n%s", err, out)
	}
	out, err := runAuditCmd("consistency", "--key", vkey, filepath.Join(dir, "old.cp"), cpFile)
	var p audit.ConsistencyProof
	if err != nil || json.Unmarshal([]byte(out), &p) != nil || p.From != 4 || p.To != 8 {
		t.Fatalf("consistency: %v\n%s", err, out)
	}
	if _, err := runAuditCmd("verify", "--key", "not-a-key", bundleFile); err == nil {
		t.Fatal("a malformed key was accepted")
	}
	if out, err := runAuditCmd("keygen", "--name", "acme-audit"); err != nil || !strings.HasPrefix(out, "PRIVATE+KEY+acme-audit+") {
		t.Fatalf("keygen: %v\n%s", err, out)
	}
}
