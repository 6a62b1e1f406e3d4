package pipeline

import (
	"context"
	"errors"
	"fmt"

	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/platform"
)

// The monthly row quota of a job (shared/billing/entitlements).
//
// The API reserves a job's rows of its tenant's monthly quota before it
// creates the job (jobs.Job.QuotaReservation). When the job ends the
// reservation is settled:
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

// newEntitlements returns the usage meter over env's state. Commit and
// Release need no plan, so the default catalog does.
func newEntitlements(env *platform.Env) (*entitlements.Entitlements, error) {
	e, err := entitlements.New(env.State, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("usage meter: %w", err)
	}
	return e, nil
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
