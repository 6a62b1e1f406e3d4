// Package errs classifies errors by a small set of codes, in the manner of
// gocloud.dev/gcerrors and gRPC status codes: callers decide what to do
// (retry, fail the job for good, answer 400 or 503) from errs.CodeOf(err),
// never from the message or from a list of other packages' sentinels.
//
// A package declares its sentinels with their code:
//
//	var ErrRagged = errs.New(errs.InvalidArgument, "table: ragged row")
//
// so that errors.Is(err, table.ErrRagged) keeps working, and any error that
// wraps it is classified without the caller knowing table exists. An error
// may also carry a message written for the user (Public), which is what a
// job's error, the API and the customer webhook show; the full chain stays
// in the logs.
package errs

import (
	"context"
	"errors"
	"fmt"
)

// Code classifies an error. The zero value, Unknown, is an unclassified
// error: transient as far as anyone knows, so it is retried.
type Code int

// The codes. They follow gRPC's where one fits.
const (
	// Unknown: unclassified; treated as transient.
	Unknown Code = iota
	// InvalidArgument: the input is wrong (a malformed table, an unknown
	// column in a rule, a bad option). Permanent; HTTP 400.
	InvalidArgument
	// NotFound: the thing named does not exist. Permanent; HTTP 404.
	NotFound
	// AlreadyExists: the thing to create exists. HTTP 409.
	AlreadyExists
	// FailedPrecondition: the system is not in a state that allows the
	// operation (a job already finished, a dataset not ready). Permanent
	// until something else changes it; HTTP 409.
	FailedPrecondition
	// ResourceExhausted: a quota, a limit or a budget is used up. Permanent
	// for the request that met it; HTTP 429 (or 402/409 where the API says
	// which limit).
	ResourceExhausted
	// PermissionDenied: the caller may not do this. HTTP 403.
	PermissionDenied
	// Unauthenticated: no valid credentials. HTTP 401.
	Unauthenticated
	// Unavailable: a dependency is down or overloaded; retry with backoff.
	// HTTP 503.
	Unavailable
	// DeadlineExceeded: the operation ran out of time; retry.
	DeadlineExceeded
	// Canceled: the caller gave up (a cancelled job or request).
	Canceled
	// Internal: an invariant broke (a bug, corrupt stored data). Permanent:
	// retrying a bug repeats it. HTTP 500.
	Internal
	// Unimplemented: the operation is not supported here. Permanent.
	Unimplemented
	// TooLarge: the input is over a size limit. Permanent; HTTP 413.
	TooLarge
)

var names = [...]string{
	Unknown: "unknown", InvalidArgument: "invalid_argument", NotFound: "not_found",
	AlreadyExists: "already_exists", FailedPrecondition: "failed_precondition",
	ResourceExhausted: "resource_exhausted", PermissionDenied: "permission_denied",
	Unauthenticated: "unauthenticated", Unavailable: "unavailable",
	DeadlineExceeded: "deadline_exceeded", Canceled: "canceled", Internal: "internal",
	Unimplemented: "unimplemented", TooLarge: "too_large",
}

// String is the code's name as the API and job records spell it.
func (c Code) String() string {
	if c >= 0 && int(c) < len(names) {
		return names[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Parse returns the code named s (as String spells it), or Unknown.
func Parse(s string) Code {
	for c, n := range names {
		if n == s {
			return Code(c)
		}
	}
	return Unknown
}

// Retryable reports whether an operation that failed with c may succeed
// when tried again unchanged.
func (c Code) Retryable() bool {
	switch c {
	case Unknown, Unavailable, DeadlineExceeded:
		return true
	}
	return false
}

// Error is an error with a code, an optional message for the user and an
// optional cause.
type Error struct {
	Code Code
	// Msg is the error's text.
	Msg string
	// Public, when set, is what the user sees instead of the whole chain:
	// it names their column, limit or fix, and no internals.
	Public string
	// Err is the cause, if any.
	Err error
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil:
		return e.Msg + ": " + e.Err.Error()
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Code.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code c and text msg; use it for sentinels.
func New(c Code, msg string) error { return &Error{Code: c, Msg: msg} }

// Errorf returns an error with code c whose text is fmt.Errorf(format,
// args...), wrapping what %w names.
func Errorf(c Code, format string, args ...any) error {
	return &Error{Code: c, Err: fmt.Errorf(format, args...)}
}

// Public returns an error with code c whose user-facing message is the
// formatted text (also its Error text); %w wraps a cause, which stays out of
// the user-facing message only if the format does not print it.
func Public(c Code, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: c, Public: err.Error(), Err: err}
}

// Wrap returns err with code c, or nil for a nil err.
func Wrap(c Code, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: c, Err: err}
}

// CodeOf returns the code of the outermost coded error in err's chain.
// Context cancellation and deadlines are classified as such; nil is
// Unknown.
func CodeOf(err error) Code {
	if err == nil {
		return Unknown
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	switch {
	case errors.Is(err, context.Canceled):
		return Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return DeadlineExceeded
	}
	return Unknown
}

// Retryable reports whether err may go away on a retry (see
// Code.Retryable). Cancellation is not retried.
func Retryable(err error) bool { return CodeOf(err).Retryable() }

// Message returns what the user should read about err: the outermost
// Public message in its chain, or else err's whole text.
func Message(err error) string {
	if err == nil {
		return ""
	}
	if m, ok := public(err); ok {
		return m
	}
	return err.Error()
}

// PublicMessager is an error type of another package that words itself
// for users (a refusal naming the limit, say); Message prefers it.
type PublicMessager interface {
	PublicMessage() string
}

// public finds the outermost Public message in err's chain (the first one
// of joined errors).
func public(err error) (string, bool) {
	for err != nil {
		if ce, ok := err.(*Error); ok && ce.Public != "" {
			return ce.Public, true
		}
		if pm, ok := err.(PublicMessager); ok {
			return pm.PublicMessage(), true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				if m, ok := public(x); ok {
					return m, true
				}
			}
			return "", false
		default:
			return "", false
		}
	}
	return "", false
}
