package pipeline

import (
	"context"
	"errors"
	"fmt"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/dp/ledger"
	"synthos.dev/synthos/shared/engine"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/platform"
)

// The privacy budget of a dp job (DESIGN.md §4, shared/dp/ledger).
//
// The API reserves the job's rho before it creates the job; a job created
// otherwise (an upload's metadata, see Ingest) reserves it in the first
// step, before anything is fitted. The model is fitted with exactly the
// reserved rho. When the job ends the reservation is settled:
//
//   - succeeded: committed (charged);
//   - failed or cancelled before the model was fitted (no model object at
//     datasets.ModelKey): released (refunded), since nothing computed from
//     the data was kept;
//   - failed or cancelled after the model was fitted: committed as well.
//     The noise was drawn on the real data and the model holds the result,
//     so the privacy cost is incurred whatever happens next: refunding it
//     would let a tenant fit, fail on purpose (strict thresholds, say) and
//     fit again for free. The job's reasons say so (fittedNote).
//
// Settling is idempotent (Commit and Release are) and happens wherever a
// step finds the job finished, so a redelivery settles what a crash left
// open. A ledger error is returned, so the message is redelivered: a charge
// is never silently dropped.

// fittedNote is added to the reasons of a dp job that failed after its
// model was fitted.
const fittedNote = "privacy budget charged: the model had been fitted"

// newLedger returns the privacy budget ledger over env's state, with the
// configured default cap.
func newLedger(env *platform.Env) (*ledger.Ledger, error) {
	eps, delta := env.Config.DPBudget()
	l, err := ledger.New(env.State, ledger.Options{DefaultEpsilon: eps, DefaultDelta: delta})
	if err != nil {
		return nil, fmt.Errorf("privacy budget ledger: %w", err)
	}
	return l, nil
}

// ensureReservation returns j with a privacy budget reservation when it is
// a dp job: the one it holds, or a new one. A reservation for j left open
// by a delivery that died before recording it is reused; of two deliveries
// racing, the one whose reservation is recorded first wins and the other
// releases its own. Over budget the job cannot succeed (permanent).
func (p *Pipeline) ensureReservation(ctx context.Context, j *jobs.Job) (*jobs.Job, error) {
	if j.Request.Model != engine.KindDP || j.DPReservation != "" {
		return j, nil
	}
	if !(j.Request.Epsilon > 0) {
		return nil, permanent("model dp needs a positive epsilon (the privacy budget, e.g. 1), got %v", j.Request.Epsilon)
	}
	delta := j.Request.Delta
	if delta == 0 {
		delta = engine.DefaultDelta
	}
	rho, err := dp.Rho(j.Request.Epsilon, delta)
	if err != nil {
		return nil, permanent("model dp: epsilon %v at delta %v: %w", j.Request.Epsilon, delta, err)
	}
	hist, err := p.ledger.History(ctx, j.Tenant, j.Request.Dataset)
	if err != nil {
		return nil, fmt.Errorf("reserve privacy budget: %w", err)
	}
	id := ""
	for _, c := range hist {
		if c.Job == j.ID && c.State == ledger.Reserved {
			id, rho = c.ID, c.Rho
			break
		}
	}
	if id == "" {
		if id, err = p.ledger.Reserve(ctx, j.Tenant, j.Request.Dataset, j.ID, rho); err != nil {
			return nil, fmt.Errorf("reserve privacy budget: %w", err)
		}
	}
	cur, _, err := p.jobs.Update(ctx, j.ID, "", func(j *jobs.Job) error {
		if j.DPReservation == "" {
			j.DPReservation, j.DPRho = id, rho
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record privacy budget reservation: %w", err)
	}
	if cur.DPReservation != id {
		if err := p.ledger.Release(ctx, id); err != nil {
			return nil, fmt.Errorf("release a duplicate privacy budget reservation: %w", err)
		}
	}
	return cur, nil
}

// fitted reports whether the job's model object exists.
func (p *Pipeline) fitted(ctx context.Context, j *jobs.Job) (bool, error) {
	ok, err := objects.Exists(ctx, p.env.Objects, datasets.ModelKey(j.Tenant, j.ID))
	if err != nil {
		return false, fmt.Errorf("look for the model of job %s: %w", j.ID, err)
	}
	return ok, nil
}

// settleBudget settles the privacy budget reservation of job id if the job
// has finished (see the comment at the top of this file). Unfinished jobs
// and jobs without a reservation are left alone.
func (p *Pipeline) settleBudget(ctx context.Context, id string) error {
	j, err := p.jobs.Load(ctx, id)
	if err != nil {
		return fmt.Errorf("settle privacy budget: %w", err)
	}
	if j.DPReservation == "" || !j.State.Terminal() {
		return nil
	}
	charge := j.State == jobs.Succeeded
	if !charge {
		if charge, err = p.fitted(ctx, j); err != nil {
			return fmt.Errorf("settle privacy budget: %w", err)
		}
	}
	if !charge {
		err := p.ledger.Release(ctx, j.DPReservation)
		switch {
		case errors.Is(err, ledger.ErrNotFound):
			p.logger().ErrorContext(ctx, "privacy budget reservation not found; nothing to refund",
				"job", j.ID, "reservation", j.DPReservation, "error", err)
			return nil
		case errors.Is(err, ledger.ErrState):
			// Already committed by a delivery that saw the model: what was
			// charged stays charged.
			return nil
		case err != nil:
			return fmt.Errorf("refund the privacy budget of job %s: %w", j.ID, err)
		}
		return nil
	}
	err = p.ledger.Commit(ctx, j.DPReservation)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		// The ledger lost the reservation: no retry brings it back.
		p.logger().ErrorContext(ctx, "privacy budget reservation not found; the job's charge is not recorded",
			"job", j.ID, "reservation", j.DPReservation, "error", err)
		return nil
	case errors.Is(err, ledger.ErrState) && j.State == jobs.Succeeded:
		p.logger().ErrorContext(ctx, "privacy budget of a succeeded job was refunded",
			"job", j.ID, "reservation", j.DPReservation, "error", err)
		return nil
	case errors.Is(err, ledger.ErrState):
		// Refunded by a delivery that found no model, while another was
		// still fitting one (the job had already failed, so the model was
		// never sampled). The budget cannot be charged any more, so the
		// unpaid model is removed rather than kept.
		key := datasets.ModelKey(j.Tenant, j.ID)
		p.logger().ErrorContext(ctx, "model fitted after its privacy budget was refunded; removing it",
			"job", j.ID, "reservation", j.DPReservation, "model", key)
		if derr := p.env.Objects.Delete(ctx, key); derr != nil && !notFound(derr) {
			return fmt.Errorf("remove the unpaid model of job %s: %w", j.ID, derr)
		}
		return nil
	case err != nil:
		return fmt.Errorf("charge the privacy budget of job %s: %w", j.ID, err)
	}
	return nil
}
