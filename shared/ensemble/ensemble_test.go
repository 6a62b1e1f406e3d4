package ensemble

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readRows reads a fixture's input rows: sep-separated numbers, an empty
// cell is missing (NaN); skipHeader drops the first line, dropCols the
// first columns (a label).
func readRows(t *testing.T, path, sep string, skipHeader bool, dropCols int) [][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("fixture missing (run testdata/gen_xgboost.py): %v", err)
	}
	defer f.Close()
	var rows [][]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for first := true; sc.Scan(); first = false {
		if first && skipHeader {
			continue
		}
		line := strings.TrimRight(sc.Text(), "\t\r ")
		if line == "" {
			continue
		}
		cells := strings.Split(line, sep)[dropCols:]
		row := make([]float64, len(cells))
		for i, c := range cells {
			if c == "" {
				row[i] = math.NaN()
				continue
			}
			if row[i], err = strconv.ParseFloat(c, 64); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func load(t testing.TB, path string) *Model {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := Parse(f, "")
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// TestXGBoostFixtures compares the evaluator with XGBoost 1.7.4's own
// predictions (testdata/gen_xgboost.py) on 200 held-out rows of each model,
// in both JSON and UBJSON where the script saved both, single and batch.
func TestXGBoostFixtures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		exts    []string
		task    Task
		outputs int
		kinds   map[string]FeatureKind
	}{
		{"xgb_adult_binary", []string{"json", "ubj"}, Binary, 1, map[string]FeatureKind{"workclass": Categorical, "age": Numeric}},
		{"xgb_insurance_regression", []string{"json", "ubj"}, Regression, 1, map[string]FeatureKind{"region": Categorical, "bmi": Numeric}},
		{"xgb_insurance_multiclass", []string{"json"}, Multiclass, 4, map[string]FeatureKind{"smoker": Categorical}},
		{"xgb_insurance_dart", []string{"json"}, Binary, 1, nil},
		// The benchmarks' 500-tree depth-6 model.
		{"xgb_adult_500", []string{"ubj"}, Binary, 1, map[string]FeatureKind{"workclass": Categorical, "age": Numeric}},
	}
	for _, c := range cases {
		for _, ext := range c.exts {
			t.Run(c.name+"."+ext, func(t *testing.T) {
				t.Parallel()
				m := load(t, filepath.Join("testdata", c.name+"."+ext))
				if m.Task() != c.task || m.Outputs != c.outputs || m.Framework != XGBoost {
					t.Fatalf("task %s outputs %d framework %s, want %s %d", m.Task(), m.Outputs, m.Framework, c.task, c.outputs)
				}
				for _, f := range m.Features {
					if k, ok := c.kinds[f.Name]; ok && k != f.Kind {
						t.Errorf("feature %s is %v, want %v", f.Name, f.Kind, k)
					}
				}
				rows := readRows(t, filepath.Join("testdata", c.name+".input.csv"), ",", true, 0)
				var want [][]float64
				for _, line := range readLines(t, filepath.Join("testdata", c.name+".expected.csv")) {
					pred, _, _ := strings.Cut(line, ";")
					// XGBoost predicts float32; its 9 significant digits
					// name that float32 exactly once parsed back to one.
					w := parseFloats(t, strings.Split(pred, ","))
					for i := range w {
						w[i] = float64(float32(w[i]))
					}
					want = append(want, w)
				}
				if len(rows) != 200 || len(want) != 200 {
					t.Fatalf("%d rows, %d expected predictions", len(rows), len(want))
				}
				checkPredictions(t, m, rows, want, 1e-6)
			})
		}
	}
}

// checkPredictions predicts every row singly and as one batch and compares
// both with want.
func checkPredictions(t *testing.T, m *Model, rows, want [][]float64, tol float64) {
	t.Helper()
	out := make([]float64, m.Outputs)
	var flat []float64
	worst := 0.0
	for i, r := range rows {
		if err := m.Predict(r, out); err != nil {
			t.Fatal(err)
		}
		for j := range out {
			if d := math.Abs(out[j] - want[i][j]); d > tol || math.IsNaN(d) {
				t.Fatalf("row %d output %d: got %.9g, want %.9g (diff %g)", i, j, out[j], want[i][j], out[j]-want[i][j])
			} else {
				worst = max(worst, d)
			}
		}
		flat = append(flat, r...)
	}
	batch := make([]float64, len(rows)*m.Outputs)
	if err := m.PredictBatch(flat, batch); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		for j := 0; j < m.Outputs; j++ {
			if d := math.Abs(batch[i*m.Outputs+j] - want[i][j]); d > tol {
				t.Fatalf("batch row %d output %d: got %.9g, want %.9g", i, j, batch[i*m.Outputs+j], want[i][j])
			}
		}
	}
	t.Logf("%d rows, largest difference %.3g", len(rows), worst)
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func parseFloats(t *testing.T, cells []string) []float64 {
	t.Helper()
	out := make([]float64, 0, len(cells))
	for _, c := range cells {
		v, err := strconv.ParseFloat(strings.TrimSpace(c), 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestLightGBMFixtures compares with LightGBM's own predictions (fixtures
// from leaves' testdata; see testdata/lightgbm/PROVENANCE.md).
func TestLightGBMFixtures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		model, input, want string
		drop, outputs      int
		task               Task
	}{
		{"lg_dart_breast_cancer.model", "breast_cancer_test.tsv", "lg_dart_breast_cancer_true_predictions.txt", 0, 1, Binary},
		{"lgmulticlass.model", "multiclass_test.tsv", "lgmulticlass_true_predictions.txt", 1, 5, Multiclass},
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join("testdata", "lightgbm")
			m := load(t, filepath.Join(dir, c.model))
			if m.Framework != LightGBM || m.Outputs != c.outputs || m.Task() != c.task {
				t.Fatalf("framework %s outputs %d task %s", m.Framework, m.Outputs, m.Task())
			}
			rows := readRows(t, filepath.Join(dir, c.input), "\t", false, c.drop)
			var want [][]float64
			for _, line := range readLines(t, filepath.Join(dir, c.want)) {
				want = append(want, parseFloats(t, strings.Fields(line)))
			}
			if len(rows) != len(want) || len(rows) < 50 {
				t.Fatalf("%d rows, %d predictions", len(rows), len(want))
			}
			checkPredictions(t, m, rows, want, 1e-6)
		})
	}
}

func TestSniff(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"xgb_adult_binary.json":           FormatXGBoostJSON,
		"xgb_adult_binary.ubj":            FormatXGBoostUBJSON,
		"lightgbm/lgmulticlass.model":     FormatLightGBM,
		"xgb_adult_binary.input.csv":      "",
		"lightgbm/breast_cancer_test.tsv": "",
	} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := Sniff(b); got != want {
			t.Errorf("%s: sniffed %q, want %q", name, got, want)
		}
	}
}

// TestRejectsMalformed: structural damage is an error, never a crash or a
// loop.
func TestRejectsMalformed(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(filepath.Join("testdata", "xgb_insurance_regression.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(good)
	cases := map[string]string{
		"cycle":             strings.Replace(s, `"left_children":[1,`, `"left_children":[0,`, 1),
		"feature range":     strings.Replace(s, `"split_indices":[`, `"split_indices":[99,`, 1),
		"truncated":         s[:len(s)/2],
		"group range":       strings.Replace(s, `"tree_info":[0,`, `"tree_info":[7,`, 1),
		"unknown objective": strings.Replace(s, `"reg:squarederror"`, `"reg:whatever"`, 1),
		"not a model":       `{"learner":{}}`,
	}
	for name, doc := range cases {
		if _, err := ParseXGBoostJSON([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	ubj, err := os.ReadFile(filepath.Join("testdata", "xgb_insurance_regression.ubj"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 10, 100, len(ubj) / 2, len(ubj) - 1} {
		if _, err := ParseXGBoostUBJSON(ubj[:n]); err == nil {
			t.Errorf("ubjson cut at %d bytes: accepted", n)
		}
	}
	lg, err := os.ReadFile(filepath.Join("testdata", "lightgbm", "lg_dart_breast_cancer.model"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{20, len(lg) / 3, len(lg) / 2} {
		if _, err := ParseLightGBM(lg[:n]); err == nil {
			t.Errorf("lightgbm cut at %d bytes: accepted", n)
		}
	}
}

func FuzzParseUBJSON(f *testing.F) {
	ubj, err := os.ReadFile(filepath.Join("testdata", "xgb_adult_binary.ubj"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ubj[:500])
	f.Add([]byte("{L\x00\x00\x00\x00\x00\x00\x00\x01a[$d#L\x7f\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseXGBoostUBJSON(b)
	})
}

// leafRef is the plain pointer-chasing walk over the checked tree, an
// independent path the flat layout is compared with.
func (e *xgbEval) leafRef(tree []xgbNode, row []float32) float32 {
	nd := &tree[0]
	for nd.left >= 0 {
		v := row[nd.feat]
		var next int32
		switch {
		case v != v:
			next = nd.def
		case nd.cat >= 0:
			// Negative codes are invalid and go left, like absent ones.
			next = nd.left
			if v >= 0 && hasCat(e.cats[nd.cat], int64(v)) {
				next = nd.right
			}
		case v < nd.cond:
			next = nd.left
		default:
			next = nd.right
		}
		nd = &tree[next]
	}
	return nd.cond
}

// TestFlatMatchesReference walks random rows (with missing values and
// out-of-range categories) through the flat layout and the reference walk.
func TestFlatMatchesReference(t *testing.T) {
	t.Parallel()
	models := map[string]*Model{"synthetic": synthXGBoost(t, 50, 6, 12)}
	for _, n := range []string{"xgb_adult_binary.json", "xgb_insurance_multiclass.json", "xgb_insurance_dart.json"} {
		models[n] = load(t, filepath.Join("testdata", n))
	}
	for name, m := range models {
		e := m.impl.(*xgbEval)
		rows := benchRows(m, 300)
		for i := range rows {
			if i%7 == 0 && m.Features[i%len(m.Features)].Kind == Categorical {
				rows[i] = float64(i%90) - 10 // negative and unseen codes
			} else if i%5 == 0 {
				rows[i] *= 80 // numeric values across real thresholds
			}
		}
		nf := len(m.Features)
		for r := 0; r < 300; r++ {
			x := make([]float32, nf)
			for j := range x {
				x[j] = float32(rows[r*nf+j])
			}
			for ti, tr := range e.flat.trees {
				if got, want := e.flat.leaf[e.flat.walk(tr, x)], e.leafRef(e.trees[ti], x); got != want {
					t.Fatalf("%s row %d tree %d: flat leaf %v, reference %v", name, r, ti, got, want)
				}
			}
		}
	}
}

// denseCases are feature values that exercise every branch the dense
// layout folds into its cells: missing, infinities, negative and fractional
// category codes, codes past the mask, huge values.
var denseCases = []float64{math.NaN(), math.Inf(1), math.Inf(-1), -0.5, -1, 0, 0.5, 1, 3.99, 4, 7, 61, 61.5, 62, 63, 64, 70, 1e10, -1e10}

// edgeRows returns n random rows of m with every sixth value replaced by
// one of denseCases.
func edgeRows(m *Model, n int) []float64 {
	rows := benchRows(m, n)
	for i := range rows {
		switch {
		case i%6 == 0:
			rows[i] = denseCases[(i/6)%len(denseCases)]
		case i%5 == 0:
			rows[i] *= 80 // numeric values across real thresholds
		}
	}
	return rows
}

// TestDenseMatchesReference walks rows through the dense layout and the
// reference walk, tree by tree, and checks which models the dense layout
// serves.
func TestDenseMatchesReference(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		model func(t *testing.T) *Model
		dense bool
	}{
		{"synthetic single leaves", func(t *testing.T) *Model { return synthXGBoost(t, 3, 0, 4) }, true},
		{"synthetic depth 6", func(t *testing.T) *Model { return synthXGBoost(t, 50, 6, 12) }, true},
		{"synthetic depth 8", func(t *testing.T) *Model { return synthXGBoost(t, 5, 8, 12) }, true},
		// Deeper than denseMaxDepth: the flat layout serves it.
		{"synthetic depth 9", func(t *testing.T) *Model { return synthXGBoost(t, 2, 9, 12) }, false},
		{"adult_500", func(t *testing.T) *Model { return load(t, "testdata/xgb_adult_500.ubj") }, true},
		{"adult_binary", func(t *testing.T) *Model { return load(t, "testdata/xgb_adult_binary.json") }, true},
		{"insurance_multiclass", func(t *testing.T) *Model { return load(t, "testdata/xgb_insurance_multiclass.json") }, true},
		{"insurance_dart", func(t *testing.T) *Model { return load(t, "testdata/xgb_insurance_dart.json") }, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := c.model(t)
			e := m.impl.(*xgbEval)
			if (e.dense != nil) != c.dense {
				t.Fatalf("dense layout used: %v, want %v", e.dense != nil, c.dense)
			}
			if e.dense == nil {
				return
			}
			nf := len(m.Features)
			rows := edgeRows(m, 300)
			cells := make([]dcell, 2*nf)
			x := make([]float32, nf)
			for r := 0; r < 300; r++ {
				row := rows[r*nf : (r+1)*nf]
				for j := range x {
					x[j] = float32(row[j])
				}
				denseRow(row, cells)
				for ti, tr := range e.dense.trees {
					if got, want := e.dense.walk(tr, cells), e.leafRef(e.trees[ti], x); got != want {
						t.Fatalf("row %d tree %d (%v): dense leaf %v, reference %v", r, ti, row, got, want)
					}
				}
			}
			// The block kernel must reach the same sums as the walk.
			single, batch := make([]float64, m.Outputs), make([]float64, 300*m.Outputs)
			if err := m.PredictBatch(rows, batch); err != nil {
				t.Fatal(err)
			}
			for r := 0; r < 300; r++ {
				if err := m.Predict(rows[r*nf:(r+1)*nf], single); err != nil {
					t.Fatal(err)
				}
				for j, v := range single {
					if math.Float64bits(v) != math.Float64bits(batch[r*m.Outputs+j]) {
						t.Fatalf("row %d output %d: batch %v, single %v", r, j, batch[r*m.Outputs+j], v)
					}
				}
			}
		})
	}
}

// TestDenseRejectsUnsafeModels checks that a category set listing a code
// past the dense mask, or a threshold the missing-value cells would cross,
// keeps a model on the flat layout.
func TestDenseRejectsUnsafeModels(t *testing.T) {
	t.Parallel()
	m := synthXGBoost(t, 3, 4, 6)
	e := m.impl.(*xgbEval)
	depths := make([]int32, len(e.flat.trees))
	for i, tr := range e.flat.trees {
		depths[i] = tr.depth
	}
	if len(e.cats) == 0 {
		t.Fatal("the synthetic model has no categorical splits")
	}
	// withSet gives every categorical split of the model the same set.
	withSet := func(set []uint64) [][]uint64 {
		cats := make([][]uint64, len(e.cats))
		for i := range cats {
			cats[i] = set
		}
		return cats
	}
	for _, code := range []int{catInvalid, catMissing, 64, 200} {
		set := make([]uint64, code/64+1)
		set[code/64] |= 1 << (code % 64)
		if d := newDense(e.trees, depths, withSet(set)); d != nil {
			t.Errorf("category %d: dense layout accepted", code)
		}
	}
	if d := newDense(e.trees, depths, withSet([]uint64{1<<catInvalid - 1})); d == nil {
		t.Errorf("categories 0..%d: dense layout refused", catInvalid-1)
	}
	// A missing value reads -Inf on the go-left side, which must stay
	// below every numeric threshold: -Inf and NaN thresholds keep the
	// model on the flat layout.
	for _, cond := range []float32{float32(math.Inf(-1)), float32(math.NaN())} {
		trees := make([][]xgbNode, len(e.trees))
		for i, tr := range e.trees {
			trees[i] = slices.Clone(tr)
		}
		for i, nd := range trees[0] {
			if nd.left >= 0 && nd.cat < 0 {
				trees[0][i].cond = cond
				break
			}
		}
		if d := newDense(trees, depths, e.cats); d != nil {
			t.Errorf("threshold %v: dense layout accepted", cond)
		}
	}
}

// TestBatchMatchesSingle predicts the 500-tree fixture's rows (and rows
// full of edge values) one at a time and as one batch spread over four
// workers, with the dense and the flat layouts: every path must give the
// same bits. A synthetic model of 40 features (wider than the batch
// kernel's stack buffer, so its pooled buffers serve) is checked the same
// way.
func TestBatchMatchesSingle(t *testing.T) {
	// Not parallel: it sets GOMAXPROCS so the batch is split across
	// workers even on a one-core machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var fixtureRows []float64
	for _, r := range readRows(t, "testdata/xgb_adult_500.input.csv", ",", true, 0) {
		fixtureRows = append(fixtureRows, r...)
	}
	for _, tc := range []struct {
		name string
		m    *Model
		rows []float64
	}{
		{"xgb_adult_500", load(t, "testdata/xgb_adult_500.ubj"), fixtureRows},
		{"synthetic 40 features", synthXGBoost(t, 60, 6, 40), benchRows(synthXGBoost(t, 1, 1, 40), 2*batchBlock+5)},
	} {
		m := tc.m
		rows := append(slices.Clone(tc.rows), edgeRows(m, 3*batchBlock+7)...) // several blocks, a short last one
		nf := len(m.Features)
		n := len(rows) / nf
		predictAll := func(layout string) (single, batch []float64) {
			single = make([]float64, n*m.Outputs)
			for i := 0; i < n; i++ {
				if err := m.Predict(rows[i*nf:(i+1)*nf], single[i*m.Outputs:(i+1)*m.Outputs]); err != nil {
					t.Fatalf("%s %s: %v", tc.name, layout, err)
				}
			}
			batch = make([]float64, n*m.Outputs)
			if err := m.PredictBatch(rows, batch); err != nil {
				t.Fatalf("%s %s: %v", tc.name, layout, err)
			}
			return single, batch
		}
		e := m.impl.(*xgbEval)
		if e.dense == nil {
			t.Fatalf("%s is not served by the dense layout", tc.name)
		}
		denseSingle, denseBatch := predictAll("dense")
		dense := e.dense
		e.dense = nil
		flatSingle, flatBatch := predictAll("flat")
		e.dense = dense
		for i := range denseSingle {
			want := math.Float64bits(denseSingle[i])
			for name, got := range map[string]float64{"dense batch": denseBatch[i], "flat single": flatSingle[i], "flat batch": flatBatch[i]} {
				if math.Float64bits(got) != want {
					t.Fatalf("%s row %d: %s %.9g, dense single %.9g", tc.name, i/m.Outputs, name, got, denseSingle[i])
				}
			}
		}
	}
}
