package report

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// rowsOf collects sampled rows.
type rowsOf struct{ t table.Table }

func (r *rowsOf) Write(row []string) error {
	r.t.Rows = append(r.t.Rows, slices.Clone(row))
	return nil
}

// conditionalInputs fits the tree model on four fifths of
// examples/insurance.csv and samples 2,000 rows with the conditions fixed,
// as a conditional job does.
func conditionalInputs(t *testing.T, fixed map[string]string) Inputs {
	t.Helper()
	r, err := table.Open("../../examples/insurance.csv", table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := table.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	train := &table.Table{Columns: all.Columns}
	holdout := &table.Table{Columns: all.Columns}
	for i, row := range all.Rows {
		if i%5 == 4 {
			holdout.Rows = append(holdout.Rows, row)
		} else {
			train.Rows = append(train.Rows, row)
		}
	}
	p, err := profile.Infer(train, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := synth.Fit(ctx, train, p, synth.FitOptions{Kind: synth.KindTree, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	out := &rowsOf{}
	for _, c := range m.Columns() {
		out.t.Columns = append(out.t.Columns, c.Name)
	}
	if err := m.Sample(ctx, 2000, 0, 1, 3, synth.SampleOptions{Fixed: fixed}, out); err != nil {
		t.Fatal(err)
	}
	return Inputs{Train: train, Holdout: holdout, Synthetic: &out.t, Profile: p, Target: "charges", Seed: 3,
		Conditions: fixed}
}

func reason(t *testing.T, r *Report, metric string) gate.Reason {
	t.Helper()
	for _, x := range r.Gate.Reasons {
		if x.Metric == metric {
			return x
		}
	}
	t.Fatalf("no gate reason for %s", metric)
	return gate.Reason{}
}

// TestBuildConditional: smokers generated with smoker=yes are judged
// against the real smokers, without the smoker column, and pass the gate
// with the default thresholds; judged against the whole table, as before
// conditions reached the report, the same output fails it.
func TestBuildConditional(t *testing.T) {
	t.Parallel()
	in := conditionalInputs(t, map[string]string{"smoker": "yes"})
	ctx := context.Background()
	r, err := Build(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Gate.Pass {
		t.Errorf("the gate failed a faithful conditional output: %+v", r.Gate.Failures())
	}
	for _, m := range []string{gate.ColumnShapes, gate.ColumnPairTrends, gate.DiscriminatorAUC, gate.MLEfficacyRatio, gate.DCRShare} {
		x := reason(t, r, m)
		if x.Status != gate.StatusPass {
			t.Errorf("%s: %s", m, x.Message)
		}
	}
	if slices.ContainsFunc(r.Quality.Columns, func(c quality.ColumnReport) bool { return c.Name == "smoker" }) {
		t.Error("the fixed column smoker was scored")
	}
	if slices.Contains(r.Privacy.Columns, "smoker") {
		t.Error("the fixed column smoker is in the privacy distances")
	}
	// The real rows it was judged against: the smokers.
	if r.Privacy.TrainRows >= len(in.Train.Rows)/2 || r.Quality.RealRows >= len(in.Train.Rows)/2 {
		t.Errorf("judged against %d (quality) and %d (privacy) training rows of %d: not only the smokers",
			r.Quality.RealRows, r.Privacy.TrainRows, len(in.Train.Rows))
	}
	if r.Inputs.Conditions["smoker"] != "yes" || !strings.Contains(strings.Join(r.Notes, "\n"), "conditional job (smoker=yes)") {
		t.Errorf("the report does not say the job was conditional: %v %q", r.Inputs.Conditions, r.Notes)
	}
	t.Logf("conditional: shapes %.3f, pairs %.3f, discriminator %.3f, ML efficacy %.3f, DCR share %.3f",
		r.Quality.ColumnShapes, r.Quality.ColumnPairTrends, r.Quality.Discriminator.AUC, r.Quality.Efficacy.Ratio, r.Privacy.DCR.CloserToTrainShare)

	before := in
	before.Conditions = nil
	rb, err := Build(ctx, before)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Gate.Pass {
		t.Error("judged against the whole table the output passed: the test no longer shows the fix")
	}
	t.Logf("whole table: shapes %.3f, pairs %.3f, discriminator %.3f, ML efficacy %.3f; failures %d",
		rb.Quality.ColumnShapes, rb.Quality.ColumnPairTrends, rb.Quality.Discriminator.AUC, rb.Quality.Efficacy.Ratio, len(rb.Gate.Failures()))
}

// TestBuildConditionNoRealRow: a condition no real row meets leaves
// nothing to compare fidelity with: the report says so and the gate skips
// those checks (privacy is still measured, against every real row).
func TestBuildConditionNoRealRow(t *testing.T) {
	t.Parallel()
	// No person in the table has a bmi of exactly 30.001; the tree model
	// samples the rows whose bmi falls in that value's bin.
	in := conditionalInputs(t, map[string]string{"bmi": "30.001"})
	r, err := Build(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Quality != nil {
		t.Errorf("fidelity was scored against no rows: %+v", r.Quality)
	}
	for _, m := range []string{gate.ColumnShapes, gate.ColumnPairTrends, gate.DiscriminatorAUC, gate.MLEfficacyRatio} {
		x := reason(t, r, m)
		want := "not checked: no real row meets the job's conditions (bmi=30.001), so there is no real distribution to compare with"
		if x.Status != gate.StatusSkipped || !strings.Contains(x.Message, want) {
			t.Errorf("%s: %s %q, want skipped saying %q", m, x.Status, x.Message, want)
		}
	}
	if r.Privacy == nil || r.Privacy.TrainRows != len(in.Train.Rows) || slices.Contains(r.Privacy.Columns, "bmi") {
		t.Errorf("privacy should be measured against every real row without bmi: %+v", r.Privacy)
	}
	for _, f := range r.Gate.Failures() {
		if slices.Contains([]string{gate.ColumnShapes, gate.ColumnPairTrends, gate.DiscriminatorAUC, gate.MLEfficacyRatio}, f.Metric) {
			t.Errorf("failed on an unmeasurable metric: %+v", f)
		}
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "fidelity not evaluated: no real row meets the job's conditions (bmi=30.001)") {
		t.Errorf("notes do not say why fidelity is missing: %q", r.Notes)
	}
	if len(r.Verdicts) == 0 || r.Verdicts[0].Title != "Fidelity not measured" {
		t.Errorf("verdicts %+v, want fidelity first, not measured", r.Verdicts)
	}
	var page, doc bytes.Buffer
	if err := WriteHTML(&page, r); err != nil {
		t.Errorf("HTML without fidelity: %v", err)
	}
	if err := WriteJSON(&doc, r); err != nil || !strings.Contains(doc.String(), `"quality": null`) {
		t.Errorf("JSON without fidelity: %v", err)
	}
}
