package quality

import (
	"synthos.dev/synthos/shared/errs"
)

// Sentinels classify failures; match them with errors.Is.
var (
	// ErrInput means an argument is unusable: a nil or empty table, a nil
	// profile, an option out of range.
	ErrInput = errs.New(errs.InvalidArgument, "quality: invalid input")
	// ErrSchema means the tables and the profile disagree: a profiled column
	// is missing from the real or synthetic table, or rows have the wrong
	// width.
	ErrSchema = errs.New(errs.InvalidArgument, "quality: schema mismatch")
	// ErrTarget means the ML efficacy target cannot be used: unknown column,
	// a kind that cannot be predicted, or too few classes.
	ErrTarget = errs.New(errs.InvalidArgument, "quality: unusable target")
	// ErrUndefined means a metric has no value for these inputs, e.g. a
	// correlation with a constant column.
	ErrUndefined = errs.New(errs.FailedPrecondition, "quality: metric undefined")
)
