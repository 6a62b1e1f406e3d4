// Package modeleval answers a custom model's question: is this synthetic
// data a faithful stand-in for MY model? It scores the model on the real
// holdout and on the synthetic output (AUC, F1 and accuracy for
// classifiers, RMSE and R² for regressors), measures how far each feature
// the model reads drifts between them (KS / TV complement, as the fidelity
// report does), compares the distributions of the model's predictions, and
// when a real training table is given, trains our gradient-boosted trees on
// synthetic and on real rows and tests both on the holdout (TSTR vs TRTR,
// quality.MLEfficacy). One verdict sums it up; report.WriteModelHTML draws
// it in the evaluation report's style.
package modeleval

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"synthos.dev/synthos/shared/ensemble"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/ml"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/table"
)

// Thresholds of the verdict. A metric gap is absolute for scores in [0, 1]
// (AUC, F1, accuracy, R²) and relative to the real value for RMSE.
const (
	MaxMetricGap         = 0.05
	MaxRMSEGap           = 0.10
	MinPredictionSim     = 0.85
	MaxMeanDrift         = 0.15
	MaxFeatureDrift      = 0.30
	MinTSTRRatio         = 0.90
	fairSlack            = 2.0 // "fair" allows twice the gap
	distributionBins     = 10
	maxCategoryBins      = 10
	reportFormatVersion  = 1
	positiveThreshold    = 0.5
	missingBin           = "(missing)"
	otherBin             = "(other)"
	defaultTrainingSeed  = 17
	minRowsForComparison = 10
)

// Inputs of a model test.
type Inputs struct {
	Model     *ensemble.Model
	ModelName string
	// Holdout is real rows neither the model nor the synthesizer saw;
	// Synthetic the job's output; Train (optional) the real rows the
	// synthesizer was fitted on, for TSTR vs TRTR.
	Holdout, Synthetic, Train  *table.Table
	HoldoutName, SyntheticName string
	// Target is the column the model predicts (its labels score the
	// model). Categories lists, per categorical feature and for a class
	// target, the categories in code order.
	Target     string
	Categories map[string][]string
	Seed       uint64
}

// Metric is one score of the model on both tables.
type Metric struct {
	Name           string  `json:"name"` // auc, f1, accuracy, macro_f1, rmse, r2
	Real           float64 `json:"real"`
	Synthetic      float64 `json:"synthetic"`
	Gap            float64 `json:"gap"` // |real - synthetic|, relative for rmse
	HigherIsBetter bool    `json:"higher_is_better"`
}

// Drift is how one feature differs between the holdout and the synthetic
// rows.
type Drift struct {
	Feature    string               `json:"feature"`
	Statistic  string               `json:"statistic"`  // ks_complement or tv_complement
	Similarity float64              `json:"similarity"` // 1: identical distributions
	Drift      float64              `json:"drift"`      // 1 - similarity
	Bins       quality.Distribution `json:"distribution"`
}

// Predictions compares the model's outputs on the two tables.
type Predictions struct {
	Output        string               `json:"output"` // the output compared (prediction, or p_1 for binary)
	Similarity    float64              `json:"similarity"`
	RealMean      float64              `json:"real_mean"`
	SyntheticMean float64              `json:"synthetic_mean"`
	Bins          quality.Distribution `json:"distribution"`
}

// Verdict is the one-line answer.
type Verdict struct {
	Faithful bool     `json:"faithful"`
	Level    string   `json:"level"` // good, fair, poor
	Title    string   `json:"title"`
	Text     string   `json:"text"`
	Reasons  []string `json:"reasons,omitempty"`
}

// Report is the JSON of a model test.
type Report struct {
	Version       int               `json:"version"`
	CreatedAt     time.Time         `json:"created_at"`
	Model         string            `json:"model"`
	Framework     string            `json:"framework"`
	Objective     string            `json:"objective"`
	Task          string            `json:"task"`
	Trees         int               `json:"trees"`
	Target        string            `json:"target"`
	Holdout       string            `json:"holdout"`
	Synthetic     string            `json:"synthetic"`
	HoldoutRows   int               `json:"holdout_rows"`
	SyntheticRows int               `json:"synthetic_rows"`
	Metrics       []Metric          `json:"metrics"`
	Drift         []Drift           `json:"drift"`
	MeanDrift     float64           `json:"mean_drift"`
	Predictions   Predictions       `json:"predictions"`
	TSTR          *quality.Efficacy `json:"tstr,omitempty"`
	Verdict       Verdict           `json:"verdict"`
	Notes         []string          `json:"notes,omitempty"`
}

// scored is one table run through the model.
type scored struct {
	rows  int
	pred  []float64 // rows × outputs
	y     []float64 // labels (class codes or values), NaN when missing
	cells [][]string
}

// Run tests the model.
func Run(ctx context.Context, in Inputs) (*Report, error) {
	m := in.Model
	if m == nil || in.Holdout == nil || in.Synthetic == nil || in.Target == "" {
		return nil, errs.New(errs.InvalidArgument, "modeleval: a model, a holdout, a synthetic table and a target are required")
	}
	r := &Report{Version: reportFormatVersion, CreatedAt: time.Now().UTC(), Model: in.ModelName, Framework: m.Framework,
		Objective: m.Objective, Task: string(m.Task()), Trees: m.Trees, Target: in.Target,
		Holdout: in.HoldoutName, Synthetic: in.SyntheticName}
	real, err := score(m, in.Holdout, in, "holdout")
	if err != nil {
		return nil, err
	}
	syn, err := score(m, in.Synthetic, in, "synthetic")
	if err != nil {
		return nil, err
	}
	r.HoldoutRows, r.SyntheticRows = real.rows, syn.rows
	if real.rows < minRowsForComparison || syn.rows < minRowsForComparison {
		return nil, errs.Errorf(errs.InvalidArgument, "modeleval: %d holdout and %d synthetic rows; at least %d of each are needed", real.rows, syn.rows, minRowsForComparison)
	}
	if r.Metrics, err = metrics(m, real, syn); err != nil {
		return nil, err
	}
	r.Drift = drift(m, in, real, syn)
	for _, d := range r.Drift {
		r.MeanDrift += d.Drift / float64(len(r.Drift))
	}
	r.Predictions = comparePredictions(m, real, syn)
	if in.Train != nil {
		p, err := profile.Infer(in.Train, profile.Options{})
		if err != nil {
			return nil, fmt.Errorf("modeleval: profile the training table: %w", err)
		}
		seed := in.Seed
		if seed == 0 {
			seed = defaultTrainingSeed
		}
		eff, notes, err := quality.MLEfficacy(ctx, in.Train, in.Synthetic, in.Holdout, p, quality.Options{Target: in.Target, Seed: seed})
		r.Notes = append(r.Notes, notes...)
		if err != nil {
			r.Notes = append(r.Notes, "TSTR vs TRTR not measured: "+err.Error())
		} else {
			r.TSTR = eff
		}
	} else {
		r.Notes = append(r.Notes, "TSTR vs TRTR not measured: no real training table was given")
	}
	r.Verdict = verdict(r)
	return r, nil
}

// score predicts every row of t and reads its labels.
func score(m *ensemble.Model, t *table.Table, in Inputs, name string) (*scored, error) {
	b, err := m.Bind(t.Columns, in.Categories)
	if err != nil {
		return nil, fmt.Errorf("modeleval: %s: %w", name, err)
	}
	ti := t.Col(in.Target)
	if ti < 0 {
		return nil, errs.Errorf(errs.InvalidArgument, "modeleval: the %s table has no target column %q", name, in.Target)
	}
	classes := in.Categories[in.Target]
	nf := len(m.Features)
	s := &scored{rows: len(t.Rows), cells: t.Rows}
	x := make([]float64, len(t.Rows)*nf)
	s.y = make([]float64, len(t.Rows))
	for i, row := range t.Rows {
		if err := b.Row(row, x[i*nf:(i+1)*nf], i+1); err != nil {
			return nil, fmt.Errorf("modeleval: %s: %w", name, err)
		}
		s.y[i] = label(row[ti], classes)
	}
	s.pred = make([]float64, len(t.Rows)*m.Outputs)
	if err := m.PredictBatch(x, s.pred); err != nil {
		return nil, err
	}
	return s, nil
}

// label reads a target cell: its index in classes when given, else a
// number; NaN when missing or unknown.
func label(cell string, classes []string) float64 {
	cell = strings.TrimSpace(cell)
	if classes != nil {
		for i, c := range classes {
			if c == cell {
				return float64(i)
			}
		}
		return math.NaN()
	}
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

func metrics(m *ensemble.Model, real, syn *scored) ([]Metric, error) {
	type fn func(s *scored) (map[string]float64, error)
	var compute fn
	var names []string
	higher := map[string]bool{"auc": true, "f1": true, "accuracy": true, "macro_f1": true, "r2": true}
	switch m.Task() {
	case ensemble.Binary:
		names = []string{"auc", "f1", "accuracy"}
		compute = func(s *scored) (map[string]float64, error) {
			var scores []float64
			var pos []bool
			var tp, fp, fn, ok float64
			for i, y := range s.y {
				if math.IsNaN(y) {
					continue
				}
				p := s.pred[i]
				scores, pos = append(scores, p), append(pos, y == 1)
				switch hit := p >= positiveThreshold; {
				case hit && y == 1:
					tp, ok = tp+1, ok+1
				case hit:
					fp++
				case y == 1:
					fn++
				default:
					ok++
				}
			}
			auc, err := ml.AUC(scores, pos)
			if err != nil {
				return nil, err
			}
			f1 := 0.0
			if tp > 0 {
				f1 = 2 * tp / (2*tp + fp + fn)
			}
			return map[string]float64{"auc": auc, "f1": f1, "accuracy": ok / float64(len(scores))}, nil
		}
	case ensemble.Multiclass:
		names = []string{"macro_f1", "accuracy"}
		compute = func(s *scored) (map[string]float64, error) {
			var pred, truth []int
			ok := 0
			for i, y := range s.y {
				if math.IsNaN(y) || y < 0 || int(y) >= m.Outputs {
					continue
				}
				c := ensemble.Argmax(s.pred[i*m.Outputs : (i+1)*m.Outputs])
				pred, truth = append(pred, c), append(truth, int(y))
				if c == int(y) {
					ok++
				}
			}
			f1, err := ml.MacroF1(pred, truth, m.Outputs)
			if err != nil {
				return nil, err
			}
			return map[string]float64{"macro_f1": f1, "accuracy": float64(ok) / float64(len(pred))}, nil
		}
	default:
		names = []string{"rmse", "r2"}
		compute = func(s *scored) (map[string]float64, error) {
			var pred, truth []float64
			var se float64
			for i, y := range s.y {
				if math.IsNaN(y) {
					continue
				}
				pred, truth = append(pred, s.pred[i]), append(truth, y)
				se += (s.pred[i] - y) * (s.pred[i] - y)
			}
			r2, err := ml.R2(pred, truth)
			if err != nil {
				return nil, err
			}
			return map[string]float64{"rmse": math.Sqrt(se / float64(len(pred))), "r2": r2}, nil
		}
	}
	a, err := compute(real)
	if err != nil {
		return nil, fmt.Errorf("modeleval: score on the holdout: %w (are the target's labels numeric, or given as categories?)", err)
	}
	b, err := compute(syn)
	if err != nil {
		return nil, fmt.Errorf("modeleval: score on the synthetic rows: %w", err)
	}
	var out []Metric
	for _, n := range names {
		mt := Metric{Name: n, Real: a[n], Synthetic: b[n], Gap: math.Abs(a[n] - b[n]), HigherIsBetter: higher[n]}
		if n == "rmse" && a[n] > 0 {
			mt.Gap /= a[n]
		}
		out = append(out, mt)
	}
	return out, nil
}

// drift compares each feature's distribution in the holdout and in the
// synthetic rows, on the values the model reads.
func drift(m *ensemble.Model, in Inputs, real, syn *scored) []Drift {
	var out []Drift
	for _, f := range m.Features {
		rc, sc := column(in.Holdout, f.Name), column(in.Synthetic, f.Name)
		d := Drift{Feature: f.Name}
		rn, rok := numbers(rc)
		sn, sok := numbers(sc)
		if f.Kind == ensemble.Numeric && rok && sok {
			d.Statistic, d.Similarity = "ks_complement", quality.KSComplement(rn, sn)
			d.Bins = quantileBins(rn, sn)
		} else {
			d.Statistic, d.Similarity = "tv_complement", quality.TVComplement(rc, sc)
			d.Bins = categoryBins(rc, sc)
		}
		d.Drift = 1 - d.Similarity
		out = append(out, d)
	}
	return out
}

func column(t *table.Table, name string) []string {
	ci := t.Col(name)
	out := make([]string, 0, len(t.Rows))
	for _, r := range t.Rows {
		out = append(out, strings.TrimSpace(r[ci]))
	}
	return out
}

// numbers parses the non-missing cells; ok is false when some cell is
// not a number.
func numbers(cells []string) ([]float64, bool) {
	out := make([]float64, 0, len(cells))
	for _, c := range cells {
		if c == "" || c == "?" || strings.EqualFold(c, "na") || strings.EqualFold(c, "nan") {
			continue
		}
		v, err := strconv.ParseFloat(c, 64)
		if err != nil {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

func comparePredictions(m *ensemble.Model, real, syn *scored) Predictions {
	// Binary: the probability; regression: the value; multiclass: the
	// predicted class.
	pick := func(s *scored) []float64 {
		out := make([]float64, s.rows)
		for i := range out {
			if m.Outputs > 1 {
				out[i] = float64(ensemble.Argmax(s.pred[i*m.Outputs : (i+1)*m.Outputs]))
			} else {
				out[i] = s.pred[i]
			}
		}
		return out
	}
	a, b := pick(real), pick(syn)
	p := Predictions{Output: "prediction", RealMean: mean(a), SyntheticMean: mean(b)}
	if m.Outputs > 1 {
		ac, bc := make([]string, len(a)), make([]string, len(b))
		for i, v := range a {
			ac[i] = strconv.Itoa(int(v))
		}
		for i, v := range b {
			bc[i] = strconv.Itoa(int(v))
		}
		p.Output, p.Similarity, p.Bins = "predicted class", quality.TVComplement(ac, bc), categoryBins(ac, bc)
		return p
	}
	p.Similarity, p.Bins = quality.KSComplement(a, b), quantileBins(a, b)
	return p
}

func mean(x []float64) float64 {
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(max(len(x), 1))
}

// quantileBins bins both samples at the deciles of the real one.
func quantileBins(real, syn []float64) quality.Distribution {
	s := append([]float64(nil), real...)
	sort.Float64s(s)
	var edges []float64
	for k := 1; k < distributionBins; k++ {
		if len(s) == 0 {
			break
		}
		e := s[min(len(s)-1, k*len(s)/distributionBins)]
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	d := quality.Distribution{}
	lo := "min"
	for i := 0; i <= len(edges); i++ {
		hi := "max"
		if i < len(edges) {
			hi = strconv.FormatFloat(edges[i], 'g', 4, 64)
		}
		d.Bins = append(d.Bins, lo+"–"+hi)
		lo = hi
	}
	share := func(x []float64) []float64 {
		out := make([]float64, len(d.Bins))
		for _, v := range x {
			out[sort.SearchFloat64s(edges, v+0)]++
		}
		for i := range out {
			out[i] /= float64(max(len(x), 1))
		}
		return out
	}
	d.Real, d.Synthetic = share(real), share(syn)
	return d
}

// categoryBins shows the most common real categories, then the rest.
func categoryBins(real, syn []string) quality.Distribution {
	count := map[string]int{}
	for _, c := range real {
		count[c]++
	}
	cats := make([]string, 0, len(count))
	for c := range count {
		cats = append(cats, c)
	}
	sort.Slice(cats, func(i, j int) bool {
		if count[cats[i]] != count[cats[j]] {
			return count[cats[i]] > count[cats[j]]
		}
		return cats[i] < cats[j]
	})
	d := quality.Distribution{}
	other := len(cats) > maxCategoryBins
	if other {
		cats = cats[:maxCategoryBins]
	}
	at := map[string]int{}
	for i, c := range cats {
		name := c
		if c == "" {
			name = missingBin
		}
		d.Bins, at[c] = append(d.Bins, name), i
	}
	if other {
		d.Bins = append(d.Bins, otherBin)
	}
	share := func(x []string) []float64 {
		out := make([]float64, len(d.Bins))
		for _, c := range x {
			if i, ok := at[c]; ok {
				out[i]++
			} else if other {
				out[len(out)-1]++
			}
		}
		for i := range out {
			out[i] /= float64(max(len(x), 1))
		}
		return out
	}
	d.Real, d.Synthetic = share(real), share(syn)
	return d
}

// verdict grades each check: good within the threshold, fair within twice
// it, poor beyond; the synthetic data is a faithful stand-in when nothing
// is poor.
func verdict(r *Report) Verdict {
	level := 0 // 0 good, 1 fair, 2 poor
	var reasons []string
	check := func(ok, fair bool, msg string) {
		switch {
		case ok:
		case fair:
			level = max(level, 1)
			reasons = append(reasons, msg)
		default:
			level = 2
			reasons = append(reasons, msg)
		}
	}
	for _, mt := range r.Metrics {
		limit := MaxMetricGap
		if mt.Name == "rmse" {
			limit = MaxRMSEGap
		}
		what := fmt.Sprintf("%s differs by %.3f (real %.4g, synthetic %.4g)", mt.Name, mt.Gap, mt.Real, mt.Synthetic)
		if mt.Name == "rmse" {
			what = fmt.Sprintf("rmse differs by %.1f%% (real %.4g, synthetic %.4g)", 100*mt.Gap, mt.Real, mt.Synthetic)
		}
		check(mt.Gap <= limit, mt.Gap <= fairSlack*limit, what)
	}
	p := r.Predictions.Similarity
	check(p >= MinPredictionSim, p >= 1-fairSlack*(1-MinPredictionSim), fmt.Sprintf("the model's predictions are distributed differently (similarity %.3f)", p))
	check(r.MeanDrift <= MaxMeanDrift, r.MeanDrift <= fairSlack*MaxMeanDrift, fmt.Sprintf("the features the model reads drift by %.3f on average", r.MeanDrift))
	for _, d := range r.Drift {
		if d.Drift > MaxFeatureDrift {
			level = max(level, 1)
			reasons = append(reasons, fmt.Sprintf("feature %s drifts by %.3f", d.Feature, d.Drift))
		}
	}
	if e := r.TSTR; e != nil && e.Real > 0 {
		check(e.Ratio >= MinTSTRRatio, e.Ratio >= 1-fairSlack*(1-MinTSTRRatio),
			fmt.Sprintf("a model trained on the synthetic rows scores %.3f of one trained on real rows (%s %.3f vs %.3f)", e.Ratio, e.Metric, e.Synthetic, e.Real))
	}
	v := Verdict{Level: []string{"good", "fair", "poor"}[level], Faithful: level < 2, Reasons: reasons}
	primary := r.Metrics[0]
	switch level {
	case 0:
		v.Title = "Faithful stand-in"
		v.Text = fmt.Sprintf("This synthetic data is a faithful stand-in for your model: %s %.4g on synthetic vs %.4g on real, predictions %.0f%% alike.", primary.Name, primary.Synthetic, primary.Real, 100*p)
	case 1:
		v.Title = "Usable, with caveats"
		v.Text = fmt.Sprintf("This synthetic data is a faithful stand-in for your model, with caveats: %s.", strings.Join(reasons, "; "))
	default:
		v.Title = "Not a faithful stand-in"
		v.Text = fmt.Sprintf("This synthetic data is not a faithful stand-in for your model: %s.", strings.Join(reasons, "; "))
	}
	return v
}
