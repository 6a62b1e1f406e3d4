package gate

import (
	"fmt"

	"synthos.dev/synthos/shared/errs"
)

// ErrThresholds means a thresholds document or value is unusable: malformed
// JSON, an unknown field or metric name, or a value out of range. Match it
// with errors.Is.
var ErrThresholds = errs.New(errs.InvalidArgument, "gate: invalid thresholds")

// InvalidError is an unusable thresholds document or value, naming the
// field at fault as the JSON spells it ("max_dcr_share", "skip"); "" is the
// document as a whole. It wraps ErrThresholds.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string {
	if e.Field == "" {
		return "thresholds " + e.Reason
	}
	return fmt.Sprintf("%s %s", e.Field, e.Reason)
}

// Unwrap classifies the error as ErrThresholds.
func (e *InvalidError) Unwrap() error { return ErrThresholds }
