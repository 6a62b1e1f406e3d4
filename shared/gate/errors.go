package gate

import (
	"synthos.dev/synthos/shared/errs"
)

// ErrThresholds means a thresholds document or value is unusable: malformed
// JSON, an unknown field or metric name, or a value out of range. Match it
// with errors.Is.
var ErrThresholds = errs.New(errs.InvalidArgument, "gate: invalid thresholds")
