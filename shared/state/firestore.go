package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// txAttempts is how many times a Firestore transaction is tried before ErrAborted. Firestore aborts a
// transaction that conflicts with another; a hot document (a counter, a ledger) under load needs many
// attempts, and the client backs off exponentially between them.
const txAttempts = 100

// fireStore is the Cloud Firestore driver. Documents are stored as the encoded map (see encode), so
// fields are typed and queryable.
type fireStore struct {
	c *firestore.Client
}

// OpenFirestore connects to the Firestore database of project (firestore.DetectProjectID to take it
// from the environment) named database ("" or "(default)" for the default one). The client honours
// FIRESTORE_EMULATOR_HOST by itself.
func OpenFirestore(ctx context.Context, project, database string) (Store, error) {
	if database == "" {
		database = firestore.DefaultDatabaseID
	}
	c, err := firestore.NewClientWithDatabase(ctx, project, database)
	if err != nil {
		return nil, fmt.Errorf("state: open firestore %s/%s: %w", project, database, err)
	}
	return &fireStore{c: c}, nil
}

func (s *fireStore) doc(coll, id string) *firestore.DocumentRef {
	return s.c.Collection(coll).Doc(id)
}

func (s *fireStore) Get(ctx context.Context, coll, id string, dst any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: get %s/%s: %w", coll, id, err)
	}
	if err := checkRef(coll, id); err != nil {
		return fmt.Errorf("state: get: %w", err)
	}
	snap, err := s.doc(coll, id).Get(ctx)
	if err != nil {
		return fmt.Errorf("state: get %s/%s: %w", coll, id, fireErr(err))
	}
	if err := fireDecode(snap, dst); err != nil {
		return fmt.Errorf("state: get %s/%s: %w", coll, id, err)
	}
	return nil
}

func (s *fireStore) Create(ctx context.Context, coll, id string, v any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: create %s/%s: %w", coll, id, err)
	}
	m, err := fireEncode(coll, id, v)
	if err != nil {
		return fmt.Errorf("state: create %s/%s: %w", coll, id, err)
	}
	if _, err := s.doc(coll, id).Create(ctx, m); err != nil {
		return fmt.Errorf("state: create %s/%s: %w", coll, id, fireErr(err))
	}
	return nil
}

func (s *fireStore) Set(ctx context.Context, coll, id string, v any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: set %s/%s: %w", coll, id, err)
	}
	m, err := fireEncode(coll, id, v)
	if err != nil {
		return fmt.Errorf("state: set %s/%s: %w", coll, id, err)
	}
	if _, err := s.doc(coll, id).Set(ctx, m); err != nil {
		return fmt.Errorf("state: set %s/%s: %w", coll, id, fireErr(err))
	}
	return nil
}

func (s *fireStore) Delete(ctx context.Context, coll, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: delete %s/%s: %w", coll, id, err)
	}
	if err := checkRef(coll, id); err != nil {
		return fmt.Errorf("state: delete: %w", err)
	}
	if _, err := s.doc(coll, id).Delete(ctx); err != nil {
		return fmt.Errorf("state: delete %s/%s: %w", coll, id, fireErr(err))
	}
	return nil
}

func (s *fireStore) Query(ctx context.Context, coll string, q Query) ([]Doc, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: query %s: %w", coll, err)
	}
	vals, err := checkQuery(coll, q)
	if err != nil {
		return nil, fmt.Errorf("state: query: %w", err)
	}
	fq := s.c.Collection(coll).Query
	for i, w := range q.Where {
		fq = fq.Where(w.Field, "==", vals[i])
	}
	if q.OrderBy != "" {
		fq = fq.OrderBy(q.OrderBy, fireDir(q.Desc))
	}
	if q.Limit > 0 {
		fq = fq.Limit(q.Limit)
	}
	it := fq.Documents(ctx)
	defer it.Stop()
	var docs []Doc
	for {
		snap, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("state: query %s: %w", coll, fireErr(err))
		}
		data, err := json.Marshal(snap.Data())
		if err != nil {
			return nil, fmt.Errorf("state: query %s: document %s: %w: %w", coll, snap.Ref.ID, ErrInvalid, err)
		}
		docs = append(docs, Doc{ID: snap.Ref.ID, Data: data})
	}
}

func fireDir(desc bool) firestore.Direction {
	if desc {
		return firestore.Desc
	}
	return firestore.Asc
}

func (s *fireStore) RunTransaction(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: transaction: %w", err)
	}
	err := s.c.RunTransaction(ctx, func(ctx context.Context, ft *firestore.Transaction) error {
		t := &fireTx{s: s, t: ft, exists: map[string]bool{}}
		defer t.finish()
		if err := fn(ctx, t); err != nil {
			return err
		}
		return t.failed()
	}, firestore.MaxAttempts(txAttempts))
	if err != nil {
		return fmt.Errorf("state: transaction: %w", fireErr(err))
	}
	return nil
}

// pingColl/pingID name the document Ping reads; it need not exist.
const pingColl, pingID = "_synthos", "ping"

func (s *fireStore) Ping(ctx context.Context) error {
	_, err := s.doc(pingColl, pingID).Get(ctx)
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("state: ping firestore: %w", fireErr(err))
	}
	return nil
}

func (s *fireStore) Close() error {
	if err := s.c.Close(); err != nil {
		return fmt.Errorf("state: close firestore: %w", err)
	}
	return nil
}

// fireTx is a Tx over a Firestore transaction. It enforces reads-before-writes itself so the error is
// the same as the embedded driver's, and remembers which documents it saw exist so that Create of one
// fails at once, as it does on the embedded driver.
type fireTx struct {
	s      *fireStore
	t      *firestore.Transaction
	mu     sync.Mutex
	exists map[string]bool // "coll/id" read by Get and found
	wrote  bool
	done   bool
	err    error // a failed Create: it dooms the commit even if fn ignores it
}

func (t *fireTx) finish() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
}

func (t *fireTx) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *fireTx) Get(coll, id string, dst any) error {
	t.mu.Lock()
	switch {
	case t.done:
		t.mu.Unlock()
		return errTxDone
	case t.wrote:
		t.mu.Unlock()
		return fmt.Errorf("state: tx get %s/%s: %w", coll, id, errReadAfterWrite)
	}
	t.mu.Unlock()
	if err := checkRef(coll, id); err != nil {
		return fmt.Errorf("state: tx get: %w", err)
	}
	snap, err := t.t.Get(t.s.doc(coll, id))
	if err != nil {
		return fmt.Errorf("state: tx get %s/%s: %w", coll, id, fireErr(err))
	}
	t.mu.Lock()
	t.exists[coll+"/"+id] = true
	t.mu.Unlock()
	if err := fireDecode(snap, dst); err != nil {
		return fmt.Errorf("state: tx get %s/%s: %w", coll, id, err)
	}
	return nil
}

func (t *fireTx) Create(coll, id string, v any) error {
	m, err := fireEncode(coll, id, v)
	if err != nil {
		return fmt.Errorf("state: tx create %s/%s: %w", coll, id, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errTxDone
	}
	t.wrote = true
	if t.exists[coll+"/"+id] {
		err := fmt.Errorf("state: tx create %s/%s: %w", coll, id, ErrAlreadyExists)
		if t.err == nil {
			t.err = err
		}
		return err
	}
	if err := t.t.Create(t.s.doc(coll, id), m); err != nil {
		return fmt.Errorf("state: tx create %s/%s: %w", coll, id, fireErr(err))
	}
	return nil
}

func (t *fireTx) Set(coll, id string, v any) error {
	m, err := fireEncode(coll, id, v)
	if err != nil {
		return fmt.Errorf("state: tx set %s/%s: %w", coll, id, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errTxDone
	}
	t.wrote = true
	if err := t.t.Set(t.s.doc(coll, id), m); err != nil {
		return fmt.Errorf("state: tx set %s/%s: %w", coll, id, fireErr(err))
	}
	return nil
}

func (t *fireTx) Delete(coll, id string) error {
	if err := checkRef(coll, id); err != nil {
		return fmt.Errorf("state: tx delete: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errTxDone
	}
	t.wrote = true
	if err := t.t.Delete(t.s.doc(coll, id)); err != nil {
		return fmt.Errorf("state: tx delete %s/%s: %w", coll, id, fireErr(err))
	}
	return nil
}

// fireEncode validates the reference and returns the map Firestore stores for v.
func fireEncode(coll, id string, v any) (map[string]any, error) {
	if err := checkRef(coll, id); err != nil {
		return nil, err
	}
	return encode(v)
}

// fireDecode decodes a snapshot's fields into dst through JSON, as the embedded driver does.
func fireDecode(snap *firestore.DocumentSnapshot, dst any) error {
	data, err := json.Marshal(snap.Data())
	if err != nil {
		return fmt.Errorf("%w: encode fields: %w", ErrInvalid, err)
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("%w: decode: %w", ErrInvalid, err)
	}
	return nil
}

// fireErr classifies a Firestore error with this package's sentinels, keeping the original in the
// chain (so the client still sees an Aborted status and retries a transaction).
func fireErr(err error) error {
	for _, s := range []error{ErrNotFound, ErrAlreadyExists, ErrAborted, ErrInvalid, ErrLocked} {
		if errors.Is(err, s) {
			return err
		}
	}
	switch status.Code(err) {
	case codes.NotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case codes.AlreadyExists:
		return fmt.Errorf("%w: %w", ErrAlreadyExists, err)
	case codes.Aborted:
		return fmt.Errorf("%w: %w", ErrAborted, err)
	case codes.InvalidArgument:
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}
