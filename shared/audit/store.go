package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/transparency-dev/merkle/compact"

	"synthos.dev/synthos/shared/errs"
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

// Record is an Event as stored: append-only, numbered per tenant and
// platform-wide, and a leaf of both Merkle trees (tree.go).
//
// Seq numbers a tenant's records 1, 2, 3... without gaps, in the order they
// were stored (which need not be the order of At: delivery is out of order);
// Global numbers every record of every tenant the same way. Record Seq is
// leaf Seq-1 of the tenant's tree, and leaf Global-1 of the global one.
type Record struct {
	Event
	Seq    int64 `json:"seq"`
	Global int64 `json:"global"`
	// Day is At's UTC date (2006-01-02), so that a tenant's records of one
	// day can be selected with equality filters only.
	Day      string    `json:"day"`
	StoredAt time.Time `json:"stored_at"`
}

// Head is a log's position: its size and its tree.
type Head struct {
	Log       string    `json:"log"`
	Tenant    string    `json:"tenant"`
	Seq       int64     `json:"seq"`     // the last sequence number given (the tree's size); 0 before any
	LastID    string    `json:"last_id"` // the event id stored with Seq
	UpdatedAt time.Time `json:"updated_at"`
	// Root is the RFC 6962 root hash of the first Seq records.
	Root []byte `json:"root,omitempty"`
	// Range holds the roots of the perfect subtrees that make up the tree,
	// left to right (a compact range): enough to append without reading
	// any other node.
	Range [][]byte `json:"range,omitempty"`
}

// Log stores and reads audit records.
type Log struct {
	store state.Store
	now   func() time.Time
	scrub *Scrubber

	mu      sync.Mutex
	queue   []*pending
	leading bool
}

// NewLog returns a Log over store. Records are scrubbed of personal data
// with an unkeyed Scrubber unless WithScrubber gives a keyed one.
func NewLog(store state.Store, opts ...Option) *Log {
	l := &Log{store: store, now: time.Now, scrub: NewScrubber(nil)}
	for _, o := range opts {
		o(l)
	}
	return l
}

// Option configures a Log.
type Option func(*Log)

// WithScrubber sets how personal data is pseudonymised before storing.
func WithScrubber(s *Scrubber) Option { return func(l *Log) { l.scrub = s } }

// headID is the document id of tenant's head and the name of its log;
// platform-wide events (tenant "") have their own sequence.
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

// maxBatch bounds the events one transaction appends: Firestore commits at
// most 500 writes, and an event costs a record plus, on average, two nodes
// in each of its two trees (a few more at power-of-two sizes).
const maxBatch = 60

// pending is one Append waiting for a group commit.
type pending struct {
	ev     Event
	rec    Record
	stored bool
	err    error
	done   chan struct{}
}

// Append stores ev as the next record of its tenant's log and of the
// global log, in one transaction with both heads and the new tree nodes, so
// numbers are gapless and unique and the trees never fork, even under
// concurrent writers in other processes. If ev.ID is already stored (a
// redelivery) it stores nothing and returns the existing record with stored
// false.
//
// Concurrent Appends on one Log are committed together (group commit): the
// first caller runs transactions of up to maxBatch waiting events until none
// is left, so an fsync or a Firestore round trip serves many records.
func (l *Log) Append(ctx context.Context, ev Event) (rec Record, stored bool, err error) {
	if err := Check(ev); err != nil {
		return Record{}, false, fmt.Errorf("audit.Append: %w", err)
	}
	ev.At = ev.At.UTC()
	ev = l.scrub.Event(ev)
	p := &pending{ev: ev, done: make(chan struct{})}
	l.enqueue(ctx, p)
	<-p.done
	return p.rec, p.stored, p.err
}

// Result is one event's outcome in AppendBatch: its record, whether this
// call stored it (false for a redelivery), or why it failed.
type Result struct {
	Record Record
	Stored bool
	Err    error
}

// AppendBatch appends evs in order, as Append would one by one, but queues
// them all before waiting: a single caller (an importer, a consumer of a
// pulled batch of messages) gets them committed in transactions of up to
// maxBatch events instead of one fsync or round trip each, and they share
// those transactions with concurrent Appends. An invalid event fails the
// whole call before anything is queued. Each Result carries its own
// error; the records of one transaction stand or fall together.
func (l *Log) AppendBatch(ctx context.Context, evs []Event) ([]Result, error) {
	ps := make([]*pending, len(evs))
	for i, ev := range evs {
		if err := Check(ev); err != nil {
			return nil, fmt.Errorf("audit.AppendBatch: event %d (%q): %w", i, ev.ID, err)
		}
		ev.At = ev.At.UTC()
		ps[i] = &pending{ev: l.scrub.Event(ev), done: make(chan struct{})}
	}
	if len(ps) == 0 {
		return nil, nil
	}
	l.enqueue(ctx, ps...)
	out := make([]Result, len(ps))
	for i, p := range ps {
		<-p.done
		out[i] = Result{Record: p.rec, Stored: p.stored, Err: p.err}
	}
	return out, nil
}

// enqueue queues ps and, when no caller is draining the queue, drains it
// (returning when it is empty).
func (l *Log) enqueue(ctx context.Context, ps ...*pending) {
	l.mu.Lock()
	l.queue = append(l.queue, ps...)
	lead := !l.leading
	l.leading = true
	l.mu.Unlock()
	if lead {
		// The batch holds other callers' events: one caller giving up must
		// not fail theirs.
		l.drain(context.WithoutCancel(ctx))
	}
}

func (l *Log) drain(ctx context.Context) {
	for {
		l.mu.Lock()
		n := min(len(l.queue), maxBatch)
		if n == 0 {
			l.leading = false
			l.mu.Unlock()
			return
		}
		batch := l.queue[:n:n]
		l.queue = l.queue[n:]
		l.mu.Unlock()
		l.commit(ctx, batch)
		for _, p := range batch {
			close(p.done)
		}
	}
}

// commit appends batch in one transaction; when a concurrent writer stored
// one of its events first (ErrAlreadyExists), it falls back to one
// transaction per event so the others are not lost.
func (l *Log) commit(ctx context.Context, batch []*pending) {
	err := l.appendTx(ctx, batch)
	if errors.Is(err, state.ErrAlreadyExists) && len(batch) > 1 {
		for _, p := range batch {
			l.commit(ctx, []*pending{p})
		}
		return
	}
	if errors.Is(err, state.ErrAlreadyExists) {
		p := batch[0]
		// A concurrent delivery of the same event committed first.
		if gerr := l.store.Get(ctx, CollEvents, p.ev.ID, &p.rec); gerr != nil {
			p.rec, p.stored, p.err = Record{}, false, fmt.Errorf("audit.Append %s: %w", p.ev.ID, gerr)
			return
		}
		p.stored, p.err = false, nil
		return
	}
	for _, p := range batch {
		if err != nil {
			p.rec, p.stored, p.err = Record{}, false, fmt.Errorf("audit.Append %s: %w", p.ev.ID, err)
		}
	}
}

// treeWrite is a tree being extended inside a transaction.
type treeWrite struct {
	head  Head
	rng   *compact.Range
	nodes map[compact.NodeID]node
}

func (l *Log) appendTx(ctx context.Context, batch []*pending) error {
	return l.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		// Reads first (Firestore's rule): the events, then every head.
		fresh := make([]*pending, 0, len(batch))
		first := map[string]*pending{}
		for _, p := range batch {
			p.stored, p.rec = false, Record{}
			if q, dup := first[p.ev.ID]; dup {
				_ = q // resolved below, after q's record is known
				continue
			}
			first[p.ev.ID] = p
			var existing Record
			err := tx.Get(CollEvents, p.ev.ID, &existing)
			if err == nil {
				p.rec = existing
				continue
			}
			if !errors.Is(err, state.ErrNotFound) {
				return fmt.Errorf("read event %s: %w", p.ev.ID, err)
			}
			fresh = append(fresh, p)
		}
		trees := map[string]*treeWrite{}
		order := []string{}
		open := func(log, tenant string) (*treeWrite, error) {
			if t, ok := trees[log]; ok {
				return t, nil
			}
			h := Head{Log: log, Tenant: tenant}
			if err := tx.Get(CollHeads, log, &h); err != nil && !errors.Is(err, state.ErrNotFound) {
				return nil, fmt.Errorf("read head of %s: %w", log, err)
			}
			h.Log = log
			r, err := h.compactRange()
			if err != nil {
				return nil, err
			}
			t := &treeWrite{head: h, rng: r, nodes: map[compact.NodeID]node{}}
			trees[log] = t
			order = append(order, log)
			return t, nil
		}
		if len(fresh) > 0 {
			if _, err := open(GlobalLog, ""); err != nil {
				return err
			}
		}
		for _, p := range fresh {
			if _, err := open(headID(p.ev.Tenant), p.ev.Tenant); err != nil {
				return err
			}
		}
		// Then the new records and nodes.
		now := l.now().UTC()
		global := trees[GlobalLog]
		for _, p := range fresh {
			own := trees[headID(p.ev.Tenant)]
			rec := Record{Event: p.ev, Seq: own.head.Seq + 1, Global: global.head.Seq + 1,
				Day: p.ev.At.Format(time.DateOnly), StoredAt: now}
			leaf := LeafHash(rec)
			for _, t := range []*treeWrite{own, global} {
				index := uint64(t.head.Seq)
				t.nodes[compact.NewNodeID(0, index)] = node{Hash: leaf, Event: p.ev.ID}
				if err := t.rng.Append(leaf, func(id compact.NodeID, h []byte) {
					if id.Level > 0 {
						t.nodes[id] = node{Hash: append([]byte(nil), h...)}
					}
				}); err != nil {
					return errs.Errorf(errs.Internal, "append to %s: %w", t.head.Log, err)
				}
				t.head.Seq++
				t.head.LastID = p.ev.ID
				t.head.UpdatedAt = now
			}
			p.rec, p.stored = rec, true
			if err := tx.Create(CollEvents, p.ev.ID, rec); err != nil {
				return fmt.Errorf("store event %s: %w", p.ev.ID, err)
			}
		}
		for _, log := range order {
			t := trees[log]
			for id, n := range t.nodes {
				if err := tx.Set(CollNodes, nodeID(log, id), n); err != nil {
					return fmt.Errorf("store node of %s: %w", log, err)
				}
			}
			root, err := t.rng.GetRootHash(nil)
			if err != nil {
				return errs.Errorf(errs.Internal, "root of %s: %w", log, err)
			}
			t.head.Root, t.head.Range = root, t.rng.Hashes()
			if err := tx.Set(CollHeads, log, t.head); err != nil {
				return fmt.Errorf("advance head of %s: %w", log, err)
			}
		}
		// A second copy of an event in the batch gets the first's record.
		for _, p := range batch {
			if q := first[p.ev.ID]; q != p {
				p.rec, p.stored = q.rec, false
			}
		}
		return nil
	})
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
	h, err := l.head(ctx, headID(tenant))
	h.Tenant = tenant
	return h, err
}

// LogHead returns the head of log (GlobalLog or LogID(tenant)).
func (l *Log) LogHead(ctx context.Context, log string) (Head, error) { return l.head(ctx, log) }

func (l *Log) head(ctx context.Context, log string) (Head, error) {
	h := Head{Log: log}
	if !validID(log) {
		return h, fmt.Errorf("audit: %w: log %.64q", ErrInvalid, log)
	}
	err := l.store.Get(ctx, CollHeads, log, &h)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return Head{}, fmt.Errorf("audit: head of %s: %w", log, err)
	}
	h.Log = log
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
