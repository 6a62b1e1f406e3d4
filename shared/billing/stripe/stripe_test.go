package stripe_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/billingtest"
	"synthos.dev/synthos/shared/billing/stripe"
)

const (
	secret    = "whsec_current_0123456789"
	oldSecret = "whsec_previous_0123456789"
)

func TestAPIVersionIsTheModules(t *testing.T) {
	t.Parallel()
	// The endpoint's documented version; a stripe-go upgrade that moves it
	// must update the package doc and the Stripe endpoint.
	if stripe.APIVersion != "2026-02-25.clover" {
		t.Fatalf("stripe.APIVersion = %q; update the package doc and the webhook endpoint's version", stripe.APIVersion)
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Now()
	sub := billingtest.StripeSubscription("sub_1", "active", "tenant-a", "price_pro", now.Add(720*time.Hour))
	body := billingtest.StripeEvent("evt_1", "customer.subscription.created", stripe.APIVersion, now, sub)
	sameTrain := billingtest.StripeEvent("evt_2", "customer.subscription.created", "2025-09-30.clover", now, sub)
	otherTrain := billingtest.StripeEvent("evt_3", "customer.subscription.created", "2024-06-20.acacia", now, sub)
	preTrain := billingtest.StripeEvent("evt_4", "customer.subscription.created", "2020-08-27", now, sub)
	tampered := bytes.Replace(body, []byte(`"active"`), []byte(`"canceled"`), 1)
	notEvent := []byte(`{"id":"cs_1","object":"checkout.session"}`)
	tests := []struct {
		name          string
		secrets       []string
		ignoreVersion bool
		header        string
		body          []byte
		want          error
		wantID        string
	}{
		{"valid", []string{secret}, false, stripe.Sign(now, body, secret), body, nil, "evt_1"},
		{"roll: two v1, new secret configured", []string{secret}, false, stripe.Sign(now, body, oldSecret, secret), body, nil, "evt_1"},
		{"roll: two secrets configured, old signature", []string{secret, oldSecret}, false, stripe.Sign(now, body, oldSecret), body, nil, "evt_1"},
		{"tampered body", []string{secret}, false, stripe.Sign(now, body, secret), tampered, billing.ErrSignature, ""},
		{"wrong secret", []string{secret}, false, stripe.Sign(now, body, "whsec_other"), body, billing.ErrSignature, ""},
		{"stale timestamp", []string{secret}, false, stripe.Sign(now.Add(-10*time.Minute), body, secret), body, billing.ErrStale, ""},
		{"no header", []string{secret}, false, "", body, billing.ErrSignature, ""},
		{"malformed header", []string{secret}, false, "t=abc,v1=00", body, billing.ErrSignature, ""},
		{"no secret", nil, false, stripe.Sign(now, body, secret), body, billing.ErrNoSecret, ""},
		{"same release train, other date", []string{secret}, false, stripe.Sign(now, sameTrain, secret), sameTrain, nil, "evt_2"},
		{"other release train rejected", []string{secret}, false, stripe.Sign(now, otherTrain, secret), otherTrain, billing.ErrAPIVersion, ""},
		{"version before release trains rejected", []string{secret}, false, stripe.Sign(now, preTrain, secret), preTrain, billing.ErrAPIVersion, ""},
		{"other release train with IgnoreAPIVersionMismatch", []string{secret}, true, stripe.Sign(now, otherTrain, secret), otherTrain, nil, "evt_3"},
		{"signed but not an event", []string{secret}, false, stripe.Sign(now, notEvent, secret), notEvent, billing.ErrMalformed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := &stripe.Verifier{Secrets: billing.StaticSecrets(tt.secrets...), IgnoreAPIVersionMismatch: tt.ignoreVersion}
			ev, err := v.Verify(context.Background(), tt.header, tt.body)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Verify error = %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if ev.Provider != billing.Stripe || ev.ID != tt.wantID || ev.Type != "customer.subscription.created" ||
				ev.OccurredAt.Unix() != now.Unix() || !bytes.Equal(ev.Body, tt.body) {
				t.Fatalf("event = %+v", ev)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	now := time.Now()
	body := billingtest.StripeEvent("evt_1", "customer.subscription.updated", stripe.APIVersion, now,
		billingtest.StripeSubscription("sub_1", "active", "t", "price_pro", now))
	header := stripe.Sign(now, body, secret)
	v := &stripe.Verifier{Secrets: billing.StaticSecrets(secret)}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := v.Verify(context.Background(), header, body); err != nil {
			b.Fatal(err)
		}
	}
}
