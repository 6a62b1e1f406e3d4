package api

import (
	"context"
	"fmt"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/entitlements"
)

// The monthly row quota of a tenant's plan is reserved, with the job, by
// package admission; here are the refusal's wording and GET /v1/usage.

// quotaError is a refusal of the plan with the limit's name in its message.
type quotaError struct{ le *entitlements.LimitError }

func (e *quotaError) Error() string {
	return fmt.Sprintf("%s (limit %s; see GET /v1/usage)", e.le.Error(), e.le.Limit)
}

func (e *quotaError) Unwrap() error { return e.le }

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
	// AI is this month's model use against the plan's AI budget.
	AI *AIUsage `json:"ai,omitempty"`
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
	running, err := s.Admission.RunningJobs(ctx, p.Tenant)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	ai, err := s.aiUsage(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	return &Usage{
		AI:   ai,
		Plan: plan.Name, Month: month,
		Limits: PlanLimits{RowsPerMonth: plan.RowsPerMonth, RowsPerJob: plan.RowsPerJob, ConcurrentJobs: plan.ConcurrentJobs, DPAllowed: plan.DPAllowed},
		Used:   u.Used, Reserved: u.Reserved, Remaining: max(0, plan.RowsPerMonth-u.Used-u.Reserved),
		RunningJobs: len(running), ResetsAt: reset,
	}, nil
}
