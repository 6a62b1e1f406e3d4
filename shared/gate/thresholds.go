package gate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"

	"synthos.dev/synthos/shared/errs"
)

// Metric names, as they appear in Reason.Metric, Thresholds.AllowMissing and
// Thresholds.Skip.
const (
	ColumnShapes           = "column_shapes"
	ColumnPairTrends       = "column_pair_trends"
	DiscriminatorAUC       = "discriminator_auc"
	MLEfficacyRatio        = "ml_efficacy_ratio"
	DCRShare               = "dcr_share"
	IdenticalShare         = "identical_share"
	MembershipAUC          = "membership_auc"
	AttributeInferenceRisk = "attribute_inference_risk"
	PIILeakedCells         = "pii_leaked_cells"
)

// Metrics lists every metric the gate checks, in report order: fidelity
// first, then privacy.
var Metrics = []string{
	ColumnShapes, ColumnPairTrends, DiscriminatorAUC, MLEfficacyRatio,
	DCRShare, IdenticalShare, MembershipAUC, AttributeInferenceRisk, PIILeakedCells,
}

// optional are the metrics whose absence passes (see the package comment).
var optional = []string{ColumnPairTrends, MLEfficacyRatio, AttributeInferenceRisk}

// Thresholds are the limits a synthetic table must meet to be released.
// Default gives values a good generator meets on tabular data of the size of
// Adult (tens of thousands of rows) and an overfitted or broken one misses;
// a job overrides any subset of them with Decode.
type Thresholds struct {
	// MinColumnShapes is the least SDMetrics Column Shapes score. 0.85: good
	// generators (Gaussian copula, CTGAN, TVAE) score 0.85–0.95 on census
	// and credit tables; below 0.85 a typical column visibly drifts (a KS
	// distance above 0.15).
	MinColumnShapes float64 `json:"min_column_shapes"`
	// MinColumnPairTrends is the least Column Pair Trends score. 0.80,
	// lower than shapes because pairwise structure is harder to learn and
	// the contingency score is stricter on wide categories.
	MinColumnPairTrends float64 `json:"min_column_pair_trends"`
	// MaxDiscriminatorAUC is the highest AUC a classifier may reach telling
	// real rows from synthetic ones. 0.75: a gradient-boosted classifier
	// separates most synthetic tables a little; at 0.75 it ranks a random
	// synthetic row above a random real one three times in four, which
	// means systematic artefacts.
	MaxDiscriminatorAUC float64 `json:"max_discriminator_auc"`
	// MinMLEfficacyRatio is the least ratio of the holdout score of a model
	// trained on synthetic rows to that of one trained on real rows. 0.80:
	// a model built on the release loses at most a fifth of its skill.
	MinMLEfficacyRatio float64 `json:"min_ml_efficacy_ratio"`
	// MaxDCRShare is the largest share of synthetic rows closer to the
	// training table than to the holdout (size-adjusted, ideal 0.5). 0.60:
	// with the default 5,000 queries the standard error of the share is
	// 0.007, so 0.60 is over ten standard errors above the ideal — a
	// memorising model, not noise — while an overfitted model that copies
	// a fifth of its rows already exceeds it.
	MaxDCRShare float64 `json:"max_dcr_share"`
	// IdenticalFactor and IdenticalFloor bound the share of synthetic rows
	// equal to a training row: at most max(IdenticalFactor × the holdout's
	// share, IdenticalFloor). Real unseen rows collide with training rows
	// by chance (low-cardinality tables); twice that base rate allows for
	// sampling noise, and the floor of 0.1% keeps a zero base rate from
	// failing a table over a single chance duplicate.
	IdenticalFactor float64 `json:"identical_factor"`
	IdenticalFloor  float64 `json:"identical_floor"`
	// MaxMembershipAUC is the highest AUC of the distance-based membership
	// attack. 0.60: unseen rows score 0.45–0.55 on Adult; above 0.60 an
	// attacker learns who was in the training data noticeably better than
	// by chance.
	MaxMembershipAUC float64 `json:"max_membership_auc"`
	// MaxAttributeRisk is the highest attribute-inference risk (accuracy on
	// training records minus accuracy on holdout records) of any sensitive
	// column. 0.05: about three and a half standard errors of the
	// difference at the default sample, and below what copied rows give.
	MaxAttributeRisk float64 `json:"max_attribute_inference_risk"`
	// MaxPIILeakedCells is the most synthetic cells that may hold a real
	// identifier verbatim. 0: identifiers are generated, never copied; a
	// job with short codes that collide by chance raises it.
	MaxPIILeakedCells int `json:"max_pii_leaked_cells"`

	// AllowMissing names required metrics whose absence passes.
	AllowMissing []string `json:"allow_missing,omitempty"`
	// Skip names metrics not checked at all (reported as skipped).
	Skip []string `json:"skip,omitempty"`
}

// Default returns the default thresholds (see the field comments for why).
func Default() Thresholds {
	return Thresholds{
		MinColumnShapes:     0.85,
		MinColumnPairTrends: 0.80,
		MaxDiscriminatorAUC: 0.75,
		MinMLEfficacyRatio:  0.80,
		MaxDCRShare:         0.60,
		IdenticalFactor:     2,
		IdenticalFloor:      0.001,
		MaxMembershipAUC:    0.60,
		MaxAttributeRisk:    0.05,
		MaxPIILeakedCells:   0,
	}
}

// Validate reports the first unusable value: a score limit outside [0, 1],
// an AUC limit outside [0.5, 1], a negative factor or count, or an unknown
// metric name in AllowMissing or Skip.
func (t Thresholds) Validate() error {
	unit := []struct {
		name   string
		v      float64
		lo, hi float64
	}{
		{"min_column_shapes", t.MinColumnShapes, 0, 1},
		{"min_column_pair_trends", t.MinColumnPairTrends, 0, 1},
		{"max_discriminator_auc", t.MaxDiscriminatorAUC, 0.5, 1},
		{"min_ml_efficacy_ratio", t.MinMLEfficacyRatio, 0, math.MaxFloat64},
		{"max_dcr_share", t.MaxDCRShare, 0.5, 1},
		{"identical_factor", t.IdenticalFactor, 0, math.MaxFloat64},
		{"identical_floor", t.IdenticalFloor, 0, 1},
		{"max_membership_auc", t.MaxMembershipAUC, 0.5, 1},
		{"max_attribute_inference_risk", t.MaxAttributeRisk, 0, 1},
	}
	for _, u := range unit {
		if !(u.v >= u.lo && u.v <= u.hi) { // also rejects NaN
			if u.hi == math.MaxFloat64 {
				return &InvalidError{Field: u.name, Reason: fmt.Sprintf("is %v; use a value of at least %v", u.v, u.lo)}
			}
			return &InvalidError{Field: u.name, Reason: fmt.Sprintf("is %v; use a value from %v to %v", u.v, u.lo, u.hi)}
		}
	}
	if t.MaxPIILeakedCells < 0 {
		return &InvalidError{Field: "max_pii_leaked_cells", Reason: fmt.Sprintf("is %d; use 0 or more", t.MaxPIILeakedCells)}
	}
	for _, l := range []struct {
		field string
		names []string
	}{{"allow_missing", t.AllowMissing}, {"skip", t.Skip}} {
		for _, n := range l.names {
			if !slices.Contains(Metrics, n) {
				if c := errs.Closest(n, Metrics); c != "" {
					return &InvalidError{Field: l.field, Reason: fmt.Sprintf("names %q, which is not a metric; did you mean %q?", n, c)}
				}
				return &InvalidError{Field: l.field, Reason: fmt.Sprintf("names %q, which is not a metric; use one of %s", n, strings.Join(Metrics, ", "))}
			}
		}
	}
	return nil
}

// Fields lists the JSON names of the fields of Thresholds, in declaration
// order.
func Fields() []string {
	rt := reflect.TypeFor[Thresholds]()
	out := make([]string, 0, rt.NumField())
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}

// Decode reads a per-job override of the default thresholds from JSON:
// fields present replace the defaults, absent fields keep them, and unknown
// fields are rejected (a misspelt threshold must not silently fall back to
// its default).
func Decode(r io.Reader) (Thresholds, error) {
	t := Default()
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Thresholds{}, fmt.Errorf("gate.Decode: %w", decodeError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return Thresholds{}, fmt.Errorf("gate.Decode: %w", &InvalidError{Reason: "must be one JSON object, with nothing after it"})
	}
	if err := t.Validate(); err != nil {
		return Thresholds{}, fmt.Errorf("gate.Decode: %w", err)
	}
	return t, nil
}

// decodeError names the field a JSON decoding error is about.
func decodeError(err error) *InvalidError {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te) && te.Field != "":
		want := "a number"
		switch te.Field {
		case "allow_missing", "skip":
			want = "a list of metric names"
		case "max_pii_leaked_cells":
			want = "a whole number"
		}
		return &InvalidError{Field: te.Field, Reason: "must be " + want}
	case errors.As(err, &te):
		return &InvalidError{Reason: "must be a JSON object"}
	case errors.As(err, &se):
		return &InvalidError{Reason: fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &InvalidError{Reason: "is empty or cut short; send a JSON object"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		if c := errs.Closest(name, Fields()); c != "" {
			return &InvalidError{Field: name, Reason: fmt.Sprintf("is not a threshold; did you mean %q?", c)}
		}
		return &InvalidError{Field: name, Reason: "is not a threshold; use one of " + strings.Join(Fields(), ", ")}
	}
	return &InvalidError{Reason: "could not be read: " + err.Error()}
}

// Load reads a thresholds override file (see Decode).
func Load(path string) (Thresholds, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Thresholds{}, fmt.Errorf("gate.Load: %w", err)
	}
	t, err := Decode(bytes.NewReader(b))
	if err != nil {
		return Thresholds{}, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}
