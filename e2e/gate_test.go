package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/report"
)

// jobReport reads the report the pipeline stored for j.
func jobReport(t *testing.T, e *embedded, j *jobs.Job) *report.Report {
	t.Helper()
	var r report.Report
	if err := json.Unmarshal(readObject(t, e.env.Objects, datasets.ReportKey(j.Tenant, j.ID, "json")), &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// TestEmbeddedConditionalJobPasses: a job with conditions {"smoker":"yes"}
// on examples/insurance.csv is judged against the real smokers, without
// the smoker column, and its faithful output is released.
func TestEmbeddedConditionalJobPasses(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../examples/insurance.csv")
	if err != nil {
		t.Fatal(err)
	}
	e := startEmbedded(t, embeddedOptions{})
	ds := upload(t, e.env, "acme", "ds-ins", "insurance.csv", data)
	j := &jobs.Job{ID: "job-smokers", Tenant: "acme", Request: jobs.Request{Dataset: ds.ID, Rows: 2000, Model: "tree", Seed: 5,
		Format: "csv", Target: "charges", Conditions: map[string]string{"smoker": "yes"}}}
	submit(t, e.env, j)
	e.drain(t)
	got := loadJob(t, e.env, j.ID)
	if got.State != jobs.Succeeded {
		t.Fatalf("job %s: %s %v", got.State, got.Error, got.Reasons)
	}
	r := jobReport(t, e, got)
	if r.Inputs.Conditions["smoker"] != "yes" || r.Quality == nil || r.Quality.RealRows >= r.Inputs.Train.Rows/2 {
		t.Errorf("not judged against the smokers: conditions %v, %+v", r.Inputs.Conditions, r.Quality)
	}
	t.Logf("gate %v: shapes %.3f, pairs %.3f, discriminator %.3f, against %d of %d training rows",
		r.Gate.Pass, r.Quality.ColumnShapes, r.Quality.ColumnPairTrends, r.Quality.Discriminator.AUC, r.Quality.RealRows, r.Inputs.Train.Rows)
	for _, c := range r.Quality.Columns {
		if c.Name == "smoker" {
			t.Error("the fixed column smoker was scored")
		}
	}
}

// TestEmbeddedEscapedCellsEvaluatedRaw: text cells a spreadsheet would run
// ("@web", "=x", "-note", "+1 555") are quote-escaped in the CSV output;
// the evaluation reads them back raw, so they match the real values.
func TestEmbeddedEscapedCellsEvaluatedRaw(t *testing.T) {
	t.Parallel()
	tags := []string{"@web", "=x", "-note", "+1 555", "plain"}
	var in bytes.Buffer
	in.WriteString("tag,grp,amount\n")
	for i := range 1500 {
		grp := "a"
		if i%3 == 0 {
			grp = "b"
		}
		fmt.Fprintf(&in, "%s,%s,%d.%02d\n", tags[(i*7+i/5)%len(tags)], grp, 100+(i*37)%900, (i*13)%100)
	}
	e := startEmbedded(t, embeddedOptions{})
	ds := upload(t, e.env, "acme", "ds-esc", "escaped.csv", in.Bytes())
	j := &jobs.Job{ID: "job-esc", Tenant: "acme", Request: jobs.Request{Dataset: ds.ID, Rows: 3000, Model: "tree", Seed: 2, Format: "csv"}}
	submit(t, e.env, j)
	e.drain(t)
	got := loadJob(t, e.env, j.ID)
	out := string(outputOf(t, e.env.Objects, got))
	if !strings.Contains(out, "\n'@web,") && !strings.Contains(out, "\n'=x,") {
		t.Fatalf("the output holds no escaped cell, so the test shows nothing:\n%.300s", out)
	}
	r := jobReport(t, e, got)
	if r.Quality == nil {
		t.Fatal("no quality report")
	}
	for _, c := range r.Quality.Columns {
		if c.Name == "tag" {
			t.Logf("tag column shape %.3f; gate %v, shapes %.3f, discriminator %.3f", c.Shape, r.Gate.Pass, r.Quality.ColumnShapes, r.Quality.Discriminator.AUC)
		}
		if c.Name == "tag" && c.Shape < 0.9 {
			t.Errorf("tag column shape %.3f: the escaped cells were scored as other values", c.Shape)
		}
	}
	for _, f := range r.Gate.Failures() {
		if f.Metric == gate.ColumnShapes || f.Metric == gate.DiscriminatorAUC {
			t.Errorf("gate: %s", f.Message)
		}
	}
	if got.State != jobs.Succeeded {
		t.Errorf("job %s: %s %v", got.State, got.Error, got.Reasons)
	}
}
