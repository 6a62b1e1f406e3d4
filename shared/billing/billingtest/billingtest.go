// Package billingtest holds the fixtures the billing packages' tests share:
// event bodies shaped like the providers' documented examples, a recording
// publisher, and stores.
package billingtest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/state/statetest"
)

// PaddleSubscription returns a Paddle Billing subscription.* notification
// shaped like Paddle's documented example (trimmed of fields nobody reads).
func PaddleSubscription(eventID, eventType string, at time.Time, subID, status, tenant, priceID string) []byte {
	return fmt.Appendf(nil, `{
  "event_id": %q,
  "event_type": %q,
  "occurred_at": %q,
  "notification_id": "ntf_01hv8x2b5ksd8xq1tqnqzr3ewx",
  "data": {
    "id": %q,
    "items": [{"price": {"id": %q, "product_id": "pro_01gsz4t5hdjse780zja8vvr7jg", "description": "Monthly"},
               "status": "active", "quantity": 1, "recurring": true}],
    "status": %q,
    "discount": null,
    "paused_at": null,
    "address_id": "add_01hv8gq3318ktkfengj2r75gfx",
    "created_at": "2024-04-12T10:18:47.635628Z",
    "started_at": "2024-04-12T10:18:47.635628Z",
    "updated_at": "2024-04-12T10:18:47.635628Z",
    "business_id": null,
    "canceled_at": null,
    "custom_data": {"tenant_id": %q},
    "customer_id": "ctm_01hv6y1jedq4p1n0yqn5ba3ky4",
    "collection_mode": "automatic",
    "currency_code": "USD",
    "billing_cycle": {"interval": "month", "frequency": 1},
    "current_billing_period": {"ends_at": "2024-05-12T10:18:47.635628Z", "starts_at": "2024-04-12T10:18:47.635628Z"},
    "scheduled_change": null
  }
}`, eventID, eventType, at.UTC().Format(time.RFC3339Nano), subID, priceID, status, tenant)
}

// PaddleTransaction returns a transaction.completed or
// transaction.payment_failed notification.
func PaddleTransaction(eventID, eventType string, at time.Time, subID, tenant string) []byte {
	return fmt.Appendf(nil, `{
  "event_id": %q,
  "event_type": %q,
  "occurred_at": %q,
  "notification_id": "ntf_01hv8x2b7t2yxmc4g6s1czbktr",
  "data": {
    "id": "txn_01hv8wptq8987qeep44cyrewp9",
    "status": "completed",
    "customer_id": "ctm_01hv6y1jedq4p1n0yqn5ba3ky4",
    "subscription_id": %q,
    "custom_data": {"tenant_id": %q},
    "currency_code": "USD",
    "origin": "web",
    "items": [{"price": {"id": "pri_01gsz8x8sawmvhz1pv30nge1ke"}, "quantity": 1}],
    "details": {"totals": {"total": "3000", "currency_code": "USD"}}
  }
}`, eventID, eventType, at.UTC().Format(time.RFC3339Nano), subID, tenant)
}

// StripeEvent returns a Stripe event of API version apiVersion around object.
func StripeEvent(id, typ, apiVersion string, created time.Time, object string) []byte {
	return fmt.Appendf(nil, `{
  "id": %q,
  "object": "event",
  "api_version": %q,
  "created": %d,
  "data": {"object": %s},
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": %q
}`, id, apiVersion, created.Unix(), object, typ)
}

// StripeSubscription returns a subscription object (API 2025-03-31 and
// later: the period end lives on the items).
func StripeSubscription(subID, status, tenant, priceID string, periodEnd time.Time) string {
	meta := "{}"
	if tenant != "" {
		meta = fmt.Sprintf(`{"tenant_id": %q}`, tenant)
	}
	return fmt.Sprintf(`{
    "id": %q, "object": "subscription", "status": %q, "customer": "cus_PbcdEfgHijk",
    "metadata": %s, "cancel_at_period_end": false,
    "items": {"object": "list", "data": [{"id": "si_Pq", "object": "subscription_item",
      "price": {"id": %q, "object": "price", "currency": "usd", "unit_amount": 4900},
      "quantity": 1, "current_period_end": %d}]}
  }`, subID, status, meta, priceID, periodEnd.Unix())
}

// Publisher records what is published; Fail makes Publish fail.
type Publisher struct {
	mu   sync.Mutex
	Msgs []Message
	Fail error
}

// Message is one recorded publication.
type Message struct {
	Topic string
	Data  []byte
	Attrs map[string]string
}

// Publish records the message, or returns Fail.
func (p *Publisher) Publish(_ context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Fail != nil {
		return "", p.Fail
	}
	p.Msgs = append(p.Msgs, Message{Topic: topic, Data: data, Attrs: attrs})
	return fmt.Sprintf("m%d", len(p.Msgs)), nil
}

// Close does nothing.
func (p *Publisher) Close() error { return nil }

// Messages returns a copy of the recorded messages.
func (p *Publisher) Messages() []Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Message(nil), p.Msgs...)
}

// SetFail sets Fail under the lock.
func (p *Publisher) SetFail(err error) {
	p.mu.Lock()
	p.Fail = err
	p.mu.Unlock()
}

// Bolt opens an embedded store in a temporary directory.
func Bolt(t testing.TB) state.Store { return statetest.Bolt(t) }

// Firestore opens the Firestore emulator, skipping (failing on CI) when
// FIRESTORE_EMULATOR_HOST is unset.
func Firestore(t testing.TB) state.Store {
	t.Helper()
	return statetest.FirestoreProject(t, "synthos-billing-test")
}

// Count returns the number of documents in coll.
func Count(t testing.TB, s state.Store, coll string) int {
	t.Helper()
	docs, err := s.Query(context.Background(), coll, state.Query{})
	if err != nil {
		t.Fatalf("query %s: %v", coll, err)
	}
	return len(docs)
}
