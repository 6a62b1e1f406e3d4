// Package idempotency makes retried POST requests safe: a client sends an
// Idempotency-Key header, and the first request with that key (per tenant)
// executes while every later one with the same body gets the stored answer.
//
// A record (tenant, key) → {request fingerprint, state, response} lives in
// the state store and changes only inside transactions:
//
//   - Begin claims the key. If no record exists (or it has expired) it stores
//     an in-progress record holding a lease and the request's fingerprint,
//     atomically, so of two concurrent duplicates exactly one wins the claim;
//     the other gets ErrInProgress (HTTP 409; retry later). A key reused with
//     a different request is ErrMismatch (HTTP 422). A completed record
//     returns its stored response for replay.
//   - Complete stores the response under the lease that Begin handed out, so
//     a request whose lease was taken over (it ran longer than LeaseTTL, e.g.
//     a process that died) cannot overwrite the newer attempt's answer.
//   - Abandon deletes an in-progress record, for answers that must not be
//     replayed (server errors: the client should be able to retry).
//
// A process that dies mid-request leaves an in-progress record whose lease
// expires after LeaseTTL; a retry then executes again. Handlers make that
// re-execution harmless by deriving the ids of what they create from the
// claim's seed (DeriveID), a random value stored with the record when it is
// first claimed and kept by a takeover, so the second attempt finds the first
// one's resource instead of creating a duplicate, while ids stay unique
// across records (the same key used again after expiry, or on another
// installation, gets a new seed).
//
// Records carry expire_at; in production a Firestore TTL policy on that field
// deletes them, and Begin treats an expired record as absent everywhere.
package idempotency

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"synthos.dev/synthos/shared/state"
)

// Collection holds one record per (tenant, key).
const Collection = "idempotency"

// Header is the request header that carries the key.
const Header = "Idempotency-Key"

// ReplayedHeader marks a response served from a stored record.
const ReplayedHeader = "Idempotent-Replayed"

// MaxKeyLen bounds a client's key (Stripe's limit).
const MaxKeyLen = 255

// Defaults for Options.
const (
	DefaultTTL      = 24 * time.Hour
	DefaultLeaseTTL = 2 * time.Minute
)

// Errors callers act on.
var (
	// ErrInvalid: the key is empty or too long.
	ErrInvalid = errors.New("idempotency: invalid key")
	// ErrMismatch: the key was used with a different request (HTTP 422).
	ErrMismatch = errors.New("idempotency: key reused with a different request")
	// ErrInProgress: a request with this key is executing (HTTP 409).
	ErrInProgress = errors.New("idempotency: a request with this key is in progress")
	// ErrLeaseLost: Complete was called after another attempt took the key over.
	ErrLeaseLost = errors.New("idempotency: lease lost to a newer attempt")
)

// Status of a record.
const (
	InProgress = "in_progress"
	Completed  = "completed"
)

// Response is a stored answer.
type Response struct {
	Status      int    `json:"status"`
	ContentType string `json:"content_type,omitempty"`
	Location    string `json:"location,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

// Record is the stored document.
type Record struct {
	Tenant      string    `json:"tenant"`
	KeyHash     string    `json:"key_hash"` // sha256 of the client's key; the key itself is not stored
	Fingerprint string    `json:"fingerprint"`
	Seed        string    `json:"seed"` // random; resource ids derive from it
	Status      string    `json:"status"`
	Lease       string    `json:"lease,omitempty"`
	LeaseUntil  time.Time `json:"lease_until,omitzero"`
	Response    *Response `json:"response,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	ExpireAt    time.Time `json:"expire_at"`
}

// Options tune a Store.
type Options struct {
	// TTL is how long a completed answer is replayed; zero means DefaultTTL.
	TTL time.Duration
	// LeaseTTL is how long an in-progress claim blocks duplicates before a
	// retry may take it over; zero means DefaultLeaseTTL.
	LeaseTTL time.Duration
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Store keeps idempotency records in a state store.
type Store struct {
	st    state.Store
	ttl   time.Duration
	lease time.Duration
	now   func() time.Time
}

// New returns a Store over st.
func New(st state.Store, o Options) (*Store, error) {
	if st == nil {
		return nil, errors.New("idempotency.New: a state store is required")
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Store{st: st, ttl: o.TTL, lease: o.LeaseTTL, now: o.Now}, nil
}

// Claim is the outcome of Begin.
type Claim struct {
	// Replay is the stored response when the key already completed; nil
	// when the caller won the claim and must execute the request.
	Replay *Response
	// Seed is the record's seed, for DeriveID.
	Seed   string
	tenant string
	key    string
	lease  string
}

// CheckKey validates a client's key.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %s must be 1 to %d characters", ErrInvalid, Header, MaxKeyLen)
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return fmt.Errorf("%w: %s must be printable ASCII", ErrInvalid, Header)
		}
	}
	return nil
}

// Begin claims (tenant, key) for a request with the given fingerprint.
func (s *Store) Begin(ctx context.Context, tenant, key, fingerprint string) (*Claim, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	id := docID(tenant, key)
	lease := newLease()
	var replay *Response
	var seed string
	err := s.st.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		replay, seed = nil, newLease()
		now := s.now().UTC()
		var rec Record
		err := tx.Get(Collection, id, &rec)
		switch {
		case errors.Is(err, state.ErrNotFound):
		case err != nil:
			return fmt.Errorf("read record: %w", err)
		case now.After(rec.ExpireAt):
			// Expired: as if absent.
		case rec.Fingerprint != fingerprint:
			return ErrMismatch
		case rec.Status == Completed && rec.Response != nil:
			replay = rec.Response
			return nil
		case now.Before(rec.LeaseUntil):
			return ErrInProgress
		default:
			// Taking over a lapsed attempt: keep its seed so its resources
			// are found again.
			seed = rec.Seed
		}
		return tx.Set(Collection, id, Record{
			Tenant: tenant, KeyHash: keyHash(key), Fingerprint: fingerprint, Seed: seed, Status: InProgress,
			Lease: lease, LeaseUntil: now.Add(s.lease), CreatedAt: now, ExpireAt: now.Add(s.ttl),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("idempotency: begin: %w", err)
	}
	return &Claim{Replay: replay, Seed: seed, tenant: tenant, key: key, lease: lease}, nil
}

// Complete stores resp as the answer of the claimed key.
func (s *Store) Complete(ctx context.Context, c *Claim, resp Response) error {
	id := docID(c.tenant, c.key)
	err := s.st.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var rec Record
		if err := tx.Get(Collection, id, &rec); err != nil {
			if errors.Is(err, state.ErrNotFound) {
				return ErrLeaseLost
			}
			return fmt.Errorf("read record: %w", err)
		}
		if rec.Lease != c.lease || rec.Status != InProgress {
			return ErrLeaseLost
		}
		now := s.now().UTC()
		rec.Status, rec.Lease, rec.LeaseUntil, rec.Response = Completed, "", time.Time{}, &resp
		rec.ExpireAt = now.Add(s.ttl)
		return tx.Set(Collection, id, rec)
	})
	if err != nil {
		return fmt.Errorf("idempotency: complete: %w", err)
	}
	return nil
}

// Abandon releases the claim without storing an answer, so the client may
// retry at once. It does nothing if the lease was taken over.
func (s *Store) Abandon(ctx context.Context, c *Claim) error {
	id := docID(c.tenant, c.key)
	err := s.st.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var rec Record
		if err := tx.Get(Collection, id, &rec); err != nil {
			if errors.Is(err, state.ErrNotFound) {
				return nil
			}
			return fmt.Errorf("read record: %w", err)
		}
		if rec.Lease != c.lease || rec.Status != InProgress {
			return nil
		}
		return tx.Delete(Collection, id)
	})
	if err != nil {
		return fmt.Errorf("idempotency: abandon: %w", err)
	}
	return nil
}

// DeriveID returns a resource id derived from (tenant, a claim's seed,
// kind), so that a request re-executed after a lost lease creates the same
// resource again rather than a second one. prefix is prepended ("job_").
func DeriveID(tenant, seed, kind, prefix string) string {
	h := sha256.Sum256([]byte(tenant + "\x00" + seed + "\x00" + kind))
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:15]))
}

// Fingerprint identifies a request: its method, path and a canonical form of
// its body (see CanonicalJSON and the multipart helpers of the caller), so a
// retry that re-serializes the same content is recognised.
func Fingerprint(method, path string, canonicalBody []byte) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(canonicalBody)
	return hex.EncodeToString(h.Sum(nil))
}

// CanonicalJSON re-encodes a JSON body with sorted object keys and no
// insignificant whitespace (numbers kept as written). A body that is not JSON
// is returned unchanged: it is compared byte for byte.
func CanonicalJSON(body []byte) []byte {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}

// IsStorable reports whether a response with this status is kept for
// replay. Server errors are not: the request may succeed when retried.
func IsStorable(status int) bool { return status < http.StatusInternalServerError }

func docID(tenant, key string) string {
	h := sha256.Sum256([]byte(tenant + "\x00" + key))
	return hex.EncodeToString(h[:])
}

func keyHash(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func newLease() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
