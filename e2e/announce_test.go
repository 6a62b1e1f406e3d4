package e2e

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/topics"
)

// failOnce fails the first publish to topic whose body holds marker, as a
// function that died (or lost its connection) between committing a job's
// final state and announcing it would.
type failOnce struct {
	events.Publisher
	topic  string
	marker []byte
	mu     sync.Mutex
	failed bool
}

func (f *failOnce) Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	f.mu.Lock()
	fail := !f.failed && topic == f.topic && bytes.Contains(data, f.marker)
	f.failed = f.failed || fail
	f.mu.Unlock()
	if fail {
		return "", errors.New("publish: connection reset (injected)")
	}
	return f.Publisher.Publish(ctx, topic, data, attrs)
}

// TestFinalStateAnnouncedAfterLostPublish: when the announcement of a job's
// final state fails after the state is committed, the redelivered message
// finds the job finished and announces it again, so neither the audit
// trail nor the job's events lose the final state.
func TestFinalStateAnnouncedAfterLostPublish(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ topic, marker string }{
		{topics.AuditEvents, `"job.succeeded"`},
		{topics.JobEvents, `"job.succeeded"`},
	} {
		t.Run(tc.topic, func(t *testing.T) {
			t.Parallel()
			e := startEmbedded(t, embeddedOptions{})
			f := &failOnce{Publisher: e.env.Events, topic: tc.topic, marker: []byte(tc.marker)}
			e.env.Events = f
			ds := upload(t, e.env, "acme", "ds-lost", "adult.csv", adult(t, 2000))
			j := &jobs.Job{ID: "job-lost", Tenant: "acme", Request: jobs.Request{
				Dataset: ds.ID, Rows: 2000, Model: "copula", Seed: 3, Format: "csv", Thresholds: skipGate(t)}}
			submit(t, e.env, j)
			e.drain(t)
			got := loadJob(t, e.env, j.ID)
			if got.State != jobs.Succeeded {
				t.Fatalf("job ended %s: %s", got.State, got.Error)
			}
			if !f.failed {
				t.Fatal("no publish failed: the test injected nothing")
			}
			if !slices.Contains(e.rec.auditActions(j.ID), "job.succeeded") {
				t.Errorf("audit trail lost the final state: %v", e.rec.auditActions(j.ID))
			}
			if !slices.Contains(e.rec.jobStates(j.ID), string(jobs.Succeeded)) {
				t.Errorf("job events lost the final state: %v", e.rec.jobStates(j.ID))
			}
		})
	}
}
