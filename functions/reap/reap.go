// Package reap is the Pub/Sub push function Cloud Scheduler drives (every
// minute, through the reaper-ticks topic): each tick resumes the jobs whose
// lease ran out, fails those resumed too often, and settles finished jobs a
// crash left unsettled (see pipeline.Reap). The local runner publishes the
// same ticks from a ticker.
//
// Each tick also sends last month's executive report to the tenants whose
// webhook endpoints subscribe to report.monthly (analytics.SendMonthly):
// once the month's reports have all gone out a tick costs one read, and a
// failing endpoint is tried again on the next tick. A report failure is
// logged, never returned: it must not make Pub/Sub redeliver the tick.
package reap

import (
	"context"
	"fmt"
	"time"

	"synthos.dev/synthos/shared/analytics"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/webhooks"
)

// New returns the handler of reaper-ticks. The tick's body is ignored: a
// pass is idempotent, so duplicate or late ticks are harmless.
func New(env *platform.Env) (events.Handler, error) {
	p, err := pipeline.New(env, pipeline.Options{})
	if err != nil {
		return nil, fmt.Errorf("reap: %w", err)
	}
	var hooks *webhooks.Lazy
	if env.Secrets != nil { // without secrets no endpoint secret can be opened
		if hooks, err = webhooks.NewLazy(env, webhooks.Options{}); err != nil {
			return nil, fmt.Errorf("reap: %w", err)
		}
	}
	an, err := analytics.New(env.State)
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
		sendReports(ctx, env, hooks, an)
		return nil
	}, nil
}

func sendReports(ctx context.Context, env *platform.Env, hooks *webhooks.Lazy, an *analytics.Store) {
	if hooks == nil {
		return
	}
	svc, err := hooks.Service(ctx)
	if err != nil {
		env.Logger.ErrorContext(ctx, "monthly reports: webhooks unavailable", "error", err)
		return
	}
	n, err := analytics.SendMonthly(ctx, env.State, an, svc, time.Now())
	if err != nil {
		env.Logger.ErrorContext(ctx, "monthly reports", "sent", n, "error", err)
	} else if n > 0 {
		env.Logger.InfoContext(ctx, "monthly reports sent", "tenants", n)
	}
}
