package pipeline

import (
	"context"
	"fmt"

	"synthos.dev/synthos/shared/admission"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/platform"
)

// Reservations: a job's monthly rows and, for the dp model, its privacy
// budget are reserved when it is admitted (package admission: by the API,
// or by Ingest for an upload) and settled by admission.Settle once the job
// has finished, wherever a step, the dead-letter consumer or the reaper
// finds it so. The pipeline itself never reserves.
//
// A dp model is fitted with exactly the reserved rho. A dp job that fails
// after its model was fitted is charged, not refunded: the noise was drawn
// on the real data and the model holds the result, so the privacy cost is
// incurred whatever happens next (refunding it would let a tenant fit,
// fail on purpose and fit again for free). Its reasons say so (fittedNote).

// fittedNote is added to the reasons of a dp job that failed after its
// model was fitted.
const fittedNote = "privacy budget charged: the model had been fitted"

// NewAdmitter returns the admission over env's state with the plan catalog
// of the environment (plans.FromEnv, as the API reads it) and the
// configured default privacy budget cap.
func NewAdmitter(env *platform.Env) (*admission.Admitter, error) {
	catalog, err := plans.FromEnv(nil)
	if err != nil {
		return nil, fmt.Errorf("plans: %w", err)
	}
	eps, delta := env.Config.DPBudget()
	aopts := admission.Options{Catalog: catalog, BudgetEpsilon: eps, BudgetDelta: delta}
	// SYNTHOS_AI_BUDGETS overrides the catalog's AI budgets per plan.
	if aopts.AIBudgets, err = plans.ParseAIBudgets(env.Config.AIBudgets()); err != nil {
		return nil, fmt.Errorf("plans: %w", err)
	}
	if env.Destinations != nil {
		aopts.Place = admission.PlaceWith(env.Destinations.Store(), env.Placement())
	}
	a, err := admission.New(env.State, aopts)
	if err != nil {
		return nil, fmt.Errorf("admission: %w", err)
	}
	return a, nil
}

// fittedModel reports whether the job's model object exists.
func (p *Pipeline) fittedModel(ctx context.Context, j *jobs.Job) (bool, error) {
	ok, err := objects.Exists(ctx, p.env.Objects, datasets.ModelKey(j.Tenant, j.ID))
	if err != nil {
		return false, fmt.Errorf("look for the model of job %s: %w", j.ID, err)
	}
	return ok, nil
}
