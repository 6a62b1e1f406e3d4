package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/assist"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/narrative"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/table"
)

// fakeModel is a model provider that answers every task as the offline
// provider would, charges tokens for it, and records each prompt: what a
// vendor would receive.
type fakeModel struct {
	mu      sync.Mutex
	calls   map[llm.Task]int
	prompts []string
}

func (f *fakeModel) Name() string { return "fake" }

func (f *fakeModel) Generate(ctx context.Context, req llm.Request) (llm.Response, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[llm.Task]int{}
	}
	f.calls[req.Task]++
	f.prompts = append(f.prompts, req.System+"\n"+req.Prompt)
	f.mu.Unlock()
	r, err := assist.Offline().Generate(ctx, req)
	if err != nil {
		return r, err
	}
	r.Provider, r.Model = "fake", req.Model
	r.Usage = llm.Usage{InputTokens: int64(len(req.Prompt)/4 + 1), OutputTokens: int64(len(r.Text)/4 + 1)}
	return r, nil
}

// newFakeAssistant routes every task to fake first (priced as Claude
// Haiku, metered into the platform's state like production), the offline
// provider last.
func newFakeAssistant(st state.Store, fake *fakeModel) *assist.Assistant {
	meter := &llm.Meter{Store: st}
	best := map[llm.Task]llm.Policy{}
	for _, t := range llm.Tasks {
		best[t] = llm.BestQuality
	}
	rt := &llm.Router{Policies: best, Routes: []*llm.Route{
		{Provider: &llm.Client{Provider: fake, Default: "claude-haiku-4-5", Meter: meter, Prices: llm.DefaultPrices}, DefaultQuality: 0.9},
		{Provider: &llm.Client{Provider: assist.Offline(), Default: llm.OfflineName, Meter: meter}, DefaultQuality: 0.5},
	}}
	return &assist.Assistant{Router: rt, Meter: meter}
}

// retailSpec is the retail pack with returns and reviews: customers,
// products and orders, text columns in products and orders.
func retailSpec(t *testing.T, rows int64) *design.Spec {
	t.Helper()
	sp, err := design.Pack("retail", design.PackOptions{Rows: rows, Features: []string{"returns", "reviews"}})
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// TestEmbeddedDesignJob runs a job from a saved three-table spec through
// the API, the generate step and the evaluation, with a (fake) model for
// its text columns and the narrative.
func TestEmbeddedDesignJob(t *testing.T) {
	t.Parallel()
	fake := &fakeModel{}
	var a *assist.Assistant // set before any job runs
	e := startEmbedded(t, embeddedOptions{assistant: func() (*assist.Assistant, error) { return a, nil }})
	a = newFakeAssistant(e.env.State, fake)
	// The AI budget is the plan's (ai_budget_usd), with no override.
	call := apiClient(t, e, plans.Plan{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 100_000, ConcurrentJobs: 10, ReportRetentionDays: 1, AIBudgetUSD: 1})

	spec := retailSpec(t, 1000)
	if code, body := call("PUT", "/v1/designs/shop", map[string]any{"spec": spec}); code != http.StatusCreated {
		t.Fatalf("save the spec: %d %v", code, body)
	}
	// Refusals before anything is reserved.
	for _, tc := range []struct {
		name string
		body map[string]any
		code int
	}{
		{"unknown design", map[string]any{"design_id": "nope", "rows": 10}, http.StatusNotFound},
		{"unknown version", map[string]any{"design_id": "shop", "design_version": 9, "rows": 10}, http.StatusNotFound},
		{"design and dataset", map[string]any{"design_id": "shop", "dataset": "ds", "rows": 10}, http.StatusBadRequest},
		{"dp design", map[string]any{"design_id": "shop", "model": "dp", "epsilon": 1, "rows": 10}, http.StatusBadRequest},
		{"over the plan's rows per job", map[string]any{"design_id": "shop", "rows": 90_000}, http.StatusPaymentRequired},
	} {
		if code, body := call("POST", "/v1/jobs", tc.body); code != tc.code {
			t.Errorf("%s: %d %v, want %d", tc.name, code, body, tc.code)
		}
	}

	// 2,000 orders: the spec scales its 1,000 orders, 250 customers and
	// 50 products by two.
	code, body := call("POST", "/v1/jobs", map[string]any{"design_id": "shop", "rows": 2000, "seed": 11, "narrative": true})
	if code != http.StatusAccepted {
		t.Fatalf("create the design job: %d %v", code, body)
	}
	id, _ := body["id"].(string)
	e.drain(t)
	j := loadJob(t, e.env, id)
	if j.State != jobs.Succeeded {
		t.Fatalf("job is %s (%s; %v), want succeeded", j.State, j.Error, j.Reasons)
	}
	want := map[string]int64{"customers": 500, "products": 100, "orders": 2000}
	if j.Request.Rows != 2600 || j.Request.DesignVersion != 1 || j.Request.DesignRows != 2000 {
		t.Errorf("request rows %d (version %d, asked %d), want every table's 2600 of version 1 for 2000 asked",
			j.Request.Rows, j.Request.DesignVersion, j.Request.DesignRows)
	}
	scaled, err := spec.Scale(2000)
	if err != nil {
		t.Fatal(err)
	}
	// Every table is an output, whole, and every rule of its table holds
	// in every row (read back here, independently of the job's report).
	checks, err := design.Verify(scaled, func(name string) (table.Reader, func() error, error) {
		out := jobs.OutputTable(name)
		if name == "orders" {
			out = jobs.OutputData
		}
		key, ok := j.Outputs[out]
		if !ok {
			return nil, nil, fmt.Errorf("outputs %v lack %s", j.Outputs, out)
		}
		r, err := table.OpenReader(bytes.NewReader(readObject(t, e.env.Objects, key)), table.CSV, table.Options{Unescape: true, MaxCellBytes: -1})
		return r, func() error { return nil }, err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		if !c.OK() || c.Rows != want[c.Table] {
			t.Errorf("table %s: %+v, want %d rows, every rule met, no orphan", c.Table, c, want[c.Table])
		}
	}
	// The report says the same, and carries a narrative whose numbers are
	// all the report's.
	var rep struct {
		Pass      bool                `json:"pass"`
		Tables    []design.TableCheck `json:"tables"`
		AI        *jobs.AIUsage       `json:"ai"`
		Narrative *struct{ Text, Provider string }
	}
	repDoc := readObject(t, e.env.Objects, j.Outputs[jobs.OutputReportJSON])
	if err := json.Unmarshal(repDoc, &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Pass || len(rep.Tables) != 3 {
		t.Errorf("report: pass %v with %d tables, want a pass over 3", rep.Pass, len(rep.Tables))
	}
	if rep.Narrative == nil || rep.Narrative.Provider != "fake" {
		t.Fatalf("report narrative %+v, want one written by the fake model", rep.Narrative)
	}
	nums, err := narrative.Numbers(repDoc)
	if err != nil {
		t.Fatal(err)
	}
	if bad := narrative.Grounded(rep.Narrative.Text, nums); len(bad) > 0 {
		t.Errorf("narrative %q quotes %v, which the report does not hold", rep.Narrative.Text, bad)
	}
	// Model calls: the text columns' batches and the narrative, nothing
	// per row. Text batches are at most one per 25 rows of a text column.
	bound := (&design.TextFiller{}).TextRequests(scaled)
	fake.mu.Lock()
	calls := fake.calls
	fake.mu.Unlock()
	if calls[llm.TaskText] == 0 || int64(calls[llm.TaskText]) > bound || calls[llm.TaskNarrative] != 1 || len(calls) != 2 {
		t.Errorf("model calls %v, want 1..%d text batches and one narrative, nothing else", calls, bound)
	}
	// The job's AI use: every call counted and priced. The estimate is the
	// API's, whose router here is the configured one (offline only: free;
	// TestEmbeddedDesignJobAIBudget prices a paid provider).
	if j.AI == nil || j.AI.Calls != int64(calls[llm.TaskText]+calls[llm.TaskNarrative]) || j.AI.CostMicros <= 0 || j.AI.EstimateMicros != 0 {
		t.Fatalf("job AI use %+v, want %d priced calls and the offline estimate (0)", j.AI, calls[llm.TaskText]+calls[llm.TaskNarrative])
	}
	// The other tables download through the API like the main one.
	code, dl := call("GET", "/v1/jobs/"+id+"/output?table=customers", nil)
	if u, _ := dl["url"].(string); code != http.StatusOK || !strings.HasSuffix(u, "/v1/jobs/"+id+"/output/content?table=customers") {
		t.Errorf("download of table customers: %d %v", code, dl)
	}
	if code, body := call("GET", "/v1/jobs/"+id+"/output?table=nope", nil); code != http.StatusNotFound || !strings.Contains(fmt.Sprint(body), "products") {
		t.Errorf("download of an unknown table: %d %v, want 404 naming the tables", code, body)
	}
	// A spec holds no real rows: no compliance report applies.
	if code, body := call("GET", "/v1/jobs/"+id+"/compliance", nil); code != http.StatusConflict || !strings.Contains(fmt.Sprint(body), "not_applicable") {
		t.Errorf("compliance of a design job: %d %v, want 409 not_applicable", code, body)
	}
	// ... and the tenant's month, through GET /v1/usage.
	code, usage := call("GET", "/v1/usage", nil)
	ai, _ := usage["ai"].(map[string]any)
	if code != http.StatusOK || ai == nil || ai["cost_micros"].(float64) != float64(j.AI.CostMicros) || ai["budget_micros"] == nil {
		t.Errorf("usage %d %v, want the job's AI cost %d and the plan's budget", code, usage, j.AI.CostMicros)
	}
	if got := usage["used"].(float64); got != 2600 {
		t.Errorf("rows used %v, want the job's 2600", got)
	}
}

// TestEmbeddedDesignJobAIBudget: a design job whose text columns' price
// would take the tenant past its plan's monthly AI budget is refused at
// admission, and nothing is reserved.
func TestEmbeddedDesignJobAIBudget(t *testing.T) {
	t.Parallel()
	// Claude is listed (priced at admission; never called here).
	e := startEmbedded(t, embeddedOptions{config: map[string]string{"SYNTHOS_AI_PROVIDERS": "claude,offline", "SYNTHOS_AI_BUDGETS": "free=1"},
		secrets: map[string]string{llm.AnthropicKeySecret: "sk-ant-test"}})
	call := apiClient(t, e, plans.Plan{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 100_000, ConcurrentJobs: 10, ReportRetentionDays: 1})
	if code, body := call("PUT", "/v1/designs/shop", map[string]any{"spec": retailSpec(t, 1000)}); code != http.StatusCreated {
		t.Fatalf("save the spec: %d %v", code, body)
	}
	// The tenant has spent $0.99 of its $1 this month.
	month := time.Now().UTC().Format("2006-01")
	if err := e.env.State.Set(t.Context(), llm.UsageCollection, "acme-"+month,
		map[string]any{"tenant": "acme", "month": month, "calls": 3, "cost_micros": 990_000}); err != nil {
		t.Fatal(err)
	}
	code, body := call("POST", "/v1/jobs", map[string]any{"design_id": "shop", "rows": 2000})
	if code != http.StatusTooManyRequests || body["error"] == nil || !strings.Contains(fmt.Sprint(body), "ai_quota_exceeded") {
		t.Fatalf("design job over the AI budget: %d %v, want 429 ai_quota_exceeded", code, body)
	}
	code, usage := call("GET", "/v1/usage", nil)
	if code != http.StatusOK || usage["reserved"].(float64) != 0 || usage["running_jobs"].(float64) != 0 {
		t.Errorf("usage after the refusal %v, want nothing reserved", usage)
	}
	ai, _ := usage["ai"].(map[string]any)
	if ai == nil || ai["remaining_micros"].(float64) != 10_000 {
		t.Errorf("AI usage %v, want $0.01 (10000 micro-dollars) remaining", ai)
	}
}

// TestEmbeddedLabelsAndNarrativeKeepCellsIn runs a dataset job with column
// labels and a report narrative through a (fake) model that records every
// prompt, and checks that no cell of the real table reached one: the
// labels see masked views, the narrative the report's scores and column
// names only.
func TestEmbeddedLabelsAndNarrativeKeepCellsIn(t *testing.T) {
	t.Parallel()
	fake := &fakeModel{}
	var a *assist.Assistant
	e := startEmbedded(t, embeddedOptions{assistant: func() (*assist.Assistant, error) { return a, nil }})
	a = newFakeAssistant(e.env.State, fake)
	data := adult(t, 2000)
	ds := upload(t, e.env, "acme", "ds-adult", "adult.csv", data)
	j := &jobs.Job{ID: "job-ai", Tenant: "acme", Request: jobs.Request{Dataset: ds.ID, Rows: 1000, Model: "copula", Seed: 3, Format: "csv",
		Labels: true, Narrative: true, Thresholds: skipGate(t)}}
	submit(t, e.env, j)
	e.drain(t)
	got := loadJob(t, e.env, j.ID)
	if got.State != jobs.Succeeded {
		t.Fatalf("job is %s (%s; %v), want succeeded", got.State, got.Error, got.Reasons)
	}
	fake.mu.Lock()
	calls, prompts := fake.calls, slices.Clone(fake.prompts)
	fake.mu.Unlock()
	if calls[llm.TaskTyping] != 1 || calls[llm.TaskNarrative] != 1 || len(calls) != 2 {
		t.Fatalf("model calls %v, want one typing and one narrative call", calls)
	}
	// The labels are an output, and the report carries the narrative.
	var labels struct{ Labels []map[string]any }
	if err := json.Unmarshal(readObject(t, e.env.Objects, got.Outputs[jobs.OutputLabels]), &labels); err != nil || len(labels.Labels) == 0 {
		t.Fatalf("labels output %v (%v), want labels of the ambiguous columns", labels, err)
	}
	var rep struct {
		Narrative *struct{ Text, Provider string }
	}
	if err := json.Unmarshal(readObject(t, e.env.Objects, got.Outputs[jobs.OutputReportJSON]), &rep); err != nil || rep.Narrative == nil || rep.Narrative.Provider != "fake" {
		t.Fatalf("report narrative %+v (%v), want the fake model's", rep.Narrative, err)
	}
	if got.AI == nil || got.AI.Calls != 2 || got.AI.CostMicros <= 0 {
		t.Errorf("job AI use %+v, want 2 priced calls", got.AI)
	}
	// No categorical cell of the table, quoted as a JSON string would be,
	// is in any prompt. (Numbers may be: a report quotes counts.)
	rd, err := table.OpenReader(bytes.NewReader(data), table.CSV, table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cols := rd.Columns()
	cells := map[string]bool{}
	for {
		row, err := rd.Read()
		if err != nil {
			break
		}
		for _, c := range row {
			c = strings.TrimSpace(c)
			if _, num := strconv.ParseFloat(c, 64); num == nil || c == "" || slices.Contains(cols, c) || len(c) < 2 {
				continue
			}
			cells[c] = true
		}
	}
	if len(cells) < 50 {
		t.Fatalf("only %d distinct text cells to look for", len(cells))
	}
	for c := range cells {
		for _, p := range prompts {
			if strings.Contains(p, `"`+c+`"`) || strings.Contains(p, `\"`+c+`\"`) {
				t.Fatalf("the cell %q reached a model prompt", c)
			}
		}
	}
}

// TestEmbeddedDesignJobFormats: a design job's tables read back and pass
// their rules in every output format (offline provider).
func TestEmbeddedDesignJobFormats(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{})
	call := apiClient(t, e, plans.Plan{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 100_000, ConcurrentJobs: 10, ReportRetentionDays: 1})
	if code, body := call("PUT", "/v1/designs/shop", map[string]any{"spec": retailSpec(t, 400)}); code != http.StatusCreated {
		t.Fatalf("save the spec: %d %v", code, body)
	}
	ids := map[string]string{}
	for _, format := range []string{"csv", "jsonl", "parquet"} {
		code, body := call("POST", "/v1/jobs", map[string]any{"design_id": "shop", "rows": 400, "format": format, "seed": 5})
		if code != http.StatusAccepted {
			t.Fatalf("%s: create: %d %v", format, code, body)
		}
		ids[format] = body["id"].(string)
	}
	e.drain(t) // drains once: the bus closes
	for format, id := range ids {
		j := loadJob(t, e.env, id)
		if j.State != jobs.Succeeded {
			t.Errorf("%s: job is %s (%s; %v), want succeeded", format, j.State, j.Error, j.Reasons)
			continue
		}
		if !strings.HasSuffix(j.Outputs[jobs.OutputTable("customers")], "."+format) || !strings.HasSuffix(j.Outputs[jobs.OutputData], "."+format) {
			t.Errorf("%s: outputs %v", format, j.Outputs)
		}
	}
}
