package ml

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// Objective is the loss a model minimises.
type Objective uint8

const (
	// SquaredError regresses a real target.
	SquaredError Objective = iota
	// Logistic classifies a 0/1 target; predictions are P(y = 1).
	Logistic
	// Softmax classifies a target in 0..Classes-1 with one tree per class
	// and round; predictions are class probabilities.
	Softmax
)

func (o Objective) String() string {
	switch o {
	case SquaredError:
		return "squared_error"
	case Logistic:
		return "logistic"
	case Softmax:
		return "softmax"
	}
	return fmt.Sprintf("objective(%d)", uint8(o))
}

// Params tune Fit. DefaultParams is a good start for tables of 10³–10⁵ rows.
type Params struct {
	Objective    Objective
	Classes      int     // Softmax only: number of classes (≥ 2)
	Trees        int     // boosting rounds
	LearningRate float64 // shrinkage per round
	MaxDepth     int     // depth of each tree (1 = stumps)
	MinLeaf      int     // fewest rows in a leaf
	Lambda       float64 // L2 penalty on leaf values
	Subsample    float64 // share of rows each round sees, in (0, 1]
	Seed         uint64
}

// DefaultParams returns the parameters the evaluations use.
func DefaultParams(obj Objective) Params {
	return Params{Objective: obj, Trees: 100, LearningRate: 0.1, MaxDepth: 6, MinLeaf: 20, Lambda: 1, Subsample: 0.8}
}

func (p Params) check() error {
	switch {
	case p.Objective > Softmax:
		return fmt.Errorf("unknown objective %d", p.Objective)
	case p.Objective == Softmax && (p.Classes < 2 || p.Classes > 1<<16):
		return fmt.Errorf("softmax needs 2..65536 classes, got %d", p.Classes)
	case p.Trees < 1 || p.MaxDepth < 1 || p.MaxDepth > 16 || p.MinLeaf < 1:
		return fmt.Errorf("trees %d, max depth %d, min leaf %d out of range", p.Trees, p.MaxDepth, p.MinLeaf)
	case !(p.LearningRate > 0) || !(p.Lambda >= 0) || !(p.Subsample > 0 && p.Subsample <= 1):
		return fmt.Errorf("learning rate %v, lambda %v, subsample %v out of range", p.LearningRate, p.Lambda, p.Subsample)
	}
	return nil
}

// Model is a fitted tree ensemble.
type Model struct {
	obj      Objective
	k        int       // outputs per row
	base     []float64 // initial raw score per output
	trees    []tree    // round-major: trees[round*k + output]
	features []Feature
}

// outputs is the number of raw scores per row.
func (p Params) outputs() int {
	if p.Objective == Softmax {
		return p.Classes
	}
	return 1
}

// Fit trains a model on x with targets y: real values for SquaredError, 0/1
// for Logistic, class indices for Softmax.
func Fit(ctx context.Context, x *Matrix, y []float64, p Params) (*Model, error) {
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("ml.Fit: %v: %w", err, ErrInput)
	}
	if x == nil || x.Rows == 0 || len(y) != x.Rows || len(x.Codes) != len(x.Features) || len(x.Features) == 0 {
		return nil, fmt.Errorf("ml.Fit: empty matrix or %d targets for its rows: %w", len(y), ErrInput)
	}
	for f, c := range x.Codes {
		bins := x.Features[f].Bins
		if len(c) != x.Rows || bins < 1 || bins > MaxBins {
			return nil, fmt.Errorf("ml.Fit: feature %d malformed: %w", f, ErrInput)
		}
		for i, b := range c {
			if int(b) >= bins {
				return nil, fmt.Errorf("ml.Fit: feature %d row %d: code %d ≥ %d bins: %w", f, i, b, bins, ErrInput)
			}
		}
	}
	k := p.outputs()
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) ||
			(p.Objective == Logistic && v != 0 && v != 1) ||
			(p.Objective == Softmax && (v != math.Trunc(v) || v < 0 || int(v) >= k)) {
			return nil, fmt.Errorf("ml.Fit: target %v at row %d invalid for %s: %w", v, i, p.Objective, ErrInput)
		}
	}
	m := &Model{obj: p.Objective, k: k, base: baseScore(y, p), features: x.Features}
	n := x.Rows
	raw := make([]float64, n*k) // raw[i*k + c]
	for i := range n {
		copy(raw[i*k:], m.base)
	}
	grad, hess := make([]float64, n), make([]float64, n)
	prob := make([]float64, k)
	rng := rand.New(rand.NewPCG(p.Seed, 0x67626d))
	g := newGrower(x, p)
	for round := range p.Trees {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("ml.Fit: round %d: %w", round, err)
		}
		rows := g.sample(rng)
		for c := range k {
			gradients(p.Objective, y, raw, k, c, grad, hess, prob)
			t := g.grow(rows, grad, hess)
			for i := range n {
				raw[i*k+c] += t.predict(x, i)
			}
			m.trees = append(m.trees, t)
		}
	}
	return m, nil
}

// baseScore is the constant raw score that minimises the loss.
func baseScore(y []float64, p Params) []float64 {
	switch p.Objective {
	case Logistic:
		mean := 0.0
		for _, v := range y {
			mean += v
		}
		mean = math.Min(1-1e-6, math.Max(1e-6, mean/float64(len(y))))
		return []float64{math.Log(mean / (1 - mean))}
	case Softmax:
		counts := make([]float64, p.Classes)
		for _, v := range y {
			counts[int(v)]++
		}
		out := make([]float64, p.Classes)
		for c := range out {
			out[c] = math.Log(math.Max(counts[c], 1e-3) / float64(len(y)))
		}
		return out
	default:
		mean := 0.0
		for _, v := range y {
			mean += v
		}
		return []float64{mean / float64(len(y))}
	}
}

// gradients fills grad and hess of output c for every row.
func gradients(obj Objective, y, raw []float64, k, c int, grad, hess, prob []float64) {
	switch obj {
	case SquaredError:
		for i := range y {
			grad[i] = raw[i] - y[i]
			hess[i] = 1
		}
	case Logistic:
		for i := range y {
			q := sigmoid(raw[i])
			grad[i] = q - y[i]
			hess[i] = math.Max(q*(1-q), 1e-12)
		}
	case Softmax:
		for i := range y {
			softmax(raw[i*k:(i+1)*k], prob)
			q := prob[c]
			t := 0.0
			if int(y[i]) == c {
				t = 1
			}
			grad[i] = q - t
			hess[i] = math.Max(q*(1-q), 1e-12)
		}
	}
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// softmax writes the softmax of z into out.
func softmax(z, out []float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = math.Max(mx, v)
	}
	s := 0.0
	for i, v := range z {
		out[i] = math.Exp(v - mx)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
}

// Outputs is the number of values Predict returns per row: the number of
// classes for Softmax, else 1.
func (m *Model) Outputs() int { return m.k }

// Predict returns, per row of x, the regression value (SquaredError),
// P(y = 1) (Logistic) or Outputs() class probabilities (Softmax), row-major.
// x must have the features the model was trained on.
func (m *Model) Predict(x *Matrix) ([]float64, error) {
	if x == nil || len(x.Features) != len(m.features) || len(x.Codes) != len(m.features) {
		return nil, fmt.Errorf("ml.Model.Predict: matrix does not match the model's %d features: %w", len(m.features), ErrInput)
	}
	for f, c := range x.Codes {
		if len(c) != x.Rows || x.Features[f] != m.features[f] {
			return nil, fmt.Errorf("ml.Model.Predict: feature %d differs from training: %w", f, ErrInput)
		}
	}
	k := m.k
	out := make([]float64, x.Rows*k)
	for i := range x.Rows {
		copy(out[i*k:], m.base)
	}
	for j, t := range m.trees {
		c := j % k
		for i := range x.Rows {
			out[i*k+c] += t.predict(x, i)
		}
	}
	switch m.obj {
	case Logistic:
		for i := range out {
			out[i] = sigmoid(out[i])
		}
	case Softmax:
		for i := range x.Rows {
			row := out[i*k : (i+1)*k]
			softmax(row, row)
		}
	}
	return out, nil
}

// Argmax returns the most probable class of each row of Softmax or
// Logistic predictions with k outputs per row (k = 1 thresholds at ½).
func Argmax(pred []float64, k int) []int {
	if k == 1 {
		out := make([]int, len(pred))
		for i, v := range pred {
			if v >= 0.5 {
				out[i] = 1
			}
		}
		return out
	}
	out := make([]int, len(pred)/k)
	for i := range out {
		best := 0
		for c := 1; c < k; c++ {
			if pred[i*k+c] > pred[i*k+best] {
				best = c
			}
		}
		out[i] = best
	}
	return out
}
