// Package subscriptions is the Pub/Sub push consumer of billing-events: it
// applies Paddle and Stripe events to each tenant's subscription record
// (shared/billing/subscription), which entitlements read to pick the plan.
package subscriptions

import (
	"errors"

	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/billing/subscription"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
)

// New returns the consumer. The plan catalog comes from SYNTHOS_PLANS_FILE
// or SYNTHOS_PLANS_JSON (plans.FromEnv).
func New(env *platform.Env) (events.Handler, error) {
	if env == nil || env.State == nil {
		return nil, errors.New("subscriptions: the function needs state")
	}
	catalog, err := plans.FromEnv(nil)
	if err != nil {
		return nil, err
	}
	s, err := subscription.New(env.State, catalog, nil)
	if err != nil {
		return nil, err
	}
	return s.Handle, nil
}
