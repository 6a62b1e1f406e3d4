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
	"sync"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
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
	if o.Logger == nil {
		o.Logger = env.Logger
	}
	n := &notifier{env: env, opts: o}
	return n.handle, nil
}

type notifier struct {
	env  *platform.Env
	opts webhooks.Options

	mu  sync.Mutex
	svc *webhooks.Service
}

// service builds the webhooks Service on first use: the encryption key is
// read from the secrets adapter then, with the request's context, and a
// failure is retried on the next message instead of being cached.
func (n *notifier) service(ctx context.Context) (*webhooks.Service, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.svc != nil {
		return n.svc, nil
	}
	opts := n.opts
	ring, err := n.env.Keyring(ctx)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if ring != nil {
		opts.Keyring = ring
	}
	key, err := n.env.Secrets.Get(ctx, webhooks.KeySecret)
	// With a keyring the legacy key only opens pre-Tink secrets.
	if err != nil && !(ring != nil && errors.Is(err, secrets.ErrNotFound)) {
		return nil, fmt.Errorf("notify: read secret %s: %w", webhooks.KeySecret, err)
	}
	svc, err := webhooks.New(n.env.State, key, opts)
	if err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	n.svc = svc
	return svc, nil
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
	svc, err := n.service(ctx)
	if err != nil {
		return err
	}
	err = svc.Deliver(ctx, webhooks.Event{ID: m.ID, Tenant: ev.Tenant, Type: ev.Type, At: ev.At, Data: m.Data})
	if err != nil {
		return fmt.Errorf("notify: job %s %s: %w", ev.JobID, ev.Type, err)
	}
	return nil
}
