// Package reap is the Pub/Sub push function Cloud Scheduler drives (every
// minute, through the reaper-ticks topic): each tick resumes the jobs whose
// lease ran out, fails those resumed too often, and settles finished jobs a
// crash left unsettled (see pipeline.Reap). The local runner publishes the
// same ticks from a ticker.
package reap

import (
	"context"
	"fmt"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/platform"
)

// New returns the handler of reaper-ticks. The tick's body is ignored: a
// pass is idempotent, so duplicate or late ticks are harmless.
func New(env *platform.Env) (events.Handler, error) {
	p, err := pipeline.New(env, pipeline.Options{})
	if err != nil {
		return nil, fmt.Errorf("reap: %w", err)
	}
	return func(ctx context.Context, m *events.Message) error {
		r, err := p.Reap(ctx)
		if err != nil {
			return fmt.Errorf("reap: %w", err)
		}
		if r != (pipeline.Reaped{}) {
			env.Logger.InfoContext(ctx, "reaper pass", "resumed", r.Resumed, "failed", r.Failed, "settled", r.Settled)
		}
		return nil
	}, nil
}
