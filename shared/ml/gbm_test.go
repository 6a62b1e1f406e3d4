package ml

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// synthetic builds a matrix of n rows with the given features, codes drawn
// uniformly with rng.
func randomMatrix(n int, feats []Feature, rng *rand.Rand) *Matrix {
	m := &Matrix{Rows: n, Features: feats, Codes: make([][]uint8, len(feats))}
	for f, ft := range feats {
		m.Codes[f] = make([]uint8, n)
		for i := range n {
			m.Codes[f][i] = uint8(rng.IntN(ft.Bins))
		}
	}
	return m
}

func TestFitLearns(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	feats := []Feature{{Name: "a", Kind: Nominal, Bins: 4}, {Name: "b", Kind: Nominal, Bins: 4}, {Name: "o", Kind: Ordinal, Bins: 20}, {Name: "noise", Kind: Ordinal, Bins: 10}}
	x := randomMatrix(4000, feats, rng)
	a, b, o := x.Codes[0], x.Codes[1], x.Codes[2]
	tests := []struct {
		name  string
		p     Params
		y     func(i int) float64
		score func(pred []float64, y []float64) float64
		min   float64
	}{
		{
			// XOR of category sets: needs interaction and set splits.
			name: "logistic xor", p: DefaultParams(Logistic),
			y: func(i int) float64 {
				if (a[i] == 1 || a[i] == 3) != (b[i] == 2) {
					return 1
				}
				return 0
			},
			score: func(pred, y []float64) float64 {
				pos := make([]bool, len(y))
				for i, v := range y {
					pos[i] = v == 1
				}
				auc, _ := AUC(pred, pos)
				return auc
			},
			min: 0.999,
		},
		{
			// A step function of the ordinal feature, missing (bin 0) high.
			name: "regression with missing", p: DefaultParams(SquaredError),
			y: func(i int) float64 {
				if o[i] == 0 {
					return 50
				}
				return float64(o[i] / 5)
			},
			score: func(pred, y []float64) float64 { r, _ := R2(pred, y); return r },
			min:   0.99,
		},
		{
			name: "softmax", p: Params{Objective: Softmax, Classes: 3, Trees: 30, LearningRate: 0.3, MaxDepth: 3, MinLeaf: 5, Lambda: 1, Subsample: 1},
			y: func(i int) float64 { return float64((int(a[i]) + int(o[i]/10)) % 3) },
			score: func(pred, y []float64) float64 {
				truth := make([]int, len(y))
				for i, v := range y {
					truth[i] = int(v)
				}
				f1, _ := MacroF1(Argmax(pred, 3), truth, 3)
				return f1
			},
			min: 0.999,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			y := make([]float64, x.Rows)
			for i := range y {
				y[i] = tc.y(i)
			}
			m, err := Fit(context.Background(), x, y, tc.p)
			if err != nil {
				t.Fatal(err)
			}
			pred, err := m.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.score(pred, y); got < tc.min {
				t.Errorf("training score %v, want ≥ %v", got, tc.min)
			}
		})
	}
}

func TestFitErrors(t *testing.T) {
	t.Parallel()
	x := randomMatrix(10, []Feature{{Name: "a", Kind: Ordinal, Bins: 3}}, rand.New(rand.NewPCG(1, 1)))
	y01 := make([]float64, 10)
	bad := func(mut func(*Params)) Params { p := DefaultParams(Logistic); mut(&p); return p }
	tests := []struct {
		name string
		x    *Matrix
		y    []float64
		p    Params
	}{
		{"nil matrix", nil, y01, DefaultParams(Logistic)},
		{"code beyond bins", &Matrix{Rows: 1, Features: []Feature{{Name: "a", Bins: 2}}, Codes: [][]uint8{{200}}}, []float64{0}, DefaultParams(Logistic)},
		{"target length", x, y01[:5], DefaultParams(Logistic)},
		{"logistic target not 0/1", x, []float64{0, 1, 2, 0, 0, 0, 0, 0, 0, 0}, DefaultParams(Logistic)},
		{"NaN target", x, []float64{math.NaN(), 0, 0, 0, 0, 0, 0, 0, 0, 0}, DefaultParams(SquaredError)},
		{"softmax without classes", x, y01, DefaultParams(Softmax)},
		{"zero trees", x, y01, bad(func(p *Params) { p.Trees = 0 })},
		{"subsample 0", x, y01, bad(func(p *Params) { p.Subsample = 0 })},
		{"NaN learning rate", x, y01, bad(func(p *Params) { p.LearningRate = math.NaN() })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Fit(context.Background(), tc.x, tc.y, tc.p); !errors.Is(err, ErrInput) {
				t.Errorf("err = %v, want ErrInput", err)
			}
		})
	}
	m, err := Fit(context.Background(), x, y01, DefaultParams(SquaredError))
	if err != nil {
		t.Fatal(err)
	}
	other := randomMatrix(3, []Feature{{Name: "a", Kind: Ordinal, Bins: 4}}, rand.New(rand.NewPCG(1, 1)))
	if _, err := m.Predict(other); !errors.Is(err, ErrInput) {
		t.Errorf("Predict on other features: err = %v, want ErrInput", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fit(ctx, x, y01, DefaultParams(Logistic)); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: err = %v, want context.Canceled", err)
	}
}

func TestStratifiedFolds(t *testing.T) {
	t.Parallel()
	labels := make([]int, 103)
	for i := range labels {
		labels[i] = i % 3
	}
	folds, err := StratifiedFolds(labels, 5, 9)
	if err != nil {
		t.Fatal(err)
	}
	count := map[[2]int]int{}
	sizes := make([]int, 5)
	for i, f := range folds {
		count[[2]int{f, labels[i]}]++
		sizes[f]++
	}
	for f := range 5 {
		if sizes[f] < 20 || sizes[f] > 21 {
			t.Errorf("fold %d has %d rows, want 20 or 21", f, sizes[f])
		}
		for c := range 3 {
			if n := count[[2]int{f, c}]; n < 6 || n > 7 {
				t.Errorf("fold %d has %d rows of class %d, want 6 or 7", f, n, c)
			}
		}
	}
	if _, err := StratifiedFolds([]int{0}, 5, 1); !errors.Is(err, ErrInput) {
		t.Errorf("too few rows: err = %v, want ErrInput", err)
	}
}

// TestAdultIncome trains on the Adult training split and tests on the
// holdout: a boosted model reaches an AUC near 0.92 on this task.
func TestAdultIncome(t *testing.T) {
	t.Parallel()
	train, hold := loadCSV(t, "adult.train.csv"), loadCSV(t, "adult.holdout.csv")
	enc, err := FitEncoder(train, adultProfile(), "income")
	if err != nil {
		t.Fatal(err)
	}
	xt, yt := adultXY(t, enc, train)
	xh, yh := adultXY(t, enc, hold)
	m, err := Fit(context.Background(), xt, yt, DefaultParams(Logistic))
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.Predict(xh)
	if err != nil {
		t.Fatal(err)
	}
	pos := make([]bool, len(yh))
	for i, v := range yh {
		pos[i] = v == 1
	}
	auc, err := AUC(pred, pos)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("adult holdout AUC %.4f", auc)
	if auc < 0.9 {
		t.Errorf("holdout AUC %.4f, want ≥ 0.9", auc)
	}
}

// BenchmarkGBMFit trains the default logistic model on Adult's 26,049
// training rows.
func BenchmarkGBMFit(b *testing.B) {
	train := loadCSV(b, "adult.train.csv")
	enc, err := FitEncoder(train, adultProfile(), "income")
	if err != nil {
		b.Fatal(err)
	}
	x, y := adultXY(b, enc, train)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Fit(context.Background(), x, y, DefaultParams(Logistic)); err != nil {
			b.Fatal(err)
		}
	}
}
