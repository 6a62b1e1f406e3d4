package dp

import "errors"

// Errors callers act on; every error this package returns wraps one of them
// (or, for sampling, one of synth's sentinels, so the CLI treats every model
// alike).
var (
	// ErrInvalid reports bad input: a non-positive budget, a delta outside
	// (0, 1), an empty table, a profile that does not match the table.
	ErrInvalid = errors.New("dp: invalid input")
	// ErrRandom reports that the operating system's secure random source
	// failed; no noisy value is released when it does.
	ErrRandom = errors.New("dp: secure random source failed")
)
