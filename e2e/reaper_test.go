package e2e

import (
	"testing"
	"time"

	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/pipeline"
)

// TestEmbeddedReaper: the reaper resumes a job whose message was lost (its
// lease ran out), fails a job resumed too often with deadline_exceeded and
// releases what it held, and settles a finished job a crash left unsettled.
func TestEmbeddedReaper(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{})
	ctx := t.Context()
	ds := upload(t, e.env, "acme", "ds-reap", "adult.csv", adult(t, 600))
	p, err := pipeline.New(e.env, pipeline.Options{Admission: e.adm, MaxResumes: 2})
	if err != nil {
		t.Fatal(err)
	}
	store := jobs.New(e.env.State)
	admit := func(id string) {
		t.Helper()
		// Admitted but never published: the message was lost.
		if _, err := e.adm.Admit(ctx, &jobs.Job{ID: id, Tenant: "acme", Request: jobs.Request{
			Dataset: ds.ID, Rows: 200, Model: "copula", Seed: 3, Format: "csv", Thresholds: skipGate(t)}}); err != nil {
			t.Fatal(err)
		}
	}
	expire := func(id string, attempts int) {
		t.Helper()
		if _, _, err := store.Update(ctx, id, "", func(j *jobs.Job) error {
			j.LeaseExpires, j.Attempts = time.Now().Add(-time.Second), attempts
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	admit("job-lost")
	admit("job-stuck")
	admit("job-unsettled")
	// A live lease is left alone.
	if r, err := p.Reap(ctx); err != nil || r.Resumed != 0 || r.Failed != 0 {
		t.Fatalf("reap with live leases: %+v %v", r, err)
	}
	expire("job-lost", 0)
	expire("job-stuck", 2)
	if _, _, err := store.Update(ctx, "job-unsettled", "", func(j *jobs.Job) error {
		return jobs.Fail(j, errs.Internal, "crashed before settling")
	}); err != nil {
		t.Fatal(err)
	}
	r, err := p.Reap(ctx)
	if err != nil || r.Resumed != 1 || r.Failed != 1 || r.Settled < 1 {
		t.Fatalf("reap: %+v %v; want 1 resumed, 1 failed, the unsettled one settled", r, err)
	}
	e.drain(t)

	// Resumed once (counted above); its progress reset the count.
	if j := loadJob(t, e.env, "job-lost"); j.State != jobs.Succeeded || j.Attempts != 0 || !j.Settled {
		t.Errorf("lost job: %s (%s) attempts %d settled %v; want succeeded, settled, the count reset by its progress", j.State, j.Error, j.Attempts, j.Settled)
	}
	stuck := loadJob(t, e.env, "job-stuck")
	if stuck.State != jobs.Failed || stuck.ErrorCode != errs.DeadlineExceeded.String() || !stuck.Settled {
		t.Errorf("stuck job: %s %s %q settled %v; want failed deadline_exceeded, settled", stuck.State, stuck.ErrorCode, stuck.Error, stuck.Settled)
	}
	if j := loadJob(t, e.env, "job-unsettled"); !j.Settled {
		t.Errorf("unsettled job was not settled")
	}
	u, err := e.adm.Entitlements().Usage(ctx, "acme", entitlements.MonthOf(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if u.Reserved != 0 || u.Used != 200 {
		t.Errorf("usage: %+v; want the succeeded job's 200 rows used, nothing reserved", u)
	}
	if running, _ := e.adm.RunningJobs(ctx, "acme"); len(running) != 0 {
		t.Errorf("running jobs left: %v", running)
	}
}
