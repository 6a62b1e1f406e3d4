package llm

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Client wraps a Provider with what every call needs: the model chosen for
// the task, a timeout, the response cache, and metering. Retries happen
// below, in Transport.
type Client struct {
	Provider Provider
	// Models picks the model per task; Default when a task is missing.
	Models  map[Task]string
	Default string
	Timeout time.Duration
	Cache   *Cache
	Meter   *Meter
	Prices  Prices
}

// Name implements Provider.
func (c *Client) Name() string { return c.Provider.Name() }

// model is the model a request goes to.
func (c *Client) model(req Request) string {
	if req.Model != "" {
		return req.Model
	}
	if m := c.Models[req.Task]; m != "" {
		return m
	}
	return c.Default
}

// Estimate prices a request before it runs: its prompt at about four
// characters a token and its whole output allowance.
func (c *Client) Estimate(req Request) Micros {
	in := int64(len(req.System)+len(req.Prompt)+len(req.Schema))/4 + 1
	out := int64(req.MaxTokens)
	if out <= 0 {
		out = DefaultMaxTokens
	}
	return c.prices().Cost(c.model(req), Usage{InputTokens: in, OutputTokens: out})
}

// PriceOf prices a usage of the model the client uses for task.
func (c *Client) PriceOf(task Task, u Usage) Micros {
	return c.prices().Cost(c.model(Request{Task: task}), u)
}

func (c *Client) prices() Prices {
	if c.Prices != nil {
		return c.Prices
	}
	return DefaultPrices
}

// DefaultMaxTokens is the output allowance of a request without one.
const DefaultMaxTokens = 4096

// Generate implements Provider with caching, a timeout and metering.
func (c *Client) Generate(ctx context.Context, req Request) (Response, error) {
	req.Model = c.model(req)
	if req.MaxTokens <= 0 {
		req.MaxTokens = DefaultMaxTokens
	}
	key := req.Hash(c.Name(), req.Model)
	if r, ok := c.Cache.Get(key); ok {
		r.Cached, r.Latency = true, 0
		_ = c.Meter.Record(ctx, req.Tenant, r, false)
		return r, nil
	}
	if err := c.Meter.Check(ctx, req.Tenant, c.Estimate(req)); err != nil {
		return Response{}, err
	}
	cctx := ctx
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	start := time.Now()
	r, err := c.Provider.Generate(cctx, req)
	if err != nil {
		_ = c.Meter.Record(ctx, req.Tenant, Response{Provider: c.Name(), Model: req.Model}, true)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return Response{}, fmt.Errorf("llm: %s timed out after %s: %w", c.Name(), c.Timeout, ErrUnavailable)
		}
		return Response{}, err
	}
	r.Latency = time.Since(start)
	if r.Provider == "" {
		r.Provider = c.Name()
	}
	if r.Model == "" {
		r.Model = req.Model
	}
	r.Cost = c.prices().Cost(r.Model, r.Usage)
	if err := c.Meter.Record(ctx, req.Tenant, r, false); err != nil {
		return Response{}, fmt.Errorf("llm: record usage: %w", err)
	}
	c.Cache.Put(key, r)
	return r, nil
}

// Cache is an in-memory LRU of answers keyed by Request.Hash, each kept for
// TTL. A nil *Cache caches nothing.
type Cache struct {
	Size int
	TTL  time.Duration

	mu    sync.Mutex
	ll    *list.List
	items map[string]*list.Element
}

type cacheEntry struct {
	key string
	r   Response
	at  time.Time
}

// NewCache returns a cache of size entries kept ttl each.
func NewCache(size int, ttl time.Duration) *Cache {
	return &Cache{Size: size, TTL: ttl, ll: list.New(), items: map[string]*list.Element{}}
}

// Get returns a fresh cached answer.
func (c *Cache) Get(key string) (Response, bool) {
	if c == nil {
		return Response{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return Response{}, false
	}
	ent := e.Value.(*cacheEntry)
	if c.TTL > 0 && time.Since(ent.at) > c.TTL {
		c.ll.Remove(e)
		delete(c.items, key)
		return Response{}, false
	}
	c.ll.MoveToFront(e)
	return ent.r, true
}

// Put stores an answer, evicting the least recently used past Size.
func (c *Cache) Put(key string, r Response) {
	if c == nil || c.Size <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[key]; ok {
		e.Value = &cacheEntry{key: key, r: r, at: time.Now()}
		c.ll.MoveToFront(e)
		return
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, r: r, at: time.Now()})
	for c.ll.Len() > c.Size {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

// Len is the number of cached answers.
func (c *Cache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
