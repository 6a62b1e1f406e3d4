package llm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// Transport retries model calls at the HTTP layer, the one place every
// vendor SDK goes through, so that all providers retry the same way: on 408,
// 429, 500, 502, 503, 504 and 529 (Anthropic's "overloaded") and on network
// errors, up to MaxRetries times, waiting what the server asks
// (retry-after-ms, then Retry-After in seconds or as an HTTP date) or else
// an exponential backoff with full jitter, never more than MaxDelay. The
// SDKs' own retries are switched off so that attempts are not multiplied.
type Transport struct {
	Base       http.RoundTripper
	MaxRetries int
	BaseDelay  time.Duration
	MaxDelay   time.Duration
	// Sleep waits between attempts (tests record the waits instead).
	Sleep func(ctx context.Context, d time.Duration) error
	// Token, when set, authorises each attempt with a fresh OAuth token
	// (Vertex AI); the token source caches tokens until they expire.
	Token oauth2.TokenSource
}

// Defaults of Transport.
const (
	DefaultMaxRetries = 3
	DefaultBaseDelay  = 500 * time.Millisecond
	DefaultMaxDelay   = 30 * time.Second
)

// maxBody bounds a request body the transport buffers for replay.
const maxBody = 32 << 20

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Retryable reports whether a status is worth another attempt.
func Retryable(status int) bool {
	switch status {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, 529:
		return true
	}
	return false
}

// RetryAfter reads a response's retry hint; ok is false when it has none.
func RetryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("retry-after-ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
			return time.Duration(s * float64(time.Second)), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0), true
		}
	}
	return 0, false
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	sleep := t.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	bd, md := t.BaseDelay, t.MaxDelay
	if bd <= 0 {
		bd = DefaultBaseDelay
	}
	if md <= 0 {
		md = DefaultMaxDelay
	}
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("llm: read request body: %w", err)
		}
		if len(b) > maxBody {
			return nil, fmt.Errorf("llm: request body over %d bytes: %w", maxBody, ErrInvalid)
		}
		body = b
	}
	for attempt := 0; ; attempt++ {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		if t.Token != nil {
			tok, err := t.Token.Token()
			if err != nil {
				return nil, fmt.Errorf("llm: get an access token: %w", err)
			}
			tok.SetAuthHeader(r)
		}
		resp, err := base.RoundTrip(r)
		if attempt >= t.MaxRetries || req.Context().Err() != nil {
			return resp, err
		}
		var wait time.Duration
		switch {
		case err != nil:
			wait = backoff(attempt, bd, md)
		case Retryable(resp.StatusCode):
			if d, ok := RetryAfter(resp.Header, time.Now()); ok {
				wait = min(d, md)
			} else {
				wait = backoff(attempt, bd, md)
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			_ = resp.Body.Close()
		default:
			return resp, nil
		}
		if err := sleep(req.Context(), wait); err != nil {
			return nil, fmt.Errorf("llm: wait to retry: %w", err)
		}
	}
}

// backoff is exponential with full jitter: uniform in [0, min(max, base·2^n)].
func backoff(attempt int, base, maxD time.Duration) time.Duration {
	d := base << min(attempt, 20)
	if d <= 0 || d > maxD {
		d = maxD
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// HTTPClient returns a client whose transport is t. It sets no Timeout:
// callers bound each call with a context deadline, which also covers the
// retries.
func (t *Transport) HTTPClient() *http.Client { return &http.Client{Transport: t} }
