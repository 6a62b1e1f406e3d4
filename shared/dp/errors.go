package dp

import (
	"synthos.dev/synthos/shared/errs"
)

// Errors callers act on; every error this package returns wraps one of them
// (or, for sampling, one of synth's sentinels, so the CLI treats every model
// alike).
var (
	// ErrInvalid reports bad input: a non-positive budget, a delta outside
	// (0, 1), an empty table, a profile that does not match the table.
	ErrInvalid = errs.New(errs.InvalidArgument, "dp: invalid input")
	// ErrRandom reports that the operating system's secure random source
	// failed; no noisy value is released when it does.
	ErrRandom = errs.New(errs.Internal, "dp: secure random source failed")
)
