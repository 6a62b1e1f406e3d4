package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"

	"synthos.dev/synthos/shared/modeleval"
)

//go:embed model.html.tmpl
var modelSource string

// modelTemplate shares the evaluation page's style and chart drawing.
var modelTemplate = template.Must(template.Must(pageTemplate.Clone()).New("model").Parse(modelSource))

type modelFeature struct {
	Name, Stat string
	Sim        float64
	Level      Level
	Chart      chart
}

type modelPage struct {
	R               *modeleval.Report
	CSP             string
	Script          template.JS
	MaxGap, MaxRMSE string
	Cards           []card
	Predictions     chart
	DriftChart      chart
	TSTRChart       chart
	Features        []modelFeature
}

// WriteModelHTML writes a model test (shared/modeleval) as one
// self-contained page in the evaluation report's style: the verdict, the
// model's scores on real and synthetic rows, its prediction distributions,
// per-feature drift, and TSTR vs TRTR.
func WriteModelHTML(w io.Writer, r *modeleval.Report) error {
	if r == nil {
		return fmt.Errorf("report.WriteModelHTML: nil report: %w", ErrInput)
	}
	pg := &modelPage{R: r, CSP: csp, Script: template.JS(pageScript),
		MaxGap: fmt.Sprintf("%.2f", modeleval.MaxMetricGap), MaxRMSE: pct(modeleval.MaxRMSEGap)}
	for _, m := range r.Metrics {
		limit := modeleval.MaxMetricGap
		if m.Name == "rmse" {
			limit = modeleval.MaxRMSEGap
		}
		l := grade(m.Gap, limit, 2*limit, false)
		hi := 1.0
		if m.Name == "rmse" {
			hi = niceMax(math.Max(m.Real, m.Synthetic) * 1.2)
		}
		c := pairedBars("metric:"+m.Name, m.Name+": synthetic and real", []string{m.Name}, []float64{m.Synthetic / hi}, []float64{m.Real / hi}, "synthetic", "real")
		c.Note = "scaled to " + fmt.Sprintf("%.4g", hi)
		pg.Cards = append(pg.Cards, card{Title: m.Name, Value: fmt.Sprintf("%.4g → %.4g", m.Real, m.Synthetic),
			Sub: fmt.Sprintf("real holdout → synthetic · gap %.3g", m.Gap), Level: l, Chart: c})
	}
	pg.Predictions = bars("predictions", r.Predictions.Bins)
	var names []string
	var sims, zero []float64
	for _, d := range r.Drift {
		names, sims, zero = append(names, d.Feature), append(sims, d.Similarity), append(zero, 1)
		pg.Features = append(pg.Features, modelFeature{Name: d.Feature, Stat: d.Statistic, Sim: d.Similarity,
			Level: grade(d.Drift, modeleval.MaxMeanDrift, modeleval.MaxFeatureDrift, false), Chart: bars("feature:"+d.Feature, d.Bins)})
	}
	pg.DriftChart = pairedBars("drift", "similarity of each feature, real holdout vs synthetic", names, sims, zero, "similarity", "identical")
	if e := r.TSTR; e != nil {
		pg.TSTRChart = pairedBars("tstr", "holdout score trained on synthetic vs trained on real", []string{e.Metric}, []float64{e.Synthetic}, []float64{e.Real}, "TSTR", "TRTR")
	}
	var buf bytes.Buffer
	if err := modelTemplate.ExecuteTemplate(&buf, "model", pg); err != nil {
		return fmt.Errorf("report.WriteModelHTML: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
