package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/plans"
)

// TestParallelPostsAdmitThePlansConcurrency: 20 POST /v1/jobs at once on a
// plan of one concurrent job admit exactly one; the others are 429 naming
// concurrent_jobs, and nothing else is reserved. (The running count is read
// in the transaction that reserves; it used to be read outside, and 4, then
// 2, were admitted.)
func TestParallelPostsAdmitThePlansConcurrency(t *testing.T) {
	t.Parallel()
	c, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 1000, ConcurrentJobs: 1, ReportRetentionDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, fixtureOptions{plans: c})
	admin := f.key("acme", apikeys.Admin)
	ds := f.upload(admin)
	var wg sync.WaitGroup
	statuses := make([]resp, 20)
	for i := range statuses {
		wg.Go(func() { statuses[i] = f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: rowsJob(ds, 10)}) })
	}
	wg.Wait()
	accepted, refused := 0, 0
	for _, r := range statuses {
		switch {
		case r.status == http.StatusAccepted:
			accepted++
		case r.status == http.StatusTooManyRequests && strings.Contains(string(r.body), `"limit":"concurrent_jobs"`):
			refused++
		default:
			t.Errorf("unexpected answer %d %s", r.status, r.body)
		}
	}
	if accepted != 1 || refused != 19 {
		t.Errorf("%d accepted, %d refused; want 1 and 19", accepted, refused)
	}
	if u := usageOf(t, f, "acme"); u.Reserved != 10 || len(u.Jobs) != 1 {
		t.Errorf("usage: %+v; want one job's 10 rows reserved", u)
	}
}

// TestJobRequestCheckedAgainstTheDataset: a job naming a column the dataset
// does not have, or with a bad threshold, is 400 naming the field, and
// nothing is created or reserved (it used to be 202, then failed, retried
// and dead-lettered).
func TestJobRequestCheckedAgainstTheDataset(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	admin := f.key("acme", apikeys.Admin)
	ds := f.upload(admin) // columns age, sex, charges
	tests := []struct {
		name  string
		extra map[string]any
		field string
		msg   string
	}{
		{"target typo", map[string]any{"target": "chargs"}, "target", `did you mean "charges"`},
		{"condition on a missing column", map[string]any{"conditions": map[string]any{"smoker": "yes"}}, "conditions.smoker", "is not a column"},
		{"condition not a number", map[string]any{"conditions": map[string]any{"age": "old"}}, "conditions.age", "not a number"},
		{"range rule on a missing column", map[string]any{"rules": json.RawMessage(`{"rules":[{"type":"range","column":"bmi","min":10}]}`)}, "rules[0].column", "is not a column"},
		{"unknown threshold", map[string]any{"thresholds": map[string]any{"max_dcr_shar": 0.6}}, "thresholds.max_dcr_shar", ""},
		{"dp with epsilon 0", map[string]any{"model": "dp", "epsilon": 0}, "epsilon", ""},
	}
	for _, tt := range tests {
		body := map[string]any{"dataset": ds, "rows": 10}
		for k, v := range tt.extra {
			body[k] = v
		}
		r := f.do(req{method: "POST", path: "/v1/jobs", key: admin, body: body})
		if r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", tt.name, r.status, r.body)
			continue
		}
		var e struct {
			Error struct {
				Code    string         `json:"code"`
				Message string         `json:"message"`
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		if err := json.Unmarshal(r.body, &e); err != nil {
			t.Fatal(err)
		}
		if e.Error.Details["field"] != tt.field || !strings.Contains(e.Error.Message, tt.msg) {
			t.Errorf("%s: field %v, message %q; want field %s and %q", tt.name, e.Error.Details["field"], e.Error.Message, tt.field, tt.msg)
		}
		for _, leak := range []string{"tenants/", "pipeline.", "jobspec.", ".go"} {
			if strings.Contains(e.Error.Message, leak) {
				t.Errorf("%s: message %q shows internals (%s)", tt.name, e.Error.Message, leak)
			}
		}
	}
	if u := usageOf(t, f, "acme"); u.Reserved != 0 || len(u.Jobs) != 0 {
		t.Errorf("refused requests reserved rows: %+v", u)
	}
}
