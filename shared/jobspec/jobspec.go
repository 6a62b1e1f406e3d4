// Package jobspec is the one place a job request (jobs.Request) is
// validated. The API (POST /v1/jobs), jobs created from uploads (the
// object's metadata) and the CLI (synthos generate) all build a request and
// hand it here, so a rule — the range of rows, the models, what model dp
// needs, what a rules or thresholds document may hold — is written once.
//
// Validate checks a request on its own: ranges, enums, the differential
// privacy options, and that the rules and thresholds documents parse. Check
// also checks it against the dataset's columns: every column that the
// rules, the conditions and the target name exists (with a "did you mean"
// for a typo), condition values fit their column, and the rules that can
// be judged from the column kinds compile. Prepare goes on to compile the
// whole rule set against the profiled training table with the rules
// package's own compiler and feasibility analysis, with the conditions.
//
// Every error is a *FieldError naming the request field at fault as the API
// spells it ("rows", "conditions.smoker", "rules[2].column",
// "thresholds.max_dcr_share") and saying how to fix it; it is classified
// errs.InvalidArgument, so the API answers 400 and the pipeline fails the
// job without retrying.
package jobspec

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
)

// Limits of a job request.
const (
	MaxRows       = 1_000_000_000
	MaxEpsilon    = 100.0
	MaxConditions = 100
	// MaxText bounds a name or a value: a dataset id, a column, a
	// condition value.
	MaxText = 1024
)

// Models and formats a job may ask for.
var (
	Models  = []string{"tree", "copula", "dp"}
	Formats = []string{"csv", "jsonl", "parquet"}
)

// ErrInvalid classifies every error of this package; match it with
// errors.Is, or read errs.CodeOf (InvalidArgument).
var ErrInvalid = errs.New(errs.InvalidArgument, "invalid job request")

// FieldError is a job request that is wrong in one field. Field is the
// field's path as the API spells it; Reason says what is wrong and how to
// fix it, starting with a verb or a quoted value ("must be …", `"chargs" is
// not a column; did you mean "charges"?`).
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Unwrap classifies the error as ErrInvalid (errs.InvalidArgument) whose
// user-facing message (errs.Message) is the error's text.
func (e *FieldError) Unwrap() error {
	return &errs.Error{Code: errs.InvalidArgument, Public: e.Error(), Err: ErrInvalid}
}

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks req on its own, without the dataset. An empty model or
// format is the default (tree, csv), which decoders fill in.
func Validate(req jobs.Request) error { return validate(req, false) }

// validate is Validate; rowsOptional lets 0 rows stand for "as many as the
// dataset has" (jobs created from uploads).
func validate(req jobs.Request, rowsOptional bool) error {
	switch req.Kind {
	case "":
		if !(rowsOptional && req.Rows == 0) && (req.Rows < 1 || req.Rows > MaxRows) {
			return fieldErr("rows", "must be an integer from 1 to %d", MaxRows)
		}
		if err := oneOf("model", req.Model, Models); err != nil {
			return err
		}
		if req.Policy != nil {
			return fieldErr("policy", "applies to anonymize jobs only: set kind to %q, or leave policy out", jobs.KindAnonymize)
		}
	case jobs.KindAnonymize:
		if err := validAnonymize(req); err != nil {
			return err
		}
	default:
		return fieldErr("kind", "%q is an unknown kind; use %s or %s", req.Kind, jobs.KindSynthetic, jobs.KindAnonymize)
	}
	if err := validDesign(req); err != nil {
		return err
	}
	if err := oneOf("format", req.Format, Formats); err != nil {
		return err
	}
	if len(req.Target) > MaxText {
		return fieldErr("target", "must be at most %d characters", MaxText)
	}
	if err := validConditions(req.Conditions); err != nil {
		return err
	}
	if err := validDP(req); err != nil {
		return err
	}
	if _, err := parseRules(req.Rules); err != nil {
		return err
	}
	if _, err := Thresholds(req); err != nil {
		return err
	}
	return validModel(req)
}

// MaxModelCategories bounds the categories a pinned model's features list.
const MaxModelCategories = 10_000

// validModel checks the pinned-model fields: a version or categories need
// a model_id.
func validModel(req jobs.Request) error {
	if req.ModelID == "" {
		switch {
		case req.ModelVersion != 0:
			return fieldErr("model_version", "needs model_id: the model whose version to pin")
		case len(req.ModelCategories) > 0:
			return fieldErr("model_categories", "needs model_id: the model whose categorical features they describe")
		}
		return nil
	}
	if len(req.ModelID) > MaxText {
		return fieldErr("model_id", "must be at most %d characters", MaxText)
	}
	if req.ModelVersion < 0 {
		return fieldErr("model_version", "must be 1 or more")
	}
	n := 0
	for _, f := range slices.Sorted(maps.Keys(req.ModelCategories)) {
		n += len(req.ModelCategories[f])
		if strings.TrimSpace(f) == "" || n > MaxModelCategories {
			return fieldErr("model_categories", "must name features and list at most %d categories in all", MaxModelCategories)
		}
	}
	return nil
}

func oneOf(field, v string, allowed []string) error {
	if v == "" || slices.Contains(allowed, v) {
		return nil
	}
	return fieldErr(field, "%q is an unknown %s; use one of %s", v, field, strings.Join(allowed, ", "))
}

func validConditions(c map[string]string) error {
	if len(c) > MaxConditions {
		return fieldErr("conditions", "must name at most %d columns", MaxConditions)
	}
	for _, col := range sortedKeys(c) {
		switch {
		case strings.TrimSpace(col) == "":
			return fieldErr("conditions", "column names must not be empty")
		case len(col) > MaxText:
			return fieldErr("conditions", "column names must be at most %d characters", MaxText)
		case len(c[col]) > MaxText:
			return fieldErr("conditions."+col, "must be at most %d characters", MaxText)
		}
	}
	return nil
}

// validDP checks epsilon and delta: model dp needs 0 < epsilon ≤
// MaxEpsilon and, if delta is given, 0 < delta < 1 (0 is the default,
// dp.DefaultDelta); other models take neither.
func validDP(req jobs.Request) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"epsilon", req.Epsilon}, {"delta", req.Delta}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return fieldErr(f.name, "must be a number")
		}
	}
	if req.Model != dp.KindDP {
		if req.Epsilon != 0 {
			return fieldErr("epsilon", "applies to model dp only: set model to dp, or leave epsilon out")
		}
		if req.Delta != 0 {
			return fieldErr("delta", "applies to model dp only: set model to dp, or leave delta out")
		}
		return nil
	}
	if !(req.Epsilon > 0 && req.Epsilon <= MaxEpsilon) {
		return fieldErr("epsilon", "must be greater than 0 and at most %g with model dp (the privacy budget, e.g. 1)", MaxEpsilon)
	}
	delta := req.Delta
	if delta == 0 {
		delta = dp.DefaultDelta
	} else if !(delta > 0 && delta < 1) {
		return fieldErr("delta", "must be greater than 0 and less than 1 (e.g. 1e-9), or left out for %g", dp.DefaultDelta)
	}
	if _, err := dp.Rho(req.Epsilon, delta); err != nil {
		return fieldErr("epsilon", "with delta %g gives no privacy budget: use a larger epsilon or delta", delta)
	}
	return nil
}

// sortedKeys lists m's keys in order, for errors that do not depend on map
// order.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// validAnonymize checks what only an anonymize job may (not) have: rows
// are the dataset's (filled in at admission, so any count ≥ 0 passes
// here), no model, no dp settings, no rules or conditions (they shape
// sampling, and nothing is sampled), and a policy that passes
// anonymize.Policy.Check.
func validAnonymize(req jobs.Request) error {
	switch {
	case req.Rows < 0 || req.Rows > MaxRows:
		return fieldErr("rows", "must be left out for an anonymize job")
	case req.Model != "":
		return fieldErr("model", "applies to synthetic jobs only: an anonymize job fits no model; leave model out")
	case req.Epsilon != 0 || req.Delta != 0:
		return fieldErr("epsilon", "applies to model dp only, not to anonymize jobs: leave epsilon and delta out")
	case len(req.Rules) > 0:
		return fieldErr("rules", "apply to synthetic jobs only (they shape sampling): leave rules out of an anonymize job")
	case len(req.Conditions) > 0:
		return fieldErr("conditions", "apply to synthetic jobs only (they shape sampling): leave conditions out of an anonymize job")
	}
	if req.Policy != nil {
		if err := req.Policy.Check(); err != nil {
			return fieldErr("policy", "%s", strings.TrimSuffix(err.Error(), ": "+anonymize.ErrInput.Error()))
		}
	}
	return nil
}

// validDesign checks a design job (one that samples a saved spec instead
// of a dataset): it names a spec and no dataset, and takes none of the
// options that only mean something against real rows.
func validDesign(req jobs.Request) error {
	if req.Design == "" {
		if req.DesignVersion != 0 {
			return fieldErr("design_version", "applies to design jobs only: set design_id, or leave design_version out")
		}
		return nil
	}
	switch {
	case req.Dataset != "":
		return fieldErr("dataset", "must be left out of a design job: it samples the saved spec design_id, not a dataset")
	case req.DesignVersion < 0:
		return fieldErr("design_version", "must be a positive version, or left out for the latest")
	case req.Model == dp.KindDP:
		return fieldErr("model", "dp applies to datasets only: a design job samples its spec, which holds no personal data")
	case len(req.Conditions) > 0:
		return fieldErr("conditions", "apply to dataset jobs only: put fixed values in the spec's categories")
	case len(req.Rules) > 0:
		return fieldErr("rules", "apply to dataset jobs only: a design job checks the spec's own rules")
	case req.Target != "":
		return fieldErr("target", "applies to dataset jobs only (ML efficacy needs real rows)")
	case req.Labels:
		return fieldErr("labels", "applies to dataset jobs only: a spec already says what its columns mean")
	}
	return nil
}
