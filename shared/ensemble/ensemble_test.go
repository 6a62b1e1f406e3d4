package ensemble

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
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
