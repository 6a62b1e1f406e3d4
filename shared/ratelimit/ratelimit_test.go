package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"synthos.dev/synthos/shared/ratelimit/redistest"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestGCRASequence(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	m := NewMemory(c.now)
	l := Limit{Rate: 60, Period: time.Minute, Burst: 3} // one a second, three at once
	ctx := context.Background()
	steps := []struct {
		advance   time.Duration
		allowed   bool
		remaining int
		retry     time.Duration
	}{
		{0, true, 2, 0},
		{0, true, 1, 0},
		{0, true, 0, 0},
		{0, false, 0, time.Second}, // burst spent: next cell in 1 s
		{400 * time.Millisecond, false, 0, 600 * time.Millisecond},
		{600 * time.Millisecond, true, 0, 0}, // one cell refilled, used
		{3 * time.Second, true, 2, 0},        // fully refilled
		{time.Hour, true, 2, 0},              // idle time does not bank beyond the burst
	}
	for i, s := range steps {
		c.add(s.advance)
		r, err := m.Allow(ctx, "k", l)
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed != s.allowed || r.Remaining != s.remaining || r.RetryAfter != s.retry {
			t.Fatalf("step %d: got allowed=%v remaining=%d retry=%v, want %v %d %v", i, r.Allowed, r.Remaining, r.RetryAfter, s.allowed, s.remaining, s.retry)
		}
	}
	// Keys are independent.
	if r, _ := m.Allow(ctx, "other", l); !r.Allowed || r.Remaining != 2 {
		t.Fatalf("other key: %+v", r)
	}
}

func TestInvalidLimit(t *testing.T) {
	if _, err := NewMemory(nil).Allow(context.Background(), "k", Limit{}); err == nil {
		t.Fatal("zero limit accepted")
	}
}

// admitted fires n parallel checks of one key and counts admissions.
func admitted(t *testing.T, lim Limiter, key string, l Limit, n int) int {
	t.Helper()
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errc := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r, err := lim.Allow(context.Background(), key, l)
			if err != nil {
				errc <- err
				return
			}
			if r.Allowed {
				ok.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	return int(ok.Load())
}

// A limit of 50 at once and one an hour must admit exactly 50 of 200
// parallel requests: no over-admission from races, no under-admission.
func TestNoOverAdmissionMemory(t *testing.T) {
	l := Limit{Rate: 1, Period: time.Hour, Burst: 50}
	if got := admitted(t, NewMemory(nil), "k", l, 200); got != 50 {
		t.Fatalf("admitted %d of 200, want exactly 50", got)
	}
}

func TestNoOverAdmissionRedis(t *testing.T) {
	c, prefix := redistest.Client(t)
	r := NewRedis(c, prefix)
	l := Limit{Rate: 1, Period: time.Hour, Burst: 50}
	if got := admitted(t, r, "k", l, 200); got != 50 {
		t.Fatalf("admitted %d of 200, want exactly 50", got)
	}
	// Two limiter values over one Redis share the key: a second instance
	// sees the burst spent.
	res, err := NewRedis(c, prefix).Allow(context.Background(), "k", l)
	if err != nil {
		t.Fatal(err)
	}
	if res.Allowed || res.RetryAfter <= 0 || res.RetryAfter > time.Hour {
		t.Fatalf("second instance: %+v", res)
	}
}

func TestRedisSequence(t *testing.T) {
	c, prefix := redistest.Client(t)
	r := NewRedis(c, prefix)
	ctx := context.Background()
	l := Limit{Rate: 10, Period: time.Hour, Burst: 3}
	for i := range 3 {
		res, err := r.Allow(ctx, "seq", l)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Allowed || res.Remaining != 2-i {
			t.Fatalf("request %d: %+v", i, res)
		}
	}
	res, err := r.Allow(ctx, "seq", l)
	if err != nil {
		t.Fatal(err)
	}
	// Interval is 6 minutes; the refusal comes within a second of the burst.
	if res.Allowed || res.RetryAfter < 5*time.Minute || res.RetryAfter > 6*time.Minute {
		t.Fatalf("4th: %+v", res)
	}
	ttl, err := c.PTTL(ctx, prefix+"seq").Result()
	if err != nil || ttl <= 0 || ttl > 18*time.Minute+time.Second {
		t.Fatalf("key ttl %v (%v): keys must expire once at full burst", ttl, err)
	}
	// Short intervals (sub-millisecond) work too.
	fast := Limit{Rate: 100_000, Period: time.Second, Burst: 5}
	if got := admitted(t, r, "fast", fast, 20); got < 5 || got > 20 {
		t.Fatalf("fast: %d", got)
	}
}

func TestRedisDown(t *testing.T) {
	if _, err := Open(context.Background(), "redis://:secret@127.0.0.1:1/0"); err == nil {
		t.Fatal("no error for a dead Redis")
	} else if s := err.Error(); contains(s, "secret") {
		t.Fatalf("password leaked in %q", s)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestHeaders(t *testing.T) {
	h := http.Header{}
	SetHeaders(h,
		Policy{"key", Result{Allowed: true, Limit: PerMinute(600, 100), Remaining: 99, ResetAfter: 100 * time.Millisecond}},
		Policy{"tenant", Result{Allowed: false, Limit: PerMinute(1200, 200), RetryAfter: 1500 * time.Millisecond, ResetAfter: 10 * time.Second}},
	)
	if got, want := h.Get("RateLimit-Policy"), `"key";q=600;w=60, "tenant";q=1200;w=60`; got != want {
		t.Errorf("RateLimit-Policy %q, want %q", got, want)
	}
	if got, want := h.Get("RateLimit"), `"key";r=99;t=1, "tenant";r=0;t=10`; got != want {
		t.Errorf("RateLimit %q, want %q", got, want)
	}
	if got := h.Get("Retry-After"); got != "2" {
		t.Errorf("Retry-After %q, want 2", got)
	}
	h = http.Header{}
	SetHeaders(h, Policy{"ip", Result{Allowed: true, Limit: PerMinute(1, 1)}})
	if h.Get("Retry-After") != "" {
		t.Error("Retry-After on an admitted request")
	}
}

func BenchmarkMemoryAllow(b *testing.B) {
	m := NewMemory(nil)
	l := PerMinute(1<<30, 1<<20)
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("key:%d", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Allow(ctx, keys[i%len(keys)], l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedisAllow(b *testing.B) {
	c, prefix := redistest.Client(b)
	r := NewRedis(c, prefix)
	l := PerMinute(1<<30, 1<<20)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Allow(ctx, "bench", l); err != nil {
			b.Fatal(err)
		}
	}
}
