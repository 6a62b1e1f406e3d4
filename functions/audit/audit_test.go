package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	fnaudit "synthos.dev/synthos/functions/audit"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
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
