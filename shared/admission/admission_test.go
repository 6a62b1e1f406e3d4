package admission_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/admission"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/dp/ledger"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/state/statetest"
)

func catalog(t *testing.T, concurrent int) *plans.Catalog {
	t.Helper()
	c, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 1000, RowsPerJob: 500, ConcurrentJobs: concurrent, DPAllowed: true, ReportRetentionDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newAdmitter(t *testing.T, st state.Store, concurrent int) *admission.Admitter {
	t.Helper()
	a, err := admission.New(st, admission.Options{Catalog: catalog(t, concurrent), BudgetEpsilon: 1, BudgetDelta: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func usage(t *testing.T, a *admission.Admitter, tenant string) entitlements.Usage {
	t.Helper()
	e := a.Entitlements()
	u, err := e.Usage(t.Context(), tenant, entitlements.MonthOf(e.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func finish(t *testing.T, st state.Store, id string, to jobs.State) {
	t.Helper()
	_, _, err := jobs.New(st).Update(t.Context(), id, "", func(j *jobs.Job) error {
		if to == jobs.Failed {
			return jobs.Fail(j, errs.Internal, "broke")
		}
		j.State = to
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAdmission(t *testing.T) {
	t.Parallel()
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, st) })
			t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, st) })
			t.Run("WithdrawReadmit", func(t *testing.T) { testWithdraw(t, st) })
			t.Run("Budget", func(t *testing.T) { testBudget(t, st) })
			t.Run("AIBudget", func(t *testing.T) { testAIBudget(t, st) })
		})
	}
}

// testLifecycle: admission reserves rows and a running slot with the job;
// admitting again changes nothing; settling a succeeded job commits the
// rows it produced and frees the slot, once.
func testLifecycle(t *testing.T, st state.Store) {
	ctx := t.Context()
	tenant := statetest.Collection(t)
	a := newAdmitter(t, st, 2)
	j, err := a.Admit(ctx, &jobs.Job{ID: tenant + "-j1", Tenant: tenant, Request: jobs.Request{Dataset: "ds", Rows: 300, Model: "tree"}})
	if err != nil {
		t.Fatal(err)
	}
	if j.State != jobs.Queued || j.QuotaReservation == nil || j.QuotaReservation.Rows != 300 {
		t.Fatalf("admitted job: %+v", j)
	}
	again, err := a.Admit(ctx, &jobs.Job{ID: tenant + "-j1", Tenant: tenant, Request: jobs.Request{Dataset: "ds", Rows: 300, Model: "tree"}})
	if err != nil || again.CreatedAt != j.CreatedAt {
		t.Fatalf("admitting again: %+v, %v", again, err)
	}
	if u := usage(t, a, tenant); u.Reserved != 300 || u.Used != 0 {
		t.Fatalf("usage after admission: %+v", u)
	}
	if r, _ := a.RunningJobs(ctx, tenant); len(r) != 1 {
		t.Fatalf("running after admission: %v", r)
	}
	// Unfinished: Settle leaves it alone.
	if got, err := a.Settle(ctx, j.ID, nil); err != nil || got.Settled {
		t.Fatalf("settle of a queued job: %+v, %v", got, err)
	}
	finish(t, st, j.ID, jobs.Succeeded)
	for range 2 {
		got, err := a.Settle(ctx, j.ID, nil)
		if err != nil || !got.Settled {
			t.Fatalf("settle: %+v, %v", got, err)
		}
	}
	if u := usage(t, a, tenant); u.Reserved != 0 || u.Used != 300 {
		t.Fatalf("usage after settling twice: %+v", u)
	}
	if r, _ := a.RunningJobs(ctx, tenant); len(r) != 0 {
		t.Fatalf("running after settling: %v", r)
	}
	// Over the rows per job, and over the month: refused, nothing held.
	_, err = a.Admit(ctx, &jobs.Job{ID: tenant + "-big", Tenant: tenant, Request: jobs.Request{Dataset: "ds", Rows: 501, Model: "tree"}})
	var le *entitlements.LimitError
	if !errors.As(err, &le) || le.Limit != entitlements.LimitRowsPerJob || errs.CodeOf(err) != errs.FailedPrecondition {
		t.Fatalf("rows per job: %v", err)
	}
	for i := range 3 {
		_, err = a.Admit(ctx, &jobs.Job{ID: fmt.Sprintf("%s-m%d", tenant, i), Tenant: tenant, Request: jobs.Request{Dataset: "ds", Rows: 400, Model: "tree"}})
		if i < 1 && err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			// 300 used + 400 reserved: 400 more is over 1000; the plan
			// allows two at once, so the month refuses it.
			if !errors.As(err, &le) || le.Limit != entitlements.LimitRowsPerMonth || errs.CodeOf(err) != errs.ResourceExhausted {
				t.Fatalf("rows per month: %v", err)
			}
		}
	}
	if _, err := jobs.New(st).Load(ctx, tenant+"-m1"); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("a refused job was stored: %v", err)
	}
	if u := usage(t, a, tenant); u.Reserved != 400 || u.Used != 300 {
		t.Errorf("a refusal changed the usage: %+v", u)
	}
}

// testConcurrent: 20 parallel admissions on a plan of 1 (then 3)
// concurrent jobs admit exactly that many: the running count is read in
// the same transaction that reserves.
func testConcurrent(t *testing.T, st state.Store) {
	for _, limit := range []int{1, 3} {
		tenant := fmt.Sprintf("%s-%d", statetest.Collection(t), limit)
		a := newAdmitter(t, st, limit)
		var wg sync.WaitGroup
		var mu sync.Mutex
		admitted, refused := 0, 0
		var other []error
		for i := range 20 {
			wg.Go(func() {
				_, err := a.Admit(context.Background(), &jobs.Job{ID: fmt.Sprintf("%s-%02d", tenant, i), Tenant: tenant,
					Request: jobs.Request{Dataset: "ds", Rows: 10, Model: "copula"}})
				mu.Lock()
				defer mu.Unlock()
				var le *entitlements.LimitError
				switch {
				case err == nil:
					admitted++
				case errors.As(err, &le) && le.Limit == entitlements.LimitConcurrentJobs:
					refused++
				default:
					other = append(other, err)
				}
			})
		}
		wg.Wait()
		if admitted != limit || refused != 20-limit || len(other) > 0 {
			t.Errorf("limit %d: %d admitted, %d refused, other errors %v", limit, admitted, refused, other)
		}
		if u := usage(t, a, tenant); u.Reserved != int64(10*limit) {
			t.Errorf("limit %d: reserved %d rows, want %d", limit, u.Reserved, 10*limit)
		}
	}
}

// testWithdraw: a job that could not be queued is withdrawn with its
// reservations, and the same id is admitted afresh.
func testWithdraw(t *testing.T, st state.Store) {
	ctx := t.Context()
	tenant := statetest.Collection(t)
	a := newAdmitter(t, st, 1)
	j := &jobs.Job{ID: tenant + "-w", Tenant: tenant, Request: jobs.Request{Dataset: "ds", Rows: 100, Model: "dp", Epsilon: 0.5}}
	if _, err := a.Admit(ctx, j); err != nil {
		t.Fatal(err)
	}
	ok, err := a.Withdraw(ctx, tenant, j.ID)
	if err != nil || !ok {
		t.Fatalf("withdraw: %v %v", ok, err)
	}
	if u := usage(t, a, tenant); u.Reserved != 0 || u.Used != 0 {
		t.Fatalf("usage after withdrawal: %+v", u)
	}
	b, err := a.Ledger().Get(ctx, tenant, "ds")
	if err != nil || b.Pending != 0 || b.Spent != 0 {
		t.Fatalf("budget after withdrawal: %+v %v", b, err)
	}
	again, err := a.Admit(ctx, j)
	if err != nil || again.QuotaReservation == nil || again.DPReservation == "" {
		t.Fatalf("readmission: %+v %v", again, err)
	}
	if u := usage(t, a, tenant); u.Reserved != 100 {
		t.Fatalf("usage after readmission: %+v", u)
	}
	// A job a step has moved on is not withdrawn.
	if _, _, err := jobs.New(st).Update(ctx, j.ID, "", func(j *jobs.Job) error { return jobs.Advance(j, jobs.Profiling) }); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.Withdraw(ctx, tenant, j.ID); err != nil || ok {
		t.Fatalf("withdraw of a running job: %v %v", ok, err)
	}
}

// testBudget: a dp job reserves its rho with its admission; over the cap
// it is refused and holds nothing; a failure before the fit refunds, after
// the fit charges.
func testBudget(t *testing.T, st state.Store) {
	ctx := t.Context()
	tenant := statetest.Collection(t)
	a := newAdmitter(t, st, 5)
	req := jobs.Request{Dataset: "ds", Rows: 10, Model: "dp", Epsilon: 0.8}
	j1, err := a.Admit(ctx, &jobs.Job{ID: tenant + "-b1", Tenant: tenant, Request: req})
	if err != nil || j1.DPReservation == "" || !(j1.DPRho > 0) {
		t.Fatalf("dp admission: %+v %v", j1, err)
	}
	// The default cap is epsilon 1: a second 0.8 does not fit (rho grows as epsilon squared).
	_, err = a.Admit(ctx, &jobs.Job{ID: tenant + "-b2", Tenant: tenant, Request: req})
	var be *ledger.BudgetError
	if !errors.As(err, &be) || errs.CodeOf(err) != errs.ResourceExhausted {
		t.Fatalf("over budget: %v", err)
	}
	if u := usage(t, a, tenant); u.Reserved != 10 {
		t.Fatalf("a budget refusal reserved rows: %+v", u)
	}
	// Failed before the fit: refunded; the second job fits now.
	finish(t, st, j1.ID, jobs.Failed)
	notFitted := func(context.Context, *jobs.Job) (bool, error) { return false, nil }
	if got, err := a.Settle(ctx, j1.ID, notFitted); err != nil || got.DPCharged {
		t.Fatalf("settle before fit: %+v %v", got, err)
	}
	j2, err := a.Admit(ctx, &jobs.Job{ID: tenant + "-b2", Tenant: tenant, Request: req})
	if err != nil {
		t.Fatalf("after the refund: %v", err)
	}
	finish(t, st, j2.ID, jobs.Failed)
	fitted := func(context.Context, *jobs.Job) (bool, error) { return true, nil }
	if got, err := a.Settle(ctx, j2.ID, fitted); err != nil || !got.DPCharged {
		t.Fatalf("settle after fit: %+v %v", got, err)
	}
	b, err := a.Ledger().Get(ctx, tenant, "ds")
	if err != nil || b.Pending != 0 || b.Spent != j2.DPRho {
		t.Fatalf("budget: %+v %v (want spent %v)", b, err, j2.DPRho)
	}
}

// BenchmarkAdmitSettle admits a job and settles it (one transaction each,
// fsync'd on the embedded bolt store): the cost admission adds to every
// job.
func BenchmarkAdmitSettle(b *testing.B) {
	st, err := state.Open(b.Context(), "bolt://"+filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	c, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 1 << 60, RowsPerJob: 1000, ConcurrentJobs: 10, DPAllowed: true, ReportRetentionDays: 1}})
	if err != nil {
		b.Fatal(err)
	}
	a, err := admission.New(st, admission.Options{Catalog: c, BudgetEpsilon: 1000, BudgetDelta: 1e-9})
	if err != nil {
		b.Fatal(err)
	}
	store := jobs.New(st)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("job-%d", i)
		if _, err := a.Admit(b.Context(), &jobs.Job{ID: id, Tenant: "acme", Request: jobs.Request{Dataset: "ds", Rows: 10, Model: "dp", Epsilon: 0.01}}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := store.Update(b.Context(), id, "", func(j *jobs.Job) error { j.State = jobs.Succeeded; return nil }); err != nil {
			b.Fatal(err)
		}
		if _, err := a.Settle(b.Context(), id, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// testAIBudget: concurrent design jobs each priced at $0.30 of AI use on a
// plan with a $1 monthly AI budget: admission reserves each estimate, so
// exactly three are admitted ($0.90 held; a fourth would make $1.20) and
// the rest refused with llm.ErrQuota. Settling one releases its $0.30, so
// one more fits. SYNTHOS_AI_BUDGETS' override (Options.AIBudgets) wins
// over the catalog: 0 lifts the cap.
func testAIBudget(t *testing.T, st state.Store) {
	ctx := context.Background()
	c, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 100_000, RowsPerJob: 500, ConcurrentJobs: 100,
		ReportRetentionDays: 1, AIBudgetUSD: 1}})
	if err != nil {
		t.Fatal(err)
	}
	const estimate = 300_000 // $0.30 in micro-dollars
	for _, tc := range []struct {
		name      string
		overrides map[string]float64
		admitted  int
	}{
		{name: "catalog budget", admitted: 3},                                     // ⌊1.00 / 0.30⌋
		{name: "override", overrides: map[string]float64{"free": 2}, admitted: 6}, // ⌊2.00 / 0.30⌋
		{name: "override lifts the cap", overrides: map[string]float64{"free": 0}, admitted: 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tenant := statetest.Collection(t)
			a, err := admission.New(st, admission.Options{Catalog: c, AIBudgets: tc.overrides})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			var ids []string
			refused := 0
			var other []error
			for i := range 20 {
				wg.Go(func() {
					id := fmt.Sprintf("%s-%02d", tenant, i)
					_, err := a.Admit(ctx, &jobs.Job{ID: id, Tenant: tenant, Request: jobs.Request{Design: "shop", Rows: 10, Model: "design"},
						AI: &jobs.AIUsage{EstimateMicros: estimate}})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ids = append(ids, id)
					case errors.Is(err, llm.ErrQuota):
						refused++
					default:
						other = append(other, err)
					}
				})
			}
			wg.Wait()
			if len(ids) != tc.admitted || refused != 20-tc.admitted || len(other) > 0 {
				t.Fatalf("%d admitted, %d refused, other errors %v; want %d admitted", len(ids), refused, other, tc.admitted)
			}
			meter := &llm.Meter{Store: st}
			if held, err := meter.Held(ctx, tenant); err != nil || held != llm.Micros(estimate*tc.admitted) {
				t.Fatalf("held %v (%v), want %d", held, err, estimate*tc.admitted)
			}
			// A refused job reserved nothing: no row quota held for it.
			if u := usage(t, a, tenant); u.Reserved != int64(10*tc.admitted) {
				t.Errorf("reserved %d rows, want %d", u.Reserved, 10*tc.admitted)
			}
			// Settle one: its hold ends, once.
			finish(t, st, ids[0], jobs.Failed)
			for range 2 {
				if _, err := a.Settle(ctx, ids[0], nil); err != nil {
					t.Fatal(err)
				}
			}
			if held, _ := meter.Held(ctx, tenant); held != llm.Micros(estimate*(tc.admitted-1)) {
				t.Errorf("held after settling one: %v, want %d", held, estimate*(tc.admitted-1))
			}
			// Its $0.30 is free again: one more job fits, then none.
			for i, want := range []bool{true, tc.overrides["free"] == 0 && tc.overrides != nil} {
				_, err := a.Admit(ctx, &jobs.Job{ID: fmt.Sprintf("%s-more-%d", tenant, i), Tenant: tenant,
					Request: jobs.Request{Design: "shop", Rows: 10, Model: "design"}, AI: &jobs.AIUsage{EstimateMicros: estimate}})
				if got := err == nil; got != want || err != nil && !errors.Is(err, llm.ErrQuota) {
					t.Errorf("admission %d after the release: %v, want admitted %v", i, err, want)
				}
			}
		})
	}
	// Spend counts too: a tenant that spent $0.80 has room for no $0.30 job.
	tenant := statetest.Collection(t) + "-spent"
	meter := &llm.Meter{Store: st}
	if err := meter.Record(ctx, tenant, llm.Response{Provider: "claude", Cost: 800_000}, false); err != nil {
		t.Fatal(err)
	}
	a, err := admission.New(st, admission.Options{Catalog: c})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Admit(ctx, &jobs.Job{ID: tenant + "-1", Tenant: tenant, Request: jobs.Request{Design: "shop", Rows: 10, Model: "design"},
		AI: &jobs.AIUsage{EstimateMicros: estimate}}); !errors.Is(err, llm.ErrQuota) {
		t.Errorf("$0.30 job after $0.80 spent of $1: %v, want llm.ErrQuota", err)
	}
}
