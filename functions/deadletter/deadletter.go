// Package deadletter is the Pub/Sub push consumer of the pipeline topics'
// dead-letter topics: a message Pub/Sub gave up on marks its job failed with
// the reason, so that no job stays "running" forever behind a poison message.
package deadletter

import (
	"context"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/platform"
)

// New returns the consumer.
func New(env *platform.Env) (events.Handler, error) {
	return func(ctx context.Context, m *events.Message) error {
		return pipeline.DeadLetter(ctx, env, m)
	}, nil
}
