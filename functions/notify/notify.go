// Package notify is the Pub/Sub push consumer of job-events: signed outbound webhooks to customers.
package notify

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
		return platform.NotAvailable("customer webhooks", "the pipeline issue brings signed Standard Webhooks delivery")
	}, nil
}
