// Package entitlements enforces plans: what a tenant's plan allows (the
// differentially private model, rows per job, concurrent jobs) and its
// monthly row quota.
//
// Usage is counted per tenant per calendar month (UTC) in one state document,
// usage/<tenant>-<yyyy-mm>, changed only inside transactions, so concurrent
// jobs can never together overspend the quota. A job reserves its rows when
// it is accepted (Reserve) and commits what it actually produced when it
// finishes (Commit) or releases the reservation when it fails (Release);
// reservations count against the quota, so accepting a job guarantees it
// the rows it asked for. Reserve, Commit and Release are idempotent per job
// id, so Pub/Sub redeliveries do not double count. Meter is reserve and
// commit in one step for callers without a job id; it is not idempotent.
//
// Refusals are errors wrapping ErrPlan (HTTP 402: the plan does not allow
// it; upgrade) or ErrQuota (HTTP 429: a limit is used up; the message says
// when it resets); see HTTPStatus.
package entitlements

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/billing/subscription"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// CollUsage holds the Usage documents.
const CollUsage = "usage"

// Errors, to be tested with errors.Is. Refusals come as *LimitError.
var (
	// ErrPlan: the tenant's plan does not allow the request (HTTP 402).
	ErrPlan = errs.New(errs.FailedPrecondition, "entitlements: not allowed by plan")
	// ErrQuota: a usage limit is exhausted for now (HTTP 429).
	ErrQuota = errs.New(errs.ResourceExhausted, "entitlements: quota exceeded")
	// ErrInvalid: a bad argument (negative rows, empty tenant or job id).
	ErrInvalid = errs.New(errs.InvalidArgument, "entitlements: invalid argument")
)

// Limit names which limit refused a request.
type Limit string

const (
	LimitDP             Limit = "dp_allowed"
	LimitRowsPerJob     Limit = "rows_per_job"
	LimitRowsPerMonth   Limit = "rows_per_month"
	LimitConcurrentJobs Limit = "concurrent_jobs"
)

// LimitError is a refusal. It wraps ErrPlan or ErrQuota.
type LimitError struct {
	Limit     Limit
	Plan      string
	Max       int64 // the limit's value (0 for DP)
	Used      int64 // used and reserved so far (monthly rows, running jobs)
	Requested int64
	// ResetsAt is when a monthly quota resets (first of next month, UTC);
	// zero for limits that do not reset by date.
	ResetsAt time.Time
}

func (e *LimitError) Error() string {
	switch e.Limit {
	case LimitDP:
		return fmt.Sprintf("the %s plan does not include the differentially private model; upgrade to use it", e.Plan)
	case LimitRowsPerJob:
		return fmt.Sprintf("the %s plan allows at most %d rows per job; %d were requested", e.Plan, e.Max, e.Requested)
	case LimitConcurrentJobs:
		return fmt.Sprintf("the %s plan allows %d concurrent jobs and %d are running; retry when one finishes", e.Plan, e.Max, e.Used)
	case LimitRowsPerMonth:
		return fmt.Sprintf("monthly row quota of the %s plan exceeded: %d of %d rows used this month, %d requested; the quota resets on %s",
			e.Plan, e.Used, e.Max, e.Requested, e.ResetsAt.Format(time.RFC3339))
	}
	return fmt.Sprintf("limit %s of the %s plan", e.Limit, e.Plan)
}

// PublicMessage is the refusal as the user reads it: the message and the
// limit's name (see GET /v1/usage).
func (e *LimitError) PublicMessage() string {
	return fmt.Sprintf("%s (limit %s)", e.Error(), e.Limit)
}

func (e *LimitError) Unwrap() error {
	if e.Limit == LimitDP || e.Limit == LimitRowsPerJob {
		return ErrPlan
	}
	return ErrQuota
}

// HTTPStatus maps a refusal to its status: 402 for ErrPlan, 429 for
// ErrQuota, 400 for ErrInvalid, 0 for anything else (not a refusal).
func HTTPStatus(err error) int {
	switch {
	case errors.Is(err, ErrPlan):
		return http.StatusPaymentRequired
	case errors.Is(err, ErrQuota):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest
	}
	return 0
}

// JobRequest is what a job asks for.
type JobRequest struct {
	Rows int64
	DP   bool
	// Running is the tenant's jobs running now, counted by the caller; it
	// is checked against the plan's concurrent jobs.
	Running int
}

// Usage is the document usage/<tenant>-<yyyy-mm>.
type Usage struct {
	Tenant string `json:"tenant"`
	Month  string `json:"month"` // yyyy-mm, UTC
	// Used is the rows committed this month; Reserved the rows held by
	// accepted jobs that have not finished.
	Used     int64 `json:"used"`
	Reserved int64 `json:"reserved"`
	// Jobs holds each reservation by job id; Done the jobs already
	// committed or released, so that redeliveries change nothing.
	Jobs      map[string]int64 `json:"jobs,omitempty"`
	Done      map[string]int64 `json:"done,omitempty"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// Reservation identifies rows held for a job. Keep it with the job: Commit
// and Release need its Month, which is the month the rows were reserved in.
type Reservation struct {
	Tenant string `json:"tenant"`
	Month  string `json:"month"`
	JobID  string `json:"job_id"`
	Rows   int64  `json:"rows"`
}

// Entitlements answers what tenants may do and meters their usage.
type Entitlements struct {
	state   state.Store
	catalog *plans.Catalog
	now     func() time.Time
}

// New returns Entitlements over st. catalog nil means plans.Default(); now
// nil means time.Now.
func New(st state.Store, catalog *plans.Catalog, now func() time.Time) (*Entitlements, error) {
	if st == nil {
		return nil, errors.New("entitlements.New: a state store is required")
	}
	if catalog == nil {
		catalog = plans.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Entitlements{state: st, catalog: catalog, now: now}, nil
}

// MonthOf returns the usage month of t ("yyyy-mm", UTC).
func MonthOf(t time.Time) string { return t.UTC().Format("2006-01") }

// ResetOf returns when the quota of month resets: the first of the next month, 00:00 UTC.
func ResetOf(month string) (time.Time, error) {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: month %q", ErrInvalid, month)
	}
	return t.AddDate(0, 1, 0), nil
}

// UsageID is the usage document id of tenant in month.
func UsageID(tenant, month string) string { return tenant + "-" + month }

// Plan returns tenant's current plan: the one its subscription entitles it
// to, or the free plan.
func (e *Entitlements) Plan(ctx context.Context, tenant string) (plans.Plan, error) {
	if tenant == "" {
		return plans.Plan{}, fmt.Errorf("entitlements.Plan: %w: empty tenant", ErrInvalid)
	}
	var r subscription.Record
	err := e.state.Get(ctx, subscription.CollRecords, tenant, &r)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return e.catalog.Free(), nil
	case err != nil:
		return plans.Plan{}, fmt.Errorf("entitlements.Plan %s: %w", tenant, err)
	}
	return r.PlanIn(e.catalog), nil
}

// Check tells whether tenant may start a job: plan features, the rows per
// job, concurrent jobs, and the rows left this month (read, not reserved:
// Reserve is the atomic step).
func (e *Entitlements) Check(ctx context.Context, tenant string, req JobRequest) error {
	if req.Rows <= 0 || req.Running < 0 {
		return fmt.Errorf("entitlements.Check: %w: rows must be positive", ErrInvalid)
	}
	p, err := e.Plan(ctx, tenant)
	if err != nil {
		return err
	}
	if err := checkPlan(p, req); err != nil {
		return err
	}
	month := MonthOf(e.now())
	var u Usage
	if err := e.state.Get(ctx, CollUsage, UsageID(tenant, month), &u); err != nil && !errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("entitlements.Check %s: %w", tenant, err)
	}
	return quota(p, month, u, req.Rows)
}

func checkPlan(p plans.Plan, req JobRequest) error {
	switch {
	case req.DP && !p.DPAllowed:
		return &LimitError{Limit: LimitDP, Plan: p.Name}
	case req.Rows > p.RowsPerJob:
		return &LimitError{Limit: LimitRowsPerJob, Plan: p.Name, Max: p.RowsPerJob, Requested: req.Rows}
	case req.Running >= p.ConcurrentJobs:
		return &LimitError{Limit: LimitConcurrentJobs, Plan: p.Name, Max: int64(p.ConcurrentJobs), Used: int64(req.Running), Requested: 1}
	}
	return nil
}

// quota refuses rows that would take month's usage past the plan's quota.
func quota(p plans.Plan, month string, u Usage, rows int64) error {
	held := u.Used + u.Reserved
	if rows <= p.RowsPerMonth-held {
		return nil
	}
	reset, err := ResetOf(month)
	if err != nil {
		return err
	}
	return &LimitError{Limit: LimitRowsPerMonth, Plan: p.Name, Max: p.RowsPerMonth, Used: held, Requested: rows, ResetsAt: reset}
}

// Reserve checks req like Check and, in the same transaction, holds
// req.Rows of this month's quota for jobID. Reserving a job again (a
// redelivery) returns its reservation without holding more rows, also once
// it has been committed or released.
func (e *Entitlements) Reserve(ctx context.Context, tenant, jobID string, req JobRequest) (Reservation, error) {
	if jobID == "" || req.Rows <= 0 || req.Running < 0 {
		return Reservation{}, fmt.Errorf("entitlements.Reserve: %w: need a job id and positive rows", ErrInvalid)
	}
	p, err := e.Plan(ctx, tenant)
	if err != nil {
		return Reservation{}, err
	}
	month := MonthOf(e.now())
	r := Reservation{Tenant: tenant, Month: month, JobID: jobID, Rows: req.Rows}
	err = e.update(ctx, tenant, month, func(u *Usage) (bool, error) {
		if _, ok := u.Jobs[jobID]; ok {
			r.Rows = u.Jobs[jobID]
			return false, nil
		}
		if _, ok := u.Done[jobID]; ok {
			return false, nil
		}
		if err := checkPlan(p, req); err != nil {
			return false, err
		}
		if err := quota(p, month, *u, req.Rows); err != nil {
			return false, err
		}
		u.Reserved += req.Rows
		u.Jobs[jobID] = req.Rows
		return true, nil
	})
	if err != nil {
		return Reservation{}, fmt.Errorf("entitlements.Reserve %s/%s: %w", tenant, jobID, err)
	}
	return r, nil
}

// Commit turns r into usage: rows actually produced (at most r.Rows; the
// rest is released). Committing again changes nothing.
func (e *Entitlements) Commit(ctx context.Context, r Reservation, rows int64) error {
	if r.JobID == "" || rows < 0 {
		return fmt.Errorf("entitlements.Commit: %w: need a job id and rows >= 0", ErrInvalid)
	}
	err := e.update(ctx, r.Tenant, r.Month, func(u *Usage) (bool, error) {
		held, ok := u.Jobs[r.JobID]
		if !ok {
			return false, nil // committed or released already, or never reserved
		}
		used := min(rows, held)
		u.Reserved -= held
		u.Used += used
		delete(u.Jobs, r.JobID)
		u.Done[r.JobID] = used
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("entitlements.Commit %s/%s: %w", r.Tenant, r.JobID, err)
	}
	return nil
}

// Release frees r without using it (the job failed or was canceled).
func (e *Entitlements) Release(ctx context.Context, r Reservation) error {
	return e.Commit(ctx, r, 0)
}

// Meter atomically adds rows to tenant's usage this month if they fit in
// the quota, and refuses them (ErrQuota) otherwise.
func (e *Entitlements) Meter(ctx context.Context, tenant string, rows int64) error {
	if rows <= 0 {
		return fmt.Errorf("entitlements.Meter: %w: rows must be positive", ErrInvalid)
	}
	p, err := e.Plan(ctx, tenant)
	if err != nil {
		return err
	}
	month := MonthOf(e.now())
	err = e.update(ctx, tenant, month, func(u *Usage) (bool, error) {
		if err := quota(p, month, *u, rows); err != nil {
			return false, err
		}
		u.Used += rows
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("entitlements.Meter %s: %w", tenant, err)
	}
	return nil
}

// Usage returns tenant's usage in month (zero usage when none).
func (e *Entitlements) Usage(ctx context.Context, tenant, month string) (Usage, error) {
	u := Usage{Tenant: tenant, Month: month}
	if err := e.state.Get(ctx, CollUsage, UsageID(tenant, month), &u); err != nil && !errors.Is(err, state.ErrNotFound) {
		return Usage{}, fmt.Errorf("entitlements.Usage %s: %w", tenant, err)
	}
	return u, nil
}

// update runs fn on the usage document in a transaction and writes it back
// when fn reports a change.
func (e *Entitlements) update(ctx context.Context, tenant, month string, fn func(u *Usage) (bool, error)) error {
	if tenant == "" {
		return fmt.Errorf("%w: empty tenant", ErrInvalid)
	}
	id := UsageID(tenant, month)
	return e.state.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		u := Usage{}
		if err := tx.Get(CollUsage, id, &u); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		u.Tenant, u.Month = tenant, month
		if u.Jobs == nil {
			u.Jobs = map[string]int64{}
		}
		if u.Done == nil {
			u.Done = map[string]int64{}
		}
		changed, err := fn(&u)
		if err != nil || !changed {
			return err
		}
		u.UpdatedAt = e.now().UTC()
		return tx.Set(CollUsage, id, u)
	})
}

// The transactional pieces, for an admission that checks and reserves
// several things (plan, concurrent jobs, monthly rows, privacy budget) in
// one transaction of its own. A transaction reads before it writes, so each
// piece reads and checks at once and returns the write to run once every
// piece has read.

// PlanTx is Plan inside tx.
func (e *Entitlements) PlanTx(tx state.Tx, tenant string) (plans.Plan, error) {
	if tenant == "" {
		return plans.Plan{}, fmt.Errorf("entitlements.PlanTx: %w: empty tenant", ErrInvalid)
	}
	var r subscription.Record
	err := tx.Get(subscription.CollRecords, tenant, &r)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return e.catalog.Free(), nil
	case err != nil:
		return plans.Plan{}, fmt.Errorf("entitlements.PlanTx %s: %w", tenant, err)
	}
	return r.PlanIn(e.catalog), nil
}

// CheckPlan checks req against plan p: the dp model, rows per job and the
// concurrent jobs (req.Running). It returns a *LimitError or nil.
func CheckPlan(p plans.Plan, req JobRequest) error { return checkPlan(p, req) }

// Now returns the clock's time (the month reservations are made in).
func (e *Entitlements) Now() time.Time { return e.now() }

// readUsage reads month's usage document inside tx.
func readUsage(tx state.Tx, tenant, month string) (Usage, error) {
	u := Usage{}
	if err := tx.Get(CollUsage, UsageID(tenant, month), &u); err != nil && !errors.Is(err, state.ErrNotFound) {
		return Usage{}, err
	}
	u.Tenant, u.Month = tenant, month
	if u.Jobs == nil {
		u.Jobs = map[string]int64{}
	}
	if u.Done == nil {
		u.Done = map[string]int64{}
	}
	return u, nil
}

// ReserveTx holds rows of this month's quota of plan p for jobID inside tx:
// it reads and checks now (a *LimitError when the rows do not fit) and
// returns the write. An open reservation of jobID is returned as it is
// with no write; the caller admits a job id once (the job is stored in the
// same transaction).
func (e *Entitlements) ReserveTx(tx state.Tx, p plans.Plan, tenant, jobID string, rows int64) (Reservation, func() error, error) {
	if jobID == "" || rows <= 0 {
		return Reservation{}, nil, fmt.Errorf("entitlements.ReserveTx: %w: need a job id and positive rows", ErrInvalid)
	}
	month := MonthOf(e.now())
	u, err := readUsage(tx, tenant, month)
	if err != nil {
		return Reservation{}, nil, fmt.Errorf("entitlements.ReserveTx %s: %w", tenant, err)
	}
	r := Reservation{Tenant: tenant, Month: month, JobID: jobID, Rows: rows}
	if held, ok := u.Jobs[jobID]; ok {
		r.Rows = held
		return r, func() error { return nil }, nil
	}
	if err := quota(p, month, u, rows); err != nil {
		return Reservation{}, nil, err
	}
	u.Reserved += rows
	u.Jobs[jobID] = rows
	u.UpdatedAt = e.now().UTC()
	return r, func() error { return tx.Set(CollUsage, UsageID(tenant, month), u) }, nil
}

// SettleTx commits rows of r (at most what it holds; 0 releases it) inside
// tx and returns the write; a reservation no longer open needs none. The
// caller records that the job is settled (in the same transaction), so
// unlike Commit it keeps no record of settled jobs in the usage document,
// which then holds only the month's totals and its open reservations
// rather than growing with every job of the month.
func (e *Entitlements) SettleTx(tx state.Tx, r Reservation, rows int64) (func() error, error) {
	if r.JobID == "" || rows < 0 {
		return nil, fmt.Errorf("entitlements.SettleTx: %w: need a job id and rows >= 0", ErrInvalid)
	}
	u, err := readUsage(tx, r.Tenant, r.Month)
	if err != nil {
		return nil, fmt.Errorf("entitlements.SettleTx %s/%s: %w", r.Tenant, r.JobID, err)
	}
	held, ok := u.Jobs[r.JobID]
	if !ok {
		return func() error { return nil }, nil
	}
	u.Reserved -= held
	u.Used += min(rows, held)
	delete(u.Jobs, r.JobID)
	u.UpdatedAt = e.now().UTC()
	return func() error { return tx.Set(CollUsage, UsageID(r.Tenant, r.Month), u) }, nil
}
