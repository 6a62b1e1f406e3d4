package e2e

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/dp/ledger"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
)

// TestEmbeddedPrivacyBudget runs dp jobs created through the API on the
// embedded platform and checks how each settles its privacy budget:
// succeeded → committed; failed before the fit → released; failed after
// the fit (the release gate) → committed, and said so; a dp job admitted
// directly (as Ingest admits an upload's) is charged the same way, and
// over budget it is refused without spending anything.
func TestEmbeddedPrivacyBudget(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{})
	ctx := t.Context()
	call := apiClient(t, e, plans.Plan{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 10_000, DPAllowed: true, ConcurrentJobs: 100, ReportRetentionDays: 1})
	ds := upload(t, e.env, "acme", "ds-dp", "adult.csv", adult(t, 2000))
	skipAll := skipGate(t)
	create := func(extra map[string]any) string {
		t.Helper()
		body := map[string]any{"dataset": ds.ID, "rows": 300, "model": "dp", "epsilon": 1, "seed": 5, "target": "income"}
		for k, v := range extra {
			body[k] = v
		}
		status, m := call("POST", "/v1/jobs", body)
		if status != http.StatusAccepted {
			t.Fatalf("create %v: %d %v", extra, status, m)
		}
		return m["id"].(string)
	}
	succeeds := create(map[string]any{"thresholds": json.RawMessage(skipAll)})
	failsBeforeFit := create(map[string]any{"rules": json.RawMessage(`{"rules":[{"type":"range","column":"age","min":200}]}`)})
	failsAfterFit := create(map[string]any{"thresholds": map[string]any{"min_column_shapes": 1}})
	// As Ingest creates it: no reservation yet.
	unreserved := &jobs.Job{ID: "job-unreserved", Tenant: "acme", Request: jobs.Request{Dataset: ds.ID, Rows: 300, Model: "dp",
		Epsilon: 1, Seed: 5, Format: "csv", Thresholds: skipAll}}
	submit(t, e.env, unreserved)
	// Another dataset whose cap is smaller than the job asks for.
	tiny := upload(t, e.env, "acme", "ds-tiny", "adult.csv", adult(t, 500))
	if status, m := call("PUT", "/v1/datasets/"+tiny.ID+"/privacy-budget", map[string]any{"epsilon": 0.5}); status != 200 {
		t.Fatalf("set cap: %d %v", status, m)
	}
	overBudget := &jobs.Job{ID: "job-over", Tenant: "acme", Request: jobs.Request{Dataset: tiny.ID, Rows: 300, Model: "dp",
		Epsilon: 1, Seed: 5, Format: "csv"}}
	_, overErr := e.adm.Admit(ctx, overBudget)
	e.drain(t)

	status, budget := call("GET", "/v1/datasets/"+ds.ID+"/privacy-budget", nil)
	if status != 200 {
		t.Fatalf("budget: %d %v", status, budget)
	}
	charge := map[string]string{}
	for _, c := range budget["charges"].([]any) {
		c := c.(map[string]any)
		if _, dup := charge[c["job"].(string)]; dup {
			t.Errorf("job %s has two charges", c["job"])
		}
		charge[c["job"].(string)] = c["state"].(string)
	}
	for _, tc := range []struct {
		job, state, charge string
	}{
		{succeeds, string(jobs.Succeeded), ledger.Committed},
		{failsBeforeFit, string(jobs.Failed), ledger.Released},
		{failsAfterFit, string(jobs.Failed), ledger.Committed},
		{unreserved.ID, string(jobs.Succeeded), ledger.Committed},
	} {
		j := loadJob(t, e.env, tc.job)
		if string(j.State) != tc.state {
			t.Errorf("job %s ended %s (%s %v), want %s", tc.job, j.State, j.Error, j.Reasons, tc.state)
		}
		if j.DPReservation == "" || !(j.DPRho > 0) {
			t.Errorf("job %s has no reservation: %q %v", tc.job, j.DPReservation, j.DPRho)
		}
		if charge[tc.job] != tc.charge {
			t.Errorf("job %s (%s: %s) charge is %q, want %s", tc.job, j.State, j.Error, charge[tc.job], tc.charge)
		}
		fitted, err := objects.Exists(ctx, e.env.Objects, datasets.ModelKey("acme", tc.job))
		if err != nil {
			t.Fatal(err)
		}
		if wantFitted := tc.charge == ledger.Committed; fitted != wantFitted {
			t.Errorf("job %s: model stored = %v, want %v", tc.job, fitted, wantFitted)
		}
		noted := slices.Contains(j.Reasons, "privacy budget charged: the model had been fitted")
		if noted != (tc.job == failsAfterFit) {
			t.Errorf("job %s: reasons %v (note present: %v)", tc.job, j.Reasons, noted)
		}
	}
	wantContains(t, "error of the job failing before its fit", loadJob(t, e.env, failsBeforeFit).Error, "rule")
	wantContains(t, "error of the job failing its gate", loadJob(t, e.env, failsAfterFit).Error, "release gate")
	if budget["reserved_rho"] != 0.0 || !(budget["spent_rho"].(float64) > 0) {
		t.Errorf("budget after the jobs: reserved %v, spent %v", budget["reserved_rho"], budget["spent_rho"])
	}
	// Spent is exactly the three fitted jobs' rho.
	var spent float64
	for _, id := range []string{succeeds, failsAfterFit, unreserved.ID} {
		spent += loadJob(t, e.env, id).DPRho
	}
	if got := budget["spent_rho"].(float64); !(got > spent*(1-1e-9) && got < spent*(1+1e-9)) {
		t.Errorf("spent rho %v, want %v", got, spent)
	}

	// Over budget: refused by admission, nothing stored or reserved.
	var be *ledger.BudgetError
	if !errors.As(overErr, &be) || !strings.Contains(errs.Message(overErr), "privacy budget exhausted") {
		t.Errorf("over-budget job: admission answered %v", overErr)
	}
	if _, err := jobs.New(e.env.State).Load(ctx, overBudget.ID); !errors.Is(err, jobs.ErrNotFound) {
		t.Errorf("over-budget job was stored: %v", err)
	}
	if status, tb := call("GET", "/v1/datasets/"+tiny.ID+"/privacy-budget", nil); status != 200 || len(tb["charges"].([]any)) != 0 || tb["spent_rho"] != 0.0 {
		t.Errorf("tiny dataset's budget: %d %v", status, tb)
	}
}
