// Package ratelimit limits request rates with GCRA (the generic cell rate
// algorithm): each key keeps one number, its theoretical arrival time (TAT),
// so a check is one read-modify-write whatever the window. Two drivers share
// the algorithm: Memory (one process; the fallback when no Redis is
// configured, so each instance enforces its own share) and Redis (one Lua
// script per check, atomic across every instance; SYNTHOS_REDIS_URL).
//
// A Limit admits Rate requests per Period on average and up to Burst at
// once: with an emission interval T = Period/Rate, a request at time now is
// admitted when max(TAT, now) + T - Burst*T <= now, and then TAT advances by
// T. Refused requests do not advance TAT, so a client that keeps hammering
// is admitted again as soon as its rate drops.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Limit is a GCRA limit: Rate requests per Period on average, Burst at once.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// PerMinute is a limit of n requests a minute with the given burst.
func PerMinute(n, burst int) Limit { return Limit{Rate: n, Period: time.Minute, Burst: burst} }

// Valid reports whether l can be enforced.
func (l Limit) Valid() bool { return l.Rate > 0 && l.Period > 0 && l.Burst > 0 }

// interval is the emission interval T = Period/Rate.
func (l Limit) interval() time.Duration { return l.Period / time.Duration(l.Rate) }

func (l Limit) String() string { return fmt.Sprintf("%d/%s burst %d", l.Rate, l.Period, l.Burst) }

// Result is the outcome of one check.
type Result struct {
	Allowed bool
	Limit   Limit
	// Remaining is how many more requests would be admitted right now.
	Remaining int
	// RetryAfter is how long until the next request is admitted (0 when
	// this one was).
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to its full burst.
	ResetAfter time.Duration
}

// Limiter checks and consumes one request of key under l.
type Limiter interface {
	Allow(ctx context.Context, key string, l Limit) (Result, error)
}

// gcra is the algorithm shared by the drivers (the Redis script mirrors
// it). tat and now are in nanoseconds; it returns the result and the new
// TAT to store when the request is admitted.
func gcra(tat, now int64, l Limit) (Result, int64) {
	t := int64(l.interval())
	burstOffset := t * int64(l.Burst)
	if tat < now {
		tat = now
	}
	newTAT := tat + t
	diff := now - (newTAT - burstOffset)
	if diff < 0 {
		return Result{Allowed: false, Limit: l, RetryAfter: time.Duration(-diff), ResetAfter: time.Duration(tat - now)}, tat
	}
	return Result{Allowed: true, Limit: l, Remaining: int(diff / t), ResetAfter: time.Duration(newTAT - now)}, newTAT
}

// Memory is the in-process driver. It is exact within one process; several
// instances each admit their own Burst and Rate, which is why production
// sets SYNTHOS_REDIS_URL.
type Memory struct {
	now    func() time.Time
	shards [64]memShard
}

type memShard struct {
	mu  sync.Mutex
	tat map[string]int64
}

// maxKeysPerShard bounds memory: a full shard drops the keys whose TAT is
// past (they are at full burst, so forgetting them changes nothing).
const maxKeysPerShard = 4096

// NewMemory returns an empty in-process limiter; now nil means time.Now.
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now}
	for i := range m.shards {
		m.shards[i].tat = map[string]int64{}
	}
	return m
}

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string, l Limit) (Result, error) {
	if !l.Valid() {
		return Result{}, fmt.Errorf("ratelimit: invalid limit %v", l)
	}
	s := &m.shards[fnv32(key)%uint32(len(m.shards))]
	now := m.now().UnixNano()
	s.mu.Lock()
	defer s.mu.Unlock()
	res, tat := gcra(s.tat[key], now, l)
	if res.Allowed {
		if len(s.tat) >= maxKeysPerShard {
			for k, v := range s.tat {
				if v <= now {
					delete(s.tat, k)
				}
			}
		}
		s.tat[key] = tat
	}
	return res, nil
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Policy names one checked limit in the RateLimit headers.
type Policy struct {
	Name   string
	Result Result
}

// SetHeaders writes the IETF RateLimit-Policy and RateLimit fields
// (draft-ietf-httpapi-ratelimit-headers: structured-field lists, one item
// per policy: q = quota per w seconds; r = remaining, t = seconds until
// the quota is whole again) and, for a refusal, Retry-After in whole
// seconds rounded up (never 0, so a client does not retry at once).
func SetHeaders(h http.Header, policies ...Policy) {
	if len(policies) == 0 {
		return
	}
	var pol, cur []string
	var retry time.Duration
	for _, p := range policies {
		l := p.Result.Limit
		pol = append(pol, fmt.Sprintf("%q;q=%d;w=%d", p.Name, l.Rate, ceilSeconds(l.Period)))
		cur = append(cur, fmt.Sprintf("%q;r=%d;t=%d", p.Name, p.Result.Remaining, ceilSeconds(p.Result.ResetAfter)))
		if !p.Result.Allowed && p.Result.RetryAfter > retry {
			retry = p.Result.RetryAfter
		}
	}
	h.Set("RateLimit-Policy", strings.Join(pol, ", "))
	h.Set("RateLimit", strings.Join(cur, ", "))
	if retry > 0 {
		h.Set("Retry-After", strconv.FormatInt(max(1, ceilSeconds(retry)), 10))
	}
}

func ceilSeconds(d time.Duration) int64 { return int64(math.Ceil(d.Seconds())) }
