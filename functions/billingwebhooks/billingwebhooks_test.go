package billingwebhooks_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"synthos.dev/synthos/functions/billingwebhooks"
	"synthos.dev/synthos/functions/subscriptions"
	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/billingtest"
	"synthos.dev/synthos/shared/billing/paddle"
	"synthos.dev/synthos/shared/billing/stripe"
	"synthos.dev/synthos/shared/billing/subscription"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/topics"
)

const (
	paddleSecret    = "pdl_ntfset_new"
	paddleOldSecret = "pdl_ntfset_old"
	stripeSecret    = "whsec_test_secret"
)

// rig is the function on the embedded store and Bus, with a recorder on
// billing-events.
type rig struct {
	srv  *httptest.Server
	st   state.Store
	bus  *events.Bus
	mu   sync.Mutex
	msgs []*events.Message
}

func newRig(t *testing.T, extra func(env *platform.Env) events.Handler) *rig {
	t.Helper()
	st := billingtest.Bolt(t)
	bus := events.NewBus(events.BusOptions{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, MaxAttempts: 20})
	t.Cleanup(func() { _ = bus.Close() })
	vals := map[string]string{
		secrets.EnvName("paddle-webhook-secret"): paddleOldSecret + "," + paddleSecret,
		secrets.EnvName("stripe-webhook-secret"): stripeSecret,
	}
	env := &platform.Env{
		Logger: slog.New(slog.DiscardHandler), State: st, Events: bus, Bus: bus,
		Secrets: secrets.Env(func(k string) (string, bool) { v, ok := vals[k]; return v, ok }),
	}
	r := &rig{st: st, bus: bus}
	if err := bus.Subscribe(topics.BillingEvents, "recorder", func(_ context.Context, m *events.Message) error {
		r.mu.Lock()
		r.msgs = append(r.msgs, m)
		r.mu.Unlock()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if extra != nil {
		if err := bus.Subscribe(topics.BillingEvents, "extra", extra(env)); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := billing.LoadConfig(context.Background(), envconfig.MapLookuper(map[string]string{"SYNTHOS_BILLING_MAX_BODY_BYTES": "16384"}))
	if err != nil {
		t.Fatal(err)
	}
	h, err := billingwebhooks.NewWithConfig(env, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = httptest.NewServer(h)
	t.Cleanup(r.srv.Close)
	return r
}

func (r *rig) post(t *testing.T, path, header, sig string, body []byte) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, r.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(header, sig)
	}
	res, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return res.StatusCode, out
}

// drained waits for every delivery and returns the recorded messages.
func (r *rig) drained(t *testing.T) []*events.Message {
	t.Helper()
	if err := r.bus.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*events.Message(nil), r.msgs...)
}

func TestPaddleWebhook(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	now := time.Now()
	body := billingtest.PaddleSubscription("evt_01hv8x_ok", "subscription.created", now, "sub_1", "active", "tenant-a", "pri_pro")
	tampered := bytes.Replace(body, []byte(`"tenant-a"`), []byte(`"tenant-x"`), 1)
	other := billingtest.PaddleSubscription("evt_01hv8x_rot", "subscription.updated", now, "sub_1", "active", "tenant-a", "pri_pro")
	big := append(bytes.Clone(body), bytes.Repeat([]byte(" "), 20000)...)
	tests := []struct {
		name   string
		sig    string
		body   []byte
		status int
		code   string
	}{
		{"valid", paddle.Sign(now, body, paddleSecret), body, 200, ""},
		{"replayed", paddle.Sign(now, body, paddleSecret), body, 200, ""},
		{"tampered body", paddle.Sign(now, body, paddleSecret), tampered, 400, "invalid_signature"},
		{"stale timestamp", paddle.Sign(now.Add(-time.Minute), other, paddleSecret), other, 400, "stale_timestamp"},
		{"no signature", "", other, 400, "invalid_signature"},
		{"too large", paddle.Sign(now, big, paddleSecret), big, 413, "too_large"},
		{"rotated secret: two signatures", paddle.Sign(now, other, "pdl_ntfset_unknown", paddleOldSecret), other, 200, ""},
	}
	for _, tt := range tests { // in order: "replayed" follows "valid"
		status, out := r.post(t, "/webhooks/paddle", paddle.SignatureHeader, tt.sig, tt.body)
		if status != tt.status {
			t.Fatalf("%s: status %d (%v), want %d", tt.name, status, out, tt.status)
		}
		if tt.code != "" {
			if e, _ := out["error"].(map[string]any); e["code"] != tt.code {
				t.Fatalf("%s: body %v, want code %s", tt.name, out, tt.code)
			}
		}
	}
	msgs := r.drained(t)
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.Attributes[billing.AttrEventID]+"/"+m.Attributes[billing.AttrProvider]+"/"+m.Attributes[billing.AttrEventType])
	}
	if got := strings.Join(ids, ","); got != "evt_01hv8x_ok/paddle/subscription.created,evt_01hv8x_rot/paddle/subscription.updated" {
		t.Fatalf("published %s; want each valid event once", got)
	}
	if n := billingtest.Count(t, r.st, billing.CollEvents); n != 2 {
		t.Fatalf("%d stored events, want 2 (rejected deliveries store nothing)", n)
	}
}

func TestStripeWebhook(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	now := time.Now()
	obj := billingtest.StripeSubscription("sub_S", "active", "tenant-s", "price_pro", now)
	body := billingtest.StripeEvent("evt_1Stripe", "customer.subscription.created", stripe.APIVersion, now, obj)
	old := billingtest.StripeEvent("evt_2Stripe", "customer.subscription.created", "2024-06-20.acacia", now, obj)
	tests := []struct {
		name   string
		sig    string
		body   []byte
		status int
	}{
		{"valid", stripe.Sign(now, body, stripeSecret), body, 200},
		{"replayed", stripe.Sign(now, body, stripeSecret), body, 200},
		{"other API version", stripe.Sign(now, old, stripeSecret), old, 400},
		{"stale", stripe.Sign(now.Add(-time.Hour), body, stripeSecret), body, 400},
		{"tampered", stripe.Sign(now, body, stripeSecret), append(bytes.Clone(body), ' '), 400},
	}
	for _, tt := range tests {
		if status, out := r.post(t, "/webhooks/stripe", stripe.SignatureHeader, tt.sig, tt.body); status != tt.status {
			t.Fatalf("%s: status %d (%v), want %d", tt.name, status, out, tt.status)
		}
	}
	if msgs := r.drained(t); len(msgs) != 1 || msgs[0].Attributes[billing.AttrEventID] != "evt_1Stripe" {
		t.Fatalf("published %d messages, want evt_1Stripe once", len(msgs))
	}
}

func TestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	r := newRig(t, nil)
	res, err := r.srv.Client().Get(r.srv.URL + "/webhooks/paddle")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", res.StatusCode)
	}
}

// TestEndToEnd: webhook -> billing-events on the Bus -> the subscriptions
// consumer -> the tenant's record, with the consumer pushed through
// the production push envelope.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	r := newRig(t, func(env *platform.Env) events.Handler {
		h, err := subscriptions.New(env)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(platform.PushHTTP(h))
		t.Cleanup(srv.Close)
		return events.PushTo(srv.Client(), srv.URL)
	})
	now := time.Now()
	// The update is delivered before the creation.
	upd := billingtest.PaddleSubscription("evt_e2e_2", "subscription.updated", now.Add(-time.Second), "sub_e2e", "past_due", "tenant-e2e", "pri_pro")
	created := billingtest.PaddleSubscription("evt_e2e_1", "subscription.created", now.Add(-2*time.Second), "sub_e2e", "active", "tenant-e2e", "pri_pro")
	for _, b := range [][]byte{upd, created, upd} {
		if status, out := r.post(t, "/webhooks/paddle", paddle.SignatureHeader, paddle.Sign(now, b, paddleSecret), b); status != 200 {
			t.Fatalf("status %d: %v", status, out)
		}
	}
	r.drained(t)
	var rec subscription.Record
	if err := r.st.Get(context.Background(), subscription.CollRecords, "tenant-e2e", &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Status != subscription.PastDue || rec.LastEventID != "evt_e2e_2" {
		t.Fatalf("record = %+v; want past_due from the newer event", rec)
	}
}
