// Package budgetalerts is the Pub/Sub push consumer of budget-alerts: it pauses
// generation platform-wide when a Cloud Billing budget notification reports
// spend at or over SYNTHOS_BUDGET_PAUSE_THRESHOLD of the budget, and resumes
// it when a later notification falls below (shared/billing/guard).
package budgetalerts

import (
	"context"
	"errors"

	"github.com/sethvargo/go-envconfig"

	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/guard"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
)

// New returns the consumer.
func New(env *platform.Env) (events.Handler, error) {
	if env == nil || env.State == nil || env.Events == nil {
		return nil, errors.New("budgetalerts: the function needs state and events")
	}
	cfg, err := billing.LoadConfig(context.Background(), envconfig.OsLookuper())
	if err != nil {
		return nil, err
	}
	g, err := guard.New(env.State, env.Events, guard.Options{Threshold: cfg.BudgetThreshold})
	if err != nil {
		return nil, err
	}
	return g.Handle, nil
}
