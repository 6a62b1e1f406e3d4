package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/billing/billingtest"
	"synthos.dev/synthos/shared/billing/guard"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/topics"
)

var (
	july   = time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC)
	august = time.Date(2026, 8, 1, 7, 0, 0, 0, time.UTC)
	t0     = time.Date(2026, 7, 20, 10, 0, 0, 0, time.UTC)
)

// notification returns a budget-alerts message shaped like Cloud Billing's.
func notification(id string, cost float64, interval, published time.Time) *events.Message {
	threshold := ""
	if cost >= 50 {
		threshold = `"alertThresholdExceeded": 0.5,`
	}
	data := fmt.Sprintf(`{"budgetDisplayName":"synthos-monthly",%s"costAmount":%v,"costIntervalStart":%q,
		"budgetAmount":100.0,"budgetAmountType":"SPECIFIED_AMOUNT","currencyCode":"EUR"}`,
		threshold, cost, interval.Format(time.RFC3339))
	return &events.Message{ID: id, Data: []byte(data), PublishTime: published, Attributes: map[string]string{
		guard.AttrBudgetID: "budget-1", guard.AttrBillingAccount: "01D4EE-079462-DFD6EC", "schemaVersion": "1.0",
	}}
}

func newGuard(t *testing.T) (*guard.Guard, state.Store, *billingtest.Publisher) {
	t.Helper()
	st := billingtest.Bolt(t)
	pub := &billingtest.Publisher{}
	g, err := guard.New(st, pub, guard.Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return g, st, pub
}

func actions(t *testing.T, pub *billingtest.Publisher) []string {
	t.Helper()
	var out []string
	for _, m := range pub.Messages() {
		if m.Topic != topics.AuditEvents {
			t.Fatalf("published to %s", m.Topic)
		}
		var ev audit.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev.Action)
	}
	return out
}

func TestPauseAndResume(t *testing.T) {
	t.Parallel()
	g, st, pub := newGuard(t)
	ctx := context.Background()
	steps := []struct {
		m      *events.Message
		paused bool
	}{
		{notification("1", 60, july, t0), false},
		{notification("2", 99.99, july, t0.Add(time.Hour)), false},
		{notification("3", 100, july, t0.Add(2*time.Hour)), true},     // exactly the threshold
		{notification("4", 130, july, t0.Add(3*time.Hour)), true},     // still over: no new audit event
		{notification("5", 2, august, t0.Add(4*time.Hour)), false},    // a new month resumes
		{notification("6", 140, july, t0.Add(30*time.Minute)), false}, // an old July one arrives late: ignored
	}
	for i, s := range steps {
		if err := g.Handle(ctx, s.m); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		paused, reason, err := guard.Paused(ctx, st)
		if err != nil || paused != s.paused {
			t.Fatalf("step %d: Paused = %v (%q), %v; want %v", i, paused, reason, err, s.paused)
		}
		if paused && !strings.Contains(reason, `"synthos-monthly"`) {
			t.Fatalf("reason %q does not name the budget", reason)
		}
		err = guard.Check(ctx, st)
		if paused != errors.Is(err, guard.ErrPaused) {
			t.Fatalf("step %d: Check = %v", i, err)
		}
	}
	if got := strings.Join(actions(t, pub), ","); got != "generation.paused,generation.resumed" {
		t.Fatalf("audit actions = %s", got)
	}
}

// TestNoFlapping: within one interval, notifications are ordered by their
// publish time, not by arrival.
func TestNoFlapping(t *testing.T) {
	t.Parallel()
	g, st, pub := newGuard(t)
	ctx := context.Background()
	// Spend went over at 12:00 and a budget increase brought the ratio
	// back under at 13:00; they arrive reversed, then the 12:00 one again.
	under := notification("b", 90, july, t0.Add(3*time.Hour))
	over := notification("a", 120, july, t0.Add(2*time.Hour))
	for _, m := range []*events.Message{under, over, over} {
		if err := g.Handle(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if paused, _, _ := guard.Paused(ctx, st); paused {
		t.Fatal("an older over-budget notification paused generation after a newer one below")
	}
	if n := len(pub.Messages()); n != 0 {
		t.Fatalf("%d audit events for no transition", n)
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	st := billingtest.Bolt(t)
	g, err := guard.New(st, &billingtest.Publisher{}, guard.Options{Threshold: 0.8})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Handle(context.Background(), notification("1", 80, july, t0)); err != nil {
		t.Fatal(err)
	}
	if paused, _, _ := guard.Paused(context.Background(), st); !paused {
		t.Fatal("80% with a threshold of 0.8 did not pause")
	}
	if _, err := guard.New(st, &billingtest.Publisher{}, guard.Options{Threshold: -1}); err == nil {
		t.Fatal("negative threshold accepted")
	}
}

// TestAuditAfterPublishFailure: the state change commits but the audit
// publish fails; the redelivery publishes the pending event.
func TestAuditAfterPublishFailure(t *testing.T) {
	t.Parallel()
	g, st, pub := newGuard(t)
	ctx := context.Background()
	pub.SetFail(errors.New("pubsub down"))
	m := notification("1", 150, july, t0)
	if err := g.Handle(ctx, m); err == nil {
		t.Fatal("Handle succeeded although the audit event was not published")
	}
	if paused, _, _ := guard.Paused(ctx, st); !paused {
		t.Fatal("not paused after the committed notification")
	}
	pub.SetFail(nil)
	if err := g.Handle(ctx, m); err != nil {
		t.Fatal(err)
	}
	if err := g.Handle(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(actions(t, pub), ","); got != "generation.paused" {
		t.Fatalf("audit actions = %s", got)
	}
	var s guard.Status
	if err := st.Get(ctx, guard.Coll, guard.Doc, &s); err != nil || len(s.PendingAudit) != 0 {
		t.Fatalf("status = %+v, %v; want no pending audit", s, err)
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	g, st, _ := newGuard(t)
	ctx := context.Background()
	for i, data := range []string{
		`not json`,
		`{"costAmount":10,"budgetAmount":0,"costIntervalStart":"2026-07-01T07:00:00Z"}`,
		`{"costAmount":10,"budgetAmount":100}`,
	} {
		m := &events.Message{ID: fmt.Sprint("bad-", i), Data: []byte(data), PublishTime: t0}
		if err := g.Handle(ctx, m); err != nil {
			t.Fatalf("%s: Handle = %v, want recorded and acknowledged", data, err)
		}
	}
	if n := billingtest.Count(t, st, guard.CollMalformed); n != 3 {
		t.Fatalf("%d malformed records, want 3", n)
	}
	if paused, _, err := guard.Paused(ctx, st); paused || err != nil {
		t.Fatalf("Paused = %v, %v", paused, err)
	}
}
