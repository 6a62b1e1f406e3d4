package tally

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"synthos.dev/synthos/shared/analytics"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/state/statetest"
)

// TestPricesFromConfig: the consumer prices compute with the configured
// prices, not the defaults.
func TestPricesFromConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// 2 vCPUs at $0.00001 and 1 GiB at $0.000003: $0.000023 a second
	// (the defaults would give $0.000029).
	cfg, err := config.LoadMap(ctx, map[string]string{"SYNTHOS_COST_VCPU_SECOND": "0.00001", "SYNTHOS_COST_VCPUS": "2",
		"SYNTHOS_COST_GIB_SECOND": "0.000003", "SYNTHOS_COST_GIB": "1"})
	if err != nil {
		t.Fatal(err)
	}
	st := statetest.Bolt(t)
	h, err := New(&platform.Env{Config: cfg, State: st})
	if err != nil {
		t.Fatal(err)
	}
	js := jobs.New(st)
	if err := js.Create(ctx, &jobs.Job{ID: "j1", Tenant: "acme", Request: jobs.Request{Dataset: "ds", Rows: 10}}); err != nil {
		t.Fatal(err)
	}
	// Admitted 100 s before it ended (set back rather than waited for).
	j, _, err := js.Update(ctx, "j1", "m1", func(j *jobs.Job) error {
		j.State, j.CreatedAt = jobs.Succeeded, j.CreatedAt.Add(-100*time.Second)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(jobs.EventFor(j))
	if err := h(ctx, &events.Message{ID: "e1", Data: b}); err != nil {
		t.Fatal(err)
	}
	s, _ := analytics.New(st)
	days, err := s.Days(ctx, analytics.Query{Tenant: "acme", From: j.UpdatedAt, To: j.UpdatedAt})
	if err != nil || len(days) != 1 {
		t.Fatalf("days %v, %v; want one", days, err)
	}
	want := j.UpdatedAt.Sub(j.CreatedAt).Seconds() * 0.000023
	if got := days[0].ComputeCost; j.UpdatedAt.Sub(j.CreatedAt) < 100*time.Second || math.Abs(got-want) > 1e-12 {
		t.Errorf("compute cost $%v, want $%v (%.3f s at $0.000023)", got, want, j.UpdatedAt.Sub(j.CreatedAt).Seconds())
	}
}
