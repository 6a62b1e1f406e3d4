package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
)

// Lazy builds a function's Service on first use, from its environment: the
// tenants' keyring and the legacy encryption key are read then, with the
// caller's context, and a failure is retried on the next call instead of
// being cached. Every consumer that delivers webhooks (job events, security
// events, reports) builds its Service here.
type Lazy struct {
	env  *platform.Env
	opts Options

	mu  sync.Mutex
	svc *Service
}

// NewLazy returns a Lazy over env (which needs State and Secrets) with o.
func NewLazy(env *platform.Env, o Options) (*Lazy, error) {
	if env == nil || env.State == nil || env.Secrets == nil {
		return nil, errors.New("webhooks.NewLazy: the environment needs State and Secrets")
	}
	if o.Logger == nil {
		o.Logger = env.Logger
	}
	return &Lazy{env: env, opts: o}, nil
}

// Service returns the Service, building it on the first call that succeeds.
func (l *Lazy) Service(ctx context.Context) (*Service, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.svc != nil {
		return l.svc, nil
	}
	opts := l.opts
	ring, err := l.env.Keyring(ctx)
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	if ring != nil {
		opts.Keyring = ring
	}
	key, err := l.env.Secrets.Get(ctx, KeySecret)
	// With a keyring the legacy key only opens pre-Tink secrets.
	if err != nil && !(ring != nil && errors.Is(err, secrets.ErrNotFound)) {
		return nil, fmt.Errorf("webhooks: read secret %s: %w", KeySecret, err)
	}
	svc, err := New(l.env.State, key, opts)
	if err != nil {
		return nil, err
	}
	l.svc = svc
	return svc, nil
}
