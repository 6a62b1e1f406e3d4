package ipfilter

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// BanPolicy sets ban lengths: the n-th strike within Memory bans for
// Base·2^(n-1), at most Max.
type BanPolicy struct {
	Base   time.Duration
	Max    time.Duration
	Memory time.Duration // how long strikes are remembered
}

// DefaultBanPolicy: 1 minute, doubling up to a day; strikes forgotten
// after a day without one.
var DefaultBanPolicy = BanPolicy{Base: time.Minute, Max: 24 * time.Hour, Memory: 24 * time.Hour}

// length of the n-th ban (n ≥ 1).
func (p BanPolicy) length(n int64) time.Duration {
	d := p.Base
	for i := int64(1); i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// Bans records strikes against addresses and the bans they earn.
type Bans interface {
	// Strike bans a for the length its strike count earns and returns
	// the strike number and the ban's end.
	Strike(ctx context.Context, a netip.Addr) (n int64, until time.Time, err error)
	// Banned reports whether a is banned now, and until when.
	Banned(ctx context.Context, a netip.Addr) (until time.Time, banned bool, err error)
	// Lift ends a's ban and forgets its strikes.
	Lift(ctx context.Context, a netip.Addr) error
}

// MemoryBans keeps bans in this process (the fallback without Redis: a ban
// holds on the instance that issued it only).
type MemoryBans struct {
	policy BanPolicy
	now    func() time.Time
	mu     sync.Mutex
	m      map[netip.Addr]*banState
}

type banState struct {
	strikes    int64
	lastStrike time.Time
	until      time.Time
}

// NewMemoryBans returns empty in-process bans; now nil means time.Now.
func NewMemoryBans(p BanPolicy, now func() time.Time) *MemoryBans {
	if now == nil {
		now = time.Now
	}
	return &MemoryBans{policy: p, now: now, m: map[netip.Addr]*banState{}}
}

// Strike implements Bans.
func (b *MemoryBans) Strike(_ context.Context, a netip.Addr) (int64, time.Time, error) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) > 100_000 {
		for k, s := range b.m {
			if now.After(s.until) && now.Sub(s.lastStrike) > b.policy.Memory {
				delete(b.m, k)
			}
		}
	}
	s := b.m[a]
	if s == nil || now.Sub(s.lastStrike) > b.policy.Memory {
		s = &banState{}
		b.m[a] = s
	}
	s.strikes++
	s.lastStrike = now
	s.until = now.Add(b.policy.length(s.strikes))
	return s.strikes, s.until, nil
}

// Banned implements Bans.
func (b *MemoryBans) Banned(_ context.Context, a netip.Addr) (time.Time, bool, error) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if s := b.m[a]; s != nil && now.Before(s.until) {
		return s.until, true, nil
	}
	return time.Time{}, false, nil
}

// Lift implements Bans.
func (b *MemoryBans) Lift(_ context.Context, a netip.Addr) error {
	b.mu.Lock()
	delete(b.m, a)
	b.mu.Unlock()
	return nil
}

// RedisBans keeps bans in Redis, shared by every instance.
type RedisBans struct {
	c      redis.Cmdable
	prefix string
	policy BanPolicy
}

// NewRedisBans returns bans stored under prefix in c.
func NewRedisBans(c redis.Cmdable, prefix string, p BanPolicy) *RedisBans {
	return &RedisBans{c: c, prefix: prefix, policy: p}
}

// strikeScript counts a strike and sets the ban in one atomic step.
// KEYS: strikes, ban. ARGV: base ms, max ms, memory ms.
// Returns {strikes, ban ms}.
var strikeScript = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
redis.call("PEXPIRE", KEYS[1], ARGV[3])
local len = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
for i = 2, n do
  if len >= cap then break end
  len = len * 2
end
if len > cap then len = cap end
redis.call("SET", KEYS[2], "1", "PX", len)
return {n, len}
`)

// Strike implements Bans.
func (b *RedisBans) Strike(ctx context.Context, a netip.Addr) (int64, time.Time, error) {
	k := a.String()
	v, err := strikeScript.Run(ctx, b.c, []string{b.prefix + "strikes:" + k, b.prefix + "ban:" + k},
		b.policy.Base.Milliseconds(), b.policy.Max.Milliseconds(), b.policy.Memory.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("ipfilter: strike in redis: %w", err)
	}
	return v[0], time.Now().Add(time.Duration(v[1]) * time.Millisecond), nil
}

// Banned implements Bans.
func (b *RedisBans) Banned(ctx context.Context, a netip.Addr) (time.Time, bool, error) {
	ttl, err := b.c.PTTL(ctx, b.prefix+"ban:"+a.String()).Result()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("ipfilter: read ban from redis: %w", err)
	}
	if ttl <= 0 { // -2: no key; -1 cannot happen (bans always expire)
		return time.Time{}, false, nil
	}
	return time.Now().Add(ttl), true, nil
}

// Lift implements Bans.
func (b *RedisBans) Lift(ctx context.Context, a netip.Addr) error {
	k := a.String()
	if err := b.c.Del(ctx, b.prefix+"ban:"+k, b.prefix+"strikes:"+k).Err(); err != nil {
		return fmt.Errorf("ipfilter: lift ban in redis: %w", err)
	}
	return nil
}
