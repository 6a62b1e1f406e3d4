package pipeline

import (
	"context"
	"errors"
	"fmt"

	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/engine"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/state"
)

// The monthly row quota of a job (shared/billing/entitlements).
//
// The API reserves a job's rows of its tenant's monthly quota before it
// creates the job (jobs.Job.QuotaReservation). A job created otherwise (an
// upload's metadata, see Ingest) reserves them in the first step, once the
// dataset is read (a job of rows 0 asks for as many rows as the dataset
// has), before anything is written or fitted: see ensureQuota. The plan is
// checked as the API checks it (the dp model, rows per job, concurrent jobs
// and the rows left this month), against the same catalog (plans.FromEnv:
// SYNTHOS_PLANS_FILE / SYNTHOS_PLANS_JSON, else the default plans, unless
// Options.Entitlements is given). A refusal fails the job for good with the
// limit's message and name, and holds nothing. Jobs that are not created
// through the API or an upload (tests that store jobs directly) are metered
// the same way, so they run within their tenant's plan: give the Pipeline
// an Entitlements over a suitable catalog for them.
//
// When the job ends the reservation is settled:
//
//   - succeeded: committed with the rows the job produced (its Rows, as
//     resolved when sampling began; never more than were reserved, the
//     rest is released);
//   - failed or cancelled: released. Unlike the privacy budget, nothing is
//     charged: no rows were delivered (a quarantined output is never
//     served), so a failed job costs no quota.
//
// Settling is idempotent (Commit and Release are no-ops once the
// reservation is settled) and happens wherever the privacy budget is
// settled: after every step that finds the job finished, and when a
// message is dead-lettered. A store error is returned, so the message is
// redelivered and the settlement retried; a reservation the store refuses
// as invalid is logged, since no retry changes it.

// newEntitlements returns the plan enforcer and usage meter over env's
// state, with the plan catalog of the environment (as the API reads it).
func newEntitlements(env *platform.Env) (*entitlements.Entitlements, error) {
	catalog, err := plans.FromEnv(nil)
	if err != nil {
		return nil, fmt.Errorf("plans: %w", err)
	}
	e, err := entitlements.New(env.State, catalog, nil)
	if err != nil {
		return nil, fmt.Errorf("usage meter: %w", err)
	}
	return e, nil
}

// newMeter returns a usage meter that only settles reservations: Commit
// and Release need no plan, so the default catalog does.
func newMeter(env *platform.Env) (*entitlements.Entitlements, error) {
	e, err := entitlements.New(env.State, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("usage meter: %w", err)
	}
	return e, nil
}

// nonTerminal are the states of an unfinished job.
var nonTerminal = []jobs.State{jobs.Queued, jobs.Profiling, jobs.Fitting, jobs.Sampling, jobs.Evaluating}

// admitted counts the tenant's unfinished jobs other than j that hold a
// monthly quota reservation: the jobs the plan's concurrency limit counts
// once j runs. Jobs still waiting for their first step to reserve are not
// counted, so uploads arriving together do not refuse one another.
func (p *Pipeline) admitted(ctx context.Context, j *jobs.Job) (int, error) {
	n := 0
	for _, st := range nonTerminal {
		docs, err := p.env.State.Query(ctx, jobs.Collection, state.Query{Where: []state.Eq{{Field: "tenant", Value: j.Tenant}, {Field: "state", Value: string(st)}}})
		if err != nil {
			return 0, fmt.Errorf("count running jobs: %w", err)
		}
		for _, d := range docs {
			var o jobs.Job
			if err := d.DataTo(&o); err != nil {
				return 0, fmt.Errorf("count running jobs: %w", err)
			}
			if o.ID != j.ID && o.QuotaReservation != nil {
				n++
			}
		}
	}
	return n, nil
}

// ensureQuota returns j holding a reservation of rows of its tenant's
// monthly quota: the one it holds, or a new one (key: the job id, so a
// delivery that died before recording it finds it again). A refusal of the
// plan fails the job for good (permanent) and holds nothing. Of two
// deliveries racing across a month's end, the one recorded first wins and
// the other releases its own.
func (p *Pipeline) ensureQuota(ctx context.Context, j *jobs.Job, rows int64) (*jobs.Job, error) {
	if j.QuotaReservation != nil {
		return j, nil
	}
	running, err := p.admitted(ctx, j)
	if err != nil {
		return nil, fmt.Errorf("reserve monthly quota: %w", err)
	}
	r, err := p.ent.Reserve(ctx, j.Tenant, j.ID, entitlements.JobRequest{Rows: rows, DP: j.Request.Model == engine.KindDP, Running: running})
	var le *entitlements.LimitError
	switch {
	case errors.As(err, &le):
		return nil, permanent("%s (limit %s)", le.Error(), le.Limit)
	case errors.Is(err, entitlements.ErrInvalid):
		return nil, permanent("reserve monthly quota: %w", err)
	case err != nil:
		return nil, fmt.Errorf("reserve monthly quota: %w", err)
	}
	cur, _, err := p.jobs.Update(ctx, j.ID, "", func(j *jobs.Job) error {
		if j.QuotaReservation == nil {
			j.QuotaReservation = &r
		}
		return nil
	})
	if err != nil {
		// Not recorded: the next delivery's Reserve returns r again.
		return nil, fmt.Errorf("record monthly quota reservation: %w", err)
	}
	if *cur.QuotaReservation != r {
		if err := p.ent.Release(ctx, r); err != nil {
			return nil, fmt.Errorf("release a duplicate monthly quota reservation: %w", err)
		}
	}
	return cur, nil
}

// settleQuota settles the monthly quota reservation of job id if the job
// has finished (see the comment at the top of this file). Unfinished jobs
// and jobs without a reservation are left alone.
func (p *Pipeline) settleQuota(ctx context.Context, id string) error {
	j, err := p.jobs.Load(ctx, id)
	if err != nil {
		return fmt.Errorf("settle monthly quota: %w", err)
	}
	if j.QuotaReservation == nil || !j.State.Terminal() {
		return nil
	}
	r := *j.QuotaReservation
	what := "release"
	if j.State == jobs.Succeeded {
		what = "commit"
		err = p.ent.Commit(ctx, r, max(j.Request.Rows, 0))
	} else {
		err = p.ent.Release(ctx, r)
	}
	switch {
	case errors.Is(err, entitlements.ErrInvalid):
		p.logger().ErrorContext(ctx, "monthly quota reservation is invalid; the job's usage is not settled",
			"job", j.ID, "reservation", r.JobID, "month", r.Month, "error", err)
		return nil
	case err != nil:
		return fmt.Errorf("%s the monthly quota of job %s: %w", what, j.ID, err)
	}
	return nil
}
