package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/analytics"
	"synthos.dev/synthos/shared/apikeys"
)

// TestAnalyticsViews records finished jobs of two tenants and reads the
// three views: each tenant sees its own figures; the platform view needs
// an admin key of a platform admin tenant and sees both.
func TestAnalyticsViews(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.spec = loadSpec(t)
	store, err := analytics.New(f.st)
	if err != nil {
		t.Fatal(err)
	}
	q := func(x float64) *float64 { return &x }
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for _, fact := range []analytics.Fact{
		{JobID: "j1", Tenant: "acme", Dataset: "ds1", Model: "tree", State: "succeeded", At: at, Rows: 100, Seconds: 4, Quality: q(0.9), Privacy: q(1), ComputeCost: 0.000116, AICost: 0.5},
		{JobID: "j2", Tenant: "acme", Dataset: "ds1", Model: "copula", State: "succeeded", At: at, Rows: 50, Seconds: 2, Quality: q(0.8), Privacy: q(0.5), ComputeCost: 0.000058},
		{JobID: "j3", Tenant: "acme", Dataset: "ds2", Model: "dp", State: "failed", At: at.AddDate(0, 0, 1), FailureCode: "internal", Epsilon: 0},
		{JobID: "j4", Tenant: "globex", Dataset: "dsx", Model: "tree", State: "succeeded", At: at, Rows: 7},
	} {
		if _, err := store.Record(context.Background(), fact); err != nil {
			t.Fatal(err)
		}
	}
	reader := f.key("acme", apikeys.Read)
	r := f.do(req{method: "GET", path: "/v1/analytics/usage?from=2026-03-09&to=2026-03-11", key: reader})
	if r.status != 200 {
		t.Fatalf("usage = %d %s", r.status, r.body)
	}
	body := r.json(t)
	buckets := body["buckets"].([]any)
	if len(buckets) != 3 {
		t.Fatalf("%d buckets, want 3 days", len(buckets))
	}
	b1, b2 := buckets[1].(map[string]any), buckets[2].(map[string]any)
	if b1["rows"] != 150.0 || b1["jobs"] != 2.0 || b1["compute_seconds"] != 6.0 {
		t.Errorf("2026-03-10 = %v, want acme's 150 rows of 2 jobs in 6 s", b1)
	}
	// 4 s and 2 s at $0.000029: $0.000174 of compute, and $0.50 of AI.
	if b1["compute_cost_usd"] != 0.000174 || b1["ai_cost_usd"] != 0.5 || b1["cost_usd"] != 0.500174 {
		t.Errorf("2026-03-10 cost = %v + %v = %v, want $0.000174 + $0.5", b1["compute_cost_usd"], b1["ai_cost_usd"], b1["cost_usd"])
	}
	if ds := body["datasets"].(map[string]any)["ds1"].(map[string]any); ds["cost_usd"] != 0.500174 {
		t.Errorf("ds1 cost = %v, want $0.500174", ds["cost_usd"])
	}
	if b2["failed"] != 1.0 || b2["failures"].(map[string]any)["internal"] != 1.0 {
		t.Errorf("2026-03-11 = %v, want one internal failure", b2)
	}

	r = f.do(req{method: "GET", path: "/v1/analytics/quality?from=2026-03-01&to=2026-03-31&granularity=month", key: reader})
	qb := r.json(t)["buckets"].([]any)[0].(map[string]any)
	if qb["quality"].(float64) < 0.849 || qb["quality"].(float64) > 0.851 {
		t.Errorf("March quality = %v, want 0.85", qb["quality"])
	}
	ds1 := r.json(t)["datasets"].(map[string]any)["ds1"].(map[string]any)
	if tree := ds1["by_model"].(map[string]any)["tree"].(map[string]any); tree["mean"] != 0.9 {
		t.Errorf("ds1 tree quality = %v", tree)
	}
	r = f.do(req{method: "GET", path: "/v1/analytics/privacy?from=2026-03-10&to=2026-03-10", key: reader})
	if pb := r.json(t)["buckets"].([]any)[0].(map[string]any); pb["privacy"] != 0.75 {
		t.Errorf("privacy = %v, want 0.75", pb["privacy"])
	}

	// The platform view: refused to acme's admin until acme is a platform
	// admin tenant, then both tenants' rows.
	admin := f.key("acme", apikeys.Admin)
	path := "/v1/analytics/usage?from=2026-03-10&to=2026-03-10&scope=platform"
	if r := f.do(req{method: "GET", path: path, key: admin}); r.status != 403 {
		t.Fatalf("platform view for a tenant admin = %d", r.status)
	}
	h, err := NewWithOptions(f.env, Options{Pepper: testPepper, Plans: testPlans(t), PlatformAdmins: []string{"acme"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	hr := httptest.NewRequest("GET", path, nil)
	hr.Header.Set("Authorization", "Bearer "+admin)
	h.ServeHTTP(rec, hr)
	var got struct {
		Scope   string
		Buckets []struct{ Rows int64 }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 {
		t.Fatalf("platform view = %d %s", rec.Code, rec.Body)
	}
	if got.Scope != "platform" || got.Buckets[0].Rows != 157 {
		t.Errorf("platform view = %+v, want both tenants' 157 rows", got)
	}
}

// TestAnalyticsLive reads two snapshots of the live view: the admitted job
// is running in both, and the events are well-formed server-sent events.
func TestAnalyticsLive(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	admin := f.key("acme", apikeys.Admin)
	job := f.createJob(admin, f.upload(admin))
	other := f.key("globex", apikeys.Read)
	r := f.do(req{method: "GET", path: "/v1/analytics/live?max=2&interval=500ms", key: admin})
	if r.status != 200 || r.header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("live = %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	events := strings.Split(strings.TrimSpace(string(r.body)), "\n\n")
	if len(events) != 2 {
		t.Fatalf("%d events, want 2:\n%s", len(events), r.body)
	}
	for i, ev := range events {
		lines := strings.Split(ev, "\n")
		if len(lines) != 3 || lines[0] != fmt.Sprintf("id: %d", i+1) || lines[1] != "event: snapshot" || !strings.HasPrefix(lines[2], "data: ") {
			t.Fatalf("event %d = %q", i, ev)
		}
		var live analytics.Live
		if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[2], "data: ")), &live); err != nil {
			t.Fatal(err)
		}
		if len(live.Running) != 1 || live.Running[0].ID != job || live.Running[0].State != "queued" {
			t.Errorf("event %d running = %+v, want job %s queued", i, live.Running, job)
		}
	}
	// Another tenant sees none of it.
	r = f.do(req{method: "GET", path: "/v1/analytics/live?max=1", key: other})
	if strings.Contains(string(r.body), job) {
		t.Errorf("globex sees acme's job: %s", r.body)
	}
}
