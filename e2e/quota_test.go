package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apifn "synthos.dev/synthos/functions/api"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/jobs"
)

// TestEmbeddedQuota runs jobs created through the API on the embedded
// platform against a monthly quota of 1000 rows: a succeeded job's rows
// are counted as used, a failed job's reservation is released, GET
// /v1/usage says so, and what it says remains is exactly what a new job
// may reserve (one row more is 429).
func TestEmbeddedQuota(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{})
	ctx := t.Context()
	pepper := bytes.Repeat([]byte("q"), 32)
	catalog, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 1000, RowsPerJob: 1000, ConcurrentJobs: 100, ReportRetentionDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	h, err := apifn.NewWithOptions(e.env, apifn.Options{Pepper: pepper, Plans: catalog})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	keys, err := apikeys.New(e.env.State, pepper)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := keys.Create(ctx, apikeys.CreateOptions{Tenant: "acme", Scopes: []apikeys.Scope{apikeys.Admin}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		r, err := http.NewRequestWithContext(ctx, method, srv.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+key)
		if body != nil {
			r.Header.Set("Content-Type", "application/json")
		}
		res, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
		}
		return res.StatusCode, m
	}
	usage := func(used, reserved, remaining float64) {
		t.Helper()
		status, u := call("GET", "/v1/usage", nil)
		if status != 200 || u["used"] != used || u["reserved"] != reserved || u["remaining"] != remaining {
			t.Errorf("usage: %d %v, want used %v, reserved %v, remaining %v", status, u, used, reserved, remaining)
		}
	}
	ds := upload(t, e.env, "acme", "ds-quota", "adult.csv", adult(t, 2000))
	skipAll, err := json.Marshal(map[string]any{"skip": gate.Metrics})
	if err != nil {
		t.Fatal(err)
	}
	create := func(rows int, extra map[string]any, want int) string {
		t.Helper()
		body := map[string]any{"dataset": ds.ID, "rows": rows, "seed": 5, "thresholds": json.RawMessage(skipAll)}
		for k, v := range extra {
			body[k] = v
		}
		status, m := call("POST", "/v1/jobs", body)
		if status != want {
			t.Fatalf("create %d rows %v: %d %v, want %d", rows, extra, status, m, want)
		}
		id, _ := m["id"].(string)
		return id
	}

	succeeds := create(300, nil, http.StatusAccepted)
	fails := create(300, map[string]any{"rules": json.RawMessage(`{"rules":[{"type":"range","column":"age","min":200}]}`)}, http.StatusAccepted)
	e.drain(t)

	for _, tc := range []struct {
		job   string
		state jobs.State
	}{{succeeds, jobs.Succeeded}, {fails, jobs.Failed}} {
		j := loadJob(t, e.env, tc.job)
		if j.State != tc.state || j.QuotaReservation == nil {
			t.Fatalf("job %s: %s %q reservation %+v, want %s", tc.job, j.State, j.Error, j.QuotaReservation, tc.state)
		}
	}
	// The succeeded job's rows are used; the failed job's are released.
	usage(300, 0, 700)
	ent, err := entitlements.New(e.env.State, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := ent.Usage(ctx, "acme", loadJob(t, e.env, succeeds).QuotaReservation.Month)
	if err != nil || u.Done[succeeds] != 300 || u.Done[fails] != 0 || len(u.Jobs) != 0 || u.Used != 300 {
		t.Errorf("usage document: %+v %v", u, err)
	}

	// One row more than remains is refused (429, naming the limit).
	status, m := call("POST", "/v1/jobs", map[string]any{"dataset": ds.ID, "rows": 701})
	if e, _ := m["error"].(map[string]any); status != http.StatusTooManyRequests || e == nil || e["code"] != "quota_exceeded" ||
		!strings.Contains(e["message"].(string), "rows_per_month") {
		t.Errorf("701 rows: %d %v", status, m)
	}
	// Exactly what remains is reserved; the bus is closed after the drain,
	// so the job cannot be queued and is withdrawn with its rows released.
	create(700, nil, http.StatusServiceUnavailable)
	usage(300, 0, 700)
}
