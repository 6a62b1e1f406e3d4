package entitlements_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/billingtest"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/billing/subscription"
	"synthos.dev/synthos/shared/state"
)

// now is the last minute of July: the quota resets at the next one.
var now = time.Date(2026, 7, 31, 23, 59, 0, 0, time.UTC)

var reset = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)

func catalog(t testing.TB) *plans.Catalog {
	t.Helper()
	c, err := plans.New([]plans.Plan{
		{Name: plans.Free, RowsPerMonth: 1000, RowsPerJob: 400, ConcurrentJobs: 1, ReportRetentionDays: 7},
		{Name: plans.Pro, RowsPerMonth: 100_000, RowsPerJob: 50_000, DPAllowed: true, ConcurrentJobs: 5, ReportRetentionDays: 90, PriceIDs: []string{"pri_pro"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newEnt(t testing.TB, st state.Store) *entitlements.Entitlements {
	t.Helper()
	e, err := entitlements.New(st, catalog(t), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func subscribe(t *testing.T, st state.Store, tenant string, status subscription.Status) {
	t.Helper()
	s, err := subscription.New(st, catalog(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := subscription.Change{Provider: billing.Paddle, EventID: "evt_" + tenant, Type: "subscription.activated", OccurredAt: now,
		Kind: subscription.KindStatus, Tenant: tenant, SubscriptionID: "sub_" + tenant, Status: status, PriceIDs: []string{"pri_pro"}}
	if _, err := s.Apply(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

func limitOf(t *testing.T, err error) *entitlements.LimitError {
	t.Helper()
	var le *entitlements.LimitError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a *LimitError", err)
	}
	return le
}

func TestCheckPlanLimits(t *testing.T) {
	t.Parallel()
	st := billingtest.Bolt(t)
	subscribe(t, st, "pro-tenant", subscription.Active)
	subscribe(t, st, "lapsed-tenant", subscription.Canceled)
	e := newEnt(t, st)
	tests := []struct {
		name   string
		tenant string
		req    entitlements.JobRequest
		status int
		limit  entitlements.Limit
	}{
		{"free, small job", "free-tenant", entitlements.JobRequest{Rows: 400}, 0, ""},
		{"DP on free", "free-tenant", entitlements.JobRequest{Rows: 10, DP: true}, 402, entitlements.LimitDP},
		{"rows per job on free", "free-tenant", entitlements.JobRequest{Rows: 401}, 402, entitlements.LimitRowsPerJob},
		{"concurrent jobs on free", "free-tenant", entitlements.JobRequest{Rows: 10, Running: 1}, 429, entitlements.LimitConcurrentJobs},
		{"DP on pro", "pro-tenant", entitlements.JobRequest{Rows: 50_000, DP: true, Running: 4}, 0, ""},
		{"canceled subscription falls back to free", "lapsed-tenant", entitlements.JobRequest{Rows: 10, DP: true}, 402, entitlements.LimitDP},
		{"zero rows", "free-tenant", entitlements.JobRequest{}, 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := e.Check(context.Background(), tt.tenant, tt.req)
			if got := entitlements.HTTPStatus(err); got != tt.status {
				t.Fatalf("Check = %v (status %d), want status %d", err, got, tt.status)
			}
			if tt.limit != "" {
				if le := limitOf(t, err); le.Limit != tt.limit {
					t.Fatalf("limit = %s, want %s", le.Limit, tt.limit)
				}
			}
		})
	}
}

// TestQuotaBoundary: reaching the quota exactly passes, one more row is
// refused with 429, the limit's name and the reset date.
func TestQuotaBoundary(t *testing.T) {
	t.Parallel()
	st := billingtest.Bolt(t)
	e := newEnt(t, st)
	ctx := context.Background()
	for _, rows := range []int64{400, 400} {
		if err := e.Meter(ctx, "t1", rows); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Check(ctx, "t1", entitlements.JobRequest{Rows: 200}); err != nil {
		t.Fatalf("Check exactly at the limit: %v", err)
	}
	r, err := e.Reserve(ctx, "t1", "job-last", entitlements.JobRequest{Rows: 200})
	if err != nil {
		t.Fatalf("Reserve exactly at the limit: %v", err)
	}
	for _, try := range []func() error{
		func() error { return e.Check(ctx, "t1", entitlements.JobRequest{Rows: 1}) },
		func() error { return e.Meter(ctx, "t1", 1) },
		func() error {
			_, err := e.Reserve(ctx, "t1", "job-over", entitlements.JobRequest{Rows: 1})
			return err
		},
	} {
		err := try()
		if entitlements.HTTPStatus(err) != 429 || !errors.Is(err, entitlements.ErrQuota) {
			t.Fatalf("one row over: %v, want 429", err)
		}
		le := limitOf(t, err)
		if le.Limit != entitlements.LimitRowsPerMonth || !le.ResetsAt.Equal(reset) || le.Used != 1000 || le.Max != 1000 {
			t.Fatalf("limit error = %+v", le)
		}
		if msg := err.Error(); !strings.Contains(msg, "monthly row quota") || !strings.Contains(msg, "2026-08-01T00:00:00Z") {
			t.Fatalf("message %q does not name the limit and the reset date", msg)
		}
	}
	// The job used less than it reserved: the rest becomes available again.
	if err := e.Commit(ctx, r, 150); err != nil {
		t.Fatal(err)
	}
	if err := e.Commit(ctx, r, 150); err != nil { // a redelivery
		t.Fatal(err)
	}
	u, err := e.Usage(ctx, "t1", "2026-07")
	if err != nil {
		t.Fatal(err)
	}
	if u.Used != 950 || u.Reserved != 0 || len(u.Jobs) != 0 {
		t.Fatalf("usage = %+v, want 950 used, nothing reserved", u)
	}
	if err := e.Meter(ctx, "t1", 50); err != nil {
		t.Fatalf("released rows not available: %v", err)
	}
}

func TestReserveIdempotent(t *testing.T) {
	t.Parallel()
	st := billingtest.Bolt(t)
	e := newEnt(t, st)
	ctx := context.Background()
	r1, err := e.Reserve(ctx, "t2", "job-1", entitlements.JobRequest{Rows: 300})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := e.Reserve(ctx, "t2", "job-1", entitlements.JobRequest{Rows: 300})
	if err != nil || r2 != r1 {
		t.Fatalf("second Reserve = %+v, %v; want %+v", r2, err, r1)
	}
	if err := e.Release(ctx, r1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Reserve(ctx, "t2", "job-1", entitlements.JobRequest{Rows: 300}); err != nil {
		t.Fatal(err)
	}
	u, _ := e.Usage(ctx, "t2", r1.Month)
	if u.Used != 0 || u.Reserved != 0 {
		t.Fatalf("usage = %+v; a released job reserved again must not count", u)
	}
	if _, err := entitlements.ResetOf("2026-13"); !errors.Is(err, entitlements.ErrInvalid) {
		t.Fatalf("ResetOf(2026-13) = %v", err)
	}
}

// concurrent runs n goroutines that each reserve rows; the quota of 1000
// must be neither overspent nor underused.
func concurrent(t *testing.T, st state.Store, tenant string, n int, rows int64) {
	e := newEnt(t, st)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	var unexpected []error
	for i := range n {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = e.Reserve(ctx, tenant, fmt.Sprintf("job-%d", i), entitlements.JobRequest{Rows: rows})
			} else {
				err = e.Meter(ctx, tenant, rows)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, entitlements.ErrQuota):
				refused++
			default:
				unexpected = append(unexpected, err)
			}
		})
	}
	wg.Wait()
	if len(unexpected) > 0 {
		t.Fatalf("unexpected errors: %v", unexpected)
	}
	u, err := e.Usage(ctx, tenant, entitlements.MonthOf(now))
	if err != nil {
		t.Fatal(err)
	}
	want := int(1000 / rows)
	if ok != want || refused != n-want || u.Used+u.Reserved != int64(want)*rows {
		t.Fatalf("%d accepted, %d refused, usage %d+%d; want %d accepted and %d rows held", ok, refused, u.Used, u.Reserved, want, int64(want)*rows)
	}
}

func TestConcurrentBolt(t *testing.T) {
	t.Parallel()
	concurrent(t, billingtest.Bolt(t), "tenant-conc", 64, 30)
}

func TestConcurrentFirestore(t *testing.T) {
	t.Parallel()
	st := billingtest.Firestore(t)
	concurrent(t, st, "tenant-conc-"+rand.Text()[:10], 16, 100)
}

func BenchmarkMeterBolt(b *testing.B) {
	st := billingtest.Bolt(b)
	c, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 1 << 60, RowsPerJob: 1, ConcurrentJobs: 1, ReportRetentionDays: 1}})
	if err != nil {
		b.Fatal(err)
	}
	e, err := entitlements.New(st, c, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Meter(context.Background(), "bench", 1); err != nil {
			b.Fatal(err)
		}
	}
}
