package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// lockTimeout is how long OpenBolt waits for another process to release the file before ErrLocked.
const lockTimeout = time.Second

// boltStore is the embedded driver: one bbolt file, one bucket per collection, each document stored as
// the JSON of its encoded map. Every commit is fsync'd (bbolt's default), and bbolt serializes writers,
// so every transaction is serializable and never needs a retry. Query scans the whole bucket, which is
// fine at the scale of a local runner but not beyond it.
type boltStore struct {
	db   *bbolt.DB
	path string
}

// OpenBolt opens (creating if needed, with its directory) the embedded store at path. If another
// process holds the file, it fails after a second with ErrLocked rather than waiting forever.
func OpenBolt(path string) (Store, error) {
	if path == "" {
		return nil, fmt.Errorf("state: open bolt: %w: empty path", ErrInvalid)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("state: open bolt %s: %w", path, err)
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("state: state file %s is in use by another process: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("state: open bolt %s: %w", path, err)
	}
	return &boltStore{db: db, path: path}, nil
}

func (s *boltStore) Get(ctx context.Context, coll, id string, dst any) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: get %s/%s: %w", coll, id, err)
	}
	if err := checkRef(coll, id); err != nil {
		return fmt.Errorf("state: get: %w", err)
	}
	err := s.db.View(func(tx *bbolt.Tx) error { return boltGet(tx, coll, id, dst) })
	if err != nil {
		return fmt.Errorf("state: get %s/%s: %w", coll, id, err)
	}
	return nil
}

func (s *boltStore) Create(ctx context.Context, coll, id string, v any) error {
	return s.write(ctx, "create", coll, id, v, boltCreate)
}

func (s *boltStore) Set(ctx context.Context, coll, id string, v any) error {
	return s.write(ctx, "set", coll, id, v, boltSet)
}

// write validates and encodes v, then applies put in its own transaction.
func (s *boltStore) write(ctx context.Context, op, coll, id string, v any,
	put func(tx *bbolt.Tx, coll, id string, data []byte) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: %s %s/%s: %w", op, coll, id, err)
	}
	data, err := boltEncode(coll, id, v)
	if err != nil {
		return fmt.Errorf("state: %s %s/%s: %w", op, coll, id, err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error { return put(tx, coll, id, data) }); err != nil {
		return fmt.Errorf("state: %s %s/%s: %w", op, coll, id, err)
	}
	return nil
}

func (s *boltStore) Delete(ctx context.Context, coll, id string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: delete %s/%s: %w", coll, id, err)
	}
	if err := checkRef(coll, id); err != nil {
		return fmt.Errorf("state: delete: %w", err)
	}
	if err := s.db.Update(func(tx *bbolt.Tx) error { return boltDelete(tx, coll, id) }); err != nil {
		return fmt.Errorf("state: delete %s/%s: %w", coll, id, err)
	}
	return nil
}

// boltRow is one decoded document during a query.
type boltRow struct {
	id   string
	data []byte
	key  any // the OrderBy value
}

func (s *boltStore) Query(ctx context.Context, coll string, q Query) ([]Doc, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("state: query %s: %w", coll, err)
	}
	vals, err := checkQuery(coll, q)
	if err != nil {
		return nil, fmt.Errorf("state: query: %w", err)
	}
	var rows []boltRow
	err = s.db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(coll))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			x, err := decodeJSON(v)
			if err != nil {
				return fmt.Errorf("document %s: %w", k, err)
			}
			m, _ := x.(map[string]any)
			for i, w := range q.Where {
				got, ok := lookup(m, w.Field)
				if !ok || rank(got) != rank(vals[i]) || compare(got, vals[i]) != 0 {
					return nil
				}
			}
			r := boltRow{id: string(k), data: slices.Clone(v)}
			if q.OrderBy != "" {
				var ok bool
				if r.key, ok = lookup(m, q.OrderBy); !ok {
					return nil
				}
			}
			rows = append(rows, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("state: query %s: %w", coll, err)
	}
	if q.OrderBy != "" {
		slices.SortFunc(rows, func(a, b boltRow) int {
			c := compare(a.key, b.key)
			if c == 0 {
				c = compare(a.id, b.id)
			}
			if q.Desc {
				return -c
			}
			return c
		})
	}
	if q.Limit > 0 && len(rows) > q.Limit {
		rows = rows[:q.Limit]
	}
	docs := make([]Doc, len(rows))
	for i, r := range rows {
		docs[i] = Doc{ID: r.id, Data: r.data}
	}
	return docs, nil
}

func (s *boltStore) RunTransaction(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: transaction: %w", err)
	}
	err := s.db.Update(func(btx *bbolt.Tx) error {
		t := &boltTx{tx: btx}
		defer t.finish()
		if err := fn(ctx, t); err != nil {
			return err
		}
		if err := t.failed(); err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return fmt.Errorf("state: transaction: %w", err)
	}
	return nil
}

func (s *boltStore) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("state: ping: %w", err)
	}
	if err := s.db.View(func(*bbolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("state: ping %s: %w", s.path, err)
	}
	return nil
}

func (s *boltStore) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("state: close %s: %w", s.path, err)
	}
	return nil
}

// errReadAfterWrite is what both drivers return for a Get after a write in one transaction.
var errReadAfterWrite = fmt.Errorf("%w: read after write in a transaction (Firestore requires all reads before writes)", ErrInvalid)

// errTxDone is returned when a Tx is used after its RunTransaction returned.
var errTxDone = fmt.Errorf("%w: transaction already finished", ErrInvalid)

// boltTx is a Tx over one bbolt write transaction. The mutex makes it safe to share among goroutines
// inside fn, as a Firestore transaction is.
type boltTx struct {
	mu    sync.Mutex
	tx    *bbolt.Tx
	wrote bool
	done  bool
	err   error // a failed Create: it dooms the commit even if fn ignores it
}

func (t *boltTx) finish() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
}

func (t *boltTx) failed() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *boltTx) Get(coll, id string, dst any) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.done:
		return errTxDone
	case t.wrote:
		return fmt.Errorf("state: tx get %s/%s: %w", coll, id, errReadAfterWrite)
	}
	if err := checkRef(coll, id); err != nil {
		return fmt.Errorf("state: tx get: %w", err)
	}
	if err := boltGet(t.tx, coll, id, dst); err != nil {
		return fmt.Errorf("state: tx get %s/%s: %w", coll, id, err)
	}
	return nil
}

func (t *boltTx) Create(coll, id string, v any) error {
	return t.write("create", coll, id, v, boltCreate)
}

func (t *boltTx) Set(coll, id string, v any) error {
	return t.write("set", coll, id, v, boltSet)
}

func (t *boltTx) write(op, coll, id string, v any, put func(tx *bbolt.Tx, coll, id string, data []byte) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errTxDone
	}
	data, err := boltEncode(coll, id, v)
	if err != nil {
		return fmt.Errorf("state: tx %s %s/%s: %w", op, coll, id, err)
	}
	t.wrote = true
	if err := put(t.tx, coll, id, data); err != nil {
		err = fmt.Errorf("state: tx %s %s/%s: %w", op, coll, id, err)
		if errors.Is(err, ErrAlreadyExists) && t.err == nil {
			t.err = err
		}
		return err
	}
	return nil
}

func (t *boltTx) Delete(coll, id string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return errTxDone
	}
	if err := checkRef(coll, id); err != nil {
		return fmt.Errorf("state: tx delete: %w", err)
	}
	t.wrote = true
	if err := boltDelete(t.tx, coll, id); err != nil {
		return fmt.Errorf("state: tx delete %s/%s: %w", coll, id, err)
	}
	return nil
}

// boltEncode validates the reference and returns the stored form of v.
func boltEncode(coll, id string, v any) ([]byte, error) {
	if err := checkRef(coll, id); err != nil {
		return nil, err
	}
	m, err := encode(v)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: encode value: %w", ErrInvalid, err)
	}
	return data, nil
}

func boltGet(tx *bbolt.Tx, coll, id string, dst any) error {
	b := tx.Bucket([]byte(coll))
	if b == nil {
		return ErrNotFound
	}
	data := b.Get([]byte(id))
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return fmt.Errorf("%w: decode: %w", ErrInvalid, err)
	}
	return nil
}

func boltCreate(tx *bbolt.Tx, coll, id string, data []byte) error {
	b, err := tx.CreateBucketIfNotExists([]byte(coll))
	if err != nil {
		return err
	}
	if b.Get([]byte(id)) != nil {
		return ErrAlreadyExists
	}
	return b.Put([]byte(id), data)
}

func boltSet(tx *bbolt.Tx, coll, id string, data []byte) error {
	b, err := tx.CreateBucketIfNotExists([]byte(coll))
	if err != nil {
		return err
	}
	return b.Put([]byte(id), data)
}

func boltDelete(tx *bbolt.Tx, coll, id string) error {
	b := tx.Bucket([]byte(coll))
	if b == nil {
		return nil
	}
	return b.Delete([]byte(id))
}
