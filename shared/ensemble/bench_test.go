package ensemble

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"synthos.dev/synthos/internal/cputime"
)

// synthXGBoost writes an XGBoost JSON model of trees full binary trees of the
// given depth over nf features (the first two categorical), with random
// splits: the shape of a 500-tree, depth-6 model without committing
// megabytes of fixture. It goes through ParseXGBoostJSON like any upload.
func synthXGBoost(tb testing.TB, trees, depth, nf int) *Model {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	type tree map[string]any
	var ts []tree
	for t := 0; t < trees; t++ {
		n := 1<<(depth+1) - 1
		left, right := make([]int, n), make([]int, n)
		idx, cond, def, typ := make([]int, n), make([]float64, n), make([]int, n), make([]int, n)
		var catNodes, catSegs, catSizes, cats []int
		for i := 0; i < n; i++ {
			if 2*i+1 >= n {
				left[i], right[i] = -1, -1
				cond[i] = rng.NormFloat64() * 0.1
				continue
			}
			left[i], right[i] = 2*i+1, 2*i+2
			idx[i] = rng.IntN(nf)
			def[i] = rng.IntN(2)
			cond[i] = rng.Float64()
			if idx[i] < 2 {
				typ[i] = 1
				catNodes = append(catNodes, i)
				catSegs = append(catSegs, len(cats))
				catSizes = append(catSizes, 3)
				cats = append(cats, 1, 4, 7)
			}
		}
		ts = append(ts, tree{
			"left_children": left, "right_children": right, "split_indices": idx,
			"split_conditions": cond, "default_left": def, "split_type": typ,
			"categories_nodes": catNodes, "categories_segments": catSegs,
			"categories_sizes": catSizes, "categories": cats,
		})
	}
	ftypes := make([]string, nf)
	for i := range ftypes {
		ftypes[i] = "q"
		if i < 2 {
			ftypes[i] = "c"
		}
	}
	doc := map[string]any{"learner": map[string]any{
		"feature_types": ftypes,
		"gradient_booster": map[string]any{"name": "gbtree", "model": map[string]any{
			"tree_info": make([]int, trees), "trees": ts}},
		"learner_model_param": map[string]any{"base_score": "5E-1", "num_class": "0", "num_feature": itoa(nf)},
		"objective":           map[string]any{"name": "binary:logistic"},
	}}
	b, err := json.Marshal(doc)
	if err != nil {
		tb.Fatal(err)
	}
	m, err := ParseXGBoostJSON(b)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func benchModel(b *testing.B) *Model {
	// The committed 500-tree depth-6 Adult model (gen_xgboost.py
	// xgb_adult_500, checked against XGBoost by TestXGBoostFixtures);
	// SYNTHOS_BENCH_XGB names another model to measure, "synthetic" the
	// full binary trees of synthXGBoost (every row walks all 6 levels).
	switch p := os.Getenv("SYNTHOS_BENCH_XGB"); p {
	case "":
		return load(b, "testdata/xgb_adult_500.ubj")
	case "synthetic":
		return synthXGBoost(b, 500, 6, 12)
	default:
		return load(b, p)
	}
}

func benchRows(m *Model, n int) []float64 {
	rng := rand.New(rand.NewPCG(3, 4))
	rows := make([]float64, n*len(m.Features))
	for i := range rows {
		switch f := m.Features[i%len(m.Features)]; {
		case rng.Float64() < 0.05:
			rows[i] = math.NaN()
		case f.Kind == Categorical:
			rows[i] = float64(rng.IntN(10))
		default:
			rows[i] = rng.Float64()
		}
	}
	return rows
}

// BenchmarkPredictSingle predicts one row at a time with a 500-tree depth-6
// model and reports the median and 99th percentile latency (wall clock, so
// on a shared machine they include time the goroutine waited for a core;
// cpu-ns/op is the CPU a row costs).
func BenchmarkPredictSingle(b *testing.B) {
	m := benchModel(b)
	nf := len(m.Features)
	rows := benchRows(m, 1024)
	out := make([]float64, m.Outputs)
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		r := rows[(i%1024)*nf : (i%1024+1)*nf]
		t0 := time.Now()
		if err := m.Predict(r, out); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	if cpu := cputime.Process() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

// BenchmarkPredictBatch predicts 16384 rows per op across the cores and
// reports rows per second.
func BenchmarkPredictBatch(b *testing.B) {
	m := benchModel(b)
	const n = 16384
	rows := benchRows(m, n)
	out := make([]float64, n*m.Outputs)
	b.ReportAllocs()
	b.SetBytes(int64(len(rows) * 8))
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		if err := m.PredictBatch(rows, out); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cputime.Process() - cpu0
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu > 0 {
		// Rows per CPU-second: the figure that holds when the cores are
		// shared with other work.
		b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "rows/cpu-s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*b.N*m.Trees), "cpu-ns/tree-row")
	}
}

// BenchmarkPredictBatchLightGBM predicts rows with the LightGBM multiclass
// fixture (leaves' evaluator, one row at a time per worker) and reports
// CPU per tree and row, the figure comparable with the XGBoost kernel's
// (BenchmarkPredictBatch's cpu-ns per row over its 500 trees).
func BenchmarkPredictBatchLightGBM(b *testing.B) {
	m := load(b, "testdata/lightgbm/lgmulticlass.model")
	const n = 16384
	rows := benchRows(m, n)
	out := make([]float64, n*m.Outputs)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		if err := m.PredictBatch(rows, out); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cputime.Process() - cpu0
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	if cpu > 0 {
		b.ReportMetric(float64(n*b.N)/cpu.Seconds(), "rows/cpu-s")
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*b.N*m.Trees), "cpu-ns/tree-row")
	}
}
