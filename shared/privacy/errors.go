package privacy

import (
	"synthos.dev/synthos/shared/errs"
)

// Sentinels classify failures; match them with errors.Is.
var (
	// ErrInput means an argument is unusable: a nil or empty table, a nil
	// profile, an option out of range, a sensitive or quasi-identifier
	// column that is unknown or not modelled.
	ErrInput = errs.New(errs.InvalidArgument, "privacy: invalid input")
	// ErrSchema means the tables and the profile disagree: the tables have
	// different columns, a profiled column is missing from a table, or a row
	// has the wrong width.
	ErrSchema = errs.New(errs.InvalidArgument, "privacy: schema mismatch")
)
