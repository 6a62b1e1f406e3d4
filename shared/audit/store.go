package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"synthos.dev/synthos/shared/state"
)

// Collections in the state store.
const (
	// CollEvents holds one Record per event, with the event id as document id,
	// so a redelivered event cannot be stored twice.
	CollEvents = "audit_events"
	// CollHeads holds one Head per tenant: the last sequence number given.
	CollHeads = "audit_heads"
)

// Errors callers test with errors.Is.
var (
	// ErrInvalid: an event that can never be stored (no id, no action, no
	// time, an id or tenant unusable as a document id).
	ErrInvalid = errors.New("audit: invalid event")
)

// Record is an Event as stored: append-only, numbered per tenant.
//
// Seq numbers a tenant's records 1, 2, 3... without gaps, in the order they
// were stored (which need not be the order of At: delivery is out of order).
// A hash chain can be laid over that order without rewriting anything: each
// record's hash covers its content and the hash of record Seq-1.
type Record struct {
	Event
	Seq int64 `json:"seq"`
	// Day is At's UTC date (2006-01-02), so that a tenant's records of one
	// day can be selected with equality filters only.
	Day      string    `json:"day"`
	StoredAt time.Time `json:"stored_at"`
}

// Head is a tenant's position in its audit log.
type Head struct {
	Tenant    string    `json:"tenant"`
	Seq       int64     `json:"seq"`     // the last sequence number given; 0 before any
	LastID    string    `json:"last_id"` // the event id stored with Seq
	UpdatedAt time.Time `json:"updated_at"`
}

// Log stores and reads audit records.
type Log struct {
	store state.Store
	now   func() time.Time
}

// NewLog returns a Log over store.
func NewLog(store state.Store) *Log { return &Log{store: store, now: time.Now} }

// headID is the document id of tenant's head; platform-wide events (tenant
// "") have their own sequence.
func headID(tenant string) string {
	if tenant == "" {
		return "platform"
	}
	return "tenant-" + tenant
}

// validID follows the document id rules every state driver enforces.
func validID(id string) bool {
	return id != "" && len(id) <= 1500 && utf8.ValidString(id) && !strings.Contains(id, "/") &&
		id != "." && id != ".." && !(strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__"))
}

// Check reports why ev cannot be stored, or nil.
func Check(ev Event) error {
	switch {
	case !validID(ev.ID):
		return fmt.Errorf("%w: id %.64q", ErrInvalid, ev.ID)
	case ev.Tenant != "" && !validID(headID(ev.Tenant)):
		return fmt.Errorf("%w: tenant %.64q", ErrInvalid, ev.Tenant)
	case ev.Action == "":
		return fmt.Errorf("%w: event %s has no action", ErrInvalid, ev.ID)
	case ev.At.IsZero():
		return fmt.Errorf("%w: event %s has no time", ErrInvalid, ev.ID)
	}
	return nil
}

// Append stores ev with the tenant's next sequence number, in one
// transaction with the tenant's head, so numbers are gapless and unique even
// under concurrent deliveries. If ev.ID is already stored (a redelivery) it
// stores nothing and returns the existing record with stored false.
func (l *Log) Append(ctx context.Context, ev Event) (rec Record, stored bool, err error) {
	if err := Check(ev); err != nil {
		return Record{}, false, fmt.Errorf("audit.Append: %w", err)
	}
	ev.At = ev.At.UTC()
	hid := headID(ev.Tenant)
	err = l.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		stored = false
		var existing Record
		err := tx.Get(CollEvents, ev.ID, &existing)
		if err == nil {
			rec = existing
			return nil
		}
		if !errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("read event %s: %w", ev.ID, err)
		}
		var head Head
		if err := tx.Get(CollHeads, hid, &head); err != nil && !errors.Is(err, state.ErrNotFound) {
			return fmt.Errorf("read head of %q: %w", ev.Tenant, err)
		}
		now := l.now().UTC()
		rec = Record{Event: ev, Seq: head.Seq + 1, Day: ev.At.Format(time.DateOnly), StoredAt: now}
		head = Head{Tenant: ev.Tenant, Seq: rec.Seq, LastID: ev.ID, UpdatedAt: now}
		if err := tx.Create(CollEvents, ev.ID, rec); err != nil {
			return fmt.Errorf("store event %s: %w", ev.ID, err)
		}
		if err := tx.Set(CollHeads, hid, head); err != nil {
			return fmt.Errorf("advance head of %q: %w", ev.Tenant, err)
		}
		stored = true
		return nil
	})
	if errors.Is(err, state.ErrAlreadyExists) {
		// A concurrent delivery of the same event committed first.
		if gerr := l.store.Get(ctx, CollEvents, ev.ID, &rec); gerr != nil {
			return Record{}, false, fmt.Errorf("audit.Append %s: %w", ev.ID, gerr)
		}
		return rec, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("audit.Append %s: %w", ev.ID, err)
	}
	return rec, stored, nil
}

// Get returns the record of event id.
func (l *Log) Get(ctx context.Context, id string) (Record, error) {
	var rec Record
	if !validID(id) {
		return rec, fmt.Errorf("audit.Get: %w: id %.64q", ErrInvalid, id)
	}
	if err := l.store.Get(ctx, CollEvents, id, &rec); err != nil {
		return Record{}, fmt.Errorf("audit.Get %s: %w", id, err)
	}
	return rec, nil
}

// Head returns tenant's head; a tenant without records has Seq 0.
func (l *Log) Head(ctx context.Context, tenant string) (Head, error) {
	h := Head{Tenant: tenant}
	err := l.store.Get(ctx, CollHeads, headID(tenant), &h)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return Head{}, fmt.Errorf("audit.Head %q: %w", tenant, err)
	}
	return h, nil
}

// Query selects one tenant's records.
type Query struct {
	// Day, when not zero, keeps the records whose At falls on that UTC date.
	Day time.Time
	// Desc lists the latest records first; the default is Seq order.
	Desc bool
	// Limit caps the result (default 100, at most 1000).
	Limit int
}

// List returns tenant's records in Seq order (reversed with Desc).
func (l *Log) List(ctx context.Context, tenant string, q Query) ([]Record, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	where := []state.Eq{{Field: "tenant", Value: tenant}}
	if !q.Day.IsZero() {
		where = append(where, state.Eq{Field: "day", Value: q.Day.UTC().Format(time.DateOnly)})
	}
	docs, err := l.store.Query(ctx, CollEvents, state.Query{Where: where, OrderBy: "seq", Desc: q.Desc, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("audit.List %q: %w", tenant, err)
	}
	out := make([]Record, 0, len(docs))
	for _, d := range docs {
		var r Record
		if err := d.DataTo(&r); err != nil {
			return nil, fmt.Errorf("audit.List %q: %w", tenant, err)
		}
		out = append(out, r)
	}
	return out, nil
}
