package ipfilter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// Collection holds each tenant's rules, one document per tenant.
const Collection = "ip_rules"

// MaxTenantPrefixes bounds one tenant's lists (each request scans them).
const MaxTenantPrefixes = 256

// TenantRules is what a tenant's admin sets: which addresses may use the
// tenant's keys.
type TenantRules struct {
	Allow     []string  `json:"allow"`
	Deny      []string  `json:"deny"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
	UpdatedBy string    `json:"updated_by,omitempty"`
}

// Parse validates t and returns its lists.
func (t TenantRules) Parse() (Rules, error) {
	if n := len(t.Allow) + len(t.Deny); n > MaxTenantPrefixes {
		return Rules{}, errs.Public(errs.InvalidArgument, "%d prefixes, at most %d: merge addresses into wider CIDRs", n, MaxTenantPrefixes)
	}
	allow, err := ParseList(t.Allow)
	if err != nil {
		return Rules{}, errs.Public(errs.InvalidArgument, "allow: %s", err.Error())
	}
	deny, err := ParseList(t.Deny)
	if err != nil {
		return Rules{}, errs.Public(errs.InvalidArgument, "deny: %s", err.Error())
	}
	return Rules{Allow: allow, Deny: deny}, nil
}

// TenantStore reads and writes tenants' rules, caching them for ttl: a
// change made through another instance takes effect there within ttl, one
// made through this instance at once.
type TenantStore struct {
	st  state.Store
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedRules
}

type cachedRules struct {
	r       Rules
	expires time.Time
}

// NewTenantStore returns a store over st.
func NewTenantStore(st state.Store, ttl time.Duration) *TenantStore {
	return &TenantStore{st: st, ttl: ttl, now: time.Now, cache: map[string]cachedRules{}}
}

// Get returns tenant's stored rules (empty when none were set).
func (s *TenantStore) Get(ctx context.Context, tenant string) (TenantRules, error) {
	var t TenantRules
	err := s.st.Get(ctx, Collection, tenant, &t)
	if errors.Is(err, state.ErrNotFound) {
		return TenantRules{Allow: []string{}, Deny: []string{}}, nil
	}
	if err != nil {
		return TenantRules{}, fmt.Errorf("ipfilter: read rules of %s: %w", tenant, err)
	}
	return t, nil
}

// Rules returns tenant's parsed rules, cached.
func (s *TenantStore) Rules(ctx context.Context, tenant string) (Rules, error) {
	now := s.now()
	s.mu.Lock()
	c, ok := s.cache[tenant]
	s.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.r, nil
	}
	t, err := s.Get(ctx, tenant)
	if err != nil {
		return Rules{}, err
	}
	r, err := t.Parse()
	if err != nil {
		return Rules{}, fmt.Errorf("ipfilter: stored rules of %s: %w", tenant, err)
	}
	s.mu.Lock()
	if len(s.cache) > 10_000 {
		clear(s.cache)
	}
	s.cache[tenant] = cachedRules{r: r, expires: now.Add(s.ttl)}
	s.mu.Unlock()
	return r, nil
}

// Put validates and stores tenant's rules.
func (s *TenantStore) Put(ctx context.Context, tenant string, t TenantRules) (TenantRules, error) {
	r, err := t.Parse()
	if err != nil {
		return TenantRules{}, err
	}
	// Store the canonical (masked) forms, so a GET shows what is enforced.
	t.Allow, t.Deny = r.Allow.Strings(), r.Deny.Strings()
	t.UpdatedAt = s.now().UTC()
	if err := s.st.Set(ctx, Collection, tenant, t); err != nil {
		return TenantRules{}, fmt.Errorf("ipfilter: store rules of %s: %w", tenant, err)
	}
	s.mu.Lock()
	delete(s.cache, tenant)
	s.mu.Unlock()
	return t, nil
}
