package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/jobs"
)

// quotaPlans is a catalog whose free plan has a monthly quota of perMonth
// rows and room for many concurrent jobs.
func quotaPlans(t testing.TB, perMonth int64) *plans.Catalog {
	t.Helper()
	c, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: perMonth, RowsPerJob: 100, ConcurrentJobs: 1000, ReportRetentionDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// usageOf returns the tenant's usage document of this month.
func usageOf(t testing.TB, f *fixture, tenant string) entitlements.Usage {
	t.Helper()
	e, err := entitlements.New(f.st, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.Usage(context.Background(), tenant, entitlements.MonthOf(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func rowsJob(ds string, rows int) map[string]any {
	return map[string]any{"dataset": ds, "rows": rows}
}

// TestQuotaBoundary: jobs whose rows add up to exactly the monthly quota
// are accepted; one row more is 429 naming the limit and when it resets;
// GET /v1/usage shows the reservations; a job cancelled while queued gives
// its rows back.
func TestQuotaBoundary(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{plans: quotaPlans(t, 100)})
	f.spec = loadSpec(t)
	admin := f.key("acme", apikeys.Admin)
	reader := f.key("acme", apikeys.Read)
	ds := f.upload(admin)
	reset := time.Date(time.Now().UTC().Year(), time.Now().UTC().Month()+1, 1, 0, 0, 0, 0, time.UTC)

	usage := func(wantUsed, wantReserved, wantRemaining float64) {
		t.Helper()
		r := f.do(req{method: "GET", path: "/v1/usage", key: reader})
		if r.status != 200 {
			t.Fatalf("usage: %d %s", r.status, r.body)
		}
		u := r.json(t)
		lim := u["limits"].(map[string]any)
		if u["plan"] != "free" || u["month"] != entitlements.MonthOf(time.Now()) || u["resets_at"] != reset.Format(time.RFC3339) ||
			lim["rows_per_month"] != 100.0 || lim["rows_per_job"] != 100.0 || lim["dp_allowed"] != false {
			t.Errorf("usage: %s", r.body)
		}
		if u["used"] != wantUsed || u["reserved"] != wantReserved || u["remaining"] != wantRemaining {
			t.Errorf("usage used/reserved/remaining = %v/%v/%v, want %v/%v/%v", u["used"], u["reserved"], u["remaining"], wantUsed, wantReserved, wantRemaining)
		}
	}
	create := func(rows int, want int) resp {
		t.Helper()
		r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: rowsJob(ds, rows)})
		if r.status != want {
			t.Fatalf("job of %d rows: %d %s, want %d", rows, r.status, r.body, want)
		}
		return r
	}
	refused := func(r resp) {
		t.Helper()
		e := r.json(t)["error"].(map[string]any)
		msg, _ := e["message"].(string)
		d, _ := e["details"].(map[string]any)
		if r.errCode(t) != "quota_exceeded" || !strings.Contains(msg, "rows_per_month") || !strings.Contains(msg, reset.Format(time.RFC3339)) ||
			d["limit"] != "rows_per_month" || d["resets_at"] != reset.Format(time.RFC3339) {
			t.Errorf("refusal: %s", r.body)
		}
	}

	usage(0, 0, 100)
	first := create(40, http.StatusAccepted).json(t)["id"].(string)
	usage(0, 40, 60)
	create(60, http.StatusAccepted)
	usage(0, 100, 0)
	refused(create(1, http.StatusTooManyRequests))
	usage(0, 100, 0)

	// Beyond the rows per job: 402 naming that limit.
	r := create(101, http.StatusPaymentRequired)
	if msg := r.json(t)["error"].(map[string]any)["message"].(string); r.errCode(t) != "plan_limit" || !strings.Contains(msg, "rows_per_job") {
		t.Errorf("rows per job: %s", r.body)
	}

	// Cancelled while queued: its 40 rows are free again, and exactly
	// those fit.
	if r := f.do(req{method: "POST", path: "/v1/jobs/" + first + "/cancel", key: admin}); r.status != http.StatusAccepted {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	usage(0, 60, 40)
	refused(create(41, http.StatusTooManyRequests))
	create(40, http.StatusAccepted)
	usage(0, 100, 0)
	refused(create(1, http.StatusTooManyRequests))
	if u := usageOf(t, f, "acme"); u.Reserved != 100 || len(u.Jobs) != 2 || u.Done[first] != 0 {
		t.Errorf("usage document: %+v", u)
	}

	// Another tenant's quota is its own.
	other := f.key("globex", apikeys.Admin)
	ods := f.upload(other)
	if r := f.do(req{method: "POST", path: "/v1/jobs", key: other, body: rowsJob(ods, 100)}); r.status != http.StatusAccepted {
		t.Errorf("other tenant: %d %s", r.status, r.body)
	}
}

// TestQuotaReleasedWhenNotRun: a replay with the same Idempotency-Key does
// not reserve twice; a job that cannot be queued is withdrawn and its rows
// released; retried with the same key once queuing works, it reserves its
// rows again.
func TestQuotaReleasedWhenNotRun(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{plans: quotaPlans(t, 100)})
	admin := f.key("acme", apikeys.Admin)
	ds := f.upload(admin)
	ctx := context.Background()

	hdr := map[string]string{"Idempotency-Key": "q-1"}
	r1 := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: rowsJob(ds, 30), header: hdr})
	r2 := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: rowsJob(ds, 30), header: hdr})
	if r1.status != 202 || r2.status != 202 || r1.json(t)["id"] != r2.json(t)["id"] {
		t.Fatalf("replay: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	if u := usageOf(t, f, "acme"); u.Reserved != 30 || len(u.Jobs) != 1 {
		t.Errorf("replay reserved twice: %+v", u)
	}

	f.pub.mu.Lock()
	f.pub.failTasks = true
	f.pub.mu.Unlock()
	hdr = map[string]string{"Idempotency-Key": "q-2"}
	if r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: rowsJob(ds, 50), header: hdr}); r.status != http.StatusServiceUnavailable {
		t.Fatalf("unqueueable job: %d %s", r.status, r.body)
	}
	// Withdrawn with its reservation, and forgotten: the job never ran.
	u := usageOf(t, f, "acme")
	if u.Reserved != 30 || len(u.Jobs) != 1 || len(u.Done) != 0 {
		t.Fatalf("unqueueable job's reservation: %+v", u)
	}
	if page, err := jobs.New(f.st).List(ctx, "acme", 100, ""); err != nil || len(page.Jobs) != 1 {
		t.Errorf("unqueueable job was kept: %+v %v", page.Jobs, err)
	}

	f.pub.mu.Lock()
	f.pub.failTasks = false
	f.pub.mu.Unlock()
	// The 503 was not stored, so the retry executes afresh.
	r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: rowsJob(ds, 50), header: hdr})
	if r.status != http.StatusAccepted {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	j, err := jobs.New(f.st).Get(ctx, "acme", id)
	if err != nil || j.QuotaReservation == nil || j.QuotaReservation.JobID != id || j.QuotaReservation.Rows != 50 {
		t.Fatalf("retried job's reservation: %+v %v", j, err)
	}
	if u := usageOf(t, f, "acme"); u.Reserved != 80 || u.Jobs[id] != 50 {
		t.Errorf("usage after the retry: %+v", u)
	}
	// The quota counts it: 20 rows are left.
	if r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: rowsJob(ds, 21)}); r.status != http.StatusTooManyRequests {
		t.Errorf("past the quota after the retry: %d %s", r.status, r.body)
	}
}

// TestQuotaConcurrentReservations: many jobs posted at once against a
// quota with room for exactly `room` of them: exactly that many are
// accepted, the rest are 429, and the reservations never exceed the quota.
func TestQuotaConcurrentReservations(t *testing.T) {
	t.Parallel()
	const n, room, rows = 24, 5, 10
	f := newFixture(t, fixtureOptions{plans: quotaPlans(t, room*rows)})
	admin := f.key("acme", apikeys.Admin)
	ds := f.upload(admin)
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			statuses[i] = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: rowsJob(ds, rows),
				header: map[string]string{"Idempotency-Key": fmt.Sprint("c-", i)}}).status
		})
	}
	wg.Wait()
	counts := map[int]int{}
	for _, s := range statuses {
		counts[s]++
	}
	if counts[http.StatusAccepted] != room || counts[http.StatusTooManyRequests] != n-room {
		t.Errorf("statuses %v, want %d accepted and %d refused", counts, room, n-room)
	}
	u := usageOf(t, f, "acme")
	if u.Reserved != room*rows || len(u.Jobs) != room || u.Used != 0 {
		t.Errorf("usage %+v, want %d rows reserved by %d jobs", u, room*rows, room)
	}
}
