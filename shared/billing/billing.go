// Package billing receives the payment providers' webhooks: it holds the
// provider-neutral event, the errors a webhook can fail with, and the Inbox
// that records each verified event exactly once and publishes it to the
// billing-events topic.
//
// The providers' wire formats live in the sub-packages paddle and stripe;
// plans, subscription, entitlements and guard hold the state that the
// published events drive (see the README: the flow of a job, billing).
//
// # Delivery guarantees
//
// A verified event is stored (raw body and dedupe record) in one state
// transaction, then published, then marked published. A crash between the
// commit and the publish leaves a record marked unpublished; the provider
// retries any delivery that was not answered 2xx, and the retry finds the
// record and publishes it then. Two concurrent retries of an unpublished
// event may both publish: billing-events is at-least-once like every topic,
// and its consumer dedupes on the provider's event id, never on the Pub/Sub
// message id.
package billing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"synthos.dev/synthos/shared/secrets"
)

// Provider names a payment provider. It is the "provider" attribute of every
// billing-events message.
type Provider string

// The providers Synthos takes webhooks from.
const (
	Paddle Provider = "paddle"
	Stripe Provider = "stripe"
)

// Attributes of a billing-events message.
const (
	AttrProvider  = "provider"
	AttrEventType = "event_type"
	AttrEventID   = "event_id"
)

// Event is a verified provider event.
type Event struct {
	Provider Provider
	// ID is the provider's event id (Paddle event_id, Stripe id): the dedupe key.
	ID string
	// Type is the provider's event type (Paddle event_type, Stripe type).
	Type string
	// OccurredAt is when the provider says the event happened (Paddle
	// occurred_at, Stripe created); consumers order events by it.
	OccurredAt time.Time
	// Body is the raw request body exactly as signed.
	Body []byte
}

// Errors a webhook fails with, to be tested with errors.Is. The first five are
// the sender's fault (HTTP 400 or 413) and have no side effect.
var (
	// ErrSignature: the signature header is missing or malformed, or no
	// signature matches any configured secret (including a tampered body).
	ErrSignature = errors.New("billing: invalid webhook signature")
	// ErrStale: the signed timestamp is outside the tolerance (a replay).
	ErrStale = errors.New("billing: webhook timestamp outside tolerance")
	// ErrAPIVersion: a Stripe event rendered with an API version this
	// endpoint does not accept.
	ErrAPIVersion = errors.New("billing: event API version not accepted")
	// ErrMalformed: the signed body is not an event of the provider's shape.
	ErrMalformed = errors.New("billing: malformed event")
	// ErrTooLarge: the body exceeds the size limit.
	ErrTooLarge = errors.New("billing: webhook body too large")
	// ErrNoSecret: the webhook secret is not configured; the endpoint
	// cannot verify anything (a deployment fault, HTTP 500 so the provider
	// retries once it is fixed).
	ErrNoSecret = errors.New("billing: webhook secret not configured")
)

// SecretGetter is the part of secrets.Source the webhooks need.
type SecretGetter interface {
	Get(ctx context.Context, name string) ([]byte, error)
}

// Secrets returns the list of currently valid signing secrets.
type Secrets func(ctx context.Context) ([]string, error)

// SecretList reads secret name from src on every call (wrap src in
// secrets.Cached to spare the backend) and splits it at commas, so that
// during a rotation the secret can hold the old and the new value
// ("old,new") and a signature made with either is accepted. Blank entries
// are dropped; a missing or blank secret is ErrNoSecret.
func SecretList(src SecretGetter, name string) Secrets {
	return func(ctx context.Context) ([]string, error) {
		if src == nil {
			return nil, fmt.Errorf("billing: secret %q: %w: no secret source", name, ErrNoSecret)
		}
		b, err := src.Get(ctx, name)
		if errors.Is(err, secrets.ErrNotFound) {
			return nil, fmt.Errorf("billing: secret %q: %w: %w", name, ErrNoSecret, err)
		}
		if err != nil {
			return nil, fmt.Errorf("billing: secret %q: %w", name, err)
		}
		var out []string
		for s := range strings.SplitSeq(string(b), ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("billing: secret %q: %w: empty value", name, ErrNoSecret)
		}
		return out, nil
	}
}

// StaticSecrets returns fixed secrets, for tests and tools.
func StaticSecrets(s ...string) Secrets {
	return func(context.Context) ([]string, error) {
		if len(s) == 0 {
			return nil, fmt.Errorf("billing: %w", ErrNoSecret)
		}
		return s, nil
	}
}

// checkEventID accepts ids usable as a state document id.
func checkEventID(id string) error {
	if id == "" || len(id) > 255 || strings.ContainsAny(id, "/") || strings.HasPrefix(id, "__") || id == "." || id == ".." {
		return fmt.Errorf("%w: event id %.64q", ErrMalformed, id)
	}
	return nil
}
