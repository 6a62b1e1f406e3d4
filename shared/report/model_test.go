package report

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/ensemble"
	"synthos.dev/synthos/shared/modeleval"
	"synthos.dev/synthos/shared/table"
)

func TestWriteModelHTML(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../ensemble/testdata/xgb_insurance_regression.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := ensemble.Parse(f, "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) *table.Table {
		r, err := table.Open(p, table.Options{})
		if err != nil {
			t.Fatalf("dataset missing: %v", err)
		}
		defer r.Close()
		tb, err := table.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return tb
	}
	cats := map[string][]string{"sex": {"female", "male"}, "smoker": {"no", "yes"}, "region": {"northeast", "northwest", "southeast", "southwest"}}
	train := read("../../../shared/datasets/insurance.train.csv")
	r, err := modeleval.Run(context.Background(), modeleval.Inputs{Model: m, ModelName: "charges.json", Target: "charges", Categories: cats,
		Holdout: read("../../../shared/datasets/insurance.holdout.csv"), Synthetic: train, Train: train})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteModelHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"Synthos · model test", "charges.json", r.Verdict.Title, `data-chart="predictions"`, `data-chart="drift"`,
		`data-chart="feature:bmi"`, `data-chart="metric:rmse"`, `data-chart="tstr"`, "Content-Security-Policy"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Every chart holds data marks (what the page script checks in a browser).
	figs := regexp.MustCompile(`(?s)<figure[^>]*data-chart="([^"]+)"[^>]*>(.*?)</figure>`).FindAllStringSubmatch(page, -1)
	if len(figs) < 10 {
		t.Fatalf("%d charts", len(figs))
	}
	for _, f := range figs {
		if !strings.Contains(f[2], `class="mark`) {
			t.Errorf("chart %s has no marks", f[1])
		}
	}
	if regexp.MustCompile(`(?i)(src|href)="https?:`).MatchString(page) {
		t.Error("page loads something from the network")
	}
}
