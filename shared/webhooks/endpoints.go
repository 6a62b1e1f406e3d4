package webhooks

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"synthos.dev/synthos/shared/state"
)

// Options tune a Service. Zero values take the defaults noted.
type Options struct {
	// Client configures the guarded HTTP client.
	Client ClientOptions
	// Attempts is the number of quick tries per endpoint within one Deliver
	// call (default 3).
	Attempts int
	// MinBackoff and MaxBackoff bound the wait between quick tries, which
	// doubles from MinBackoff (defaults 500ms and 4s).
	MinBackoff, MaxBackoff time.Duration
	// Budget bounds one Deliver call in total (default 45s), well inside the
	// push subscription's acknowledgement deadline.
	Budget time.Duration
	// Parallel is how many endpoints one Deliver call sends to at once
	// (default 4).
	Parallel int
	// MaxEndpoints caps a tenant's endpoints (default 20).
	MaxEndpoints int
	// Logger receives failed attempts (endpoint and delivery ids, never URLs'
	// query strings or secrets). Default: discard.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Keyring seals signing secrets with the tenant's Tink keyset (see
	// sealer). Nil: the legacy key seals them (tests, older deployments).
	Keyring Encrypter
}

func (o *Options) defaults() {
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 500 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(4*time.Second, o.MinBackoff)
	}
	if o.Budget <= 0 {
		o.Budget = 45 * time.Second
	}
	if o.Parallel <= 0 {
		o.Parallel = 4
	}
	if o.MaxEndpoints <= 0 {
		o.MaxEndpoints = 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Service manages endpoints and sends webhooks. It is safe for concurrent use.
type Service struct {
	store  state.Store
	seal   *sealer
	client *http.Client
	o      Options
}

// New returns a Service over store. With o.Keyring, signing secrets are
// sealed with Tink and key (the legacy [KeySecret], at least 32 bytes) may
// be nil: it only opens secrets sealed before Tink. Without o.Keyring key
// seals them.
func New(store state.Store, key []byte, o Options) (*Service, error) {
	if store == nil {
		return nil, fmt.Errorf("webhooks.New: %w: nil store", ErrInvalid)
	}
	seal, err := newSealer(o.Keyring, key)
	if err != nil {
		return nil, fmt.Errorf("webhooks.New: %w", err)
	}
	o.defaults()
	return &Service{store: store, seal: seal, client: NewClient(o.Client), o: o}, nil
}

// endpointDoc is an endpoint as stored: with its sealed secrets.
type endpointDoc struct {
	Endpoint
	Secrets []sealedSecret `json:"secrets"`
}

// sealedSecret is one encrypted signing secret; Expires is set on the old
// secret during a rotation.
type sealedSecret struct {
	Sealed    string     `json:"sealed"`
	CreatedAt time.Time  `json:"created_at"`
	Expires   *time.Time `json:"expires,omitempty"`
}

// EndpointInput is what a customer sets on an endpoint.
type EndpointInput struct {
	URL         string   `json:"url"`
	Description string   `json:"description,omitempty"`
	EventTypes  []string `json:"event_types,omitempty"`
}

// Limits on customer input.
const (
	maxDescription = 256
	maxEventTypes  = 32
	maxEventType   = 64
)

func (s *Service) checkInput(in *EndpointInput) error {
	u, err := CheckURL(strings.TrimSpace(in.URL), s.o.Client)
	if err != nil {
		return err
	}
	in.URL = u.String()
	if len(in.Description) > maxDescription {
		return fmt.Errorf("%w: description longer than %d bytes", ErrInvalid, maxDescription)
	}
	if len(in.EventTypes) > maxEventTypes {
		return fmt.Errorf("%w: more than %d event types", ErrInvalid, maxEventTypes)
	}
	for _, t := range in.EventTypes {
		if t == "" || len(t) > maxEventType || strings.ContainsAny(t, " \t\r\n") {
			return fmt.Errorf("%w: event type %q (want e.g. job.succeeded, job.* or *)", ErrInvalid, t)
		}
		if strings.Contains(t, "*") && t != "*" && (!strings.HasSuffix(t, ".*") || strings.Count(t, "*") > 1) {
			return fmt.Errorf("%w: event type %q: a wildcard may only end a type, as in job.*", ErrInvalid, t)
		}
	}
	return nil
}

func checkTenant(tenant string) error {
	if tenant == "" || strings.Contains(tenant, "/") {
		return fmt.Errorf("%w: tenant %q", ErrInvalid, tenant)
	}
	return nil
}

func newID(prefix string) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("webhooks: id: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}

// CreateEndpoint registers an enabled endpoint for tenant and returns it with
// its signing secret, which is shown this once and never again.
func (s *Service) CreateEndpoint(ctx context.Context, tenant string, in EndpointInput) (Endpoint, string, error) {
	if err := checkTenant(tenant); err != nil {
		return Endpoint{}, "", fmt.Errorf("webhooks.CreateEndpoint: %w", err)
	}
	if err := s.checkInput(&in); err != nil {
		return Endpoint{}, "", fmt.Errorf("webhooks.CreateEndpoint: %w", err)
	}
	existing, err := s.ListEndpoints(ctx, tenant)
	if err != nil {
		return Endpoint{}, "", fmt.Errorf("webhooks.CreateEndpoint: %w", err)
	}
	if len(existing) >= s.o.MaxEndpoints {
		return Endpoint{}, "", fmt.Errorf("webhooks.CreateEndpoint: %w (%d)", ErrLimit, s.o.MaxEndpoints)
	}
	id, err := newID("ep_")
	if err != nil {
		return Endpoint{}, "", err
	}
	secret, err := NewSecret()
	if err != nil {
		return Endpoint{}, "", err
	}
	sealed, err := s.seal.seal(ctx, tenant, id, secret)
	if err != nil {
		return Endpoint{}, "", err
	}
	now := s.o.Now().UTC()
	doc := endpointDoc{
		Endpoint: Endpoint{ID: id, Tenant: tenant, URL: in.URL, Description: in.Description,
			EventTypes: in.EventTypes, Enabled: true, CreatedAt: now, UpdatedAt: now},
		Secrets: []sealedSecret{{Sealed: sealed, CreatedAt: now}},
	}
	if err := s.store.Create(ctx, CollEndpoints, id, doc); err != nil {
		return Endpoint{}, "", fmt.Errorf("webhooks.CreateEndpoint: %w", err)
	}
	return doc.Endpoint, secret, nil
}

// getEndpoint reads an endpoint of tenant; another tenant's is ErrNotFound.
func (s *Service) getEndpoint(ctx context.Context, tenant, id string) (endpointDoc, error) {
	var doc endpointDoc
	if id == "" || strings.Contains(id, "/") {
		return doc, fmt.Errorf("%w: endpoint %q", ErrNotFound, id)
	}
	err := s.store.Get(ctx, CollEndpoints, id, &doc)
	if errors.Is(err, state.ErrNotFound) || err == nil && doc.Tenant != tenant {
		return endpointDoc{}, fmt.Errorf("%w: endpoint %s", ErrNotFound, id)
	}
	if err != nil {
		return endpointDoc{}, fmt.Errorf("read endpoint %s: %w", id, err)
	}
	return doc, nil
}

// GetEndpoint returns one of tenant's endpoints.
func (s *Service) GetEndpoint(ctx context.Context, tenant, id string) (Endpoint, error) {
	doc, err := s.getEndpoint(ctx, tenant, id)
	if err != nil {
		return Endpoint{}, fmt.Errorf("webhooks.GetEndpoint: %w", err)
	}
	return doc.Endpoint, nil
}

// ListEndpoints returns tenant's endpoints, oldest first.
func (s *Service) ListEndpoints(ctx context.Context, tenant string) ([]Endpoint, error) {
	docs, err := s.endpointDocs(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("webhooks.ListEndpoints: %w", err)
	}
	out := make([]Endpoint, len(docs))
	for i, d := range docs {
		out[i] = d.Endpoint
	}
	return out, nil
}

func (s *Service) endpointDocs(ctx context.Context, tenant string) ([]endpointDoc, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	docs, err := s.store.Query(ctx, CollEndpoints, state.Query{Where: []state.Eq{{Field: "tenant", Value: tenant}}})
	if err != nil {
		return nil, fmt.Errorf("query endpoints: %w", err)
	}
	out := make([]endpointDoc, 0, len(docs))
	for _, d := range docs {
		var e endpointDoc
		if err := d.DataTo(&e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b endpointDoc) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// UpdateEndpoint replaces an endpoint's URL, description and filter, and sets
// whether it is enabled. Its secrets are kept.
func (s *Service) UpdateEndpoint(ctx context.Context, tenant, id string, in EndpointInput, enabled bool) (Endpoint, error) {
	if err := s.checkInput(&in); err != nil {
		return Endpoint{}, fmt.Errorf("webhooks.UpdateEndpoint: %w", err)
	}
	var out Endpoint
	err := s.update(ctx, tenant, id, func(doc *endpointDoc) error {
		doc.URL, doc.Description, doc.EventTypes, doc.Enabled = in.URL, in.Description, in.EventTypes, enabled
		out = doc.Endpoint
		return nil
	})
	if err != nil {
		return Endpoint{}, fmt.Errorf("webhooks.UpdateEndpoint: %w", err)
	}
	return out, nil
}

// update applies fn to tenant's endpoint id in a transaction.
func (s *Service) update(ctx context.Context, tenant, id string, fn func(*endpointDoc) error) error {
	if id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("%w: endpoint %q", ErrNotFound, id)
	}
	return s.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var doc endpointDoc
		err := tx.Get(CollEndpoints, id, &doc)
		if errors.Is(err, state.ErrNotFound) || err == nil && doc.Tenant != tenant {
			return fmt.Errorf("%w: endpoint %s", ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("read endpoint %s: %w", id, err)
		}
		if err := fn(&doc); err != nil {
			return err
		}
		doc.UpdatedAt = s.o.Now().UTC()
		return tx.Set(CollEndpoints, id, doc)
	})
}

// DeleteEndpoint removes one of tenant's endpoints. Its delivery log stays,
// for the record; replaying those deliveries fails with ErrNotFound.
func (s *Service) DeleteEndpoint(ctx context.Context, tenant, id string) error {
	if id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("webhooks.DeleteEndpoint: %w: endpoint %q", ErrNotFound, id)
	}
	err := s.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var doc endpointDoc
		err := tx.Get(CollEndpoints, id, &doc)
		if errors.Is(err, state.ErrNotFound) || err == nil && doc.Tenant != tenant {
			return fmt.Errorf("%w: endpoint %s", ErrNotFound, id)
		}
		if err != nil {
			return fmt.Errorf("read endpoint %s: %w", id, err)
		}
		return tx.Delete(CollEndpoints, id)
	})
	if err != nil {
		return fmt.Errorf("webhooks.DeleteEndpoint: %w", err)
	}
	return nil
}

// MaxGrace bounds how long an old secret stays valid after a rotation.
const MaxGrace = 7 * 24 * time.Hour

// RotateSecret gives an endpoint a new signing secret and returns it (shown
// this once). Secrets that were valid stay valid for grace more (0 ends them
// now, at most MaxGrace), and until then every message carries a signature
// for each, so receivers can move to the new secret without losing messages.
func (s *Service) RotateSecret(ctx context.Context, tenant, id string, grace time.Duration) (string, error) {
	if grace < 0 || grace > MaxGrace {
		return "", fmt.Errorf("webhooks.RotateSecret: %w: grace %s outside 0 to %s", ErrInvalid, grace, MaxGrace)
	}
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	sealed, err := s.seal.seal(ctx, tenant, id, secret)
	if err != nil {
		return "", err
	}
	now := s.o.Now().UTC()
	until := now.Add(grace)
	err = s.update(ctx, tenant, id, func(doc *endpointDoc) error {
		kept := []sealedSecret{{Sealed: sealed, CreatedAt: now}}
		if grace > 0 {
			for _, old := range doc.Secrets {
				if old.Expires != nil && !old.Expires.After(now) {
					continue
				}
				if old.Expires == nil || old.Expires.After(until) {
					old.Expires = &until
				}
				kept = append(kept, old)
			}
		}
		doc.Secrets = kept
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("webhooks.RotateSecret: %w", err)
	}
	return secret, nil
}

// secrets returns the endpoint's valid signing secrets, newest first.
func (s *Service) secrets(ctx context.Context, doc endpointDoc) ([]string, error) {
	now := s.o.Now()
	var out []string
	for _, sec := range doc.Secrets {
		if sec.Expires != nil && !sec.Expires.After(now) {
			continue
		}
		plain, err := s.seal.open(ctx, doc.Tenant, doc.ID, sec.Sealed)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", doc.ID, err)
		}
		out = append(out, plain)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("endpoint %s: %w: no valid signing secret", doc.ID, ErrCorrupt)
	}
	return out, nil
}

// matches reports whether an endpoint filtered on types wants eventType:
// an empty filter or "*" takes every type, "job.*" every type starting "job.".
func matches(types []string, eventType string) bool {
	if len(types) == 0 {
		return true
	}
	for _, t := range types {
		if t == "*" || t == eventType {
			return true
		}
		if p, ok := strings.CutSuffix(t, "*"); ok && strings.HasPrefix(eventType, p) {
			return true
		}
	}
	return false
}

// Subscribers lists the tenants with an enabled endpoint that takes
// eventType, sorted: who a platform-driven event (a monthly report) is for.
func (s *Service) Subscribers(ctx context.Context, eventType string) ([]string, error) {
	docs, err := s.store.Query(ctx, CollEndpoints, state.Query{Where: []state.Eq{{Field: "enabled", Value: true}}})
	if err != nil {
		return nil, fmt.Errorf("webhooks.Subscribers: query endpoints: %w", err)
	}
	seen := map[string]bool{}
	for _, d := range docs {
		var e endpointDoc
		if err := d.DataTo(&e); err != nil {
			return nil, fmt.Errorf("webhooks.Subscribers: %w", err)
		}
		if e.Enabled && e.Tenant != "" && matches(e.EventTypes, eventType) {
			seen[e.Tenant] = true
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	slices.Sort(out)
	return out, nil
}
