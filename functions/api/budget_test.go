package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/dp/ledger"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/secrules"
)

// dpPlans is a catalog whose free plan allows the dp model.
func dpPlans(t testing.TB) *plans.Catalog {
	t.Helper()
	c, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 1000, DPAllowed: true, ConcurrentJobs: 1000, ReportRetentionDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ledgerOf returns a ledger over the fixture's store (the charges are in the
// store, whatever ledger reads them).
func ledgerOf(t testing.TB, f *fixture) *ledger.Ledger {
	t.Helper()
	l, err := ledger.New(f.st, ledger.Options{DefaultEpsilon: 10})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func rhoOf(t testing.TB, eps float64) float64 {
	t.Helper()
	r, err := dp.Rho(eps, 1e-9)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func dpJob(ds string, eps float64) map[string]any {
	return map[string]any{"dataset": ds, "rows": 5, "model": "dp", "epsilon": eps}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestPrivacyBudgetReserveAndExhaust: a dp job reserves its rho before it
// is created; one beyond the cap is 409 privacy_budget_exhausted with the
// remaining budget, and nothing is spent or reserved for it.
func TestPrivacyBudgetReserveAndExhaust(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{plans: dpPlans(t)})
	f.spec = loadSpec(t)
	admin := f.key("acme", apikeys.Admin)
	ds := f.upload(admin)
	ctx := context.Background()
	led := ledgerOf(t, f)

	r := f.do(req{method: "GET", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin})
	if r.status != 200 {
		t.Fatalf("budget: %d %s", r.status, r.body)
	}
	b := r.json(t)
	if b["cap_epsilon"] != 10.0 || b["delta"] != 1e-9 || b["spent_rho"] != 0.0 || len(b["charges"].([]any)) != 0 {
		t.Errorf("default budget: %s", r.body)
	}
	if r := f.do(req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: map[string]any{"epsilon": 1}}); r.status != 200 {
		t.Fatalf("set cap: %d %s", r.status, r.body)
	}

	r = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: dpJob(ds, 0.8)})
	if r.status != http.StatusAccepted {
		t.Fatalf("dp job: %d %s", r.status, r.body)
	}
	jobID := r.json(t)["id"].(string)
	rho := rhoOf(t, 0.8)
	if got := r.json(t)["dp_rho"]; got == nil || !near(got.(float64), rho) {
		t.Errorf("job dp_rho = %v, want %v", got, rho)
	}
	j, err := jobs.New(f.st).Get(ctx, "acme", jobID)
	if err != nil || j.DPReservation == "" || !near(j.DPRho, rho) {
		t.Fatalf("stored job: %+v %v", j, err)
	}
	before, err := led.History(ctx, "acme", ds)
	if err != nil || len(before) != 1 || before[0].Job != jobID || before[0].State != ledger.Reserved || before[0].ID != j.DPReservation {
		t.Fatalf("history after one job: %+v %v", before, err)
	}
	jobsBefore := f.pub.count("generate-requests")

	r = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: dpJob(ds, 0.8)})
	if r.status != http.StatusConflict || r.errCode(t) != "privacy_budget_exhausted" {
		t.Fatalf("over budget: %d %s", r.status, r.body)
	}
	d := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
	capRho := rhoOf(t, 1)
	remRho := capRho - rho
	remEps, err := dp.Epsilon(remRho, 1e-9)
	if err != nil {
		t.Fatal(err)
	}
	if !near(d["remaining_rho"].(float64), remRho) || math.Abs(d["remaining_epsilon"].(float64)-remEps) > 1e-6 ||
		d["delta"] != 1e-9 || d["requested_epsilon"] != 0.8 || !near(d["requested_rho"].(float64), rho) {
		t.Errorf("details = %v, want remaining rho %v epsilon %v", d, remRho, remEps)
	}
	if remEps >= 0.8 || remEps <= 0 {
		t.Errorf("remaining epsilon %v should be positive and below the request", remEps)
	}
	after, err := led.History(ctx, "acme", ds)
	if err != nil || len(after) != len(before) || after[0] != before[0] {
		t.Errorf("the refused job changed the history: %+v -> %+v (%v)", before, after, err)
	}
	bud, err := led.Get(ctx, "acme", ds)
	if err != nil || bud.Spent != 0 || !near(bud.Pending, rho) {
		t.Errorf("budget after refusal: %+v %v", bud, err)
	}
	if n := f.pub.count("generate-requests"); n != jobsBefore {
		t.Errorf("the refused job was queued (%d tasks, want %d)", n, jobsBefore)
	}
	page, err := jobs.New(f.st).List(ctx, "acme", 100, "")
	if err != nil || len(page.Jobs) != 1 {
		t.Errorf("jobs after refusal: %d %v", len(page.Jobs), err)
	}

	// A smaller job fits what remains.
	small := remEps * 0.9
	if r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: dpJob(ds, small)}); r.status != http.StatusAccepted {
		t.Errorf("job within the remaining budget: %d %s", r.status, r.body)
	}

	// The budget view: reserved, nothing spent, both charges listed.
	r = f.do(req{method: "GET", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin})
	b = r.json(t)
	if b["spent_rho"] != 0.0 || !near(b["reserved_rho"].(float64), rho+rhoOf(t, small)) || len(b["charges"].([]any)) != 2 {
		t.Errorf("budget view: %s", r.body)
	}

	// Lowering the cap below what is reserved is allowed: nothing remains.
	r = f.do(req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: map[string]any{"epsilon": 0.1}})
	if r.status != 200 || r.json(t)["remaining_rho"] != 0.0 || r.json(t)["remaining_epsilon"] != 0.0 {
		t.Errorf("lowered cap: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: dpJob(ds, 0.01)}); r.errCode(t) != "privacy_budget_exhausted" {
		t.Errorf("job under a lowered cap: %d %s", r.status, r.body)
	}
}

// TestPrivacyBudgetReleasedWhenNotRun: a queued dp job cancelled, or one
// that cannot be queued, gives its reservation back; a replay with the
// same Idempotency-Key does not reserve twice.
func TestPrivacyBudgetReleasedWhenNotRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{plans: dpPlans(t)})
	admin := f.key("acme", apikeys.Admin)
	ds := f.upload(admin)
	ctx := context.Background()
	led := ledgerOf(t, f)
	state := func(job string) string {
		t.Helper()
		h, err := led.History(ctx, "acme", ds)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range h {
			if c.Job == job {
				return c.State
			}
		}
		return "none"
	}

	// Idempotent replay: one job, one reservation.
	hdr := map[string]string{"Idempotency-Key": "dp-1"}
	r1 := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: dpJob(ds, 1), header: hdr})
	r2 := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: dpJob(ds, 1), header: hdr})
	if r1.status != 202 || r2.status != 202 || r1.json(t)["id"] != r2.json(t)["id"] {
		t.Fatalf("replay: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	if h, err := led.History(ctx, "acme", ds); err != nil || len(h) != 1 {
		t.Errorf("replay reserved %d times (%v)", len(h), err)
	}

	// Cancelled while queued: released.
	job := r1.json(t)["id"].(string)
	if r := f.do(req{method: "POST", path: "/v1/jobs/" + job + "/cancel", key: admin}); r.status != 202 {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	if s := state(job); s != ledger.Released {
		t.Errorf("cancelled queued job's reservation is %s, want released", s)
	}

	// Cannot be queued: withdrawn and released, 503.
	f.pub.mu.Lock()
	f.pub.failTasks = true
	f.pub.mu.Unlock()
	r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: dpJob(ds, 1)})
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("unqueueable job: %d %s", r.status, r.body)
	}
	h, err := led.History(ctx, "acme", ds)
	if err != nil || len(h) != 2 || h[1].State != ledger.Released {
		t.Fatalf("unqueueable job's reservation: %+v %v", h, err)
	}
	if _, err := jobs.New(f.st).Get(ctx, "acme", h[1].Job); err == nil {
		t.Errorf("unqueueable job %s was kept", h[1].Job)
	}
	b, err := led.Get(ctx, "acme", ds)
	if err != nil || b.Pending != 0 || b.Spent != 0 {
		t.Errorf("budget after releases: %+v %v", b, err)
	}
	// A non-dp job that cannot be queued is 503 as well (withdrawn too: it
	// holds a monthly quota reservation, see quota_test.go).
	r = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: map[string]any{"dataset": ds, "rows": 5}})
	if r.status != http.StatusServiceUnavailable {
		t.Errorf("unqueueable tree job: %d %s", r.status, r.body)
	}
}

// TestPrivacyBudgetConcurrentReservations: many dp jobs posted at once
// against a cap with room for exactly `room` of them: exactly that many are
// accepted, the rest are 409, and the reservations never exceed the cap.
func TestPrivacyBudgetConcurrentReservations(t *testing.T) {
	t.Parallel()
	// The edge's dp-burst rule would refuse most of these 24 dp jobs at one
	// dataset before the ledger sees them (TestSecurityDPBurst tests it);
	// this test is about the ledger, so the rule is left out.
	var rules []secrules.Rule
	for _, r := range secrules.DefaultRules() {
		if r.ID != "dp-burst" {
			rules = append(rules, r)
		}
	}
	f := newFixture(t, fixtureOptions{plans: dpPlans(t), securityRules: rules})
	admin := f.key("acme", apikeys.Admin)
	ds := f.upload(admin)
	const n, room, eps = 24, 5, 0.5
	capEps, err := dp.Epsilon(room*rhoOf(t, eps)*(1+1e-9), 1e-9)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.do(req{method: "PUT", path: "/v1/datasets/" + ds + "/privacy-budget", key: admin, body: map[string]any{"epsilon": capEps}}); r.status != 200 {
		t.Fatalf("set cap: %d %s", r.status, r.body)
	}
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			statuses[i] = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: dpJob(ds, eps),
				header: map[string]string{"Idempotency-Key": fmt.Sprint("c-", i)}}).status
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusAccepted] != room || counts[http.StatusConflict] != n-room {
		t.Errorf("statuses %v, want %d accepted and %d conflicts", counts, room, n-room)
	}
	led := ledgerOf(t, f)
	b, err := led.Get(context.Background(), "acme", ds)
	if err != nil {
		t.Fatal(err)
	}
	if b.Pending+b.Spent > b.CapRho*(1+1e-9) {
		t.Errorf("reserved %v + spent %v exceed the cap %v", b.Pending, b.Spent, b.CapRho)
	}
	h, err := led.History(context.Background(), "acme", ds)
	if err != nil || len(h) != room {
		t.Errorf("%d charges (%v), want %d", len(h), err, room)
	}
}
