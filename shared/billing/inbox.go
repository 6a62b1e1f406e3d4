package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/topics"
)

// State collections the Inbox writes. A document id is "<provider>-<event id>".
const (
	// CollEvents holds each verified event's raw body.
	CollEvents = "billing_events"
	// CollDedupe holds one record per received event: its dedupe key and
	// whether it has been published.
	CollDedupe = "billing_dedupe"
)

// Publisher is the part of events.Publisher the Inbox needs.
type Publisher interface {
	Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error)
}

// StoredEvent is the CollEvents document.
type StoredEvent struct {
	Provider   Provider  `json:"provider"`
	EventID    string    `json:"event_id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	ReceivedAt time.Time `json:"received_at"`
	// Body is the raw JSON body as signed.
	Body string `json:"body"`
}

// Dedupe is the CollDedupe document.
type Dedupe struct {
	Provider    Provider  `json:"provider"`
	EventID     string    `json:"event_id"`
	Type        string    `json:"type"`
	ReceivedAt  time.Time `json:"received_at"`
	Published   bool      `json:"published"`
	MessageID   string    `json:"message_id,omitempty"`
	PublishedAt time.Time `json:"published_at,omitzero"`
}

// Outcome says what Receive did with an event.
type Outcome int

const (
	// New: first delivery; stored and published.
	New Outcome = iota
	// Replayed: already stored and published; nothing changed.
	Replayed
	// Recovered: stored earlier but not published (a crash or a failed
	// publish); published now.
	Recovered
)

func (o Outcome) String() string {
	switch o {
	case New:
		return "new"
	case Replayed:
		return "replayed"
	case Recovered:
		return "recovered"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Inbox records verified events exactly once and publishes them to
// billing-events (see the package doc for the crash window).
type Inbox struct {
	store state.Store
	pub   Publisher
	now   func() time.Time
}

// NewInbox returns an Inbox over store and pub. now may be nil (time.Now).
func NewInbox(store state.Store, pub Publisher, now func() time.Time) (*Inbox, error) {
	if store == nil || pub == nil {
		return nil, errors.New("billing.NewInbox: a state store and a publisher are required")
	}
	if now == nil {
		now = time.Now
	}
	return &Inbox{store: store, pub: pub, now: now}, nil
}

// Receive stores ev with its dedupe record in one transaction and publishes
// it, unless it was already published (a replay, acknowledged without any
// change). An error means the event may not be published yet: the caller
// must answer non-2xx so that the provider delivers it again.
func (in *Inbox) Receive(ctx context.Context, ev Event) (Outcome, error) {
	if err := checkEventID(ev.ID); err != nil {
		return 0, fmt.Errorf("billing.Receive: %w", err)
	}
	if ev.Type == "" || ev.Provider == "" {
		return 0, fmt.Errorf("billing.Receive: %w: event without provider or type", ErrMalformed)
	}
	key := string(ev.Provider) + "-" + ev.ID
	now := in.now().UTC()
	var existing *Dedupe
	record := func(ctx context.Context, tx state.Tx) error {
		existing = nil
		var d Dedupe
		switch err := tx.Get(CollDedupe, key, &d); {
		case err == nil:
			existing = &d
			return nil // a replay writes nothing
		case !errors.Is(err, state.ErrNotFound):
			return err
		}
		if err := tx.Create(CollEvents, key, StoredEvent{
			Provider: ev.Provider, EventID: ev.ID, Type: ev.Type,
			OccurredAt: ev.OccurredAt.UTC(), ReceivedAt: now, Body: string(ev.Body),
		}); err != nil {
			return err
		}
		return tx.Create(CollDedupe, key, Dedupe{
			Provider: ev.Provider, EventID: ev.ID, Type: ev.Type, ReceivedAt: now,
		})
	}
	err := in.store.RunTransaction(ctx, record)
	if errors.Is(err, state.ErrAlreadyExists) {
		// A concurrent delivery of the same event committed first; run
		// again to take the replay path.
		err = in.store.RunTransaction(ctx, record)
	}
	if err != nil {
		return 0, fmt.Errorf("billing.Receive %s: record: %w", key, err)
	}
	outcome := New
	if existing != nil {
		if existing.Published {
			return Replayed, nil
		}
		outcome = Recovered
	}
	id, err := in.pub.Publish(ctx, topics.BillingEvents, ev.Body, map[string]string{
		AttrProvider: string(ev.Provider), AttrEventType: ev.Type, AttrEventID: ev.ID,
	})
	if err != nil {
		return 0, fmt.Errorf("billing.Receive %s: publish: %w", key, err)
	}
	err = in.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var d Dedupe
		if err := tx.Get(CollDedupe, key, &d); err != nil {
			return err
		}
		if d.Published {
			return nil // a concurrent retry got there first
		}
		d.Published, d.MessageID, d.PublishedAt = true, id, in.now().UTC()
		return tx.Set(CollDedupe, key, d)
	})
	if err != nil {
		// Published but not marked: a retry publishes again, which the
		// consumer's dedupe absorbs. Report the failure so it is retried.
		return 0, fmt.Errorf("billing.Receive %s: mark published: %w", key, err)
	}
	return outcome, nil
}
