// Package tally is the Pub/Sub push consumer of job-events that keeps the
// per-tenant analytics (shared/analytics): each finished job is folded into
// its tenant's daily aggregates once, whatever Pub/Sub redelivers.
package tally

import (
	"errors"
	"fmt"

	"synthos.dev/synthos/shared/analytics"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/platform"
)

// New returns the consumer.
func New(env *platform.Env) (events.Handler, error) {
	if env == nil || env.State == nil {
		return nil, errors.New("tally.New: the environment needs State")
	}
	s, err := analytics.New(env.State)
	if err != nil {
		return nil, err
	}
	c := analytics.NewConsumer(s, jobs.New(env.State), env.Objects)
	if cfg := env.Config; cfg != nil {
		if c, err = c.WithPrices(analytics.Prices{VCPUSecond: cfg.CostVCPUSecond, GiBSecond: cfg.CostGiBSecond,
			VCPUs: cfg.CostVCPUs, GiB: cfg.CostGiB}); err != nil {
			return nil, fmt.Errorf("tally.New: %w", err)
		}
	}
	return c.Handle, nil
}
