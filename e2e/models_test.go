package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/modeleval"
	"synthos.dev/synthos/shared/models"
)

// TestEmbeddedPinnedModel pins a custom model to a job through the API on
// the embedded platform, for a tenant that encrypts its data: admission
// refuses a model that does not fit the dataset, one whose categorical
// features lack their categories and one that does not exist; the admitted
// job's output is scored by the model in the evaluation step, and the model
// test (JSON and HTML) is stored with the job, linked from the job and from
// the evaluation report. The model's bytes are stored encrypted and the
// pipeline reads them through the tenant's keyring.
func TestEmbeddedPinnedModel(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := startEmbedded(t, embeddedOptions{})
	encryptTenant(t, e, "acme")

	data, err := os.ReadFile("../examples/insurance.csv")
	if err != nil {
		t.Fatal(err)
	}
	ds := upload(t, e.env, "acme", "ds-ins", "insurance.csv", data)
	sum, err := datasets.ValidateObject(ctx, e.env.Objects, ds.Key, ds.Format, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds.Rows, ds.Columns = sum.Rows, sum.Columns
	if err := datasets.New(e.env.State).Set(ctx, ds); err != nil {
		t.Fatal(err)
	}

	store := models.New(e.env.State, e.env.Objects)
	store.Keys = e.env.Keyring
	fixture := func(name string) []byte {
		b, err := os.ReadFile("../shared/ensemble/testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ins, err := store.Create(ctx, models.Upload{ID: "mdl_ins", Tenant: "acme", Name: "charges.json", Target: "charges"},
		bytes.NewReader(fixture("xgb_insurance_regression.json")))
	if err != nil || ins.Status != models.Ready {
		t.Fatalf("insurance model: %+v, %v", ins, err)
	}
	if _, err := store.Create(ctx, models.Upload{ID: "mdl_adult", Tenant: "acme", Name: "income.json", Target: "income"},
		bytes.NewReader(fixture("xgb_adult_binary.json"))); err != nil {
		t.Fatal(err)
	}
	if b := readObject(t, e.env.Objects, ins.Key); !bytes.HasPrefix(b, []byte(keyring.Magic)) || bytes.Contains(b, []byte("learner")) {
		t.Fatalf("the model is stored in the clear: %.60q", b)
	}

	call := apiClient(t, e, plans.Plan{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 10_000, ConcurrentJobs: 100, ReportRetentionDays: 1})
	cats := map[string][]string{"sex": {"female", "male"}, "smoker": {"no", "yes"}, "region": {"northeast", "northwest", "southeast", "southwest"}}
	job := func(extra map[string]any) map[string]any {
		b := map[string]any{"dataset": ds.ID, "rows": 1000, "model": "tree", "seed": 3, "thresholds": skipGate(t)}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	for _, tc := range []struct {
		name   string
		extra  map[string]any
		status int
		want   string
	}{
		{"no such model", map[string]any{"model_id": "mdl_nope"}, 404, "mdl_nope does not exist"},
		{"columns do not match", map[string]any{"model_id": "mdl_adult"}, 400, "not a column of dataset"},
		{"categories missing", map[string]any{"model_id": "mdl_ins"}, 400, "model_categories"},
		{"no such version", map[string]any{"model_id": "mdl_ins", "model_version": 2, "model_categories": cats}, 404, "no version 2"},
		{"version without model", map[string]any{"model_version": 1}, 400, "needs model_id"},
	} {
		status, body := call("POST", "/v1/jobs", job(tc.extra))
		msg, _ := json.Marshal(body)
		if status != tc.status || !strings.Contains(string(msg), tc.want) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, status, msg, tc.status, tc.want)
		}
	}

	status, body := call("POST", "/v1/jobs", job(map[string]any{"model_id": "mdl_ins", "model_version": 1, "model_categories": cats}))
	if status != 202 {
		t.Fatalf("create: %d %v", status, body)
	}
	id, _ := body["id"].(string)
	links, _ := body["links"].(map[string]any)
	if links["model_test"] != "/v1/jobs/"+id+"/model-test" {
		t.Errorf("links %v", links)
	}
	if status, body := call("GET", "/v1/jobs/"+id+"/model-test", nil); status != 409 && status != 404 || body["error"] == nil {
		t.Errorf("model test before the job ran: %d %v", status, body)
	}
	e.drain(t)
	j := loadJob(t, e.env, id)
	if j.State != jobs.Succeeded {
		t.Fatalf("job %s: %s %v", j.State, j.Error, j.Reasons)
	}
	if j.Request.ModelID != "mdl_ins" || j.Request.ModelVersion != 1 {
		t.Errorf("pinned %s v%d", j.Request.ModelID, j.Request.ModelVersion)
	}
	status, body = call("GET", "/v1/jobs/"+id+"/model-test", nil)
	if status != 200 {
		t.Fatalf("model test: %d %v", status, body)
	}
	raw, _ := json.Marshal(body)
	var mt modeleval.Report
	if err := json.Unmarshal(raw, &mt); err != nil {
		t.Fatal(err)
	}
	if mt.Target != "charges" || mt.Task != "regression" || len(mt.Metrics) != 2 || mt.Metrics[0].Name != "rmse" ||
		mt.HoldoutRows == 0 || mt.SyntheticRows != 1000 || len(mt.Drift) != 6 || mt.TSTR == nil || mt.Verdict.Level == "" {
		t.Fatalf("model test %s", raw)
	}
	// The model explains charges on real rows (R² well above 0); the
	// synthetic rows are scored too.
	if r2 := mt.Metrics[1]; r2.Name != "r2" || r2.Real < 0.5 || r2.Synthetic <= 0 {
		t.Errorf("r2 %+v", r2)
	}
	rep := jobReport(t, e, j)
	if rep.ModelTest == nil || rep.ModelTest.Model != "mdl_ins" || rep.ModelTest.Error != "" ||
		rep.ModelTest.Level != mt.Verdict.Level || rep.ModelTest.JSON != "/v1/jobs/"+id+"/model-test" {
		t.Errorf("evaluation report's link %+v", rep.ModelTest)
	}
	html := readObject(t, e.env.Objects, j.Outputs[jobs.OutputModelTestHTML])
	page := readObject(t, e.env.Objects, j.Outputs[jobs.OutputReportHTML])
	if !bytes.Contains(html, []byte("<html")) || !bytes.Contains(html, []byte("charges")) ||
		!bytes.Contains(page, []byte(`data-model-test="`+mt.Verdict.Level+`"`)) {
		t.Errorf("HTML: model test %d bytes, evaluation report without the model's section", len(html))
	}
	t.Logf("model test: %s (%s); rmse real %.0f synthetic %.0f; r2 real %.3f synthetic %.3f; drift %.3f; tstr %+v",
		mt.Verdict.Level, mt.Verdict.Title, mt.Metrics[0].Real, mt.Metrics[0].Synthetic, mt.Metrics[1].Real, mt.Metrics[1].Synthetic, mt.MeanDrift, mt.TSTR)

	// A job without a pinned model has no model test.
	if status, body := call("GET", "/v1/jobs/"+id+"x/model-test", nil); status != 404 {
		t.Errorf("unknown job: %d %v", status, body)
	}
}

// TestEmbeddedIngestPinnedModel: an upload to the uploads bucket pins a
// custom model through its metadata (model_id, model_version,
// model_categories), checked against the upload's columns as POST
// /v1/jobs checks it. A model that does not exist, does not fit the
// upload or lacks its categories fails the upload's job at once with the
// reason; a good pin is recorded at its exact version and the job's output
// is scored by the model.
func TestEmbeddedIngestPinnedModel(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := startEmbedded(t, embeddedOptions{})
	data, err := os.ReadFile("../examples/insurance.csv")
	if err != nil {
		t.Fatal(err)
	}
	store := models.New(e.env.State, e.env.Objects)
	store.Keys = e.env.Keyring
	for _, m := range []struct{ id, name, target, file string }{
		{"mdl_ins", "charges.json", "charges", "xgb_insurance_regression.json"},
		{"mdl_ins2", "charges.json", "charges", "xgb_insurance_regression.ubj"},
		{"mdl_adult", "income.json", "income", "xgb_adult_binary.json"},
	} {
		b, err := os.ReadFile("../shared/ensemble/testdata/" + m.file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Create(ctx, models.Upload{ID: m.id, Tenant: "acme", Name: m.name, Target: m.target}, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
	}
	cats := `{"sex":["female","male"],"smoker":["no","yes"],"region":["northeast","northwest","southeast","southwest"]}`
	meta := func(extra map[string]string) map[string]string {
		m := map[string]string{"rows": "500", "seed": "3", "thresholds": string(skipGate(t))}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		file string
		meta map[string]string
		want string // in the job's error; "" for a job that runs
	}{
		{"pinned.csv", meta(map[string]string{"model_id": "mdl_ins2", "model_version": "1", "model_categories": cats}), ""},
		{"nope.csv", meta(map[string]string{"model_id": "mdl_nope"}), "model_id: model mdl_nope does not exist"},
		{"adult.csv", meta(map[string]string{"model_id": "mdl_adult"}), "not a column of dataset"},
		{"nocats.csv", meta(map[string]string{"model_id": "mdl_ins"}), "model_categories"},
		{"badversion.csv", meta(map[string]string{"model_id": "mdl_ins", "model_version": "x"}), "model_version"},
	}
	for i, tc := range tests {
		ingestUpload(t, e, "acme", tc.file, fmt.Sprint(i+1), tc.meta, data)
	}
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
	for _, tc := range tests {
		j := byFile[tc.file]
		switch {
		case j == nil:
			t.Errorf("%s: no job", tc.file)
		case tc.want != "":
			if j.State != jobs.Failed || !strings.Contains(j.Error, tc.want) || j.QuotaReservation != nil {
				t.Errorf("%s: job %s %q (reservation %+v), want failed with %q", tc.file, j.State, j.Error, j.QuotaReservation, tc.want)
			}
		case j.State != jobs.Succeeded:
			t.Errorf("%s: job %s: %s %v", tc.file, j.State, j.Error, j.Reasons)
		case j.Request.ModelID != "mdl_ins" || j.Request.ModelVersion != 1:
			// model_version 1 of mdl_ins2's name is mdl_ins: pinned exactly.
			t.Errorf("%s: pinned %s v%d, want mdl_ins v1", tc.file, j.Request.ModelID, j.Request.ModelVersion)
		default:
			var mt modeleval.Report
			if err := json.Unmarshal(readObject(t, e.env.Objects, j.Outputs[jobs.OutputModelTestJSON]), &mt); err != nil {
				t.Fatalf("%s: model test: %v", tc.file, err)
			}
			if mt.Target != "charges" || mt.SyntheticRows != 500 || mt.HoldoutRows == 0 || mt.Verdict.Level == "" {
				t.Errorf("%s: model test %+v", tc.file, mt)
			}
			if rep := jobReport(t, e, j); rep.ModelTest == nil || rep.ModelTest.Model != "mdl_ins" || rep.ModelTest.Error != "" {
				t.Errorf("%s: evaluation report's model test %+v", tc.file, rep.ModelTest)
			}
		}
	}
}
