// Package subscription keeps one subscription record per tenant, driven by the
// Paddle and Stripe events that the billing webhook publishes to
// billing-events.
//
// # Tenants
//
// The checkout puts the Synthos tenant id on the provider's objects: Paddle
// custom_data.tenant_id (on the subscription and its transactions), Stripe
// metadata.tenant_id on the subscription (subscription_data.metadata at
// checkout) or client_reference_id / metadata.tenant_id on the checkout
// session. Each event that names both a tenant and a subscription id stores
// a link (CollLinks), so later events of that subscription that do not carry
// the tenant (a Stripe invoice of an old API version, a subscription created
// without metadata) still find it. An event that references a subscription
// whose tenant is not known yet fails with ErrNoTenant: Pub/Sub redelivers
// it with backoff, by which time the linking event has usually arrived, and
// dead-letters it otherwise.
//
// # Ordering and idempotency
//
// Providers deliver out of order and Pub/Sub redelivers. Each applied event
// is recorded in CollApplied (keyed by provider and event id, not by message
// id, since the webhook may publish one event twice) in the same transaction
// as the record it changes, so a redelivery changes nothing. A status event
// older than the last applied one (by the provider's occurred_at / created)
// is recorded as stale and not applied, so state never regresses; events
// with the same timestamp apply in arrival order. Payments are ordered
// separately from statuses. Unknown event types are recorded as ignored.
package subscription

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/state"
)

// TenantKey is the custom data / metadata key that carries the tenant id.
const TenantKey = "tenant_id"

// State collections.
const (
	// CollRecords holds one Record per tenant, keyed by tenant id.
	CollRecords = "subscriptions"
	// CollLinks maps "<provider>-<subscription id>" to a tenant.
	CollLinks = "subscription_links"
	// CollApplied holds one Applied per processed event, keyed
	// "<provider>-<event id>".
	CollApplied = "subscription_events"
)

// Errors, to be tested with errors.Is.
var (
	// ErrMalformed: the event cannot be understood; it is recorded and dropped.
	ErrMalformed = errors.New("subscription: malformed event")
	// ErrNoTenant: the event references a subscription not linked to a
	// tenant yet; redelivery is expected to succeed later.
	ErrNoTenant = errors.New("subscription: tenant not known yet")
)

// Status is a subscription status as the providers name it. Paddle and
// Stripe share these names (Stripe also has incomplete, incomplete_expired
// and unpaid).
type Status string

// Statuses that matter for entitlements.
const (
	Active   Status = "active"
	Trialing Status = "trialing"
	PastDue  Status = "past_due"
	Paused   Status = "paused"
	Canceled Status = "canceled"
)

// Entitling reports whether a subscription in status s grants its plan:
// active, trialing, and past_due (the providers' dunning grace period).
func (s Status) Entitling() bool { return s == Active || s == Trialing || s == PastDue }

// Record is a tenant's subscription.
type Record struct {
	Tenant         string           `json:"tenant"`
	Provider       billing.Provider `json:"provider,omitempty"`
	CustomerID     string           `json:"customer_id,omitempty"`
	SubscriptionID string           `json:"subscription_id,omitempty"`
	Status         Status           `json:"status,omitempty"`
	PriceIDs       []string         `json:"price_ids,omitempty"`
	// Plan is the plan the prices bought when the record was last applied,
	// for display; entitlements recompute it from PriceIDs and the catalog.
	Plan      string    `json:"plan,omitempty"`
	PeriodEnd time.Time `json:"period_end,omitzero"`
	// StatusAt is the occurred_at of the last applied status event.
	StatusAt time.Time `json:"status_at,omitzero"`
	// LastPaymentOK and PaymentAt describe the latest payment event.
	LastPaymentOK bool      `json:"last_payment_ok"`
	PaymentAt     time.Time `json:"payment_at,omitzero"`
	LastEventID   string    `json:"last_event_id,omitempty"`
	LastEventType string    `json:"last_event_type,omitempty"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// PlanIn returns the plan r entitles its tenant to under catalog c: the largest
// plan (by monthly rows) among its price ids while its status is entitling,
// the free plan otherwise.
func (r Record) PlanIn(c *plans.Catalog) plans.Plan {
	best := c.Free()
	if !r.Status.Entitling() {
		return best
	}
	for _, id := range r.PriceIDs {
		if p, ok := c.ForPrice(id); ok && p.RowsPerMonth > best.RowsPerMonth {
			best = p
		}
	}
	return best
}

// Outcome says what happened to one event.
type Outcome string

const (
	Applied    Outcome = "applied"
	Stale      Outcome = "stale"      // older than the state; not applied
	Superseded Outcome = "superseded" // a non-entitling status of a subscription the tenant replaced
	Ignored    Outcome = "ignored"    // unknown event type
	NoTenant   Outcome = "no_tenant"  // names neither a tenant nor a subscription
	Malformed  Outcome = "malformed"
	Duplicate  Outcome = "duplicate" // already processed; nothing changed
)

// AppliedEvent is the CollApplied record of a processed event.
type AppliedEvent struct {
	Provider   billing.Provider `json:"provider"`
	EventID    string           `json:"event_id"`
	Type       string           `json:"type"`
	Tenant     string           `json:"tenant,omitempty"`
	OccurredAt time.Time        `json:"occurred_at,omitzero"`
	Outcome    Outcome          `json:"outcome"`
	Detail     string           `json:"detail,omitempty"`
	At         time.Time        `json:"at"`
}

// Link is the CollLinks document.
type Link struct {
	Tenant string `json:"tenant"`
}

// Store applies billing events to subscription records.
type Store struct {
	state   state.Store
	catalog *plans.Catalog
	now     func() time.Time
}

// New returns a Store over st. catalog nil means plans.Default(); now nil
// means time.Now.
func New(st state.Store, catalog *plans.Catalog, now func() time.Time) (*Store, error) {
	if st == nil {
		return nil, errors.New("subscription.New: a state store is required")
	}
	if catalog == nil {
		catalog = plans.Default()
	}
	if now == nil {
		now = time.Now
	}
	return &Store{state: st, catalog: catalog, now: now}, nil
}

// Get returns tenant's record; state.ErrNotFound when it never subscribed.
func (s *Store) Get(ctx context.Context, tenant string) (Record, error) {
	var r Record
	if err := s.state.Get(ctx, CollRecords, tenant, &r); err != nil {
		return Record{}, fmt.Errorf("subscription.Get %s: %w", tenant, err)
	}
	return r, nil
}

// Handle is the billing-events consumer: it decodes the message by its
// provider attribute and applies it. A malformed event is recorded and
// acknowledged (redelivery cannot fix it); ErrNoTenant and state errors ask
// for redelivery.
func (s *Store) Handle(ctx context.Context, m *events.Message) error {
	provider := billing.Provider(m.Attributes[billing.AttrProvider])
	c, err := Decode(provider, m.Data)
	if err == nil {
		_, err = s.Apply(ctx, c)
	}
	if errors.Is(err, ErrMalformed) {
		return s.recordMalformed(ctx, m, provider, err)
	}
	if err != nil {
		return fmt.Errorf("subscription.Handle %s: %w", m.ID, err)
	}
	return nil
}

// recordMalformed keeps a durable trace of an event that can never apply,
// so that acknowledging it loses nothing.
func (s *Store) recordMalformed(ctx context.Context, m *events.Message, provider billing.Provider, cause error) error {
	id := m.Attributes[billing.AttrEventID]
	if id == "" || validTenant(id) != nil {
		id = "message-" + m.ID
	}
	if provider == "" {
		provider = "unknown"
	}
	rec := AppliedEvent{Provider: provider, EventID: id, Type: m.Attributes[billing.AttrEventType], Outcome: Malformed, Detail: cause.Error(), At: s.now().UTC()}
	if err := s.state.Set(ctx, CollApplied, appliedKey(provider, id), rec); err != nil {
		return fmt.Errorf("subscription.Handle %s: record malformed event: %w", m.ID, err)
	}
	return nil
}

func appliedKey(p billing.Provider, id string) string { return string(p) + "-" + id }

// Apply applies c in one transaction with its dedupe record and returns the
// outcome. Applying the same event again returns Duplicate and writes
// nothing.
func (s *Store) Apply(ctx context.Context, c Change) (Outcome, error) {
	if c.EventID == "" || c.Provider == "" {
		return "", fmt.Errorf("subscription.Apply: %w: change without provider or event id", ErrMalformed)
	}
	key := appliedKey(c.Provider, c.EventID)
	var outcome Outcome
	err := s.state.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		now := s.now().UTC()
		var prev AppliedEvent
		switch err := tx.Get(CollApplied, key, &prev); {
		case err == nil:
			outcome = Duplicate
			return nil
		case !errors.Is(err, state.ErrNotFound):
			return err
		}
		rec := AppliedEvent{Provider: c.Provider, EventID: c.EventID, Type: c.Type, OccurredAt: c.OccurredAt, At: now}
		if c.Kind == KindUnknown {
			outcome, rec.Outcome = Ignored, Ignored
			return tx.Create(CollApplied, key, rec)
		}
		tenant, err := s.resolveTenant(tx, c)
		if err != nil {
			return err
		}
		rec.Tenant = tenant
		if tenant == "" {
			outcome, rec.Outcome = NoTenant, NoTenant
			rec.Detail = "the event names neither a tenant nor a subscription"
			return tx.Create(CollApplied, key, rec)
		}
		var r Record
		if err := tx.Get(CollRecords, tenant, &r); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		r.Tenant = tenant
		outcome, rec.Detail = s.merge(&r, c, now)
		rec.Outcome = outcome
		// Writes only from here: every read is done.
		if err := tx.Create(CollApplied, key, rec); err != nil {
			return err
		}
		if c.Tenant != "" && c.SubscriptionID != "" {
			if err := tx.Set(CollLinks, appliedKey(c.Provider, c.SubscriptionID), Link{Tenant: tenant}); err != nil {
				return err
			}
		}
		if outcome != Applied {
			return nil
		}
		return tx.Set(CollRecords, tenant, r)
	})
	if err != nil {
		return "", fmt.Errorf("subscription.Apply %s: %w", key, err)
	}
	return outcome, nil
}

// resolveTenant returns the event's tenant, or the one linked to its
// subscription; "" when the event names neither. ErrNoTenant when it names a
// subscription that is not linked yet.
func (s *Store) resolveTenant(tx state.Tx, c Change) (string, error) {
	if c.Tenant != "" {
		if err := validTenant(c.Tenant); err != nil {
			return "", err
		}
		return c.Tenant, nil
	}
	if c.SubscriptionID == "" {
		return "", nil
	}
	var l Link
	err := tx.Get(CollLinks, appliedKey(c.Provider, c.SubscriptionID), &l)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return "", fmt.Errorf("%w: %s subscription %s", ErrNoTenant, c.Provider, c.SubscriptionID)
	case err != nil:
		return "", err
	}
	return l.Tenant, nil
}

// validTenant rejects ids that cannot be document ids. Such an id is a
// permanent fault of the event: Handle records it as malformed.
func validTenant(t string) error {
	if len(t) > 128 || slices.Contains([]string{".", ".."}, t) {
		return fmt.Errorf("%w: tenant id %.64q", ErrMalformed, t)
	}
	for _, r := range t {
		if r == '/' || r < 0x20 {
			return fmt.Errorf("%w: tenant id %.64q", ErrMalformed, t)
		}
	}
	return nil
}

// merge applies c to r unless c is older than what r reflects; it returns
// the outcome and a detail for the record.
func (s *Store) merge(r *Record, c Change, now time.Time) (Outcome, string) {
	switch c.Kind {
	case KindStatus:
		if c.OccurredAt.Before(r.StatusAt) {
			return Stale, fmt.Sprintf("status event of %s is older than the applied one of %s", c.OccurredAt.Format(time.RFC3339), r.StatusAt.Format(time.RFC3339))
		}
		if r.SubscriptionID != "" && r.SubscriptionID != c.SubscriptionID && r.Status.Entitling() && !c.Status.Entitling() {
			return Superseded, fmt.Sprintf("status %s of subscription %s while %s is %s", c.Status, c.SubscriptionID, r.SubscriptionID, r.Status)
		}
		r.Provider, r.SubscriptionID, r.Status = c.Provider, c.SubscriptionID, c.Status
		if c.CustomerID != "" {
			r.CustomerID = c.CustomerID
		}
		if len(c.PriceIDs) > 0 {
			r.PriceIDs = slices.Clone(c.PriceIDs)
		}
		if !c.PeriodEnd.IsZero() {
			r.PeriodEnd = c.PeriodEnd
		}
		r.StatusAt = c.OccurredAt
	case KindPayment:
		if c.OccurredAt.Before(r.PaymentAt) {
			return Stale, "payment event older than the applied one"
		}
		r.LastPaymentOK, r.PaymentAt = c.PaymentOK, c.OccurredAt
		if r.CustomerID == "" {
			r.CustomerID = c.CustomerID
		}
	case KindLink:
		if r.SubscriptionID == "" {
			r.Provider, r.SubscriptionID = c.Provider, c.SubscriptionID
		}
		if r.CustomerID == "" {
			r.CustomerID = c.CustomerID
		}
	}
	r.Plan = r.PlanIn(s.catalog).Name
	r.LastEventID, r.LastEventType, r.UpdatedAt = c.EventID, c.Type, now
	return Applied, ""
}
