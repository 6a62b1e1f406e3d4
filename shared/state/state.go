// Package state is the document store behind jobs, ledgers, API keys, subscriptions and dedupe records.
//
// A Store holds JSON-shaped documents in named collections and runs serializable read-modify-write
// transactions. Two drivers implement it with the same semantics, checked by one conformance suite
// (package statetest):
//
//   - firestore://PROJECT[?database=NAME] — Cloud Firestore (production; honours FIRESTORE_EMULATOR_HOST).
//   - bolt:///abs/path/state.db, bolt://./rel/path or a plain path — an embedded bbolt file, fsync'd on
//     every commit, so a write acknowledged before a crash survives it. Used by the local runner.
//
// Values are Go structs with json tags, or maps. Both drivers encode a value to JSON and then to a map in
// which JSON integers become int64 and other numbers float64, so Firestore stores typed fields that can be
// queried and ordered, and the embedded driver compares them the same way. Values are decoded back through
// JSON, so a round trip is exactly json.Marshal followed by json.Unmarshal.
package state

import (
	"context"
	"encoding/json"
	"fmt"

	"synthos.dev/synthos/shared/errs"
)

// Sentinel errors. Every error a Store returns wraps at most one of these; test with errors.Is.
var (
	// ErrNotFound: the document does not exist.
	ErrNotFound = errs.New(errs.NotFound, "state: not found")
	// ErrAlreadyExists: Create found a document with that id.
	ErrAlreadyExists = errs.New(errs.AlreadyExists, "state: already exists")
	// ErrAborted: a transaction kept conflicting with others and gave up after its retries.
	ErrAborted = errs.New(errs.Unavailable, "state: transaction aborted")
	// ErrInvalid: a bad argument (collection or id, a value that is not a JSON object, a query value of
	// an unsupported type, a read after a write in a transaction, an unknown URL).
	ErrInvalid = errs.New(errs.InvalidArgument, "state: invalid argument")
	// ErrLocked: the embedded store's file is held by another process (or another Store in this one).
	ErrLocked = errs.New(errs.Unavailable, "state: store in use")
)

// Store is a collection-of-documents store with transactions.
//
// Collection names and document ids follow Firestore's rules in every driver: non-empty valid UTF-8, at
// most 1500 bytes, no "/", not "." or "..", and not of the reserved form __name__.
type Store interface {
	// Get decodes document coll/id into dst (a pointer) as json.Unmarshal would. ErrNotFound if absent.
	Get(ctx context.Context, coll, id string, dst any) error
	// Create stores v as coll/id only if no such document exists; otherwise ErrAlreadyExists.
	Create(ctx context.Context, coll, id string, v any) error
	// Set stores v as coll/id, replacing any previous document whole.
	Set(ctx context.Context, coll, id string, v any) error
	// Delete removes coll/id. Deleting a missing document is not an error.
	Delete(ctx context.Context, coll, id string) error
	// Query returns the documents of coll that match q, in q's order.
	Query(ctx context.Context, coll string, q Query) ([]Doc, error)
	// RunTransaction runs fn in a serializable transaction and commits what fn wrote if fn returns nil.
	// If fn returns an error, nothing fn wrote is kept and RunTransaction returns that error. fn may run
	// several times when transactions conflict, so it must not have effects outside tx; it must not use
	// the Store itself (the embedded driver would deadlock). Return Tx errors wrapped with %w so that
	// conflicts are recognised and retried. When retries run out the error wraps ErrAborted.
	RunTransaction(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
	// Ping checks that the store can serve requests, for readiness checks.
	Ping(ctx context.Context) error
	// Close releases the store; it must not be used afterwards.
	Close() error
}

// Tx is the view of the store inside RunTransaction.
//
// As in Firestore, all reads happen before writes: once a transaction has written (Create, Set or
// Delete), a Get fails with ErrInvalid in every driver, so code that passes against the embedded driver
// also works on Firestore. A Create of an existing document makes the whole transaction fail with
// ErrAlreadyExists, even if fn ignores the error (on Firestore it may only be reported by the commit).
type Tx interface {
	Get(coll, id string, dst any) error
	Create(coll, id string, v any) error
	Set(coll, id string, v any) error
	Delete(coll, id string) error
}

// Query selects documents of one collection.
//
// Without OrderBy documents come in document-id order. With OrderBy they are ordered by that field (ties
// broken by id, in the same direction) and, as in Firestore, documents lacking the field are left out.
// Values of different types order as in Firestore: null, booleans, numbers, strings, arrays, maps.
// On Firestore, equality filters combined with OrderBy on another field need a composite index.
type Query struct {
	Where   []Eq   // all must hold
	OrderBy string // a field path ("a" or "a.b"); empty for id order
	Desc    bool   // descending order; needs OrderBy
	Limit   int    // at most this many documents; 0 for all
}

// Eq holds when the document's Field (a dotted path) equals Value. Value must be a string, a bool or an
// integer (of any Go integer kind, or a named type of one); an integer also matches an equal float field.
type Eq struct {
	Field string
	Value any
}

// Doc is one document returned by Query: its id and its JSON data.
type Doc struct {
	ID   string
	Data json.RawMessage
}

// DataTo decodes the document's data into dst as json.Unmarshal would.
func (d Doc) DataTo(dst any) error {
	if err := json.Unmarshal(d.Data, dst); err != nil {
		return fmt.Errorf("state: decode %s: %w: %w", d.ID, ErrInvalid, err)
	}
	return nil
}
