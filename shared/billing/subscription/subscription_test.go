package subscription_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/billingtest"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/billing/subscription"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/state"
)

var t0 = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

func catalog(t *testing.T) *plans.Catalog {
	t.Helper()
	c, err := plans.New([]plans.Plan{
		{Name: plans.Free, RowsPerMonth: 1000, RowsPerJob: 100, ConcurrentJobs: 1, ReportRetentionDays: 7},
		{Name: plans.Pro, RowsPerMonth: 100000, RowsPerJob: 10000, DPAllowed: true, ConcurrentJobs: 5, ReportRetentionDays: 90,
			PriceIDs: []string{"pri_pro", "price_pro"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newStore(t *testing.T) (*subscription.Store, state.Store) {
	t.Helper()
	st := billingtest.Bolt(t)
	s, err := subscription.New(st, catalog(t), func() time.Time { return t0.Add(time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func msg(p billing.Provider, id, typ string, body []byte) *events.Message {
	return &events.Message{ID: "msg-" + id, Data: body, Attributes: map[string]string{
		billing.AttrProvider: string(p), billing.AttrEventID: id, billing.AttrEventType: typ,
	}}
}

func paddleSub(id, typ string, at time.Time, status string) *events.Message {
	return msg(billing.Paddle, id, typ, billingtest.PaddleSubscription(id, typ, at, "sub_01", status, "tenant-a", "pri_pro"))
}

func applied(t *testing.T, st state.Store, p billing.Provider, id string) subscription.AppliedEvent {
	t.Helper()
	var a subscription.AppliedEvent
	if err := st.Get(context.Background(), subscription.CollApplied, string(p)+"-"+id, &a); err != nil {
		t.Fatalf("applied record of %s: %v", id, err)
	}
	return a
}

// TestPaddleOutOfOrder delivers a stream in a shuffled order, with
// duplicates, and expects the state of the newest status event.
func TestPaddleOutOfOrder(t *testing.T) {
	t.Parallel()
	stream := []*events.Message{
		paddleSub("evt_3", "subscription.updated", t0.Add(3*time.Minute), "past_due"),
		paddleSub("evt_1", "subscription.created", t0.Add(1*time.Minute), "trialing"),
		paddleSub("evt_4", "subscription.paused", t0.Add(4*time.Minute), "paused"),
		paddleSub("evt_2", "subscription.activated", t0.Add(2*time.Minute), "active"),
		paddleSub("evt_4", "subscription.paused", t0.Add(4*time.Minute), "paused"),
	}
	s, st := newStore(t)
	ctx := context.Background()
	for _, m := range stream {
		if err := s.Handle(ctx, m); err != nil {
			t.Fatalf("Handle %s: %v", m.ID, err)
		}
	}
	r, err := s.Get(ctx, "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != subscription.Paused || r.LastEventID != "evt_4" || !r.StatusAt.Equal(t0.Add(4*time.Minute)) ||
		r.SubscriptionID != "sub_01" || r.CustomerID != "ctm_01hv6y1jedq4p1n0yqn5ba3ky4" || r.Plan != plans.Free {
		t.Fatalf("record = %+v", r)
	}
	for id, want := range map[string]subscription.Outcome{
		"evt_3": subscription.Applied, "evt_4": subscription.Applied,
		"evt_1": subscription.Stale, "evt_2": subscription.Stale,
	} {
		if got := applied(t, st, billing.Paddle, id).Outcome; got != want {
			t.Errorf("%s outcome = %s, want %s", id, got, want)
		}
	}
}

func TestUpdatedBeforeCreated(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	upd := paddleSub("evt_upd", "subscription.updated", t0.Add(time.Minute), "active")
	created := paddleSub("evt_new", "subscription.created", t0, "trialing")
	if err := s.Handle(ctx, upd); err != nil {
		t.Fatal(err)
	}
	if err := s.Handle(ctx, created); err != nil {
		t.Fatal(err)
	}
	r, err := s.Get(ctx, "tenant-a")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != subscription.Active || r.Plan != plans.Pro || r.LastEventID != "evt_upd" {
		t.Fatalf("record after updated-then-created = %+v, want active pro from evt_upd", r)
	}
}

func TestDuplicateAndUnknown(t *testing.T) {
	t.Parallel()
	s, st := newStore(t)
	ctx := context.Background()
	c, err := subscription.DecodePaddle(billingtest.PaddleSubscription("evt_a", "subscription.activated", t0, "sub_01", "active", "tenant-a", "pri_pro"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Apply(ctx, c); err != nil || got != subscription.Applied {
		t.Fatalf("Apply = %v, %v", got, err)
	}
	before, _ := s.Get(ctx, "tenant-a")
	if got, err := s.Apply(ctx, c); err != nil || got != subscription.Duplicate {
		t.Fatalf("re-Apply = %v, %v; want Duplicate", got, err)
	}
	after, _ := s.Get(ctx, "tenant-a")
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("redelivery changed the record: %+v -> %+v", before, after)
	}
	unknown := msg(billing.Paddle, "evt_u", "address.created",
		[]byte(`{"event_id":"evt_u","event_type":"address.created","occurred_at":"2026-07-01T09:30:00Z","data":{"id":"add_1"}}`))
	if err := s.Handle(ctx, unknown); err != nil {
		t.Fatal(err)
	}
	if a := applied(t, st, billing.Paddle, "evt_u"); a.Outcome != subscription.Ignored || a.Type != "address.created" {
		t.Fatalf("unknown event record = %+v", a)
	}
	if r, _ := s.Get(ctx, "tenant-a"); r.LastEventID != "evt_a" {
		t.Fatalf("unknown event changed the record: %+v", r)
	}
}

func TestPaddlePayments(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	steps := []*events.Message{
		paddleSub("evt_s", "subscription.created", t0, "active"),
		msg(billing.Paddle, "evt_f", "transaction.payment_failed", billingtest.PaddleTransaction("evt_f", "transaction.payment_failed", t0.Add(2*time.Minute), "sub_01", "tenant-a")),
		msg(billing.Paddle, "evt_c", "transaction.completed", billingtest.PaddleTransaction("evt_c", "transaction.completed", t0.Add(time.Minute), "sub_01", "tenant-a")),
	}
	for _, m := range steps {
		if err := s.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := s.Get(ctx, "tenant-a")
	if r.LastPaymentOK || !r.PaymentAt.Equal(t0.Add(2*time.Minute)) || r.Status != subscription.Active {
		t.Fatalf("record = %+v; want the later failed payment kept and status untouched", r)
	}
}

func stripeMsg(id, typ string, at time.Time, object string) *events.Message {
	return msg(billing.Stripe, id, typ, billingtest.StripeEvent(id, typ, "2026-02-25.clover", at, object))
}

// TestStripeLinking: a subscription without metadata finds its tenant through
// the checkout session that linked it, whichever arrives first.
func TestStripeLinking(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	created := stripeMsg("evt_sc", "customer.subscription.created", t0.Add(time.Second),
		billingtest.StripeSubscription("sub_S1", "active", "", "price_pro", t0.Add(720*time.Hour)))
	checkout := stripeMsg("evt_cs", "checkout.session.completed", t0,
		`{"id":"cs_test_1","object":"checkout.session","mode":"subscription","client_reference_id":"tenant-b","customer":"cus_PbcdEfgHijk","subscription":"sub_S1","metadata":{}}`)
	if err := s.Handle(ctx, created); !errors.Is(err, subscription.ErrNoTenant) {
		t.Fatalf("subscription before checkout: %v, want ErrNoTenant (redelivered later)", err)
	}
	if err := s.Handle(ctx, checkout); err != nil {
		t.Fatal(err)
	}
	if err := s.Handle(ctx, created); err != nil { // the redelivery
		t.Fatal(err)
	}
	invoice := stripeMsg("evt_in", "invoice.payment_failed", t0.Add(time.Hour),
		`{"id":"in_1","object":"invoice","customer":"cus_PbcdEfgHijk","parent":{"type":"subscription_details","subscription_details":{"subscription":"sub_S1","metadata":{}}}}`)
	if err := s.Handle(ctx, invoice); err != nil {
		t.Fatal(err)
	}
	r, err := s.Get(ctx, "tenant-b")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != subscription.Active || r.Plan != plans.Pro || r.SubscriptionID != "sub_S1" || r.CustomerID != "cus_PbcdEfgHijk" ||
		r.LastPaymentOK || r.PaymentAt.IsZero() || !r.PeriodEnd.Equal(t0.Add(720*time.Hour)) {
		t.Fatalf("record = %+v", r)
	}
	deleted := stripeMsg("evt_del", "customer.subscription.deleted", t0.Add(2*time.Hour),
		billingtest.StripeSubscription("sub_S1", "canceled", "tenant-b", "price_pro", t0.Add(720*time.Hour)))
	if err := s.Handle(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	if r, _ := s.Get(ctx, "tenant-b"); r.Status != subscription.Canceled || r.Plan != plans.Free {
		t.Fatalf("after deletion = %+v, want canceled on free", r)
	}
}

func TestStripeSuperseded(t *testing.T) {
	t.Parallel()
	s, st := newStore(t)
	ctx := context.Background()
	newSub := stripeMsg("evt_new", "customer.subscription.created", t0.Add(time.Minute),
		billingtest.StripeSubscription("sub_new", "active", "tenant-c", "price_pro", t0))
	oldCanceled := stripeMsg("evt_old", "customer.subscription.deleted", t0.Add(2*time.Minute),
		billingtest.StripeSubscription("sub_old", "canceled", "tenant-c", "price_pro", t0))
	for _, m := range []*events.Message{newSub, oldCanceled} {
		if err := s.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := s.Get(ctx, "tenant-c"); r.SubscriptionID != "sub_new" || r.Status != subscription.Active {
		t.Fatalf("record = %+v; the old subscription's cancellation must not end the new one", r)
	}
	if a := applied(t, st, billing.Stripe, "evt_old"); a.Outcome != subscription.Superseded {
		t.Fatalf("outcome = %s, want superseded", a.Outcome)
	}
}

func TestMalformedRecorded(t *testing.T) {
	t.Parallel()
	s, st := newStore(t)
	ctx := context.Background()
	tests := []struct {
		name string
		m    *events.Message
		key  string
	}{
		{"not JSON", msg(billing.Paddle, "evt_bad", "subscription.created", []byte("nope")), "paddle-evt_bad"},
		{"no status", msg(billing.Paddle, "evt_ns", "subscription.created",
			[]byte(`{"event_id":"evt_ns","event_type":"subscription.created","occurred_at":"2026-07-01T09:00:00Z","data":{"id":"sub_1"}}`)), "paddle-evt_ns"},
		{"unknown provider", msg("paypal", "evt_pp", "x", []byte(`{}`)), "paypal-evt_pp"},
		{"bad tenant id", msg(billing.Paddle, "evt_bt", "subscription.created",
			billingtest.PaddleSubscription("evt_bt", "subscription.created", t0, "sub_1", "active", "a/b", "pri_pro")), "paddle-evt_bt"},
	}
	for _, tt := range tests {
		if err := s.Handle(ctx, tt.m); err != nil {
			t.Fatalf("%s: Handle = %v, want nil (recorded)", tt.name, err)
		}
		var a subscription.AppliedEvent
		if err := st.Get(ctx, subscription.CollApplied, tt.key, &a); err != nil || a.Outcome != subscription.Malformed {
			t.Fatalf("%s: record %+v, %v", tt.name, a, err)
		}
	}
}

func TestNoTenantRecorded(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	c := subscription.Change{Provider: billing.Stripe, EventID: "evt_x", Type: "invoice.paid", OccurredAt: t0, Kind: subscription.KindPayment, PaymentOK: true}
	if got, err := s.Apply(context.Background(), c); err != nil || got != subscription.NoTenant {
		t.Fatalf("Apply = %v, %v; want NoTenant", got, err)
	}
}
