package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	fnaudit "synthos.dev/synthos/functions/audit"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
)

func TestConsumer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h, err := fnaudit.New(&platform.Env{State: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	msg := func(id string, e audit.Event) *events.Message {
		b, _ := json.Marshal(e)
		return &events.Message{ID: id, Data: b}
	}
	tests := []struct {
		name string
		m    *events.Message
		want error
	}{
		{"first delivery", msg("p1", audit.Event{ID: "e1", Tenant: "t1", Action: "job.created", At: at}), nil},
		{"redelivery", msg("p1", audit.Event{ID: "e1", Tenant: "t1", Action: "job.created", At: at}), nil},
		{"second event", msg("p2", audit.Event{ID: "e2", Tenant: "t1", Action: "key.revoked", At: at}), nil},
		{"not JSON", &events.Message{ID: "p3", Data: []byte("{")}, audit.ErrInvalid},
		{"no action", msg("p4", audit.Event{ID: "e4", Tenant: "t1", At: at}), audit.ErrInvalid},
	}
	for _, tt := range tests {
		err := h(ctx, tt.m)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	recs, err := audit.NewLog(st).List(ctx, "t1", audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].ID != "e1" || recs[0].Seq != 1 || recs[1].ID != "e2" || recs[1].Seq != 2 {
		t.Fatalf("stored %+v; want e1 and e2 once each, seq 1 and 2", recs)
	}
	if _, err := fnaudit.New(&platform.Env{}); err == nil {
		t.Fatal("New accepted an empty environment")
	}
}

// TestArchive pushes seven events with bundles due every three records:
// the audit bucket gets two bundles per log, each verifying on its own.
func TestArchive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	secretsDir, bucketDir := t.TempDir(), t.TempDir()
	skey, vkey, err := audit.GenerateKey("synthos-audit")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secretsDir, audit.SigningKeySecret), []byte(skey), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := secrets.Dir(secretsDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &config.Config{AuditBucket: "file://" + bucketDir, AuditBundleRecords: 3, AuditKeyName: "synthos-audit"}
	h, err := fnaudit.New(&platform.Env{Config: cfg, State: st, Secrets: src, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	for i := range 7 {
		b, _ := json.Marshal(audit.Event{ID: fmt.Sprintf("a%d", i), Tenant: "t1", Action: "job.created", Actor: "key:k1", At: at})
		if err := h(ctx, &events.Message{ID: fmt.Sprint(i), Data: b}); err != nil {
			t.Fatal(err)
		}
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	for _, log := range []string{"tenant-t1", "global"} {
		for _, r := range [][2]uint64{{0, 3}, {3, 6}} {
			f, err := os.Open(filepath.Join(bucketDir, audit.BundleKey(log, r[0], r[1])))
			if err != nil {
				t.Fatalf("bundle %s %v not archived: %v", log, r, err)
			}
			rep, err := audit.VerifyBundle(f, audit.VerifyOptions{Verifier: v})
			f.Close()
			if err != nil || !rep.OK() || rep.Records != 3 {
				t.Fatalf("bundle %s %v: %+v, %v", log, r, rep, err)
			}
		}
		if _, err := os.Stat(filepath.Join(bucketDir, audit.BundleKey(log, 6, 7))); err == nil {
			t.Fatalf("%s: a bundle of one record was archived before three were due", log)
		}
	}
}
