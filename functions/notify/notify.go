// Package notify is the Pub/Sub push consumer of job-events: each job state
// change becomes a signed Standard Webhooks delivery to the tenant's
// endpoints (shared/webhooks holds the logic).
//
// A message is acknowledged once every matching endpoint has accepted it (or
// the SSRF guard refused it for good). Otherwise the handler fails after a few
// quick tries and Pub/Sub redelivers with the subscription's backoff; endpoints
// that already accepted are skipped on redelivery, and receivers dedupe on the
// stable webhook-id.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/webhooks"
)

// New returns the consumer with production webhook settings (https only,
// public addresses only).
func New(env *platform.Env) (events.Handler, error) {
	return NewWithOptions(env, webhooks.Options{})
}

// NewWithOptions returns the consumer with o, so that tests and the local
// runner can deliver to loopback receivers (o.Client.AllowLoopbackForTests).
func NewWithOptions(env *platform.Env, o webhooks.Options) (events.Handler, error) {
	if env == nil || env.State == nil || env.Secrets == nil || env.Logger == nil {
		return nil, errors.New("notify.New: the environment needs State, Secrets and Logger")
	}
	hooks, err := webhooks.NewLazy(env, o)
	if err != nil {
		return nil, fmt.Errorf("notify.New: %w", err)
	}
	n := &notifier{hooks: hooks}
	return n.handle, nil
}

type notifier struct {
	hooks *webhooks.Lazy
}

func (n *notifier) handle(ctx context.Context, m *events.Message) error {
	var ev jobs.Event
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		// Redelivery cannot fix it; the dead-letter topic keeps it.
		return fmt.Errorf("notify: message %s: %w: not a job event: %w", m.ID, webhooks.ErrInvalid, err)
	}
	if ev.Type == "" || ev.JobID == "" {
		return fmt.Errorf("notify: message %s: %w: job event without type or job id", m.ID, webhooks.ErrInvalid)
	}
	if ev.Tenant == "" {
		return nil // no customer to tell
	}
	svc, err := n.hooks.Service(ctx)
	if err != nil {
		return err
	}
	err = svc.Deliver(ctx, webhooks.Event{ID: m.ID, Tenant: ev.Tenant, Type: ev.Type, At: ev.At, Data: m.Data})
	if err != nil {
		return fmt.Errorf("notify: job %s %s: %w", ev.JobID, ev.Type, err)
	}
	return nil
}
