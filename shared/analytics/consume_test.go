package analytics

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/state/statetest"
)

// TestConsumer feeds job-events: a running state is ignored, a success is
// counted with its report's scores, and a duplicate delivery of it (and a
// stale redelivery) is not counted again; a job that is gone is acknowledged.
func TestConsumer(t *testing.T) {
	ctx := context.Background()
	st := statetest.Bolt(t)
	bucket := memblob.OpenBucket(nil)
	defer bucket.Close()
	js := jobs.New(st)
	j := &jobs.Job{ID: "job-1", Tenant: "acme", Request: jobs.Request{Dataset: "ds", Model: "tree", Rows: 500}}
	if err := js.Create(ctx, j); err != nil {
		t.Fatal(err)
	}
	report := `{"quality":{"overall":0.91},"privacy":{"dcr":{"queries":50,"closer_to_train_share":0.55}}}`
	if err := bucket.WriteAll(ctx, "reports/job-1.json", []byte(report), nil); err != nil {
		t.Fatal(err)
	}
	s, _ := New(st)
	c := NewConsumer(s, js, bucket)
	deliver := func(state jobs.State, id string) {
		t.Helper()
		b, _ := json.Marshal(jobs.Event{Type: "job." + string(state), JobID: id, Tenant: "acme", State: state})
		if err := c.Handle(ctx, &events.Message{ID: "m", Data: b}); err != nil {
			t.Fatalf("Handle %s: %v", state, err)
		}
	}
	deliver(jobs.Sampling, "job-1") // not finished: nothing
	if _, _, err := js.Update(ctx, "job-1", "m1", func(j *jobs.Job) error {
		j.State, j.Outputs = jobs.Succeeded, map[string]string{"report_json": "reports/job-1.json"}
		j.AI = &jobs.AIUsage{CostMicros: 250000} // $0.25
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	deliver(jobs.Succeeded, "job-1")
	deliver(jobs.Succeeded, "job-1") // duplicate
	deliver(jobs.Failed, "gone")     // no such job: acknowledged
	if err := c.Handle(ctx, &events.Message{ID: "x", Data: []byte("not json")}); err != nil {
		t.Errorf("a malformed event is retried: %v", err)
	}
	now := time.Now().UTC()
	res, err := s.Aggregate(ctx, Query{Tenant: "acme", From: now, To: now})
	if err != nil {
		t.Fatal(err)
	}
	b := res.Buckets[0]
	if b.Jobs != 1 || b.Succeeded != 1 || b.Rows != 500 || b.Quality == nil || *b.Quality != 0.91 || b.Privacy == nil || *b.Privacy < 0.899 || *b.Privacy > 0.901 {
		t.Errorf("today = %+v (quality %v, privacy %v), want one job of 500 rows, quality 0.91, privacy 0.9", b, b.Quality, b.Privacy)
	}
	// The duplicate delivery did not add the cost again: $0.25 of AI and
	// the run time priced at $0.000029 a second.
	done, err := js.Load(ctx, "job-1")
	if err != nil {
		t.Fatal(err)
	}
	compute := round(done.UpdatedAt.Sub(done.CreatedAt).Seconds()*0.000029, 6)
	if b.AICost != 0.25 || b.ComputeCost != compute || b.Cost != round(0.25+compute, 6) {
		t.Errorf("today's cost = $%v ($%v compute, $%v AI), want $%v compute and $0.25 AI, once", b.Cost, b.ComputeCost, b.AICost, compute)
	}
}

// TestFactCost prices finished jobs: compute at Prices.PerSecond for the
// run time from admission to end, plus the job's AI cost.
func TestFactCost(t *testing.T) {
	created := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	custom := Prices{VCPUSecond: 0.00001, GiBSecond: 0.000001, VCPUs: 2, GiB: 4} // 2×0.00001 + 4×0.000001 = $0.000024 a second
	for _, tc := range []struct {
		name          string
		prices        *Prices
		run           time.Duration
		ai            *jobs.AIUsage
		compute, aiUS float64
	}{
		// 100 s × (1 × 0.000024 + 2 × 0.0000025 = 0.000029) = $0.0029.
		{name: "default prices", run: 100 * time.Second, compute: 0.0029},
		// 600 s × 0.000029 = $0.0174; 125,000 micro-dollars = $0.125.
		{name: "with AI", run: 10 * time.Minute, ai: &jobs.AIUsage{CostMicros: 125000, EstimateMicros: 400000}, compute: 0.0174, aiUS: 0.125},
		// 50 s × 0.000024 = $0.0012.
		{name: "custom prices", prices: &custom, run: 50 * time.Second, compute: 0.0012},
		// An end stamped before the start (clock skew) costs nothing.
		{name: "no run time", run: -time.Second, ai: &jobs.AIUsage{CostMicros: 1}, aiUS: 0.000001},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewConsumer(nil, nil, nil)
			if tc.prices != nil {
				var err error
				if c, err = c.WithPrices(*tc.prices); err != nil {
					t.Fatal(err)
				}
			}
			j := &jobs.Job{ID: "j", Tenant: "acme", State: jobs.Succeeded, CreatedAt: created, UpdatedAt: created.Add(tc.run), AI: tc.ai}
			f, err := c.fact(context.Background(), j)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(f.ComputeCost-tc.compute) > 1e-12 || math.Abs(f.AICost-tc.aiUS) > 1e-12 {
				t.Errorf("cost = $%v compute + $%v AI, want $%v + $%v", f.ComputeCost, f.AICost, tc.compute, tc.aiUS)
			}
		})
	}
	for _, bad := range []Prices{{VCPUSecond: -1}, {GiB: math.NaN()}, {GiBSecond: math.Inf(1)}} {
		if _, err := NewConsumer(nil, nil, nil).WithPrices(bad); err == nil {
			t.Errorf("WithPrices(%+v) accepted", bad)
		}
	}
}
