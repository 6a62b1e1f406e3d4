// Package billingwebhooks is the HTTP function that receives Paddle and Stripe
// webhooks (/webhooks/paddle, /webhooks/stripe), verifies their signatures,
// records each event once and publishes it to billing-events.
//
// Answers: 200 for a verified event, new or replayed; 400 for a bad or
// missing signature, a stale timestamp, a refused Stripe API version or a
// body that is not an event, with no side effect; 413 for a body over the
// limit; 405 for methods other than POST; 500 when the event could not be
// recorded or published (the provider retries, and the retry publishes an
// event recorded but not yet published; see shared/billing).
package billingwebhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/sethvargo/go-envconfig"

	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/paddle"
	"synthos.dev/synthos/shared/billing/stripe"
	"synthos.dev/synthos/shared/edge"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/web"
)

// New returns the webhook routes, configured from the environment.
func New(env *platform.Env) (http.Handler, error) {
	cfg, err := billing.LoadConfig(context.Background(), envconfig.OsLookuper())
	if err != nil {
		return nil, err
	}
	return NewWithConfig(env, cfg)
}

// NewWithConfig returns the webhook routes with an explicit configuration.
func NewWithConfig(env *platform.Env, cfg billing.Config) (http.Handler, error) {
	if env == nil || env.State == nil || env.Events == nil {
		return nil, errors.New("billingwebhooks: the function needs state and events")
	}
	inbox, err := billing.NewInbox(env.State, env.Events, nil)
	if err != nil {
		return nil, err
	}
	var src billing.SecretGetter
	if env.Secrets != nil {
		src = secrets.Cached(env.Secrets, cfg.SecretTTL)
	}
	logger := env.Logger
	if logger == nil {
		logger = slog.Default()
	}
	h := &handler{inbox: inbox, maxBody: cfg.MaxBodyBytes, log: logger}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/paddle", h.serve(paddle.SignatureHeader, &paddle.Verifier{
		Secrets: billing.SecretList(src, cfg.PaddleSecretName), Tolerance: cfg.PaddleTolerance,
	}))
	mux.Handle("/webhooks/stripe", h.serve(stripe.SignatureHeader, &stripe.Verifier{
		Secrets: billing.SecretList(src, cfg.StripeSecretName), Tolerance: cfg.StripeTolerance,
		IgnoreAPIVersionMismatch: cfg.StripeIgnoreAPIVersion,
	}))
	// The security edge: headers, size limits, IP rules and bans, per-address
	// rate limits and the WAF (bodies are HMAC-verified, so the WAF reads
	// their headers only).
	guard, err := edge.FromConfig(context.Background(), env.Config, edge.Deps{Events: env.Events, Logger: env.Logger})
	if err != nil {
		return nil, fmt.Errorf("billingwebhooks: %w", err)
	}
	return guard.Wrap(mux), nil
}

// verifier checks a provider's signature header and decodes the event.
type verifier interface {
	Verify(ctx context.Context, header string, body []byte) (billing.Event, error)
}

type handler struct {
	inbox   *billing.Inbox
	maxBody int64
	log     *slog.Logger
}

func (h *handler) serve(header string, v verifier) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			web.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST", nil)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				h.reject(w, r, billing.ErrTooLarge)
				return
			}
			web.WriteError(w, http.StatusBadRequest, "bad_request", "could not read the body", nil)
			return
		}
		ev, err := v.Verify(ctx, r.Header.Get(header), body)
		if err != nil {
			h.reject(w, r, err)
			return
		}
		outcome, err := h.inbox.Receive(ctx, ev)
		if err != nil {
			h.log.ErrorContext(ctx, "billing webhook not recorded", "provider", ev.Provider, "event_id", ev.ID, "event_type", ev.Type, "error", err)
			web.WriteError(w, http.StatusInternalServerError, "internal", "the event could not be recorded; deliver it again", nil)
			return
		}
		h.log.InfoContext(ctx, "billing webhook received", "provider", ev.Provider, "event_id", ev.ID, "event_type", ev.Type, "outcome", outcome.String())
		web.WriteJSON(w, http.StatusOK, map[string]any{"received": true, "event_id": ev.ID, "outcome": outcome.String()})
	})
}

// reject answers a delivery that failed verification; nothing was written.
func (h *handler) reject(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := http.StatusInternalServerError, "internal", "the webhook could not be verified"
	switch {
	case errors.Is(err, billing.ErrTooLarge):
		status, code, msg = http.StatusRequestEntityTooLarge, "too_large", "the body exceeds the size limit"
	case errors.Is(err, billing.ErrStale):
		status, code, msg = http.StatusBadRequest, "stale_timestamp", "the signature timestamp is outside the tolerance"
	case errors.Is(err, billing.ErrSignature):
		status, code, msg = http.StatusBadRequest, "invalid_signature", "the signature does not verify"
	case errors.Is(err, billing.ErrAPIVersion):
		status, code, msg = http.StatusBadRequest, "api_version", "the event's API version is not the endpoint's ("+stripe.APIVersion+")"
	case errors.Is(err, billing.ErrMalformed):
		status, code, msg = http.StatusBadRequest, "malformed_event", "the body is not an event"
	}
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	h.log.Log(r.Context(), level, "billing webhook rejected", "path", r.URL.Path, "status", status, "error", err)
	web.WriteError(w, status, code, msg, nil)
}
