package subscription

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"synthos.dev/synthos/shared/billing"
)

// Kind is what a provider event means for a tenant's subscription.
type Kind string

const (
	// KindStatus carries the subscription's full state (status, prices, period).
	KindStatus Kind = "status"
	// KindPayment reports a payment that succeeded or failed.
	KindPayment Kind = "payment"
	// KindLink ties a tenant to a customer and subscription (Stripe checkout).
	KindLink Kind = "link"
	// KindUnknown is an event type the consumer does not act on.
	KindUnknown Kind = "unknown"
)

// Change is the provider-neutral meaning of one billing event.
type Change struct {
	Provider   billing.Provider
	EventID    string
	Type       string
	OccurredAt time.Time
	Kind       Kind
	// Tenant comes from the event when the checkout put it there (see the
	// package doc); empty when the event does not carry it.
	Tenant         string
	SubscriptionID string
	CustomerID     string
	// Status, PriceIDs and PeriodEnd are set for KindStatus.
	Status    Status
	PriceIDs  []string
	PeriodEnd time.Time
	// PaymentOK is set for KindPayment.
	PaymentOK bool
}

// Decode reads a billing-events message body from provider.
func Decode(provider billing.Provider, body []byte) (Change, error) {
	switch provider {
	case billing.Paddle:
		return DecodePaddle(body)
	case billing.Stripe:
		return DecodeStripe(body)
	}
	return Change{}, fmt.Errorf("subscription: %w: unknown provider %q", ErrMalformed, provider)
}

// Paddle's documented payload shapes, reduced to the fields used here.
type paddleEvent struct {
	EventID    string          `json:"event_id"`
	EventType  string          `json:"event_type"`
	OccurredAt time.Time       `json:"occurred_at"`
	Data       json.RawMessage `json:"data"`
}

type paddleEntity struct {
	ID             string         `json:"id"`
	Status         string         `json:"status"`
	CustomerID     string         `json:"customer_id"`
	SubscriptionID string         `json:"subscription_id"`
	CustomData     map[string]any `json:"custom_data"`
	Items          []paddleItem   `json:"items"`
	BillingPeriod  *paddlePeriod  `json:"current_billing_period"`
}

type paddleItem struct {
	Price struct {
		ID string `json:"id"`
	} `json:"price"`
}

type paddlePeriod struct {
	EndsAt time.Time `json:"ends_at"`
}

// DecodePaddle maps a Paddle Billing notification:
//
//	subscription.created|activated|updated|trialing|past_due|paused|resumed|canceled -> KindStatus (data.status)
//	transaction.completed -> KindPayment ok, transaction.payment_failed -> KindPayment failed
//
// The tenant is data.custom_data.tenant_id, which the checkout sets.
func DecodePaddle(body []byte) (Change, error) {
	var e paddleEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return Change{}, fmt.Errorf("subscription: paddle: %w: %w", ErrMalformed, err)
	}
	if e.EventID == "" || e.EventType == "" || e.OccurredAt.IsZero() {
		return Change{}, fmt.Errorf("subscription: paddle: %w: event_id, event_type and occurred_at are required", ErrMalformed)
	}
	c := Change{Provider: billing.Paddle, EventID: e.EventID, Type: e.EventType, OccurredAt: e.OccurredAt.UTC(), Kind: KindUnknown}
	var kind Kind
	switch e.EventType {
	case "subscription.created", "subscription.activated", "subscription.updated", "subscription.trialing",
		"subscription.past_due", "subscription.paused", "subscription.resumed", "subscription.canceled":
		kind = KindStatus
	case "transaction.completed", "transaction.payment_failed":
		kind = KindPayment
	default:
		return c, nil
	}
	var d paddleEntity
	if err := json.Unmarshal(e.Data, &d); err != nil {
		return Change{}, fmt.Errorf("subscription: paddle %s: %w: data: %w", e.EventType, ErrMalformed, err)
	}
	c.Kind = kind
	c.Tenant = tenantFrom(d.CustomData)
	c.CustomerID = d.CustomerID
	if kind == KindPayment {
		c.SubscriptionID = d.SubscriptionID
		c.PaymentOK = e.EventType == "transaction.completed"
		return c, nil
	}
	c.SubscriptionID = d.ID
	c.Status = Status(d.Status)
	if c.Status == "" {
		return Change{}, fmt.Errorf("subscription: paddle %s: %w: data.status is required", e.EventType, ErrMalformed)
	}
	for _, it := range d.Items {
		if it.Price.ID != "" {
			c.PriceIDs = append(c.PriceIDs, it.Price.ID)
		}
	}
	if d.BillingPeriod != nil {
		c.PeriodEnd = d.BillingPeriod.EndsAt.UTC()
	}
	if c.SubscriptionID == "" {
		return Change{}, fmt.Errorf("subscription: paddle %s: %w: data.id is required", e.EventType, ErrMalformed)
	}
	return c, nil
}

// Stripe's documented payload shapes, reduced to the fields used here.
type stripeEvent struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Type    string `json:"type"`
	Created int64  `json:"created"`
	Data    struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

type stripeObject struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Status            string            `json:"status"`
	Customer          json.RawMessage   `json:"customer"`
	Subscription      json.RawMessage   `json:"subscription"`
	ClientReferenceID string            `json:"client_reference_id"`
	Metadata          map[string]any    `json:"metadata"`
	CurrentPeriodEnd  int64             `json:"current_period_end"`
	Items             *stripeItems      `json:"items"`
	Parent            *stripeParent     `json:"parent"`
	SubDetails        *stripeSubDetails `json:"subscription_details"`
}

type stripeItems struct {
	Data []struct {
		Price struct {
			ID string `json:"id"`
		} `json:"price"`
		CurrentPeriodEnd int64 `json:"current_period_end"`
	} `json:"data"`
}

type stripeParent struct {
	SubscriptionDetails *stripeSubDetails `json:"subscription_details"`
}

type stripeSubDetails struct {
	Subscription json.RawMessage `json:"subscription"`
	Metadata     map[string]any  `json:"metadata"`
}

// DecodeStripe maps a Stripe event:
//
//	customer.subscription.created|updated|deleted|paused|resumed -> KindStatus (object.status)
//	invoice.paid -> KindPayment ok, invoice.payment_failed -> KindPayment failed
//	checkout.session.completed -> KindLink
//
// The tenant is metadata.tenant_id on the subscription (set through the
// checkout's subscription_data.metadata), client_reference_id or
// metadata.tenant_id on the checkout session, and the subscription's
// metadata snapshot on an invoice (parent.subscription_details.metadata, or
// subscription_details.metadata before API 2025-03-31). Events without it are
// matched to a tenant through the subscription id an earlier event linked.
func DecodeStripe(body []byte) (Change, error) {
	var e stripeEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return Change{}, fmt.Errorf("subscription: stripe: %w: %w", ErrMalformed, err)
	}
	if e.ID == "" || e.Type == "" || e.Created <= 0 {
		return Change{}, fmt.Errorf("subscription: stripe: %w: id, type and created are required", ErrMalformed)
	}
	c := Change{Provider: billing.Stripe, EventID: e.ID, Type: e.Type, OccurredAt: time.Unix(e.Created, 0).UTC(), Kind: KindUnknown}
	var kind Kind
	switch e.Type {
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
		"customer.subscription.paused", "customer.subscription.resumed":
		kind = KindStatus
	case "invoice.paid", "invoice.payment_failed":
		kind = KindPayment
	case "checkout.session.completed":
		kind = KindLink
	default:
		return c, nil
	}
	var o stripeObject
	if err := json.Unmarshal(e.Data.Object, &o); err != nil {
		return Change{}, fmt.Errorf("subscription: stripe %s: %w: data.object: %w", e.Type, ErrMalformed, err)
	}
	c.Kind = kind
	c.CustomerID = idOf(o.Customer)
	switch kind {
	case KindStatus:
		c.SubscriptionID = o.ID
		c.Tenant = tenantFrom(o.Metadata)
		c.Status = Status(o.Status)
		if e.Type == "customer.subscription.deleted" && c.Status == "" {
			c.Status = Canceled
		}
		end := o.CurrentPeriodEnd
		if o.Items != nil {
			for _, it := range o.Items.Data {
				if it.Price.ID != "" {
					c.PriceIDs = append(c.PriceIDs, it.Price.ID)
				}
				end = max(end, it.CurrentPeriodEnd)
			}
		}
		if end > 0 {
			c.PeriodEnd = time.Unix(end, 0).UTC()
		}
		if c.SubscriptionID == "" || c.Status == "" {
			return Change{}, fmt.Errorf("subscription: stripe %s: %w: object id and status are required", e.Type, ErrMalformed)
		}
	case KindPayment:
		c.PaymentOK = e.Type == "invoice.paid"
		c.SubscriptionID = idOf(o.Subscription)
		c.Tenant = tenantFrom(o.Metadata)
		for _, sd := range []*stripeSubDetails{o.SubDetails, parentDetails(o.Parent)} {
			if sd == nil {
				continue
			}
			if c.SubscriptionID == "" {
				c.SubscriptionID = idOf(sd.Subscription)
			}
			if c.Tenant == "" {
				c.Tenant = tenantFrom(sd.Metadata)
			}
		}
	case KindLink:
		c.SubscriptionID = idOf(o.Subscription)
		c.Tenant = strings.TrimSpace(o.ClientReferenceID)
		if c.Tenant == "" {
			c.Tenant = tenantFrom(o.Metadata)
		}
	}
	return c, nil
}

func parentDetails(p *stripeParent) *stripeSubDetails {
	if p == nil {
		return nil
	}
	return p.SubscriptionDetails
}

// idOf reads an expandable Stripe field: an id string or an object with "id".
func idOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(raw, &o) == nil {
		return o.ID
	}
	return ""
}

// tenantFrom reads the string "tenant_id" of a custom data or metadata map.
func tenantFrom(m map[string]any) string {
	s, _ := m[TenantKey].(string)
	return strings.TrimSpace(s)
}
