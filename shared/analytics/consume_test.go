package analytics

import (
	"context"
	"encoding/json"
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
}
