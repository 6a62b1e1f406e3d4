// Package guard pauses generation platform-wide when cloud spend runs high.
//
// Cloud Billing publishes a budget notification to the budget-alerts topic
// several times a day, for every budget that names the topic:
//
//	{"budgetDisplayName":"synthos","alertThresholdExceeded":1.0,"costAmount":140.32,
//	 "costIntervalStart":"2026-07-01T07:00:00Z","budgetAmount":152.55,
//	 "budgetAmountType":"SPECIFIED_AMOUNT","currencyCode":"USD"}
//
// with the attributes billingAccountId, budgetId and schemaVersion. When
// costAmount/budgetAmount reaches the threshold (default 1.0) the budget is
// marked over; generation is paused while any budget is over, and resumes
// when a later notification of that budget falls below (a new month's
// interval starts at zero cost, so a new costIntervalStart resumes it).
//
// Notifications arrive out of order and more than once. Each budget keeps
// the costIntervalStart and the message publishTime of the notification it
// last applied; a notification applies only if its interval is newer, or
// the same with a later publishTime, so an old "over" cannot re-pause after
// a newer "below" (no flapping), and a redelivery changes nothing.
//
// Every pause and resume of the platform emits an audit event
// (generation.paused / generation.resumed). The event is stored with the
// state change and published after the commit; a redelivery publishes it if
// a crash came in between, with the same audit id, so the audit log can
// dedupe it.
package guard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/state"
)

// The state document holding the flag: platform/generation.
const (
	Coll = "platform"
	Doc  = "generation"
)

// Message attributes Cloud Billing sets on budget notifications.
const (
	AttrBudgetID       = "budgetId"
	AttrBillingAccount = "billingAccountId"
)

// DefaultThreshold pauses at 100% of the budget.
const DefaultThreshold = 1.0

// Errors, to be tested with errors.Is.
var (
	// ErrPaused: generation is paused; the API answers 503 with the error's message.
	ErrPaused = errs.New(errs.Unavailable, "generation is paused")
	// ErrMalformed: a budget notification that cannot be read.
	ErrMalformed = errors.New("guard: malformed budget notification")
)

// Notification is a Cloud Billing budget notification (schemaVersion 1.0).
type Notification struct {
	BudgetDisplayName         string    `json:"budgetDisplayName"`
	AlertThresholdExceeded    *float64  `json:"alertThresholdExceeded,omitempty"`
	ForecastThresholdExceeded *float64  `json:"forecastThresholdExceeded,omitempty"`
	CostAmount                float64   `json:"costAmount"`
	CostIntervalStart         time.Time `json:"costIntervalStart"`
	BudgetAmount              float64   `json:"budgetAmount"`
	BudgetAmountType          string    `json:"budgetAmountType"`
	CurrencyCode              string    `json:"currencyCode"`
}

// Decode parses a notification. Errors wrap ErrMalformed.
func Decode(data []byte) (Notification, error) {
	var n Notification
	if err := json.Unmarshal(data, &n); err != nil {
		return Notification{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case n.BudgetAmount <= 0:
		return Notification{}, fmt.Errorf("%w: budgetAmount %v is not positive", ErrMalformed, n.BudgetAmount)
	case n.CostAmount < 0:
		return Notification{}, fmt.Errorf("%w: negative costAmount", ErrMalformed)
	case n.CostIntervalStart.IsZero():
		return Notification{}, fmt.Errorf("%w: costIntervalStart is required", ErrMalformed)
	}
	return n, nil
}

// Ratio is costAmount / budgetAmount.
func (n Notification) Ratio() float64 { return n.CostAmount / n.BudgetAmount }

// Budget is one budget's last applied notification.
type Budget struct {
	Name          string    `json:"name"`
	Over          bool      `json:"over"`
	Ratio         float64   `json:"ratio"`
	CostAmount    float64   `json:"cost_amount"`
	BudgetAmount  float64   `json:"budget_amount"`
	Currency      string    `json:"currency"`
	IntervalStart time.Time `json:"interval_start"`
	PublishTime   time.Time `json:"publish_time"`
}

// Status is the platform/generation document.
type Status struct {
	Paused bool   `json:"paused"`
	Reason string `json:"reason,omitempty"`
	// Since is when the current pause (or run) began.
	Since time.Time `json:"since,omitzero"`
	// Budgets by budget id.
	Budgets map[string]Budget `json:"budgets,omitempty"`
	// PendingAudit holds the audit events of transitions not yet published.
	PendingAudit []audit.Event `json:"pending_audit,omitempty"`
	UpdatedAt    time.Time     `json:"updated_at"`
}

// Getter reads one document; state.Store is one.
type Getter interface {
	Get(ctx context.Context, coll, id string, dst any) error
}

// Paused reports whether generation is paused and why. A store that never
// saw a notification is not paused.
func Paused(ctx context.Context, st Getter) (bool, string, error) {
	var s Status
	err := st.Get(ctx, Coll, Doc, &s)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return false, "", nil
	case err != nil:
		return false, "", fmt.Errorf("guard.Paused: %w", err)
	}
	return s.Paused, s.Reason, nil
}

// Check returns an error wrapping ErrPaused, whose message says why and what
// to do, when generation is paused; nil otherwise.
func Check(ctx context.Context, st Getter) error {
	paused, reason, err := Paused(ctx, st)
	if err != nil {
		return err
	}
	if paused {
		return fmt.Errorf("%w: %s; new jobs are refused until spend falls below the budget or the next budget period starts", ErrPaused, reason)
	}
	return nil
}

// Guard applies budget notifications.
type Guard struct {
	state     state.Store
	pub       events.Publisher
	threshold float64
	now       func() time.Time
}

// Options configure a Guard.
type Options struct {
	// Threshold is the cost/budget ratio that pauses; zero means DefaultThreshold.
	Threshold float64
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// New returns a Guard that keeps its flag in st and emits audit events to pub.
func New(st state.Store, pub events.Publisher, opts Options) (*Guard, error) {
	if st == nil || pub == nil {
		return nil, errors.New("guard.New: a state store and a publisher are required")
	}
	if opts.Threshold < 0 {
		return nil, fmt.Errorf("guard.New: threshold %v is negative", opts.Threshold)
	}
	if opts.Threshold == 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Guard{state: st, pub: pub, threshold: opts.Threshold, now: opts.Now}, nil
}

// Handle is the budget-alerts consumer. A notification that cannot be
// decoded is recorded in CollMalformed and acknowledged (redelivery cannot
// fix it, and Cloud Billing sends a fresh one within hours); state and
// publish errors ask for redelivery.
func (g *Guard) Handle(ctx context.Context, m *events.Message) error {
	n, err := Decode(m.Data)
	if err != nil {
		return g.recordMalformed(ctx, m, err)
	}
	budgetID := m.Attributes[AttrBudgetID]
	if budgetID == "" {
		budgetID = n.BudgetDisplayName
	}
	published := m.PublishTime
	if published.IsZero() {
		published = g.now()
	}
	if _, err := g.Apply(ctx, budgetID, n, published); err != nil {
		return fmt.Errorf("guard.Handle %s: %w", m.ID, err)
	}
	return nil
}

// CollMalformed keeps notifications that could not be decoded.
const CollMalformed = "budget_alerts_malformed"

func (g *Guard) recordMalformed(ctx context.Context, m *events.Message, cause error) error {
	rec := map[string]any{"message_id": m.ID, "data": string(m.Data), "error": cause.Error(), "at": g.now().UTC()}
	if err := g.state.Set(ctx, CollMalformed, m.ID, rec); err != nil {
		return fmt.Errorf("guard.Handle %s: record malformed notification: %w", m.ID, err)
	}
	return nil
}

// Apply applies notification n of budget budgetID published at published,
// and returns the resulting status. It publishes the audit event of a
// pause or resume, and any audit event left pending by an earlier crash.
func (g *Guard) Apply(ctx context.Context, budgetID string, n Notification, published time.Time) (Status, error) {
	if budgetID == "" {
		return Status{}, fmt.Errorf("guard.Apply: %w: no budget id", ErrMalformed)
	}
	var out Status
	err := g.state.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		now := g.now().UTC()
		var s Status
		if err := tx.Get(Coll, Doc, &s); err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		if s.Budgets == nil {
			s.Budgets = map[string]Budget{}
		}
		out = s
		prev, seen := s.Budgets[budgetID]
		if seen && !newer(n.CostIntervalStart, published, prev) {
			return nil // older or the same: no change
		}
		s.Budgets[budgetID] = Budget{
			Name: n.BudgetDisplayName, Over: n.Ratio() >= g.threshold, Ratio: n.Ratio(),
			CostAmount: n.CostAmount, BudgetAmount: n.BudgetAmount, Currency: n.CurrencyCode,
			IntervalStart: n.CostIntervalStart.UTC(), PublishTime: published.UTC(),
		}
		wasPaused := s.Paused
		s.Paused, s.Reason = g.summarize(s.Budgets)
		if s.Paused != wasPaused {
			s.Since = now
			s.PendingAudit = append(s.PendingAudit, g.auditEvent(budgetID, s, now))
		}
		s.UpdatedAt = now
		out = s
		return tx.Set(Coll, Doc, s)
	})
	if err != nil {
		return Status{}, fmt.Errorf("guard.Apply %s: %w", budgetID, err)
	}
	if len(out.PendingAudit) > 0 && out.Paused {
		// The pause was decided in this call (PendingAudit holds its
		// change): counted once, unless the audit flush below fails and
		// the redelivery finds it pending again.
		metrics.Default().BudgetPause(ctx, "budget_threshold")
	}
	if len(out.PendingAudit) > 0 {
		if err := g.flushAudit(ctx, out.PendingAudit); err != nil {
			return Status{}, err
		}
		out.PendingAudit = nil
	}
	return out, nil
}

// newer reports whether a notification of interval at published is later
// than the one prev reflects.
func newer(interval, published time.Time, prev Budget) bool {
	if !interval.Equal(prev.IntervalStart) {
		return interval.After(prev.IntervalStart)
	}
	return published.After(prev.PublishTime)
}

// summarize returns whether any budget is over and a reason naming them.
func (g *Guard) summarize(budgets map[string]Budget) (bool, string) {
	var over []string
	for _, id := range slices.Sorted(maps.Keys(budgets)) {
		b := budgets[id]
		if b.Over {
			name := b.Name
			if name == "" {
				name = id
			}
			over = append(over, fmt.Sprintf("budget %q is at %.0f%% (%.2f of %.2f %s; pause threshold %.0f%%)",
				name, b.Ratio*100, b.CostAmount, b.BudgetAmount, b.Currency, g.threshold*100))
		}
	}
	if len(over) == 0 {
		return false, ""
	}
	return true, "cloud spend is over budget: " + strings.Join(over, "; ")
}

func (g *Guard) auditEvent(budgetID string, s Status, now time.Time) audit.Event {
	action, outcome := "generation.resumed", "success"
	if s.Paused {
		action = "generation.paused"
	}
	b := s.Budgets[budgetID]
	return audit.Event{
		ID:       fmt.Sprintf("guard-%s-%d", action, now.UnixNano()),
		Actor:    "system:guard",
		Action:   action,
		Resource: "platform/generation",
		Outcome:  outcome,
		Details: map[string]string{
			"budget_id": budgetID, "reason": s.Reason,
			"ratio": fmt.Sprintf("%.4f", b.Ratio), "interval_start": b.IntervalStart.Format(time.RFC3339),
		},
		At: now,
	}
}

// flushAudit publishes evs in order and removes them from the status.
func (g *Guard) flushAudit(ctx context.Context, evs []audit.Event) error {
	done := map[string]bool{}
	var pubErr error
	for _, ev := range evs {
		if pubErr = audit.Emit(ctx, g.pub, ev); pubErr != nil {
			break
		}
		done[ev.ID] = true
	}
	if len(done) > 0 {
		err := g.state.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
			var s Status
			if err := tx.Get(Coll, Doc, &s); err != nil {
				return err
			}
			n := len(s.PendingAudit)
			s.PendingAudit = slices.DeleteFunc(s.PendingAudit, func(e audit.Event) bool { return done[e.ID] })
			if len(s.PendingAudit) == n {
				return nil
			}
			return tx.Set(Coll, Doc, s)
		})
		if err != nil {
			return fmt.Errorf("guard: clear published audit events: %w", err)
		}
	}
	if pubErr != nil {
		return fmt.Errorf("guard: audit: %w", pubErr)
	}
	return nil
}
