package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"synthos.dev/synthos/shared/apikeys"
)

// DefaultAuthTTL is how long a verified key is trusted without looking it
// up again. It bounds how long a key revoked through another instance keeps
// working on this one; a revocation through this instance takes effect at
// once (Forget).
const DefaultAuthTTL = 10 * time.Second

// maxCached bounds the cache; when full it is cleared, which costs one
// lookup per active key.
const maxCached = 10_000

// Verifier checks a presented key; *apikeys.Keys is one.
type Verifier interface {
	Verify(ctx context.Context, key string) (*apikeys.Principal, error)
}

// Authenticator verifies API keys and remembers successful verifications
// for a short TTL, so that a busy client costs one state read per TTL
// instead of one per request. Failures are never cached: a key created a
// moment ago works at once.
type Authenticator struct {
	keys Verifier
	ttl  time.Duration
	now  func() time.Time

	mu    sync.RWMutex
	cache map[[32]byte]cachedPrincipal
}

type cachedPrincipal struct {
	p       apikeys.Principal
	expires time.Time
}

// NewAuthenticator returns an Authenticator over keys; ttl ≤ 0 disables
// the cache.
func NewAuthenticator(keys Verifier, ttl time.Duration) *Authenticator {
	return &Authenticator{keys: keys, ttl: ttl, now: time.Now, cache: map[[32]byte]cachedPrincipal{}}
}

// KeyFromRequest returns the presented key: "Authorization: Bearer sk_…"
// or "X-API-Key: sk_…".
func KeyFromRequest(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	return strings.TrimSpace(r.Header.Get("X-API-Key"))
}

// Authenticate returns the principal of key. Errors wrap
// apikeys.ErrUnauthenticated (401) or a store failure (503).
func (a *Authenticator) Authenticate(ctx context.Context, key string) (*apikeys.Principal, error) {
	if key == "" {
		return nil, fmt.Errorf("%w: send Authorization: Bearer sk_… or X-API-Key", apikeys.ErrUnauthenticated)
	}
	// The cache is keyed by a digest so the process never holds raw keys
	// beyond the request.
	h := sha256.Sum256([]byte(key))
	now := a.now()
	if a.ttl > 0 {
		a.mu.RLock()
		c, ok := a.cache[h]
		a.mu.RUnlock()
		if ok && now.Before(c.expires) {
			p := c.p
			return &p, nil
		}
	}
	p, err := a.keys.Verify(ctx, key)
	if err != nil {
		if errors.Is(err, apikeys.ErrUnauthenticated) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: verify key: %w", ErrUnavailable, err)
	}
	if a.ttl > 0 {
		a.mu.Lock()
		if len(a.cache) >= maxCached {
			clear(a.cache)
		}
		a.cache[h] = cachedPrincipal{p: *p, expires: now.Add(a.ttl)}
		a.mu.Unlock()
	}
	return p, nil
}

// Forget drops cached verifications of key id, after it was revoked.
func (a *Authenticator) Forget(keyID string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, c := range a.cache {
		if c.p.KeyID == keyID {
			delete(a.cache, h)
		}
	}
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *apikeys.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the authenticated caller of ctx.
func PrincipalFrom(ctx context.Context) (*apikeys.Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*apikeys.Principal)
	return p, ok && p != nil
}
