package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"gocloud.dev/blob"

	"synthos.dev/synthos/functions/ingest"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/topics"
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
	call := apiClient(t, e, plans.Plan{Name: plans.Free, RowsPerMonth: 1000, RowsPerJob: 1000, ConcurrentJobs: 100, ReportRetentionDays: 1})
	usage := func(used, reserved, remaining float64) {
		t.Helper()
		status, u := call("GET", "/v1/usage", nil)
		if status != 200 || u["used"] != used || u["reserved"] != reserved || u["remaining"] != remaining {
			t.Errorf("usage: %d %v, want used %v, reserved %v, remaining %v", status, u, used, reserved, remaining)
		}
	}
	ds := upload(t, e.env, "acme", "ds-quota", "adult.csv", adult(t, 2000))
	skipAll := skipGate(t)
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
	if err != nil || len(u.Jobs) != 0 || u.Used != 300 || u.Reserved != 0 {
		t.Errorf("usage document: %+v %v", u, err)
	}
	for _, id := range []string{succeeds, fails} {
		if j := loadJob(t, e.env, id); !j.Settled {
			t.Errorf("job %s (%s) is not settled", id, j.State)
		}
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

// ingestUpload puts data at uploads/<tenant>/<file> with the job options
// meta and delivers its finalize event to the ingest function, as Cloud
// Storage would.
func ingestUpload(t *testing.T, e *embedded, tenant, file, generation string, meta map[string]string, data []byte) {
	t.Helper()
	ctx := t.Context()
	name := "uploads/" + tenant + "/" + file
	if err := objects.Put(ctx, e.env.Objects, name, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, &blob.WriterOptions{Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	fn, err := ingest.NewWithOptions(e.env, pipeline.Options{Admission: e.adm})
	if err != nil {
		t.Fatal(err)
	}
	ev := cloudevents.NewEvent()
	ev.SetID("ev-" + file)
	ev.SetSource("//storage.googleapis.com/projects/_/buckets/uploads")
	ev.SetType(events.TypeObjectFinalized)
	if err := ev.SetData(cloudevents.ApplicationJSON, map[string]any{
		"bucket": "uploads", "name": name, "size": fmt.Sprint(len(data)), "generation": generation, "metadata": meta,
	}); err != nil {
		t.Fatal(err)
	}
	if err := fn(ctx, ev); err != nil {
		t.Fatalf("ingest %s: %v", name, err)
	}
}

// TestEmbeddedIngestQuota: jobs created by uploads are held to their
// tenant's plan like the API's. With a monthly quota of 1,000 rows of which
// 300 are used, an upload asking for 500 rows runs and its rows are
// metered, while one asking for 800 (more than the 700 left, whichever
// runs first) fails with the monthly limit in its reason, and one asking
// for the dp model (not in the plan) fails naming that limit; neither
// holds any of the quota. An upload whose job fails after reserving its
// rows (impossible rules) is charged nothing.
func TestEmbeddedIngestQuota(t *testing.T) {
	t.Parallel()
	catalog, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 1000, RowsPerJob: 1000, ConcurrentJobs: 10, ReportRetentionDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	e := startEmbedded(t, embeddedOptions{plans: catalog})
	ctx := t.Context()
	ent, err := entitlements.New(e.env.State, catalog, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ent.Meter(ctx, "acme", 300); err != nil {
		t.Fatal(err)
	}
	skipAll := skipGate(t)
	data := adult(t, 1500)
	ingestUpload(t, e, "acme", "within.csv", "1", map[string]string{"rows": "500", "seed": "3", "thresholds": string(skipAll)}, data)
	ingestUpload(t, e, "acme", "over.csv", "2", map[string]string{"rows": "800", "thresholds": string(skipAll)}, data)
	ingestUpload(t, e, "acme", "dp.csv", "3", map[string]string{"rows": "10", "model": "dp", "epsilon": "1"}, data)
	ingestUpload(t, e, "acme", "rules.csv", "4", map[string]string{"rows": "100", "rules": `{"rules":[{"type":"range","column":"age","min":200}]}`}, data)
	e.drain(t)

	page, err := jobs.New(e.env.State).List(ctx, "acme", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string]*jobs.Job{}
	for i := range page.Jobs {
		ds, err := datasets.New(e.env.State).Get(ctx, "acme", page.Jobs[i].Request.Dataset)
		if err != nil {
			t.Fatal(err)
		}
		byFile[ds.Name] = &page.Jobs[i]
	}
	if len(byFile) != 4 {
		t.Fatalf("jobs of the uploads: %v", byFile)
	}
	within := byFile["within.csv"]
	if within.State != jobs.Succeeded || within.QuotaReservation == nil || within.QuotaReservation.Rows != 500 {
		t.Fatalf("upload within the quota: %s %q, reservation %+v; want succeeded holding 500 rows", within.State, within.Error, within.QuotaReservation)
	}
	for file, limit := range map[string]entitlements.Limit{"over.csv": entitlements.LimitRowsPerMonth, "dp.csv": entitlements.LimitDP} {
		j := byFile[file]
		if j.State != jobs.Failed || !strings.Contains(j.Error, string(limit)) || j.QuotaReservation != nil {
			t.Errorf("upload %s: %s %q, reservation %+v; want failed naming %s, holding nothing", file, j.State, j.Error, j.QuotaReservation, limit)
		}
		if j.DPReservation != "" {
			t.Errorf("upload %s reserved privacy budget %s", file, j.DPReservation)
		}
		if !slices.Contains(e.rec.auditActions(j.ID), "job.failed") {
			t.Errorf("upload %s: no job.failed audit event: %v", file, e.rec.auditActions(j.ID))
		}
	}
	wantContains(t, "the over-quota job's reason", byFile["over.csv"].Error, "monthly row quota")
	rules := byFile["rules.csv"]
	if rules.State != jobs.Failed || rules.QuotaReservation == nil {
		t.Errorf("upload with impossible rules: %s %q, reservation %+v; want failed after reserving", rules.State, rules.Error, rules.QuotaReservation)
	}
	u, err := ent.Usage(ctx, "acme", within.QuotaReservation.Month)
	if err != nil || u.Used != 800 || u.Reserved != 0 || len(u.Jobs) != 0 {
		t.Errorf("usage: %+v %v; want 300 + the 500 rows of %s used, %s released, nothing reserved", u, err, within.ID, rules.ID)
	}
	for _, j := range []*jobs.Job{within, rules} {
		if !loadJob(t, e.env, j.ID).Settled {
			t.Errorf("upload job %s is not settled", j.ID)
		}
	}
	if n := len(e.rec.deadLetters[topics.GenerateRequests]); n != 0 {
		t.Errorf("%d generate messages dead-lettered; a refusal is permanent", n)
	}
}
