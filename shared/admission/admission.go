// Package admission is the one component that admits jobs and settles
// them. Whatever creates a job — the API, an upload dropped in the bucket,
// a test — calls Admit, which in ONE state transaction
//
//   - reads the tenant's plan (its subscription record),
//   - checks the plan's features (the dp model, rows per job) and its
//     concurrent jobs against the tenant's running set (a document listing
//     the admitted, unsettled jobs),
//   - reserves the job's rows of this month's quota,
//   - reserves a dp job's privacy budget on its dataset,
//   - reserves a job's priced AI use (jobs.AIUsage.EstimateMicros) of the
//     tenant's monthly AI budget (the plan's AIBudget, package llm's
//     month document),
//   - and stores the job, queued, holding those reservations.
//
// So concurrent requests can never together exceed the concurrency limit,
// the quota or the budget: the transaction serialises them (Firestore's
// optimistic transactions retry on conflict; the embedded bbolt store runs
// one at a time).
//
// Settle is the one place the reservations end, also in one transaction,
// once the job is finished: the rows are committed (succeeded: the rows
// produced) or released (failed, cancelled), the privacy budget is charged
// (succeeded, or failed after the model was fitted: the noise was drawn on
// the real data) or refunded (failed before fitting), and the job leaves
// the running set. The job records that it is settled, so settling again
// (a redelivery, the reaper) changes nothing. Withdraw undoes an admission
// of a job that never ran (it could not be queued).
//
// The pipeline only advances jobs; it never reserves.
package admission

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"synthos.dev/synthos/shared/destinations"
	"time"

	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/dp/ledger"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/state"
)

// CollRunning holds one document per tenant: its admitted, unsettled jobs.
const CollRunning = "running_jobs"

// DefaultDelta is the delta of a dp job that does not give one.
const DefaultDelta = dp.DefaultDelta

// Running is the document CollRunning/<tenant>.
type Running struct {
	Tenant string `json:"tenant"`
	// Jobs maps each admitted, unsettled job to when it was admitted
	// (Unix nanoseconds).
	Jobs    map[string]int64 `json:"jobs,omitempty"`
	Updated time.Time        `json:"updated"`
}

// Admitter admits and settles jobs over one state store.
type Admitter struct {
	st     state.Store
	ent    *entitlements.Entitlements
	ledger *ledger.Ledger
	now    func() time.Time
	place  func(ctx context.Context, j *jobs.Job) error
	// aiBudgets overrides plans' AI budgets (SYNTHOS_AI_BUDGETS).
	aiBudgets map[string]float64
}

// Options configure an Admitter.
type Options struct {
	// Catalog is the plan catalog (nil: plans.Default()).
	Catalog *plans.Catalog
	// BudgetEpsilon and BudgetDelta are the default privacy budget cap of
	// a dataset that has none set (0: no budget until an admin sets one).
	BudgetEpsilon, BudgetDelta float64
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Place, when set, decides where the job's objects live (its route to
	// the tenant's storage destinations) and refuses a job whose reads or
	// writes would leave its residency zone. It runs before anything is
	// reserved and may set j.Route.
	Place func(ctx context.Context, j *jobs.Job) error
	// AIBudgets overrides the catalog's monthly AI budget per plan name
	// (SYNTHOS_AI_BUDGETS, plans.ParseAIBudgets); plans it does not name
	// keep their ai_budget_usd.
	AIBudgets map[string]float64
}

// New returns an Admitter over st.
func New(st state.Store, opts Options) (*Admitter, error) {
	if st == nil {
		return nil, errors.New("admission.New: a state store is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ent, err := entitlements.New(st, opts.Catalog, opts.Now)
	if err != nil {
		return nil, fmt.Errorf("admission.New: %w", err)
	}
	led, err := ledger.New(st, ledger.Options{DefaultEpsilon: opts.BudgetEpsilon, DefaultDelta: opts.BudgetDelta, Now: opts.Now})
	if err != nil {
		return nil, fmt.Errorf("admission.New: %w", err)
	}
	return &Admitter{st: st, ent: ent, ledger: led, now: opts.Now, place: opts.Place, aiBudgets: opts.AIBudgets}, nil
}

// Entitlements returns the plan enforcer and usage meter the Admitter uses.
func (a *Admitter) Entitlements() *entitlements.Entitlements { return a.ent }

// Ledger returns the privacy budget ledger the Admitter uses.
func (a *Admitter) Ledger() *ledger.Ledger { return a.ledger }

// Rho returns the rho-zCDP a dp request spends: its epsilon at its delta
// (DefaultDelta when unset).
func Rho(req jobs.Request) (float64, error) {
	delta := req.Delta
	if delta == 0 {
		delta = DefaultDelta
	}
	rho, err := dp.Rho(req.Epsilon, delta)
	if err != nil {
		return 0, errs.Public(errs.InvalidArgument, "epsilon %g with delta %g gives no privacy budget: %v", req.Epsilon, delta, err)
	}
	return rho, nil
}

// Admit checks j (ID, Tenant and Request set; Request.Rows resolved to a
// positive count) against its tenant's plan, running jobs, monthly quota
// and, for the dp model, its dataset's privacy budget, and (a job priced
// with AI use) its monthly AI budget, and in the same
// transaction reserves them and stores j as queued. It returns the stored
// job: j admitted now, or the job already stored under that id (admitting
// again is harmless). A refusal is a *entitlements.LimitError (the plan:
// errs.FailedPrecondition; a quota: errs.ResourceExhausted) or a
// *ledger.BudgetError, and nothing is reserved or stored.
func (a *Admitter) Admit(ctx context.Context, j *jobs.Job) (*jobs.Job, error) {
	if j.ID == "" || j.Tenant == "" {
		return nil, errs.Errorf(errs.InvalidArgument, "admission.Admit: a job needs an id and a tenant")
	}
	if j.Request.Rows <= 0 {
		return nil, errs.Public(errs.InvalidArgument, "rows must be positive (got %d)", j.Request.Rows)
	}
	if a.place != nil {
		if err := a.place(ctx, j); err != nil {
			return nil, err
		}
	}
	isDP := j.Request.Model == "dp"
	var rho float64
	if isDP {
		var err error
		if rho, err = Rho(j.Request); err != nil {
			return nil, err
		}
	}
	var out *jobs.Job
	err := a.st.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		out = nil
		var cur jobs.Job
		switch err := tx.Get(jobs.Collection, j.ID, &cur); {
		case err == nil:
			if cur.Tenant != j.Tenant {
				return errs.Errorf(errs.AlreadyExists, "job id %s is taken", j.ID)
			}
			out = &cur
			return nil
		case !errors.Is(err, state.ErrNotFound):
			return fmt.Errorf("read job: %w", err)
		}
		plan, err := a.ent.PlanTx(tx, j.Tenant)
		if err != nil {
			return err
		}
		run, err := readRunning(tx, j.Tenant)
		if err != nil {
			return err
		}
		if err := entitlements.CheckPlan(plan, entitlements.JobRequest{Rows: j.Request.Rows, DP: isDP, Running: len(run.Jobs)}); err != nil {
			return err
		}
		res, writeUsage, err := a.ent.ReserveTx(tx, plan, j.Tenant, j.ID, j.Request.Rows)
		if err != nil {
			return err
		}
		var writeBudget, writeAI func() error
		n := *j
		n.QuotaReservation, n.DPReservation, n.DPRho, n.AIReservation = &res, "", 0, ""
		if isDP {
			if n.DPReservation, writeBudget, err = a.ledger.ReserveTx(tx, j.Tenant, j.Request.Dataset, j.ID, rho); err != nil {
				return err
			}
			n.DPRho = rho
		}
		now := a.now().UTC()
		if j.AI != nil && j.AI.EstimateMicros > 0 {
			usd, limited := plan.AIBudget(a.aiBudgets)
			if n.AIReservation, writeAI, err = llm.ReserveTx(tx, j.Tenant, j.ID, llm.Micros(j.AI.EstimateMicros), llm.Dollars(usd), limited, now); err != nil {
				return err
			}
		}
		// Reads are done: write.
		n.State, n.CreatedAt, n.UpdatedAt, n.Created = jobs.Queued, now, now, now.UnixNano()
		if n.Shards < 1 {
			n.Shards = 1
		}
		run.Jobs[j.ID] = now.UnixNano()
		run.Updated = now
		if err := writeUsage(); err != nil {
			return err
		}
		for _, w := range []func() error{writeBudget, writeAI} {
			if w != nil {
				if err := w(); err != nil {
					return err
				}
			}
		}
		if err := tx.Set(CollRunning, j.Tenant, run); err != nil {
			return err
		}
		if err := tx.Create(jobs.Collection, j.ID, &n); err != nil {
			return err
		}
		out = &n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("admit job %s: %w", j.ID, err)
	}
	return out, nil
}

// readRunning reads the tenant's running set inside tx.
func readRunning(tx state.Tx, tenant string) (Running, error) {
	var r Running
	if err := tx.Get(CollRunning, tenant, &r); err != nil && !errors.Is(err, state.ErrNotFound) {
		return Running{}, fmt.Errorf("read running jobs: %w", err)
	}
	r.Tenant = tenant
	if r.Jobs == nil {
		r.Jobs = map[string]int64{}
	}
	return r, nil
}

// RunningJobs returns the ids of the tenant's admitted, unsettled jobs.
func (a *Admitter) RunningJobs(ctx context.Context, tenant string) ([]string, error) {
	var r Running
	if err := a.st.Get(ctx, CollRunning, tenant, &r); err != nil && !errors.Is(err, state.ErrNotFound) {
		return nil, fmt.Errorf("admission: read running jobs of %s: %w", tenant, err)
	}
	return slices.Sorted(maps.Keys(r.Jobs)), nil
}

// Fitted reports whether a job's model was fitted (its artifact exists):
// a dp job that failed after that is charged its privacy budget.
type Fitted func(ctx context.Context, j *jobs.Job) (bool, error)

// Settle settles the reservations of job id if it has finished and is not
// settled yet, in one transaction (see the package comment), and returns
// the job as it is afterwards. An unfinished or already settled job is
// returned unchanged. fitted is asked only for a dp job that did not
// succeed; nil means not fitted.
func (a *Admitter) Settle(ctx context.Context, id string, fitted Fitted) (*jobs.Job, error) {
	j, err := jobs.New(a.st).Load(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("settle job %s: %w", id, err)
	}
	if j.Settled || !j.State.Terminal() {
		return j, nil
	}
	charge := j.State == jobs.Succeeded
	if j.DPReservation != "" && !charge && fitted != nil {
		if charge, err = fitted(ctx, j); err != nil {
			return nil, fmt.Errorf("settle job %s: %w", id, err)
		}
	}
	return a.settle(ctx, id, charge, false)
}

// Withdraw removes a queued job that was never run (it could not be
// queued) and releases what it holds, in one transaction, so that a retry
// of the same request (same job id) is admitted afresh. It reports whether
// it withdrew the job: false when a step has already moved it on.
func (a *Admitter) Withdraw(ctx context.Context, tenant, id string) (bool, error) {
	j, err := jobs.New(a.st).Get(ctx, tenant, id)
	if err != nil {
		return false, err
	}
	if j.State != jobs.Queued {
		return false, nil
	}
	out, err := a.settle(ctx, id, false, true)
	if err != nil {
		return false, err
	}
	return out == nil, nil
}

// settle is Settle and Withdraw: with withdraw, the job must still be
// queued and is deleted (out is nil then).
func (a *Admitter) settle(ctx context.Context, id string, charge, withdraw bool) (*jobs.Job, error) {
	var out *jobs.Job
	var committedRows int64 // what this settlement committed, for metrics
	var spentEpsilon float64
	err := a.st.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		out = nil
		committedRows, spentEpsilon = 0, 0
		var j jobs.Job
		if err := tx.Get(jobs.Collection, id, &j); err != nil {
			if errors.Is(err, state.ErrNotFound) {
				return fmt.Errorf("%w: %s", jobs.ErrNotFound, id)
			}
			return err
		}
		out = &j
		if withdraw && j.State != jobs.Queued || !withdraw && (j.Settled || !j.State.Terminal()) {
			return nil
		}
		run, err := readRunning(tx, j.Tenant)
		if err != nil {
			return err
		}
		var writes []func() error
		if r := j.QuotaReservation; r != nil {
			rows := int64(0)
			if j.State == jobs.Succeeded {
				rows = max(j.Request.Rows, 0)
			}
			w, err := a.ent.SettleTx(tx, *r, rows)
			if err != nil {
				return err
			}
			writes = append(writes, w)
			committedRows = rows
		}
		if j.DPReservation != "" {
			to := ledger.Released
			if charge {
				to = ledger.Committed
			}
			w, err := a.ledger.SettleTx(tx, j.DPReservation, to)
			switch {
			case errors.Is(err, ledger.ErrNotFound):
				// The ledger lost the reservation: no retry brings it back;
				// settle the rest rather than hold the quota for ever.
			case errors.Is(err, ledger.ErrState):
				// Settled the other way by a run before Settled existed;
				// what was charged stays charged.
				charge = !charge
			case err != nil:
				return err
			default:
				writes = append(writes, w)
			}
		}
		if j.AIReservation != "" {
			// The job's calls are already in the month's spend: ending
			// the hold is all that settles its AI use.
			w, err := llm.ReleaseTx(tx, j.AIReservation, id)
			if err != nil {
				return err
			}
			if w != nil {
				writes = append(writes, w)
			}
		}
		for _, w := range writes {
			if err := w(); err != nil {
				return err
			}
		}
		if _, ok := run.Jobs[id]; ok {
			delete(run.Jobs, id)
			run.Updated = a.now().UTC()
			if err := tx.Set(CollRunning, j.Tenant, run); err != nil {
				return err
			}
		}
		if withdraw {
			out = nil
			return tx.Delete(jobs.Collection, id)
		}
		j.Settled, j.DPCharged = true, j.DPReservation != "" && charge
		if j.DPCharged {
			spentEpsilon = j.Request.Epsilon
		}
		j.UpdatedAt = a.now().UTC()
		return tx.Set(jobs.Collection, id, &j)
	})
	if err != nil {
		return nil, fmt.Errorf("settle job %s: %w", id, err)
	}
	if out != nil {
		metrics.Default().Quota(ctx, out.Request.Model, committedRows)
		metrics.Default().Epsilon(ctx, out.Request.Model, spentEpsilon)
	}
	return out, nil
}

// PlaceWith returns a Place function that routes jobs through the tenant's
// storage destinations (package destinations): the request's own, else the
// dataset's or the tenant's policy, and refuses with a failed_precondition
// a job whose residency zone excludes platform (where the input and working
// copies live) or a chosen destination.
func PlaceWith(store *destinations.Store, platform destinations.PlatformPlacer) func(ctx context.Context, j *jobs.Job) error {
	return func(ctx context.Context, j *jobs.Job) error {
		jp, err := store.PlanJob(ctx, j.Tenant, j.Request.Dataset, j.Request.Destination, j.Request.SecondaryDestination, platform)
		if err != nil {
			return err
		}
		j.Route, j.Residency = jp.Route, jp.Residency
		return nil
	}
}
