package modeleval

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"synthos.dev/synthos/shared/ensemble"
	"synthos.dev/synthos/shared/table"
)

const data = "../../../shared/datasets"

func readTable(t *testing.T, path string, n int) *table.Table {
	t.Helper()
	r, err := table.Open(path, table.Options{})
	if err != nil {
		t.Fatalf("dataset missing (clone with ../shared beside the project): %v", err)
	}
	defer r.Close()
	tb, err := table.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 && len(tb.Rows) > n {
		tb.Rows = tb.Rows[:n]
	}
	return tb
}

func adultInputs(t *testing.T) Inputs {
	f, err := os.Open("../ensemble/testdata/xgb_adult_binary.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ensemble.Parse(f, "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../ensemble/testdata/xgb_adult_binary.categories.json")
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string][]string{}
	if err := json.Unmarshal(b, &cats); err != nil {
		t.Fatal(err)
	}
	cats["income"] = []string{"<=50K", ">50K"}
	return Inputs{Model: m, ModelName: "adult.json", Target: "income", Categories: cats,
		Holdout: readTable(t, filepath.Join(data, "adult.holdout.csv"), 3000)}
}

// TestRealRowsAreFaithful: real rows the model did not score are, of
// course, a faithful stand-in for the holdout; TSTR vs TRTR is measured.
func TestRealRowsAreFaithful(t *testing.T) {
	in := adultInputs(t)
	in.Synthetic = readTable(t, filepath.Join(data, "adult.train.csv"), 3000)
	in.Train = readTable(t, filepath.Join(data, "adult.train.csv"), 0)
	in.Train.Rows = in.Train.Rows[3000:6000]
	r, err := Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	auc := r.Metrics[0]
	if auc.Name != "auc" || auc.Real < 0.85 || auc.Gap > MaxMetricGap {
		t.Errorf("auc %+v", auc)
	}
	if !r.Verdict.Faithful || r.Verdict.Level != "good" || r.MeanDrift > 0.05 || r.Predictions.Similarity < 0.9 {
		t.Errorf("verdict %+v, drift %.3f, predictions %.3f", r.Verdict, r.MeanDrift, r.Predictions.Similarity)
	}
	if r.TSTR == nil || r.TSTR.Real < 0.8 || r.TSTR.Ratio < 0.95 {
		t.Errorf("tstr %+v notes %v", r.TSTR, r.Notes)
	}
	if len(r.Drift) != len(in.Model.Features) {
		t.Errorf("%d drift entries", len(r.Drift))
	}
}

// TestShuffledColumnsAreNot: "synthetic" rows whose columns were shuffled
// independently keep every marginal (no drift) but lose every relation, so
// the model's scores collapse and the verdict says so.
func TestShuffledColumnsAreNot(t *testing.T) {
	in := adultInputs(t)
	syn := readTable(t, filepath.Join(data, "adult.train.csv"), 3000)
	rng := rand.New(rand.NewPCG(1, 2))
	for c := range syn.Columns {
		rng.Shuffle(len(syn.Rows), func(i, j int) { syn.Rows[i][c], syn.Rows[j][c] = syn.Rows[j][c], syn.Rows[i][c] })
	}
	in.Synthetic = syn
	r, err := Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict.Faithful || r.Verdict.Level != "poor" || r.Metrics[0].Synthetic > 0.65 || r.MeanDrift > 0.05 {
		t.Errorf("verdict %+v metrics %+v drift %.3f", r.Verdict, r.Metrics, r.MeanDrift)
	}
	if r.TSTR != nil {
		t.Error("TSTR measured without a training table")
	}
}

func TestRegressionMetrics(t *testing.T) {
	f, err := os.Open("../ensemble/testdata/xgb_insurance_regression.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ensemble.Parse(f, "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	cats := map[string][]string{"sex": {"female", "male"}, "smoker": {"no", "yes"}, "region": {"northeast", "northwest", "southeast", "southwest"}}
	hold := readTable(t, filepath.Join(data, "insurance.holdout.csv"), 0)
	// A synthetic table where every charge is doubled: the model's error
	// grows, its predictions do not move, and the verdict names RMSE.
	syn := readTable(t, filepath.Join(data, "insurance.train.csv"), 0)
	ci := syn.Col("charges")
	for _, r := range syn.Rows {
		var v float64
		json.Unmarshal([]byte(r[ci]), &v)
		b, _ := json.Marshal(2 * v)
		r[ci] = string(b)
	}
	r, err := Run(context.Background(), Inputs{Model: m, Target: "charges", Categories: cats, Holdout: hold, Synthetic: syn})
	if err != nil {
		t.Fatal(err)
	}
	if r.Metrics[0].Name != "rmse" || r.Metrics[1].Name != "r2" || r.Metrics[1].Real < 0.7 || r.Metrics[0].Synthetic < 2*r.Metrics[0].Real {
		t.Errorf("metrics %+v", r.Metrics)
	}
	if r.Verdict.Faithful || r.Predictions.Similarity < 0.85 {
		t.Errorf("verdict %+v predictions %.3f", r.Verdict, r.Predictions.Similarity)
	}
}
