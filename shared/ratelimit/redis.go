package ratelimit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcraScript is gcra in Lua, run atomically by Redis. Time comes from the
// Redis server (TIME), so instances with skewed clocks still agree. Times
// are integer microseconds (exact in Lua's doubles for centuries).
// KEYS[1] the key; ARGV: emission interval, burst offset (µs).
// Returns {allowed, remaining, retry_after_us, reset_after_us}.
var gcraScript = redis.NewScript(`
local interval = tonumber(ARGV[1])
local burst_offset = tonumber(ARGV[2])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call("GET", KEYS[1]))
if tat == nil or tat < now then tat = now end
local new_tat = tat + interval
local diff = now - (new_tat - burst_offset)
if diff < 0 then
  return {0, 0, -diff, tat - now}
end
local ttl_ms = math.ceil((new_tat - now) / 1000)
redis.call("SET", KEYS[1], string.format("%d", new_tat), "PX", ttl_ms)
return {1, math.floor(diff / interval), 0, new_tat - now}
`)

// Redis is the shared driver: every instance of every function sees the
// same counters.
type Redis struct {
	client redis.Scripter
	prefix string
}

// NewRedis returns a limiter storing its keys under prefix in c.
func NewRedis(c redis.Scripter, prefix string) *Redis {
	return &Redis{client: c, prefix: prefix}
}

// Open connects to the Redis at url (redis://[:password@]host:port[/db] or
// rediss:// for TLS) and checks that it answers.
func Open(ctx context.Context, url string) (*redis.Client, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: SYNTHOS_REDIS_URL %q: %w (want redis://host:port)", redact(url), err)
	}
	// A dead Redis must not stall every request (callers fail open on
	// errors), but a burst of requests must not fail open either: a pool
	// large enough for a burst, waiting for a free connection rather than
	// erroring, and timeouts of a second.
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, time.Second, time.Second
	opt.PoolSize = max(opt.PoolSize, 64)
	opt.PoolTimeout = 3 * time.Second
	opt.MaxRetries = 1
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("ratelimit: reach Redis at %s: %w", redact(url), err)
	}
	return c, nil
}

// redact hides a password in a Redis URL.
func redact(url string) string {
	if i := strings.Index(url, "@"); i >= 0 {
		if j := strings.Index(url, "://"); j >= 0 && j < i {
			return url[:j+3] + "***" + url[i:]
		}
	}
	return url
}

// Allow implements Limiter.
func (r *Redis) Allow(ctx context.Context, key string, l Limit) (Result, error) {
	if !l.Valid() {
		return Result{}, fmt.Errorf("ratelimit: invalid limit %v", l)
	}
	interval := l.interval().Microseconds()
	if interval < 1 {
		interval = 1
	}
	v, err := gcraScript.Run(ctx, r.client, []string{r.prefix + key}, interval, interval*int64(l.Burst)).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: redis: %w", err)
	}
	if len(v) != 4 {
		return Result{}, fmt.Errorf("ratelimit: redis script answered %d values, want 4", len(v))
	}
	return Result{Allowed: v[0] == 1, Limit: l, Remaining: int(v[1]),
		RetryAfter: time.Duration(v[2]) * time.Microsecond, ResetAfter: time.Duration(v[3]) * time.Microsecond}, nil
}
