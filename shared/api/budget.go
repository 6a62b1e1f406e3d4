package api

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/dp/ledger"
)

// MaxBudgetEpsilon bounds a dataset's privacy budget cap set through the
// API: far beyond any meaningful guarantee, it only keeps typos out.
const MaxBudgetEpsilon = 1000.0

// PrivacyBudget is a dataset's differential-privacy budget as the API
// shows it. Rho (zero-concentrated DP) is what adds up across jobs; each
// epsilon is the matching rho converted at the cap's delta, so epsilons
// do not add up and remaining_epsilon is less than cap_epsilon minus the
// epsilons of the jobs.
type PrivacyBudget struct {
	Dataset          string          `json:"dataset"`
	CapEpsilon       float64         `json:"cap_epsilon"`
	Delta            float64         `json:"delta"`
	CapRho           float64         `json:"cap_rho"`
	SpentRho         float64         `json:"spent_rho"`
	SpentEpsilon     float64         `json:"spent_epsilon"`
	ReservedRho      float64         `json:"reserved_rho"`
	ReservedEpsilon  float64         `json:"reserved_epsilon"`
	RemainingRho     float64         `json:"remaining_rho"`
	RemainingEpsilon float64         `json:"remaining_epsilon"`
	UpdatedAt        *time.Time      `json:"updated_at,omitempty"`
	Charges          []PrivacyCharge `json:"charges"`
}

// PrivacyCharge is one job's reservation and what became of it: reserved
// (the job runs), committed (spent) or released (refunded).
type PrivacyCharge struct {
	ID        string     `json:"id"`
	Job       string     `json:"job"`
	Rho       float64    `json:"rho"`
	Epsilon   float64    `json:"epsilon"`
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	SettledAt *time.Time `json:"settled_at,omitempty"`
}

// epsilonAt converts rho to epsilon at delta (0 when delta is unusable).
func epsilonAt(rho, delta float64) float64 {
	if !(rho > 0) || !(delta > 0 && delta < 1) {
		return 0
	}
	e, err := dp.Epsilon(rho, delta)
	if err != nil {
		return 0
	}
	return e
}

// PrivacyBudget returns the tenant's dataset's budget and its charges;
// another tenant's dataset is not found.
func (s *Service) PrivacyBudget(ctx context.Context, p *apikeys.Principal, dataset string) (*PrivacyBudget, error) {
	if _, err := s.Datasets.Get(ctx, p.Tenant, dataset); err != nil {
		return nil, err
	}
	b, err := s.Ledger.Get(ctx, p.Tenant, dataset)
	if err != nil {
		return nil, fmt.Errorf("%w: read the privacy budget: %w", ErrUnavailable, err)
	}
	hist, err := s.Ledger.History(ctx, p.Tenant, dataset)
	if err != nil {
		return nil, fmt.Errorf("%w: read the privacy budget history: %w", ErrUnavailable, err)
	}
	v := &PrivacyBudget{
		Dataset: dataset, CapEpsilon: b.CapEpsilon, Delta: b.Delta, CapRho: b.CapRho,
		SpentRho: b.Spent, SpentEpsilon: epsilonAt(b.Spent, b.Delta),
		ReservedRho: b.Pending, ReservedEpsilon: epsilonAt(b.Pending, b.Delta),
		RemainingRho: b.RemainingRho(), RemainingEpsilon: b.RemainingEpsilon(),
		Charges: make([]PrivacyCharge, 0, len(hist)),
	}
	if !b.Updated.IsZero() {
		u := b.Updated
		v.UpdatedAt = &u
	}
	for _, c := range hist {
		pc := PrivacyCharge{ID: c.ID, Job: c.Job, Rho: c.Rho, Epsilon: epsilonAt(c.Rho, b.Delta), State: c.State, CreatedAt: c.Created}
		if !c.Settled.IsZero() {
			st := c.Settled
			pc.SettledAt = &st
		}
		v.Charges = append(v.Charges, pc)
	}
	return v, nil
}

// SetPrivacyBudget sets the cap of the tenant's dataset to (epsilon,
// delta); delta 0 keeps the cap's current delta. A cap below what is
// already spent is allowed and refunds nothing: the remaining budget is
// then zero, running jobs keep their reservations, and new dp jobs are
// refused until the cap is raised again.
func (s *Service) SetPrivacyBudget(ctx context.Context, p *apikeys.Principal, dataset string, epsilon, delta float64) (*PrivacyBudget, error) {
	if _, err := s.Datasets.Get(ctx, p.Tenant, dataset); err != nil {
		return nil, err
	}
	if math.IsNaN(epsilon) || !(epsilon > 0 && epsilon <= MaxBudgetEpsilon) {
		return nil, fieldErr("epsilon", "must be greater than 0 and at most %g", MaxBudgetEpsilon)
	}
	if delta == 0 {
		b, err := s.Ledger.Get(ctx, p.Tenant, dataset)
		if err != nil {
			return nil, fmt.Errorf("%w: read the privacy budget: %w", ErrUnavailable, err)
		}
		delta = b.Delta
	}
	if !(delta > 0 && delta < 1) {
		return nil, fieldErr("delta", "must be greater than 0 and less than 1 (e.g. 1e-9)")
	}
	if err := s.Ledger.SetCap(ctx, p.Tenant, dataset, epsilon, delta); err != nil {
		if errors.Is(err, ledger.ErrInvalid) {
			return nil, fieldErr("epsilon", "with delta %g is not a usable cap: %v", delta, err)
		}
		return nil, fmt.Errorf("%w: set the privacy budget: %w", ErrUnavailable, err)
	}
	s.emit(ctx, p, "dataset.privacy_budget_set", dataset, "success",
		map[string]string{"epsilon": fmt.Sprint(epsilon), "delta": fmt.Sprint(delta)})
	return s.PrivacyBudget(ctx, p, dataset)
}
