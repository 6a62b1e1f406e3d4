// Package api is the logic behind the REST API under /v1: authentication
// with a short-lived cache of verified keys, validation of job requests with
// errors that name the offending field, dataset uploads (direct, and
// through upload sessions; validated before they are ready; datasets.go), job creation against plans and the spend guard, and signed
// download URLs. The HTTP handlers in functions/api only decode, call this
// package and encode; every error here is classified by a sentinel that
// Status maps to an HTTP status and error code.
package api

import (
	"errors"
	"fmt"
	"net/http"
	"synthos.dev/synthos/shared/destinations"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/guard"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
)

// Sentinel errors. Every error this package returns wraps at most one of
// them, or one of the sentinels of the packages it calls (see Status).
var (
	ErrInvalid      = errors.New("invalid request")            // 400
	ErrNotFound     = errors.New("not found")                  // 404
	ErrConflict     = errors.New("conflict")                   // 409
	ErrTooLarge     = errors.New("request too large")          // 413
	ErrUnsupported  = errors.New("unsupported media type")     // 415
	ErrNotReady     = errors.New("not ready")                  // 404 with code not_ready
	ErrUnavailable  = errors.New("temporarily unavailable")    // 503
	ErrUnauthorized = errors.New("authentication required")    // 401
	ErrForbidden    = errors.New("key lacks the needed scope") // 403
)

// FieldError is a validation error that names the request field at fault:
// jobspec's, the one type for every request of the API, so that job
// requests validated there and other requests validated here answer alike
// (400 invalid_request with details.field).
type FieldError = jobspec.FieldError

// fieldErr returns a FieldError.
func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// CodedError carries a specific error code and details for the response,
// while wrapping a sentinel for the status.
type CodedError struct {
	Code    string
	Msg     string
	Details map[string]any
	Kind    error
}

func (e *CodedError) Error() string { return e.Msg }

// Unwrap returns the classifying sentinel.
func (e *CodedError) Unwrap() error { return e.Kind }

// Status maps an error to its HTTP status, error code and details.
// Unclassified errors are 500 "internal".
func Status(err error) (status int, code string, details map[string]any) {
	var ce *CodedError
	if errors.As(err, &ce) {
		status, _, _ = Status(ce.Kind)
		return status, ce.Code, ce.Details
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return http.StatusBadRequest, "invalid_request", map[string]any{"field": fe.Field}
	}
	var le *entitlements.LimitError
	if errors.As(err, &le) {
		d := map[string]any{"limit": string(le.Limit), "plan": le.Plan}
		if !le.ResetsAt.IsZero() {
			d["resets_at"] = le.ResetsAt
		}
		if errors.Is(err, entitlements.ErrPlan) {
			return http.StatusPaymentRequired, "plan_limit", d
		}
		return http.StatusTooManyRequests, "quota_exceeded", d
	}
	switch {
	case errors.Is(err, destinations.ErrVerify):
		return http.StatusUnprocessableEntity, "destination_unverified", nil
	case errors.Is(err, destinations.ErrResidency):
		return http.StatusUnprocessableEntity, "residency_violation", nil
	case errors.Is(err, destinations.ErrMove):
		return http.StatusConflict, "residency_data_elsewhere", nil
	case errors.Is(err, destinations.ErrInvalid):
		return http.StatusBadRequest, "invalid_request", nil
	case errors.Is(err, destinations.ErrNotFound):
		return http.StatusNotFound, "not_found", nil
	case errors.Is(err, ErrInvalid), errors.Is(err, jobs.ErrInvalid), errors.Is(err, jobspec.ErrInvalid), errors.Is(err, datasets.ErrInvalid),
		errors.Is(err, apikeys.ErrInvalid), errors.Is(err, entitlements.ErrInvalid):
		return http.StatusBadRequest, "invalid_request", nil
	case errors.Is(err, ErrUnauthorized), errors.Is(err, apikeys.ErrUnauthenticated):
		return http.StatusUnauthorized, "unauthenticated", nil
	case errors.Is(err, ErrForbidden), errors.Is(err, apikeys.ErrForbidden):
		return http.StatusForbidden, "forbidden", nil
	case errors.Is(err, ErrNotReady):
		return http.StatusNotFound, "not_ready", nil
	case errors.Is(err, ErrNotFound), errors.Is(err, jobs.ErrNotFound), errors.Is(err, datasets.ErrNotFound):
		return http.StatusNotFound, "not_found", nil
	case errors.Is(err, ErrConflict), errors.Is(err, jobs.ErrTerminal):
		return http.StatusConflict, "conflict", nil
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests, "rate_limited", nil
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "too_large", nil
	case errors.Is(err, ErrUnsupported):
		return http.StatusUnsupportedMediaType, "unsupported_media_type", nil
	case errors.Is(err, guard.ErrPaused):
		return http.StatusServiceUnavailable, "generation_paused", nil
	case errors.Is(err, ErrUnavailable):
		return http.StatusServiceUnavailable, "unavailable", nil
	}
	// Errors classified only by their errs code (shared/analytics).
	switch errs.CodeOf(err) {
	case errs.InvalidArgument:
		return http.StatusBadRequest, "invalid_request", nil
	case errs.PermissionDenied:
		return http.StatusForbidden, "forbidden", nil
	}
	return http.StatusInternalServerError, "internal", nil
}
