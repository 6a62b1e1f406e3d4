// Package ensemble evaluates tree-ensemble models in process: XGBoost models
// saved as JSON or UBJSON (our own evaluator: github.com/dmitryikh/leaves reads
// only XGBoost's legacy binary format) and LightGBM text models (through
// leaves). Every model is parsed fully and checked (node indices, feature
// indices, category sets, tree groups) before it is accepted, so a hostile
// file cannot make prediction index out of range or loop.
//
// XGBoost works in float32: features, split conditions and leaf values are
// float32 and the per-row sum is accumulated in float32 in tree order starting
// from the base margin. The evaluator does the same, so its predictions equal
// XGBoost's (the fixtures in testdata are compared to 1e-6, most bit for bit).
package ensemble

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"synthos.dev/synthos/shared/errs"
)

// Framework names as the registry records them.
const (
	XGBoost  = "xgboost"
	LightGBM = "lightgbm"
)

// FeatureKind says how a model reads a feature's value.
type FeatureKind uint8

const (
	// Numeric features are compared with thresholds.
	Numeric FeatureKind = iota
	// Categorical features carry an integer category code.
	Categorical
)

func (k FeatureKind) String() string {
	if k == Categorical {
		return "categorical"
	}
	return "numeric"
}

// Feature is one input of a model, in the order rows are given.
type Feature struct {
	Name string      `json:"name"`
	Kind FeatureKind `json:"-"`
}

// Model is a parsed tree ensemble ready to predict. It is safe for
// concurrent use.
type Model struct {
	Framework string
	// Objective is the training objective as the framework names it
	// ("binary:logistic", "multiclass softmax"...).
	Objective string
	Features  []Feature
	// Outputs is the number of values Predict writes per row (1, or the
	// number of classes for a multiclass probability model).
	Outputs int
	// Trees is the number of trees in the ensemble.
	Trees int
	impl  predictor
}

// Task is what the model predicts, derived from its objective.
type Task string

const (
	Regression Task = "regression"
	Binary     Task = "binary"
	Multiclass Task = "multiclass"
)

// Task reports the model's task from its objective and outputs.
func (m *Model) Task() Task {
	switch {
	case m.Outputs > 1:
		return Multiclass
	case isBinaryObjective(m.Objective):
		return Binary
	}
	return Regression
}

func isBinaryObjective(o string) bool {
	switch o {
	case "binary:logistic", "binary:logitraw", "binary:hinge", "reg:logistic", "binary", "cross_entropy", "xentropy":
		return true
	}
	return len(o) > 7 && o[:7] == "binary "
}

// predictor is the per-format evaluator. row has one value per feature
// (NaN = missing); out has Outputs values.
type predictor interface {
	predict(row []float64, out []float64)
}

// blockPredictor is a predictor with a faster kernel for up to kernelRows
// rows at a time.
type blockPredictor interface {
	predictBlock(rows []float64, out []float64)
}

// MaxModelBytes bounds what Parse reads: the biggest tree ensembles we serve
// in process are a few tens of megabytes; anything larger belongs on Vertex.
const MaxModelBytes = 256 << 20

// Parse reads a model of the given format ("xgboost-json", "xgboost-ubjson",
// "lightgbm-text"), or sniffs the format when format is empty.
func Parse(r io.Reader, format string) (*Model, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ensemble.Parse: read: %w", err)
	}
	if len(data) > MaxModelBytes {
		return nil, errs.Errorf(errs.TooLarge, "ensemble.Parse: model is over %d bytes", MaxModelBytes)
	}
	if format == "" {
		format = Sniff(data)
	}
	switch format {
	case FormatXGBoostJSON:
		return ParseXGBoostJSON(data)
	case FormatXGBoostUBJSON:
		return ParseXGBoostUBJSON(data)
	case FormatLightGBM:
		return ParseLightGBM(data)
	}
	return nil, errs.Errorf(errs.InvalidArgument, "ensemble.Parse: not a tree-ensemble model we can read (format %q)", format)
}

// Formats Parse reads.
const (
	FormatXGBoostJSON   = "xgboost-json"
	FormatXGBoostUBJSON = "xgboost-ubjson"
	FormatLightGBM      = "lightgbm-text"
)

// Sniff names the tree-ensemble format of data from its first bytes, or ""
// when it is none of them.
func Sniff(data []byte) string {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	trim := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case bytes.HasPrefix(trim, []byte("{")) && bytes.Contains(head, []byte(`"learner"`)):
		return FormatXGBoostJSON
	case len(head) > 1 && head[0] == '{' && bytes.Contains(head, []byte("learner")) &&
		(head[1] == 'L' || head[1] == 'i' || head[1] == 'U' || head[1] == 'I' || head[1] == 'l' || head[1] == '$' || head[1] == '#'):
		return FormatXGBoostUBJSON
	case bytes.HasPrefix(trim, []byte("tree\n")) || bytes.HasPrefix(trim, []byte("tree\r\n")):
		return FormatLightGBM
	}
	return ""
}

// Predict writes the model's outputs for one row (one value per feature,
// NaN for missing) into out, which must hold Outputs values.
func (m *Model) Predict(row, out []float64) error {
	if len(row) != len(m.Features) {
		return errs.Errorf(errs.InvalidArgument, "predict: row has %d values, the model reads %d features", len(row), len(m.Features))
	}
	if len(out) < m.Outputs {
		return errs.Errorf(errs.InvalidArgument, "predict: output has room for %d values, the model writes %d", len(out), m.Outputs)
	}
	m.impl.predict(row, out[:m.Outputs])
	return nil
}

// batchBlock is the number of rows one goroutine predicts at a time.
const batchBlock = 256

// PredictBatch predicts n rows given row-major in rows (n*len(Features)
// values) into out (n*Outputs values), spreading blocks of rows over the
// available cores.
func (m *Model) PredictBatch(rows []float64, out []float64) error {
	nf := len(m.Features)
	if nf == 0 || len(rows)%nf != 0 {
		return errs.Errorf(errs.InvalidArgument, "predict: %d values is not a whole number of %d-feature rows", len(rows), nf)
	}
	n := len(rows) / nf
	if len(out) < n*m.Outputs {
		return errs.Errorf(errs.InvalidArgument, "predict: output has room for %d values, %d rows need %d", len(out), n, n*m.Outputs)
	}
	workers := runtime.GOMAXPROCS(0)
	if blocks := (n + batchBlock - 1) / batchBlock; blocks < workers {
		workers = blocks
	}
	run := func(from, to int) {
		if b, ok := m.impl.(blockPredictor); ok {
			for i := from; i < to; i += kernelRows {
				j := min(i+kernelRows, to)
				b.predictBlock(rows[i*nf:j*nf], out[i*m.Outputs:j*m.Outputs])
			}
			return
		}
		for i := from; i < to; i++ {
			m.impl.predict(rows[i*nf:(i+1)*nf], out[i*m.Outputs:(i+1)*m.Outputs])
		}
	}
	if workers <= 1 {
		run(0, n)
		return nil
	}
	// Workers take the next batchBlock rows until none are left; each block
	// writes only its own rows of out, so the output keeps the input order.
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from := int(next.Add(batchBlock) - batchBlock)
				if from >= n {
					return
				}
				run(from, min(from+batchBlock, n))
			}
		}()
	}
	wg.Wait()
	return nil
}

// Argmax returns the index of the largest of a row's outputs (the class of a
// multiclass prediction).
func Argmax(out []float64) int {
	best := 0
	for i, v := range out {
		if v > out[best] {
			best = i
		}
	}
	return best
}

func sigmoid32(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(x))))
}
