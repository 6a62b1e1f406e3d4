// Package tally is the Pub/Sub push consumer of job-events that keeps the
// per-tenant analytics (shared/analytics): each finished job is folded into
// its tenant's daily aggregates once, whatever Pub/Sub redelivers.
package tally

import (
	"errors"

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
	return analytics.NewConsumer(s, jobs.New(env.State), env.Objects).Handle, nil
}
