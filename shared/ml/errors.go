package ml

import (
	"synthos.dev/synthos/shared/errs"
)

// Sentinels classify failures; match them with errors.Is.
var (
	// ErrInput means an argument is unusable: empty or mismatched data, a
	// parameter out of range, a column the encoder does not know.
	ErrInput = errs.New(errs.InvalidArgument, "ml: invalid input")
	// ErrUndefined means a metric has no value for these inputs, e.g. an
	// AUC with a single class or an R² of a constant truth.
	ErrUndefined = errs.New(errs.FailedPrecondition, "ml: metric undefined")
)
