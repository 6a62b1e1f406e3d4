// Package subscriptions is the Pub/Sub push consumer of billing-events: subscription, plan and quota state.
package subscriptions

import (
	"context"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
)

// New returns the consumer. Until its logic lands it answers every message
// with platform.ErrNotAvailable (HTTP 501 when pushed; dead-lettered by the
// embedded dispatcher), never with a fake success.
func New(env *platform.Env) (events.Handler, error) {
	return func(ctx context.Context, m *events.Message) error {
		return platform.NotAvailable("subscription and plan state", "the billing issue brings it")
	}, nil
}
