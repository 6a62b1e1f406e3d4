// Package generate is the Pub/Sub push consumer of generate-requests: load, profile, fit and sample a job's table and write its outputs.
package generate

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
		return platform.NotAvailable("synthetic-data generation in the cloud pipeline", "the serverless pipeline issue brings it; run synthos generate locally meanwhile")
	}, nil
}
