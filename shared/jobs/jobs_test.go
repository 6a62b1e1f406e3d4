package jobs

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/state"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	st, err := state.Open(context.Background(), "bolt://"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := New(st)
	var tick int64
	s.now = func() time.Time { tick++; return time.Unix(1_800_000_000, tick) }
	return s
}

func TestAdvance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from, to State
		ok       bool
	}{
		{Queued, Profiling, true},
		{Queued, Sampling, true}, // skipping ahead is forward
		{Fitting, Profiling, false},
		{Sampling, Sampling, false},
		{Evaluating, Succeeded, true},
		{Succeeded, Failed, false},
		{Cancelled, Profiling, false},
		{Queued, "bogus", false},
	}
	for _, tc := range tests {
		j := &Job{ID: "j", State: tc.from}
		err := Advance(j, tc.to)
		if (err == nil) != tc.ok {
			t.Errorf("%s→%s: err = %v", tc.from, tc.to, err)
		}
		if err == nil && j.State != tc.to {
			t.Errorf("%s→%s: state %s", tc.from, tc.to, j.State)
		}
	}
}

func TestUpdateIsIdempotentPerMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	if err := s.Create(ctx, &Job{ID: "j1", Tenant: "a"}); err != nil {
		t.Fatal(err)
	}
	step := func(msg string, to State) (bool, error) {
		_, changed, err := s.Update(ctx, "j1", msg, func(j *Job) error { return Advance(j, to) })
		return changed, err
	}
	if changed, err := step("m1", Profiling); err != nil || !changed {
		t.Fatalf("first delivery: %v %v", changed, err)
	}
	if changed, err := step("m1", Profiling); err != nil || changed {
		t.Fatalf("redelivery must be a no-op: %v %v", changed, err)
	}
	if changed, err := step("m2", Sampling); err != nil || !changed {
		t.Fatalf("forward: %v %v", changed, err)
	}
	// An older message arriving late would move the job backwards.
	if _, err := step("m0", Fitting); !errors.Is(err, ErrTransition) {
		t.Fatalf("out of order: %v", err)
	}
	j, err := s.Get(ctx, "a", "j1")
	if err != nil || j.State != Sampling {
		t.Fatalf("job = %+v %v", j, err)
	}
}

func TestTenantIsolationAndCancel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	if err := s.Create(ctx, &Job{ID: "j1", Tenant: "a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "b", "j1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("other tenant sees the job: %v", err)
	}
	j, _, err := s.Update(ctx, "j1", "", RequestCancel)
	if err != nil || j.State != Cancelled {
		t.Fatalf("cancel queued: %+v %v", j, err)
	}
	if _, _, err := s.Update(ctx, "j1", "", RequestCancel); !errors.Is(err, ErrTerminal) {
		t.Errorf("cancel twice: %v", err)
	}
}

func TestListPagination(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	for i := range 7 {
		if err := s.Create(ctx, &Job{ID: fmt.Sprintf("j%d", i), Tenant: "a"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Create(ctx, &Job{ID: "other", Tenant: "b"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := s.List(ctx, "a", 3, cursor)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range p.Jobs {
			got = append(got, j.ID)
		}
		if p.Next == "" {
			break
		}
		cursor = p.Next
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
	}
	want := "j6 j5 j4 j3 j2 j1 j0"
	if fmt.Sprint(got) != "["+want+"]" {
		t.Errorf("pages = %v, want %s", got, want)
	}
	if _, err := s.List(ctx, "a", 3, "garbage"); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestDeleteQueuedAndReservationFields(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	for _, id := range []string{"q", "r"} {
		if err := s.Create(ctx, &Job{ID: id, Tenant: "acme", Request: Request{Model: "dp", Epsilon: 1}, DPReservation: "res-" + id, DPRho: 0.01,
			QuotaReservation: &entitlements.Reservation{Tenant: "acme", Month: "2026-07", JobID: id, Rows: 40}}); err != nil {
			t.Fatal(err)
		}
	}
	j, err := s.Get(ctx, "acme", "q")
	wantQuota := entitlements.Reservation{Tenant: "acme", Month: "2026-07", JobID: "q", Rows: 40}
	if err != nil || j.DPReservation != "res-q" || j.DPRho != 0.01 || j.QuotaReservation == nil || *j.QuotaReservation != wantQuota {
		t.Fatalf("reservation fields not stored: %+v %v", j, err)
	}
	if _, _, err := s.Update(ctx, "r", "m1", func(j *Job) error { return Advance(j, Profiling) }); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.DeleteQueued(ctx, "other", "q"); ok || !errors.Is(err, ErrNotFound) {
		t.Errorf("another tenant's job: deleted %v, %v; want ErrNotFound", ok, err)
	}
	if ok, err := s.DeleteQueued(ctx, "acme", "r"); ok || err != nil {
		t.Errorf("a running job: deleted %v, %v; want kept", ok, err)
	}
	if ok, err := s.DeleteQueued(ctx, "acme", "q"); !ok || err != nil {
		t.Errorf("a queued job: deleted %v, %v; want deleted", ok, err)
	}
	if _, err := s.Get(ctx, "acme", "q"); !errors.Is(err, ErrNotFound) {
		t.Errorf("withdrawn job still readable: %v", err)
	}
	if _, err := s.Get(ctx, "acme", "r"); err != nil {
		t.Errorf("running job gone: %v", err)
	}
	if ok, err := s.DeleteQueued(ctx, "acme", "q"); ok || !errors.Is(err, ErrNotFound) {
		t.Errorf("deleting twice: %v, %v", ok, err)
	}
}
