package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/engine"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/obs"
)

// The monthly row quota of a tenant's plan (shared/billing/entitlements).
//
// CreateJob reserves the job's rows before it stores the job, in the same
// transaction that checks the plan (dp model, rows per job, concurrent
// jobs) and the rows left this month, so concurrent requests can never
// together hold more than the quota. The pipeline commits the rows the job
// produced when it succeeds and releases the reservation when it fails or
// is cancelled (a failed job costs no quota); a job that is never run
// (cannot be stored or queued, or is cancelled while queued) is released
// here.
//
// A job always reserves a positive number of rows: the API requires rows
// (1 to MaxRows), and CreateJob refuses rows 0 ("as many as the dataset",
// which only jobs created from an upload's metadata may ask for) whenever
// usage is metered, since the row count of a dataset is not known before
// the pipeline reads it.

// maxQuotaAttempts bounds how many reservation keys one job id may use
// (see reserveQuota).
const maxQuotaAttempts = 32

// quotaKey is the usage document's key of the n-th reservation of job id:
// the job id itself, then id.1, id.2, ...
func quotaKey(id string, n int) string {
	if n == 0 {
		return id
	}
	return fmt.Sprintf("%s.%d", id, n)
}

// reserveQuota holds req.Rows of the tenant's monthly quota for job id,
// checking the plan with running jobs running, before the job exists.
//
// Reserve is idempotent per key: a reservation still open from an earlier
// attempt of the same request (same Idempotency-Key, hence the same job id)
// that died before storing the job is reused, so a replay never reserves
// twice. A key is spent for good once released, though: Reserve then
// returns a reservation that holds nothing. That happens when an earlier
// attempt could not store or queue the job and released its rows, and the
// client retries with the same key; the next key (id.1, ...) is used then.
// Refusals (*entitlements.LimitError) are returned as they are, with the
// limit's name added to the message.
func (s *Service) reserveQuota(ctx context.Context, p *apikeys.Principal, req jobs.Request, id string, running int) (*entitlements.Reservation, error) {
	jr := entitlements.JobRequest{Rows: req.Rows, DP: req.Model == engine.KindDP, Running: running}
	for n := range maxQuotaAttempts {
		key := quotaKey(id, n)
		r, err := s.Entitlements.Reserve(ctx, p.Tenant, key, jr)
		var le *entitlements.LimitError
		switch {
		case errors.As(err, &le):
			err = &quotaError{le: le}
			s.EmitDenied(ctx, p, "job.create", err.Error())
			return nil, err
		case errors.Is(err, entitlements.ErrInvalid):
			return nil, fieldErr("rows", "must be positive: %v", err)
		case err != nil:
			return nil, fmt.Errorf("%w: reserve rows of the monthly quota: %w", ErrUnavailable, err)
		}
		u, err := s.Entitlements.Usage(ctx, p.Tenant, r.Month)
		if err != nil {
			// Not known to hold rows: free it (a no-op if it holds none) so
			// that a retry is not charged twice.
			return nil, fmt.Errorf("%w: read the monthly quota: %w", ErrUnavailable,
				errors.Join(err, s.releaseQuota(ctx, &jobs.Job{ID: id, QuotaReservation: &r})))
		}
		if _, open := u.Jobs[key]; open {
			return &r, nil
		}
	}
	return nil, fmt.Errorf("%w: job %s was attempted %d times without being queued; retry with a new Idempotency-Key",
		ErrUnavailable, id, maxQuotaAttempts)
}

// quotaError is a refusal of the plan with the limit's name in its message.
type quotaError struct{ le *entitlements.LimitError }

func (e *quotaError) Error() string {
	return fmt.Sprintf("%s (limit %s; see GET /v1/usage)", e.le.Error(), e.le.Limit)
}

func (e *quotaError) Unwrap() error { return e.le }

// releaseQuota frees the monthly-quota reservation of a job that was never
// run. Releasing is idempotent. A failure is logged and returned; the rows
// then stay reserved for this month (the safe side).
func (s *Service) releaseQuota(ctx context.Context, j *jobs.Job) error {
	if j.QuotaReservation == nil || s.Entitlements == nil {
		return nil
	}
	if err := s.Entitlements.Release(ctx, *j.QuotaReservation); err != nil {
		obs.Logger(ctx).ErrorContext(ctx, "release monthly quota reservation", "job", j.ID, "reservation", j.QuotaReservation.JobID, "error", err)
		return fmt.Errorf("release the monthly quota reservation of job %s: %w", j.ID, err)
	}
	return nil
}

// sameQuota reports whether a and b are the same reservation.
func sameQuota(a, b *entitlements.Reservation) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// Usage is a tenant's plan and its use this month, as GET /v1/usage shows
// it. Rows are counted per calendar month (UTC): Used is what finished jobs
// produced, Reserved what accepted jobs still hold, and Remaining what a
// new job may still ask for.
type Usage struct {
	Plan        string     `json:"plan"`
	Month       string     `json:"month"`
	Limits      PlanLimits `json:"limits"`
	Used        int64      `json:"used"`
	Reserved    int64      `json:"reserved"`
	Remaining   int64      `json:"remaining"`
	RunningJobs int        `json:"running_jobs"`
	ResetsAt    time.Time  `json:"resets_at"`
}

// PlanLimits are the limits of a plan.
type PlanLimits struct {
	RowsPerMonth   int64 `json:"rows_per_month"`
	RowsPerJob     int64 `json:"rows_per_job"`
	ConcurrentJobs int   `json:"concurrent_jobs"`
	DPAllowed      bool  `json:"dp_allowed"`
}

// Usage returns the tenant's plan, its limits and this month's usage.
func (s *Service) Usage(ctx context.Context, p *apikeys.Principal) (*Usage, error) {
	if s.Entitlements == nil {
		return nil, &CodedError{Code: "not_found", Kind: ErrNotFound, Msg: "usage is not metered by this deployment"}
	}
	plan, err := s.Entitlements.Plan(ctx, p.Tenant)
	if err != nil {
		return nil, fmt.Errorf("%w: read the plan: %w", ErrUnavailable, err)
	}
	month := entitlements.MonthOf(s.Now())
	u, err := s.Entitlements.Usage(ctx, p.Tenant, month)
	if err != nil {
		return nil, fmt.Errorf("%w: read the usage: %w", ErrUnavailable, err)
	}
	reset, err := entitlements.ResetOf(month)
	if err != nil {
		return nil, err
	}
	running, err := s.running(ctx, p.Tenant)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return &Usage{
		Plan: plan.Name, Month: month,
		Limits: PlanLimits{RowsPerMonth: plan.RowsPerMonth, RowsPerJob: plan.RowsPerJob, ConcurrentJobs: plan.ConcurrentJobs, DPAllowed: plan.DPAllowed},
		Used:   u.Used, Reserved: u.Reserved, Remaining: max(0, plan.RowsPerMonth-u.Used-u.Reserved),
		RunningJobs: running, ResetsAt: reset,
	}, nil
}
