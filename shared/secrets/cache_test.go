package secrets

import (
	"errors"
	"testing"
	"time"
)

// closeRecorder records that Close reached the wrapped Source.
type closeRecorder struct {
	Source
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestCachedExpiry(t *testing.T) {
	const ttl = time.Minute
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name  string
		ttl   time.Duration
		after time.Duration // time of the second read
		want  string
	}{
		{"fresh", ttl, ttl - time.Nanosecond, "v1"},
		{"expired", ttl, ttl, "v2"},
		{"long expired", ttl, 24 * time.Hour, "v2"},
		{"no expiry", 0, 365 * 24 * time.Hour, "v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"SYNTHOS_SECRET_KEY": "v1"}
			under := &closeRecorder{Source: Env(func(k string) (string, bool) { v, ok := env[k]; return v, ok })}
			c := Cached(under, tt.ttl).(*cache)
			now := t0
			c.now = func() time.Time { return now }

			if got, err := c.Get(t.Context(), "key"); err != nil || string(got) != "v1" {
				t.Fatalf("first Get = %q, %v; want v1", got, err)
			}
			env["SYNTHOS_SECRET_KEY"] = "v2" // rotated
			now = t0.Add(tt.after)
			if got, err := c.Get(t.Context(), "key"); err != nil || string(got) != tt.want {
				t.Errorf("Get after %v = %q, %v; want %q", tt.after, got, err, tt.want)
			}

			// A secret deleted after expiry is reported, not served stale.
			delete(env, "SYNTHOS_SECRET_KEY")
			now = now.Add(2 * ttl)
			_, err := c.Get(t.Context(), "key")
			if tt.ttl > 0 && !errors.Is(err, ErrNotFound) {
				t.Errorf("Get of a deleted secret after expiry = %v, want ErrNotFound", err)
			}
			if err := c.Close(); err != nil || !under.closed {
				t.Errorf("Close = %v, closed underlying = %v; want nil, true", err, under.closed)
			}
		})
	}
}
