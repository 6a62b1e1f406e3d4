// Package stripe verifies and decodes Stripe webhooks with stripe-go's
// webhook.ConstructEventWithOptions.
//
// # API version
//
// Stripe renders an event's data with the API version of the webhook
// endpoint that receives it, and stripe-go refuses events whose version is
// not of its own release train. This package is built against
// github.com/stripe/stripe-go/v84, whose stripe.APIVersion is
// "2026-02-25.clover" (see APIVersion): create the Stripe webhook endpoint
// with that API version. An event of another release train (for example
// "2024-06-20.acacia", or any version from before release trains) is
// rejected with billing.ErrAPIVersion, which the HTTP function answers 400,
// so Stripe keeps retrying it for days and the mismatch shows up in its
// dashboard instead of being half-understood here. Set
// Verifier.IgnoreAPIVersionMismatch (SYNTHOS_STRIPE_IGNORE_API_VERSION) only
// while moving the endpoint to a new version: the consumer reads only a few
// stable fields (ids, status, metadata, price ids, timestamps), but a new
// train may move them.
//
// # Secrets
//
// During a secret roll Stripe signs with the old and the new secret (several
// v1 entries in Stripe-Signature). Every configured secret (comma-separated
// in the secret) is tried in turn.
package stripe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v84"
	"github.com/stripe/stripe-go/v84/webhook"

	"synthos.dev/synthos/shared/billing"
)

// SignatureHeader is the header Stripe signs deliveries with.
const SignatureHeader = "Stripe-Signature"

// APIVersion is the API version this endpoint expects events in: the one
// stripe-go was built for.
const APIVersion = stripego.APIVersion

// DefaultTolerance is stripe-go's: 300 s between the signed timestamp and now.
const DefaultTolerance = webhook.DefaultTolerance

// Verifier checks Stripe-Signature headers and decodes the signed events.
type Verifier struct {
	// Secrets returns the endpoint's signing secrets (whsec_...).
	Secrets billing.Secrets
	// Tolerance bounds how old the signed timestamp may be; zero means
	// DefaultTolerance. stripe-go does not bound timestamps in the future.
	Tolerance time.Duration
	// IgnoreAPIVersionMismatch accepts events of another release train
	// (see the package doc). Default false.
	IgnoreAPIVersionMismatch bool
}

// Verify checks header against body and returns the decoded event. Errors
// wrap billing.ErrSignature, ErrStale, ErrAPIVersion, ErrMalformed or
// ErrNoSecret.
func (v *Verifier) Verify(ctx context.Context, header string, body []byte) (billing.Event, error) {
	if v.Secrets == nil {
		return billing.Event{}, fmt.Errorf("stripe: %w", billing.ErrNoSecret)
	}
	keys, err := v.Secrets(ctx)
	if err != nil {
		return billing.Event{}, fmt.Errorf("stripe: %w", err)
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	opts := webhook.ConstructEventOptions{Tolerance: tol, IgnoreAPIVersionMismatch: v.IgnoreAPIVersionMismatch}
	for _, key := range keys {
		ev, err := webhook.ConstructEventWithOptions(body, header, key, opts)
		switch {
		case err == nil:
			return toEvent(ev, body)
		case errors.Is(err, webhook.ErrNoValidSignature):
			continue // maybe signed with the next secret
		case errors.Is(err, webhook.ErrTooOld):
			return billing.Event{}, fmt.Errorf("stripe: %w: %w", billing.ErrStale, err)
		case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader):
			return billing.Event{}, fmt.Errorf("stripe: %w: %w", billing.ErrSignature, err)
		default:
			// The signature matched (stripe-go checks it first): the body is
			// not an event, or its API version is refused.
			return billing.Event{}, classify(body, err)
		}
	}
	return billing.Event{}, fmt.Errorf("stripe: %w: no v1 signature matches a configured secret", billing.ErrSignature)
}

// classify tells an API-version refusal from a malformed body; stripe-go
// reports both as plain errors.
func classify(body []byte, err error) error {
	var head struct {
		Object     string `json:"object"`
		APIVersion string `json:"api_version"`
	}
	if json.Unmarshal(body, &head) == nil && head.Object == "event" && !compatible(head.APIVersion) {
		return fmt.Errorf("stripe: %w: event API version %q, endpoint expects %q", billing.ErrAPIVersion, head.APIVersion, APIVersion)
	}
	return fmt.Errorf("stripe: %w: %w", billing.ErrMalformed, err)
}

// compatible mirrors stripe-go's rule: same release train ("yyyy-mm-dd.train").
func compatible(v string) bool {
	_, train, ok := strings.Cut(v, ".")
	_, want, _ := strings.Cut(APIVersion, ".")
	return ok && train == want
}

func toEvent(ev stripego.Event, body []byte) (billing.Event, error) {
	if ev.ID == "" || ev.Type == "" || ev.Created <= 0 {
		return billing.Event{}, fmt.Errorf("stripe: %w: id, type and created are required", billing.ErrMalformed)
	}
	return billing.Event{
		Provider: billing.Stripe, ID: ev.ID, Type: string(ev.Type),
		OccurredAt: time.Unix(ev.Created, 0).UTC(), Body: body,
	}, nil
}

// Sign returns a Stripe-Signature header for body signed at ts with each of
// secrets (one v1 per secret, as during a roll), for tests and local tools.
func Sign(ts time.Time, body []byte, secrets ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "t=%d", ts.Unix())
	for _, s := range secrets {
		fmt.Fprintf(&b, ",v1=%x", webhook.ComputeSignature(ts, body, s))
	}
	return b.String()
}
