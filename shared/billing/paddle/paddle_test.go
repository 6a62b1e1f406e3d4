package paddle_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/billingtest"
	"synthos.dev/synthos/shared/billing/paddle"
)

const (
	secret    = "pdl_ntfset_01hv8x_secret_current"
	oldSecret = "pdl_ntfset_01hv8x_secret_previous"
)

var now = time.Date(2026, 7, 14, 12, 0, 0, 0, time.UTC)

func TestVerify(t *testing.T) {
	t.Parallel()
	body := billingtest.PaddleSubscription("evt_01hv8x2b3m4k5n", "subscription.created", now.Add(-time.Second),
		"sub_01hv8x2a", "active", "tenant-a", "pri_pro")
	tampered := bytes.Replace(body, []byte(`"active"`), []byte(`"paused"`), 1)
	tests := []struct {
		name    string
		secrets []string
		header  string
		body    []byte
		want    error // nil: accepted
	}{
		{"valid", []string{secret}, paddle.Sign(now, body, secret), body, nil},
		{"rotation: header signed with old and new, new configured", []string{secret}, paddle.Sign(now, body, oldSecret, secret), body, nil},
		{"rotation: both configured, signed with old only", []string{oldSecret, secret}, paddle.Sign(now, body, oldSecret), body, nil},
		{"tolerance edge: 5s old", []string{secret}, paddle.Sign(now.Add(-5*time.Second), body, secret), body, nil},
		{"tampered body", []string{secret}, paddle.Sign(now, body, secret), tampered, billing.ErrSignature},
		{"wrong secret", []string{secret}, paddle.Sign(now, body, "pdl_other"), body, billing.ErrSignature},
		{"stale timestamp", []string{secret}, paddle.Sign(now.Add(-6*time.Second), body, secret), body, billing.ErrStale},
		{"timestamp in the future", []string{secret}, paddle.Sign(now.Add(time.Minute), body, secret), body, billing.ErrStale},
		{"no header", []string{secret}, "", body, billing.ErrSignature},
		{"no h1", []string{secret}, "ts=1783944000", body, billing.ErrSignature},
		{"no ts", []string{secret}, "h1=" + string(bytes.Repeat([]byte("a"), 64)), body, billing.ErrSignature},
		{"garbage", []string{secret}, "ts=abc;h1=zz", body, billing.ErrSignature},
		{"repeated ts", []string{secret}, "ts=1;" + paddle.Sign(now, body, secret), body, billing.ErrSignature},
		{"no secret configured", nil, paddle.Sign(now, body, secret), body, billing.ErrNoSecret},
		{"signed but not an event", []string{secret}, paddle.Sign(now, []byte(`{"x":1}`), secret), []byte(`{"x":1}`), billing.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := &paddle.Verifier{Secrets: billing.StaticSecrets(tt.secrets...), Now: func() time.Time { return now }}
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
			if ev.Provider != billing.Paddle || ev.ID != "evt_01hv8x2b3m4k5n" || ev.Type != "subscription.created" ||
				!ev.OccurredAt.Equal(now.Add(-time.Second)) || !bytes.Equal(ev.Body, body) {
				t.Fatalf("event = %+v", ev)
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	t.Parallel()
	body := billingtest.PaddleTransaction("evt_1", "transaction.completed", now, "sub_1", "t")
	v := &paddle.Verifier{Secrets: billing.StaticSecrets(secret), Tolerance: time.Minute, Now: func() time.Time { return now }}
	if _, err := v.Verify(context.Background(), paddle.Sign(now.Add(-59*time.Second), body, secret), body); err != nil {
		t.Fatalf("59s old with a 1m tolerance: %v", err)
	}
	if _, err := v.Verify(context.Background(), paddle.Sign(now.Add(-61*time.Second), body, secret), body); !errors.Is(err, billing.ErrStale) {
		t.Fatalf("61s old with a 1m tolerance: err = %v, want ErrStale", err)
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"minimal", `{"event_id":"evt_1","event_type":"x.y","occurred_at":"2024-04-12T10:18:49.621022Z","data":{}}`, true},
		{"no id", `{"event_type":"x.y","occurred_at":"2024-04-12T10:18:49Z","data":{}}`, false},
		{"no type", `{"event_id":"evt_1","occurred_at":"2024-04-12T10:18:49Z","data":{}}`, false},
		{"no time", `{"event_id":"evt_1","event_type":"x.y","data":{}}`, false},
		{"bad time", `{"event_id":"evt_1","event_type":"x.y","occurred_at":"yesterday","data":{}}`, false},
		{"data not an object", `{"event_id":"evt_1","event_type":"x.y","occurred_at":"2024-04-12T10:18:49Z","data":[1]}`, false},
		{"not JSON", `event`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := paddle.Decode([]byte(tt.body))
			if tt.ok != (err == nil) || (err != nil && !errors.Is(err, billing.ErrMalformed)) {
				t.Fatalf("Decode = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func BenchmarkVerify(b *testing.B) {
	body := billingtest.PaddleSubscription("evt_1", "subscription.updated", now, "sub_1", "active", "t", "pri_1")
	header := paddle.Sign(now, body, oldSecret, secret)
	v := &paddle.Verifier{Secrets: billing.StaticSecrets(oldSecret, secret), Now: func() time.Time { return now }}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := v.Verify(context.Background(), header, body); err != nil {
			b.Fatal(err)
		}
	}
}
