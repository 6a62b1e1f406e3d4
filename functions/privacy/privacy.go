// Package privacy is the Pub/Sub push consumer of privacy-checks: quality and privacy-risk evaluation and the release gate.
package privacy

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
		return platform.NotAvailable("quality and privacy evaluation in the pipeline", "the evaluation and pipeline issues bring it")
	}, nil
}
