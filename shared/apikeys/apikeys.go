// Package apikeys issues and verifies tenant API keys.
//
// A key looks like sk_live_<id><secret><crc>: a mode prefix that secret
// scanners can match, an 8-character key id (the document id, so lookups are
// one Get), a 24-character random secret, and a 6-character base62 CRC32 of
// everything before it, so a scanner (or this package) can reject a mistyped
// or made-up key offline. The key is shown once; the store keeps only
// HMAC-SHA256(pepper, key), where the pepper lives in the secrets adapter, so
// a leaked database alone cannot verify guesses. Comparison is constant-time.
package apikeys

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// Scope is a permission a key grants.
type Scope string

const (
	Read  Scope = "read"  // GET anything of the tenant's
	Write Scope = "write" // create and cancel jobs, upload datasets
	Admin Scope = "admin" // manage the tenant's keys and webhooks
)

// ParseScopes parses "read,write".
func ParseScopes(s string) ([]Scope, error) {
	var out []Scope
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		switch Scope(p) {
		case Read, Write, Admin:
			if !slices.Contains(out, Scope(p)) {
				out = append(out, Scope(p))
			}
		case "":
		default:
			return nil, fmt.Errorf("%w: unknown scope %q (use read, write, admin)", ErrInvalid, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no scope given (use read, write, admin)", ErrInvalid)
	}
	return out, nil
}

// Errors callers act on.
var (
	ErrInvalid         = errs.New(errs.InvalidArgument, "apikeys: invalid request")
	ErrUnauthenticated = errs.New(errs.Unauthenticated, "apikeys: missing, malformed, unknown or revoked API key")
	ErrForbidden       = errs.New(errs.PermissionDenied, "apikeys: key lacks the required scope")
)

// Collection holds one document per key, keyed by key id.
const Collection = "api_keys"

// PepperSecret is the secret that keys the stored HMACs.
const PepperSecret = "api-key-pepper"

const (
	prefixLive = "sk_live_"
	prefixTest = "sk_test_"
	idLen      = 8
	secretLen  = 24
	crcLen     = 6
	bodyLen    = idLen + secretLen + crcLen
)

// Record is what the store keeps of a key: never the key itself.
type Record struct {
	ID        string     `json:"id"`
	Tenant    string     `json:"tenant"`
	Name      string     `json:"name,omitempty"`
	Scopes    []Scope    `json:"scopes"`
	Live      bool       `json:"live"`
	Hash      string     `json:"hash"`    // hex HMAC-SHA256(pepper, key)
	Display   string     `json:"display"` // "sk_live_ab12cd34…" for lists
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Principal is an authenticated caller.
type Principal struct {
	Tenant string
	KeyID  string
	Scopes []Scope
	Live   bool
}

// Has reports whether p holds scope s (admin implies every scope).
func (p *Principal) Has(s Scope) bool {
	return slices.Contains(p.Scopes, s) || slices.Contains(p.Scopes, Admin)
}

// Keys issues, verifies, lists and revokes keys in a state store.
type Keys struct {
	store  state.Store
	pepper []byte
	now    func() time.Time
}

// New returns Keys over store with the given pepper (at least 32 bytes).
func New(store state.Store, pepper []byte) (*Keys, error) {
	if len(pepper) < 32 {
		return nil, fmt.Errorf("%w: the %s secret must hold at least 32 bytes, has %d", ErrInvalid, PepperSecret, len(pepper))
	}
	return &Keys{store: store, pepper: pepper, now: time.Now}, nil
}

// CreateOptions describe a new key.
type CreateOptions struct {
	Tenant string
	Name   string
	Scopes []Scope
	Test   bool // sk_test_ instead of sk_live_
}

// Create issues a key. The returned string is the only copy of the key.
func (k *Keys) Create(ctx context.Context, o CreateOptions) (string, *Record, error) {
	if err := checkTenant(o.Tenant); err != nil {
		return "", nil, err
	}
	if len(o.Scopes) == 0 {
		return "", nil, fmt.Errorf("%w: a key needs at least one scope", ErrInvalid)
	}
	prefix := prefixLive
	if o.Test {
		prefix = prefixTest
	}
	for range 5 { // a key id collision (62^8) is astronomically rare; retry anyway
		id, secret := randomBase62(idLen), randomBase62(secretLen)
		key := prefix + id + secret
		key += checksum(key)
		rec := &Record{
			ID: id, Tenant: o.Tenant, Name: o.Name, Scopes: o.Scopes, Live: !o.Test,
			Hash: k.hash(key), Display: prefix + id + "…", CreatedAt: k.now().UTC(),
		}
		err := k.store.Create(ctx, Collection, id, rec)
		if errors.Is(err, state.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("apikeys: store key: %w", err)
		}
		return key, rec, nil
	}
	return "", nil, fmt.Errorf("apikeys: could not allocate a key id")
}

// Verify authenticates a presented key.
func (k *Keys) Verify(ctx context.Context, key string) (*Principal, error) {
	id, live, ok := parse(key)
	if !ok {
		return nil, ErrUnauthenticated
	}
	var rec Record
	if err := k.store.Get(ctx, Collection, id, &rec); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil, ErrUnauthenticated
		}
		return nil, fmt.Errorf("apikeys: look up key: %w", err)
	}
	want, err := hex.DecodeString(rec.Hash)
	if err != nil {
		return nil, fmt.Errorf("apikeys: stored hash of key %s is corrupt: %w", id, err)
	}
	mac := hmac.New(sha256.New, k.pepper)
	mac.Write([]byte(key))
	if !hmac.Equal(mac.Sum(nil), want) || rec.RevokedAt != nil || rec.Live != live {
		return nil, ErrUnauthenticated
	}
	return &Principal{Tenant: rec.Tenant, KeyID: rec.ID, Scopes: rec.Scopes, Live: rec.Live}, nil
}

// List returns the tenant's keys, newest first (hashes included: they are
// useless without the pepper, but callers showing lists should print Display).
func (k *Keys) List(ctx context.Context, tenant string) ([]Record, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	docs, err := k.store.Query(ctx, Collection, state.Query{Where: []state.Eq{{Field: "tenant", Value: tenant}}})
	if err != nil {
		return nil, fmt.Errorf("apikeys: list: %w", err)
	}
	out := make([]Record, 0, len(docs))
	for _, d := range docs {
		var r Record
		if err := d.DataTo(&r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Record) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// Revoke revokes the tenant's key id. Revoking another tenant's key is
// ErrUnauthenticated-free: it reports not found, revealing nothing.
func (k *Keys) Revoke(ctx context.Context, tenant, id string) error {
	return k.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var rec Record
		if err := tx.Get(Collection, id, &rec); err != nil {
			return fmt.Errorf("apikeys: revoke %s: %w", id, err)
		}
		if rec.Tenant != tenant {
			return fmt.Errorf("apikeys: revoke %s: %w", id, state.ErrNotFound)
		}
		if rec.RevokedAt != nil {
			return nil
		}
		now := k.now().UTC()
		rec.RevokedAt = &now
		return tx.Set(Collection, id, rec)
	})
}

func (k *Keys) hash(key string) string {
	mac := hmac.New(sha256.New, k.pepper)
	mac.Write([]byte(key))
	return hex.EncodeToString(mac.Sum(nil))
}

// LooksLikeKey reports whether s has a key's shape and a valid checksum,
// without any lookup: what a secret scanner checks.
func LooksLikeKey(s string) bool {
	_, _, ok := parse(s)
	return ok
}

func parse(key string) (id string, live, ok bool) {
	var body string
	switch {
	case strings.HasPrefix(key, prefixLive):
		body, live = key[len(prefixLive):], true
	case strings.HasPrefix(key, prefixTest):
		body = key[len(prefixTest):]
	default:
		return "", false, false
	}
	if len(body) != bodyLen || !isBase62(body) {
		return "", false, false
	}
	head := key[:len(key)-crcLen]
	if checksum(head) != key[len(key)-crcLen:] {
		return "", false, false
	}
	return body[:idLen], live, true
}

func checkTenant(t string) error {
	if t == "" || len(t) > 128 || strings.ContainsAny(t, "/ \t\n") {
		return fmt.Errorf("%w: tenant %q must be 1 to 128 characters without spaces or '/'", ErrInvalid, t)
	}
	return nil
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base62, s[i]) < 0 {
			return false
		}
	}
	return true
}

// randomBase62 draws n uniform base62 characters from crypto/rand, rejecting
// bytes ≥ 248 so that no character is more likely than another.
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails on supported platforms
		for _, b := range buf {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// checksum is the CRC32 (IEEE) of s in 6 base62 digits (62^6 > 2^32).
func checksum(s string) string {
	c := uint64(crc32.ChecksumIEEE([]byte(s)))
	var b [crcLen]byte
	for i := crcLen - 1; i >= 0; i-- {
		b[i] = base62[c%62]
		c /= 62
	}
	return string(b[:])
}
