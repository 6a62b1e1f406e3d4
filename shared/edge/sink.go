package edge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/obs"
)

// SecurityEvent is one security matter the edge saw.
type SecurityEvent struct {
	Type      string // waf.blocked, waf.detected, rule.matched, ip.banned, ip.denied, auth.failed
	Action    string // log, score, block, ban
	Rule      string // CRS rule ids or a secrules id
	Detail    string
	IP        netip.Addr
	Tenant    string
	KeyID     string
	Method    string
	Path      string
	RequestID string
}

// Sink receives security events and counters.
type Sink interface {
	Record(ctx context.Context, ev SecurityEvent)
	Count(name, label string)
}

// NopSink drops everything.
type NopSink struct{}

// Record implements Sink.
func (NopSink) Record(context.Context, SecurityEvent) {}

// Count implements Sink.
func (NopSink) Count(string, string) {}

// Counter is the metric behind the sink: a small interface so that an
// OpenTelemetry counter can replace the in-process one.
type Counter interface {
	Add(name, label string)
}

// MemCounter counts in process.
type MemCounter struct{ m sync.Map }

// Add implements Counter.
func (c *MemCounter) Add(name, label string) {
	k := name
	if label != "" {
		k += "{" + label + "}"
	}
	v, _ := c.m.LoadOrStore(k, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// Get returns the count of name{label}.
func (c *MemCounter) Get(name, label string) int64 {
	k := name
	if label != "" {
		k += "{" + label + "}"
	}
	if v, ok := c.m.Load(k); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// Snapshot lists every count, sorted by name.
func (c *MemCounter) Snapshot() []string {
	var out []string
	c.m.Range(func(k, v any) bool {
		out = append(out, k.(string)+" "+itoa(v.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(out)
	return out
}

// AuditSink records security events through the audit path (one audit
// record each) and counts them.
type AuditSink struct {
	Pub     events.Publisher
	Counter Counter
}

// Record implements Sink. Audit records carry no raw personal data: the
// client address is kept as its network (/24 for IPv4, /48 for IPv6), a
// key as its id or, for a wrong key, a short digest.
func (s AuditSink) Record(ctx context.Context, ev SecurityEvent) {
	if s.Pub == nil {
		return
	}
	actor := "client:" + maskIP(ev.IP)
	if ev.KeyID != "" {
		actor = "key:" + ev.KeyID
	}
	outcome := "detected"
	switch ev.Action {
	case "block", "ban":
		outcome = "denied"
	}
	details := map[string]string{"client_net": maskIP(ev.IP), "method": ev.Method, "path": ev.Path, "action": ev.Action}
	for k, v := range map[string]string{"rule": ev.Rule, "detail": ev.Detail, "request_id": ev.RequestID} {
		if v != "" {
			details[k] = v
		}
	}
	// Security events outlive the request: a client that hangs up must not
	// cancel the record of what it tried.
	ctx = context.WithoutCancel(ctx)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := audit.Emit(ctx, s.Pub, audit.Event{Tenant: ev.Tenant, Actor: actor, Action: "security." + ev.Type,
		Resource: ev.Path, Outcome: outcome, Details: details}); err != nil {
		obs.Logger(ctx).ErrorContext(ctx, "edge: audit security event", "type", ev.Type, "error", err)
	}
}

// Count implements Sink.
func (s AuditSink) Count(name, label string) {
	if s.Counter != nil {
		s.Counter.Add(name, label)
	}
}

// maskIP is an address's network: /24 (IPv4) or /48 (IPv6).
func maskIP(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return "unknown"
	}
	return p.String()
}

// keyDigest names a presented key without keeping it.
func keyDigest(key string) string {
	if key == "" {
		return "none"
	}
	h := sha256.Sum256([]byte(key))
	return "sha256:" + hex.EncodeToString(h[:6])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// planCache remembers tenants' plans for a short while: the plan comes
// from the state store, which a per-request read would make the limit's
// main cost.
type planCache struct {
	src PlanSource
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]cachedPlan
}

type cachedPlan struct {
	p       plans.Plan
	expires time.Time
}

func newPlanCache(src PlanSource, ttl time.Duration) *planCache {
	return &planCache{src: src, ttl: ttl, m: map[string]cachedPlan{}}
}

func (c *planCache) get(ctx context.Context, tenant string) (plans.Plan, error) {
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[tenant]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.p, nil
	}
	p, err := c.src(ctx, tenant)
	if err != nil {
		return plans.Plan{}, err
	}
	c.mu.Lock()
	if len(c.m) > 10_000 {
		clear(c.m)
	}
	c.m[tenant] = cachedPlan{p: p, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return p, nil
}
