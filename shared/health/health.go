// Package health serves liveness (/healthz) and readiness (/readyz).
// Liveness only says the process answers; readiness checks each configured
// dependency (state store, object store, publisher, secrets) so that a
// load balancer or an operator sees which one is down.
package health

import (
	"context"
	"net/http"
	"sort"
	"sync"
	"time"

	"synthos.dev/synthos/shared/web"
)

// CheckFunc reports whether a dependency is usable.
type CheckFunc func(ctx context.Context) error

// Checker holds named dependency checks.
type Checker struct {
	timeout time.Duration
	mu      sync.Mutex
	checks  map[string]CheckFunc
	infos   map[string]func() any
}

// New returns a Checker whose checks each get timeout.
func New(timeout time.Duration) *Checker {
	return &Checker{timeout: timeout, checks: map[string]CheckFunc{}}
}

// Add registers a check under name (e.g. "state", "objects").
func (c *Checker) Add(name string, fn CheckFunc) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks[name] = fn
}

// AddInfo registers a section that /readyz shows without judging readiness
// by it: the health of tenants' own storage destinations, say, which must
// not take an instance out of service when one customer's bucket fails.
func (c *Checker) AddInfo(name string, fn func() any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.infos == nil {
		c.infos = map[string]func() any{}
	}
	c.infos[name] = fn
}

// Result is one dependency's state in a readiness answer.
type Result struct {
	Status    string `json:"status"` // "ok" or "error"
	Error     string `json:"error,omitempty"`
	LatencyMS int64  `json:"latency_ms"`
}

// Report is the readiness answer.
type Report struct {
	Status string            `json:"status"` // "ready" or "unready"
	Checks map[string]Result `json:"checks"`
	// Info holds the AddInfo sections.
	Info map[string]any `json:"info,omitempty"`
}

// Run runs every check concurrently, each bounded by the timeout.
func (c *Checker) Run(ctx context.Context) Report {
	c.mu.Lock()
	names := make([]string, 0, len(c.checks))
	for n := range c.checks {
		names = append(names, n)
	}
	checks := make(map[string]CheckFunc, len(c.checks))
	for n, f := range c.checks {
		checks[n] = f
	}
	infos := make(map[string]func() any, len(c.infos))
	for n, f := range c.infos {
		infos[n] = f
	}
	c.mu.Unlock()
	sort.Strings(names)

	results := make([]Result, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			start := time.Now()
			err := runCheck(cctx, checks[n])
			r := Result{Status: "ok", LatencyMS: time.Since(start).Milliseconds()}
			if err != nil {
				r.Status, r.Error = "error", err.Error()
			}
			results[i] = r
		})
	}
	wg.Wait()
	rep := Report{Status: "ready", Checks: make(map[string]Result, len(names))}
	if len(infos) > 0 {
		rep.Info = make(map[string]any, len(infos))
		for n, f := range infos {
			rep.Info[n] = f()
		}
	}
	for i, n := range names {
		rep.Checks[n] = results[i]
		if results[i].Status != "ok" {
			rep.Status = "unready"
		}
	}
	return rep
}

// runCheck returns when fn does or when ctx expires, whichever is first, so a
// hung dependency cannot hang the probe.
func runCheck(ctx context.Context, fn CheckFunc) error {
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Healthz answers 200 while the process serves requests.
func Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// Readyz answers 200 when every check passes and 503 otherwise, with each
// dependency's result.
func (c *Checker) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep := c.Run(r.Context())
		status := http.StatusOK
		if rep.Status != "ready" {
			status = http.StatusServiceUnavailable
		}
		web.WriteJSON(w, status, rep)
	})
}
