package api

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/webhooks"
)

// Outbound webhooks (shared/webhooks): a tenant's endpoints, their signing
// secrets, the delivery log and replay, under /v1/webhooks.
//
// The webhooks Service needs the key that encrypts signing secrets at rest
// (the webhooks.KeySecret secret). Webhooks reads it on first use, with the
// request's context, like the notify function does; a failure answers 503
// and is retried on the next request instead of being cached, so the API
// starts (and serves everything else) while the secret is being set up.

// Webhooks builds the webhooks Service on first use.
type Webhooks struct {
	store   state.Store
	secrets secrets.Source
	opts    webhooks.Options

	// Keyring, when set, returns the tenants' keyring (nil: none), which
	// seals signing secrets with Tink.
	Keyring func(ctx context.Context) (*keyring.Keyring, error)

	mu  sync.Mutex
	svc *webhooks.Service
}

// NewWebhooks returns the lazily built webhooks Service over st, whose key
// is read from src. o are the production settings unless a test loosens
// o.Client (https only and the SSRF guard by default).
func NewWebhooks(st state.Store, src secrets.Source, o webhooks.Options) *Webhooks {
	return &Webhooks{store: st, secrets: src, opts: o}
}

// service returns the webhooks Service, building it if needed.
func (w *Webhooks) service(ctx context.Context) (*webhooks.Service, error) {
	if w == nil {
		return nil, &CodedError{Code: "unavailable", Kind: ErrUnavailable, Msg: "webhooks are not configured in this deployment"}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.svc != nil {
		return w.svc, nil
	}
	opts := w.opts
	if w.Keyring != nil {
		k, err := w.Keyring(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: webhooks: %w", ErrUnavailable, err)
		}
		if k != nil {
			opts.Keyring = k
		}
	}
	if w.secrets == nil && opts.Keyring == nil {
		return nil, fmt.Errorf("%w: webhooks need the %s secret and no secrets source is configured", ErrUnavailable, webhooks.KeySecret)
	}
	var key []byte
	if w.secrets != nil {
		var err error
		key, err = w.secrets.Get(ctx, webhooks.KeySecret)
		// With a keyring the legacy key only opens pre-Tink secrets.
		if err != nil && !(opts.Keyring != nil && errors.Is(err, secrets.ErrNotFound)) {
			return nil, fmt.Errorf("%w: read the %s secret: %w", ErrUnavailable, webhooks.KeySecret, err)
		}
	}
	svc, err := webhooks.New(w.store, key, opts)
	if err != nil {
		// A key too short is a deployment error, not the caller's.
		return nil, fmt.Errorf("%w: webhooks: %s", ErrUnavailable, err.Error())
	}
	w.svc = svc
	return svc, nil
}

// WebhookEndpoint is an endpoint as the API shows it (no tenant, never a
// secret).
type WebhookEndpoint struct {
	ID          string    `json:"id"`
	URL         string    `json:"url"`
	Description string    `json:"description,omitempty"`
	EventTypes  []string  `json:"event_types"`
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// WebhookEndpointView returns the API view of e.
func WebhookEndpointView(e webhooks.Endpoint) WebhookEndpoint {
	types := e.EventTypes
	if types == nil {
		types = []string{}
	}
	return WebhookEndpoint{ID: e.ID, URL: e.URL, Description: e.Description, EventTypes: types,
		Enabled: e.Enabled, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

// WebhookDelivery is one event sent to one endpoint, with its latest
// attempts, as the API shows it.
type WebhookDelivery struct {
	ID         string             `json:"id"`
	EndpointID string             `json:"endpoint_id"`
	EventID    string             `json:"event_id"`
	EventType  string             `json:"event_type"`
	Payload    string             `json:"payload"`
	Status     string             `json:"status"`
	Attempts   int                `json:"attempts"`
	StatusCode int                `json:"status_code,omitempty"`
	LatencyMS  int64              `json:"latency_ms"`
	Error      string             `json:"error,omitempty"`
	CreatedAt  time.Time          `json:"created_at"`
	LastAt     time.Time          `json:"last_at"`
	Log        []webhooks.Attempt `json:"log"`
}

// WebhookDeliveryView returns the API view of d.
func WebhookDeliveryView(d webhooks.Delivery) WebhookDelivery {
	log := d.Log
	if log == nil {
		log = []webhooks.Attempt{}
	}
	return WebhookDelivery{ID: d.ID, EndpointID: d.EndpointID, EventID: d.EventID, EventType: d.EventType,
		Payload: d.Payload, Status: d.Status, Attempts: d.Attempts, StatusCode: d.StatusCode, LatencyMS: d.LatencyMS,
		Error: d.Error, CreatedAt: d.CreatedAt, LastAt: d.LastAt, Log: log}
}

// hookErr classifies an error of shared/webhooks; what names an endpoint or
// a delivery is "endpoint" or "delivery", id its id.
func hookErr(err error, what, id string) error {
	var ce *CodedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return err
	case errors.Is(err, webhooks.ErrNotFound):
		return &CodedError{Code: "not_found", Kind: ErrNotFound, Msg: fmt.Sprintf("webhook %s %s does not exist", what, id)}
	case errors.Is(err, webhooks.ErrLimit):
		return &CodedError{Code: "webhook_limit", Kind: ErrConflict,
			Msg: "this tenant has the maximum number of webhook endpoints: delete one (DELETE /v1/webhooks/{id}) first"}
	case errors.Is(err, webhooks.ErrDisabled):
		return &CodedError{Code: "endpoint_disabled", Kind: ErrConflict,
			Msg: fmt.Sprintf("the endpoint of webhook %s %s is disabled: enable it (PATCH /v1/webhooks/{id} {\"enabled\":true}) to send to it", what, id)}
	case errors.Is(err, webhooks.ErrInvalid):
		return fmt.Errorf("%w: %s", ErrInvalid, strings.TrimPrefix(err.Error(), "webhooks: invalid argument: "))
	}
	return err
}

// inputField names the request field of a webhooks.ErrInvalid about an
// endpoint's input (the URL is checked first, so it is the description or
// the event types).
func inputField(err error) string {
	if strings.Contains(err.Error(), "description") {
		return "description"
	}
	return "event_types"
}

// hostOf is the host of a URL, for audit details: never the path or query,
// which may carry the customer's tokens.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// CreateWebhook registers an enabled endpoint of the caller's tenant and
// returns it with its signing secret, shown this once.
func (s *Service) CreateWebhook(ctx context.Context, p *apikeys.Principal, in webhooks.EndpointInput) (WebhookEndpoint, string, error) {
	svc, err := s.Webhooks.service(ctx)
	if err != nil {
		return WebhookEndpoint{}, "", err
	}
	if strings.TrimSpace(in.URL) == "" {
		return WebhookEndpoint{}, "", fieldErr("url", "is required: the https URL webhooks are sent to")
	}
	if _, err := webhooks.CheckURL(strings.TrimSpace(in.URL), s.Webhooks.opts.Client); err != nil {
		return WebhookEndpoint{}, "", fieldErr("url", "%s", strings.TrimPrefix(err.Error(), "webhooks: invalid argument: "))
	}
	ep, secret, err := svc.CreateEndpoint(ctx, p.Tenant, in)
	if errors.Is(err, webhooks.ErrInvalid) {
		return WebhookEndpoint{}, "", fieldErr(inputField(err), "%s", strings.TrimPrefix(errors.Unwrap(err).Error(), "webhooks: invalid argument: "))
	}
	if err != nil {
		return WebhookEndpoint{}, "", hookErr(err, "endpoint", "")
	}
	s.emit(ctx, p, "webhook.created", ep.ID, "success", map[string]string{"host": hostOf(ep.URL), "event_types": strings.Join(ep.EventTypes, ",")})
	return WebhookEndpointView(ep), secret, nil
}

// Webhook returns one of the caller's tenant's endpoints.
func (s *Service) Webhook(ctx context.Context, p *apikeys.Principal, id string) (WebhookEndpoint, error) {
	svc, err := s.Webhooks.service(ctx)
	if err != nil {
		return WebhookEndpoint{}, err
	}
	ep, err := svc.GetEndpoint(ctx, p.Tenant, id)
	if err != nil {
		return WebhookEndpoint{}, hookErr(err, "endpoint", id)
	}
	return WebhookEndpointView(ep), nil
}

// ListWebhooks returns the caller's tenant's endpoints, oldest first.
func (s *Service) ListWebhooks(ctx context.Context, p *apikeys.Principal) ([]WebhookEndpoint, error) {
	svc, err := s.Webhooks.service(ctx)
	if err != nil {
		return nil, err
	}
	eps, err := svc.ListEndpoints(ctx, p.Tenant)
	if err != nil {
		return nil, hookErr(err, "endpoint", "")
	}
	out := make([]WebhookEndpoint, len(eps))
	for i, ep := range eps {
		out[i] = WebhookEndpointView(ep)
	}
	return out, nil
}

// SetWebhookEnabled enables or disables one of the tenant's endpoints; its
// URL, filter and secrets are kept. Deliveries to a disabled endpoint are
// not made (and cannot be replayed) until it is enabled again.
func (s *Service) SetWebhookEnabled(ctx context.Context, p *apikeys.Principal, id string, enabled bool) (WebhookEndpoint, error) {
	svc, err := s.Webhooks.service(ctx)
	if err != nil {
		return WebhookEndpoint{}, err
	}
	cur, err := svc.GetEndpoint(ctx, p.Tenant, id)
	if err != nil {
		return WebhookEndpoint{}, hookErr(err, "endpoint", id)
	}
	in := webhooks.EndpointInput{URL: cur.URL, Description: cur.Description, EventTypes: cur.EventTypes}
	ep, err := svc.UpdateEndpoint(ctx, p.Tenant, id, in, enabled)
	if err != nil {
		return WebhookEndpoint{}, hookErr(err, "endpoint", id)
	}
	action := "webhook.disabled"
	if enabled {
		action = "webhook.enabled"
	}
	s.emit(ctx, p, action, id, "success", nil)
	return WebhookEndpointView(ep), nil
}

// DeleteWebhook removes one of the tenant's endpoints and returns it as it
// was. Its delivery log stays; those deliveries can no longer be replayed.
func (s *Service) DeleteWebhook(ctx context.Context, p *apikeys.Principal, id string) (WebhookEndpoint, error) {
	svc, err := s.Webhooks.service(ctx)
	if err != nil {
		return WebhookEndpoint{}, err
	}
	ep, err := svc.GetEndpoint(ctx, p.Tenant, id)
	if err != nil {
		return WebhookEndpoint{}, hookErr(err, "endpoint", id)
	}
	if err := svc.DeleteEndpoint(ctx, p.Tenant, id); err != nil {
		return WebhookEndpoint{}, hookErr(err, "endpoint", id)
	}
	s.emit(ctx, p, "webhook.deleted", id, "success", nil)
	return WebhookEndpointView(ep), nil
}

// RotatedSecret is the answer to a secret rotation.
type RotatedSecret struct {
	Endpoint WebhookEndpoint `json:"endpoint"`
	Secret   string          `json:"secret"`
}

// RotateWebhookSecret gives one of the tenant's endpoints a new signing
// secret, returned this once; the previous secrets stay valid for grace
// (0 to webhooks.MaxGrace), during which every message is signed with all.
func (s *Service) RotateWebhookSecret(ctx context.Context, p *apikeys.Principal, id string, grace time.Duration) (*RotatedSecret, error) {
	svc, err := s.Webhooks.service(ctx)
	if err != nil {
		return nil, err
	}
	if grace < 0 || grace > webhooks.MaxGrace {
		return nil, fieldErr("grace_seconds", "must be from 0 to %d (%s)", int64(webhooks.MaxGrace/time.Second), webhooks.MaxGrace)
	}
	secret, err := svc.RotateSecret(ctx, p.Tenant, id, grace)
	if err != nil {
		return nil, hookErr(err, "endpoint", id)
	}
	ep, err := svc.GetEndpoint(ctx, p.Tenant, id)
	if err != nil {
		return nil, hookErr(err, "endpoint", id)
	}
	out := &RotatedSecret{Endpoint: WebhookEndpointView(ep), Secret: secret}
	s.emit(ctx, p, "webhook.secret_rotated", id, "success", map[string]string{"grace_seconds": fmt.Sprint(int64(grace / time.Second))})
	return out, nil
}

// WebhookDeliveries returns the tenant's delivery log, latest attempt
// first: all endpoints', or only those of endpoint (deleted endpoints'
// too: the log outlives them; an id that is not the tenant's finds
// nothing). limit is 1 to 500.
func (s *Service) WebhookDeliveries(ctx context.Context, p *apikeys.Principal, endpoint string, limit int) ([]WebhookDelivery, error) {
	svc, err := s.Webhooks.service(ctx)
	if err != nil {
		return nil, err
	}
	if strings.Contains(endpoint, "/") {
		return nil, fieldErr("endpoint", "is not an endpoint id")
	}
	ds, err := svc.Deliveries(ctx, p.Tenant, webhooks.DeliveryQuery{EndpointID: endpoint, Limit: limit})
	if err != nil {
		return nil, hookErr(err, "endpoint", endpoint)
	}
	out := make([]WebhookDelivery, len(ds))
	for i, d := range ds {
		out[i] = WebhookDeliveryView(d)
	}
	return out, nil
}

// WebhookDelivery returns one of the tenant's deliveries.
func (s *Service) WebhookDelivery(ctx context.Context, p *apikeys.Principal, id string) (WebhookDelivery, error) {
	svc, err := s.Webhooks.service(ctx)
	if err != nil {
		return WebhookDelivery{}, err
	}
	d, err := svc.GetDelivery(ctx, p.Tenant, id)
	if err != nil {
		return WebhookDelivery{}, hookErr(err, "delivery", id)
	}
	return WebhookDeliveryView(d), nil
}

// ReplayWebhookDelivery sends one of the tenant's deliveries again, once,
// with the same webhook-id and body, and returns it with the attempt
// logged. The endpoint's answer is in the delivery (status, the attempt's
// status code and error): an endpoint that refuses it, or an address the
// SSRF guard refuses, is not an error of the request. A deleted endpoint is
// 404, a disabled one 409.
func (s *Service) ReplayWebhookDelivery(ctx context.Context, p *apikeys.Principal, id string) (WebhookDelivery, error) {
	svc, err := s.Webhooks.service(ctx)
	if err != nil {
		return WebhookDelivery{}, err
	}
	d, err := svc.Replay(ctx, p.Tenant, id)
	outcome := "success"
	switch {
	case err == nil:
	case d.ID != "" && (errors.Is(err, webhooks.ErrDelivery) || errors.Is(err, webhooks.ErrForbidden)):
		outcome = "failed"
	case errors.Is(err, webhooks.ErrNotFound):
		if _, gerr := svc.GetDelivery(ctx, p.Tenant, id); gerr == nil {
			return WebhookDelivery{}, &CodedError{Code: "endpoint_deleted", Kind: ErrNotFound,
				Msg: fmt.Sprintf("the endpoint of webhook delivery %s was deleted; it cannot be replayed", id)}
		}
		return WebhookDelivery{}, hookErr(err, "delivery", id)
	default:
		return WebhookDelivery{}, hookErr(err, "delivery", id)
	}
	s.emit(ctx, p, "webhook.delivery_replayed", id, outcome, map[string]string{"endpoint": d.EndpointID, "status": d.Status})
	return WebhookDeliveryView(d), nil
}
