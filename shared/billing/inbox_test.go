package billing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/billingtest"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/topics"
)

var at = time.Date(2026, 7, 14, 12, 0, 0, 0, time.UTC)

func event(id string) billing.Event {
	return billing.Event{
		Provider: billing.Paddle, ID: id, Type: "subscription.created", OccurredAt: at,
		Body: billingtest.PaddleSubscription(id, "subscription.created", at, "sub_1", "active", "tenant-a", "pri_1"),
	}
}

func TestReceiveOnceAndReplay(t *testing.T) {
	t.Parallel()
	st := billingtest.Bolt(t)
	pub := &billingtest.Publisher{}
	in, err := billing.NewInbox(st, pub, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ev := event("evt_01hv8x")
	if got, err := in.Receive(ctx, ev); err != nil || got != billing.New {
		t.Fatalf("first Receive = %v, %v; want New", got, err)
	}
	var before billing.Dedupe
	if err := st.Get(ctx, billing.CollDedupe, "paddle-evt_01hv8x", &before); err != nil {
		t.Fatal(err)
	}
	if !before.Published || before.MessageID != "m1" {
		t.Fatalf("dedupe after publish = %+v", before)
	}
	for range 3 {
		if got, err := in.Receive(ctx, ev); err != nil || got != billing.Replayed {
			t.Fatalf("replay = %v, %v; want Replayed", got, err)
		}
	}
	msgs := pub.Messages()
	if len(msgs) != 1 {
		t.Fatalf("published %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if m.Topic != topics.BillingEvents || string(m.Data) != string(ev.Body) ||
		m.Attrs[billing.AttrProvider] != "paddle" || m.Attrs[billing.AttrEventType] != "subscription.created" || m.Attrs[billing.AttrEventID] != "evt_01hv8x" {
		t.Fatalf("message = %+v", m)
	}
	var after billing.Dedupe
	if err := st.Get(ctx, billing.CollDedupe, "paddle-evt_01hv8x", &after); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("replay changed the dedupe record: %+v -> %+v", before, after)
	}
	var stored billing.StoredEvent
	if err := st.Get(ctx, billing.CollEvents, "paddle-evt_01hv8x", &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Body != string(ev.Body) || stored.Type != ev.Type || !stored.OccurredAt.Equal(at) {
		t.Fatalf("stored = %+v", stored)
	}
}

// TestReceiveCrashWindow: the event is recorded but publishing fails (as a
// crash between commit and publish would leave it); the provider's retry
// publishes it.
func TestReceiveCrashWindow(t *testing.T) {
	t.Parallel()
	st := billingtest.Bolt(t)
	pub := &billingtest.Publisher{Fail: errors.New("pubsub unavailable")}
	in, err := billing.NewInbox(st, pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ev := event("evt_crash")
	if _, err := in.Receive(ctx, ev); err == nil {
		t.Fatal("Receive succeeded although publishing failed")
	}
	var d billing.Dedupe
	if err := st.Get(ctx, billing.CollDedupe, "paddle-evt_crash", &d); err != nil {
		t.Fatal(err)
	}
	if d.Published {
		t.Fatal("dedupe record says published after a failed publish")
	}
	pub.SetFail(nil)
	if got, err := in.Receive(ctx, ev); err != nil || got != billing.Recovered {
		t.Fatalf("retry = %v, %v; want Recovered", got, err)
	}
	if got, err := in.Receive(ctx, ev); err != nil || got != billing.Replayed {
		t.Fatalf("second retry = %v, %v; want Replayed", got, err)
	}
	if n := len(pub.Messages()); n != 1 {
		t.Fatalf("published %d times, want 1", n)
	}
}

func TestReceiveRejects(t *testing.T) {
	t.Parallel()
	st := billingtest.Bolt(t)
	in, err := billing.NewInbox(st, &billingtest.Publisher{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []billing.Event{
		{Provider: billing.Paddle, ID: "", Type: "x"},
		{Provider: billing.Paddle, ID: "a/b", Type: "x"},
		{Provider: billing.Paddle, ID: "__x__", Type: "x"},
		{Provider: billing.Paddle, ID: "evt_1", Type: ""},
	} {
		if _, err := in.Receive(context.Background(), ev); !errors.Is(err, billing.ErrMalformed) {
			t.Errorf("Receive(%+v) = %v, want ErrMalformed", ev, err)
		}
	}
	if n := billingtest.Count(t, st, billing.CollDedupe); n != 0 {
		t.Fatalf("%d dedupe records after rejected events", n)
	}
}

func TestSecretList(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		secrets.EnvName("rotating"): " old , new ,",
		secrets.EnvName("blank"):    " , ",
	}
	src := secrets.Env(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	tests := []struct {
		name string
		want []string
		err  error
	}{
		{"rotating", []string{"old", "new"}, nil},
		{"blank", nil, billing.ErrNoSecret},
		{"missing", nil, billing.ErrNoSecret},
	}
	for _, tt := range tests {
		got, err := billing.SecretList(src, tt.name)(context.Background())
		if !errors.Is(err, tt.err) || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: got %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
		}
	}
	if _, err := billing.SecretList(nil, "x")(context.Background()); !errors.Is(err, billing.ErrNoSecret) {
		t.Errorf("nil source: %v, want ErrNoSecret", err)
	}
}

func BenchmarkReceiveBolt(b *testing.B) {
	st := billingtest.Bolt(b)
	in, err := billing.NewInbox(st, &billingtest.Publisher{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := in.Receive(ctx, event(fmt.Sprintf("evt_%d", i))); err != nil {
			b.Fatal(err)
		}
	}
}
