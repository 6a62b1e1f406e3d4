package secrets

import (
	"context"
	"sync"
	"time"
)

// cache is a Source that remembers values for a while.
type cache struct {
	src Source
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]entry
}

type entry struct {
	value   []byte
	expires time.Time
}

// Cached returns a Source that serves each secret from memory for ttl after
// reading it from src, sparing Secret Manager a call (and its quota) per
// request while still picking up rotated values. A ttl of zero or less keeps
// values until Close. Errors are not cached, so a secret created after a miss
// is found on the next call. Closing the cache closes src.
func Cached(src Source, ttl time.Duration) Source {
	return &cache{src: src, ttl: ttl, now: time.Now, entries: make(map[string]entry)}
}

func (c *cache) Get(ctx context.Context, name string) ([]byte, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[name]
	c.mu.Unlock()
	if ok && (c.ttl <= 0 || now.Before(e.expires)) {
		return clone(e.value), nil
	}
	v, err := c.src.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries[name] = entry{value: clone(v), expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return v, nil
}

// clone copies b, so that a caller that scrubs or edits its copy leaves the
// cached one intact.
func clone(b []byte) []byte { return append([]byte(nil), b...) }

func (c *cache) Close() error {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
	return c.src.Close()
}
