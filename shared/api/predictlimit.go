package api

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// ErrRateLimited marks a request over a per-tenant rate (429 with
// Retry-After).
var ErrRateLimited = errors.New("rate limited")

// rowLimiter is a per-tenant token bucket of predicted rows: Rate rows a
// second, up to Burst at once. It lives in the instance (each Cloud
// Functions instance meters its own share), so a tenant's bound across n
// instances is n times Rate.
type rowLimiter struct {
	rate, burst float64
	now         func() time.Time
	mu          sync.Mutex
	buckets     map[string]*rowBucket
}

type rowBucket struct {
	tokens float64
	at     time.Time
}

func newRowLimiter(ratePerSecond float64, now func() time.Time) *rowLimiter {
	return &rowLimiter{rate: ratePerSecond, burst: math.Max(ratePerSecond, MaxPredictRows), now: now, buckets: map[string]*rowBucket{}}
}

// take spends rows of tenant's tokens, or says how long until it could.
func (l *rowLimiter) take(tenant string, rows int) (wait time.Duration) {
	if l == nil || l.rate <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[tenant]
	if !ok {
		b = &rowBucket{tokens: l.burst, at: now}
		l.buckets[tenant] = b
	}
	b.tokens = math.Min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	need := math.Min(float64(rows), l.burst)
	if b.tokens >= need {
		b.tokens -= need
		return 0
	}
	return time.Duration((need - b.tokens) / l.rate * float64(time.Second))
}

// limitRows charges rows to the tenant's prediction rate: a 429 with the
// wait when over it.
func (s *Service) limitRows(tenant string, rows int) error {
	s.limiterOnce.Do(func() {
		if s.PredictRowsPerSecond > 0 {
			s.limiter = newRowLimiter(s.PredictRowsPerSecond, s.Now)
		}
	})
	wait := s.limiter.take(tenant, rows)
	if wait == 0 {
		return nil
	}
	secs := int(math.Ceil(wait.Seconds()))
	return &CodedError{Code: "rate_limited", Kind: ErrRateLimited,
		Msg:     fmt.Sprintf("over this tenant's prediction rate of %.0f rows a second; retry in %d s", s.PredictRowsPerSecond, secs),
		Details: map[string]any{"retry_after_seconds": secs}}
}

// RetryAfter is the wait a rate-limited error asks for, in seconds (0 for
// other errors), for the Retry-After header.
func RetryAfter(err error) int {
	var ce *CodedError
	if errors.As(err, &ce) && errors.Is(ce.Kind, ErrRateLimited) {
		if s, ok := ce.Details["retry_after_seconds"].(int); ok {
			return s
		}
	}
	return 0
}
