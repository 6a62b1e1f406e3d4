package budgetalerts_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"synthos.dev/synthos/functions/budgetalerts"
	"synthos.dev/synthos/shared/billing/billingtest"
	"synthos.dev/synthos/shared/billing/guard"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
)

// TestPushPauseResume drives the function through the Pub/Sub push envelope.
func TestPushPauseResume(t *testing.T) {
	t.Parallel()
	st := billingtest.Bolt(t)
	pub := &billingtest.Publisher{}
	h, err := budgetalerts.New(&platform.Env{Logger: slog.New(slog.DiscardHandler), State: st, Events: pub})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(platform.PushHTTP(h))
	defer srv.Close()
	interval := time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC)
	steps := []struct {
		data      string
		published time.Time
		paused    bool
	}{
		{`{"budgetDisplayName":"synthos","alertThresholdExceeded":1.0,"costAmount":101.5,"costIntervalStart":"2026-07-01T07:00:00Z","budgetAmount":100,"budgetAmountType":"SPECIFIED_AMOUNT","currencyCode":"USD"}`, interval.Add(48 * time.Hour), true},
		{`{"budgetDisplayName":"synthos","costAmount":10,"costIntervalStart":"2026-08-01T07:00:00Z","budgetAmount":100,"budgetAmountType":"SPECIFIED_AMOUNT","currencyCode":"USD"}`, interval.Add(800 * time.Hour), false},
	}
	for i, s := range steps {
		body, err := events.EncodePush(&events.Message{ID: string(rune('a' + i)), Data: []byte(s.data), PublishTime: s.published,
			Attributes: map[string]string{guard.AttrBudgetID: "b-1", "schemaVersion": "1.0"}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := srv.Client().Post(srv.URL, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("step %d: push answered %d", i, res.StatusCode)
		}
		if paused, reason, err := guard.Paused(context.Background(), st); err != nil || paused != s.paused {
			t.Fatalf("step %d: Paused = %v (%s), %v; want %v", i, paused, reason, err, s.paused)
		}
	}
	if n := len(pub.Messages()); n != 2 {
		t.Fatalf("%d audit events, want 2 (paused, resumed)", n)
	}
}
