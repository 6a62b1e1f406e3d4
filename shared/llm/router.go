package llm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Policy orders the providers a task may use.
type Policy string

const (
	// Cheapest asks the cheapest provider whose quality for the task
	// reaches the task's bar (MinQuality); the others follow as fallbacks.
	Cheapest Policy = "cheapest"
	// BestQuality asks the provider of highest quality first.
	BestQuality Policy = "best_quality"
	// LowestLatency asks the provider with the lowest observed latency.
	LowestLatency Policy = "lowest_latency"
)

// Route is one provider as the router sees it.
type Route struct {
	Provider Provider
	// Quality per task in [0, 1] (configuration; Default when missing).
	Quality        map[Task]float64
	DefaultQuality float64
	// Latency is the prior latency before any call is observed.
	Latency time.Duration

	breaker *gobreaker.CircuitBreaker[Result]
	mu      sync.Mutex
	ewma    time.Duration
	seen    bool
}

func (r *Route) quality(t Task) float64 {
	if q, ok := r.Quality[t]; ok {
		return q
	}
	return r.DefaultQuality
}

func (r *Route) latency() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen {
		return r.ewma
	}
	return r.Latency
}

func (r *Route) observe(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen {
		r.ewma, r.seen = d, true
		return
	}
	r.ewma = (4*r.ewma + d) / 5 // weight 1/5 on the newest call
}

// estimator prices a request before it runs (Client does).
type estimator interface{ Estimate(Request) Micros }

func (r *Route) estimate(req Request) Micros {
	if e, ok := r.Provider.(estimator); ok {
		return e.Estimate(req)
	}
	return 0
}

// Router is the multi-model agent: per task it orders the providers by
// the task's policy, asks them in turn behind a circuit breaker each (a
// provider failing repeatedly is skipped until its breaker half-opens),
// and in ensemble mode asks several at once and keeps the answer that
// validates and scores best on the task's own check.
type Router struct {
	Routes     []*Route
	Policies   map[Task]Policy
	MinQuality map[Task]float64
	// Ensemble is how many providers a task asks at once (0 or 1: one at a
	// time, in policy order).
	Ensemble map[Task]int
	// Breaker: consecutive failures that open a breaker, and how long it
	// stays open before letting one call through.
	TripAfter   uint32
	OpenTimeout time.Duration

	once sync.Once
}

// Defaults of the breaker.
const (
	DefaultTripAfter   = 3
	DefaultOpenTimeout = 30 * time.Second
)

func (rt *Router) init() {
	rt.once.Do(func() {
		trip := rt.TripAfter
		if trip == 0 {
			trip = DefaultTripAfter
		}
		open := rt.OpenTimeout
		if open <= 0 {
			open = DefaultOpenTimeout
		}
		for _, r := range rt.Routes {
			r.breaker = gobreaker.NewCircuitBreaker[Result](gobreaker.Settings{
				Name:        r.Provider.Name(),
				Timeout:     open,
				ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= trip },
				// Only an unavailable provider counts against it: a bad
				// answer or a refused request says nothing of its health.
				IsSuccessful: func(err error) bool { return err == nil || !errors.Is(err, ErrUnavailable) },
				IsExcluded:   func(err error) bool { return errors.Is(err, context.Canceled) },
			})
		}
	})
}

// Order returns the routes a request would try, first to last.
func (rt *Router) Order(req Request) []*Route {
	rt.init()
	routes := slices.Clone(rt.Routes)
	pol := rt.Policies[req.Task]
	if pol == "" {
		pol = Cheapest
	}
	bar := rt.MinQuality[req.Task]
	byQuality := func(a, b *Route) int { return cmp.Compare(b.quality(req.Task), a.quality(req.Task)) }
	switch pol {
	case BestQuality:
		slices.SortStableFunc(routes, byQuality)
	case LowestLatency:
		slices.SortStableFunc(routes, func(a, b *Route) int {
			return cmp.Or(cmp.Compare(a.latency(), b.latency()), byQuality(a, b))
		})
	default: // cheapest adequate, then the inadequate by quality
		slices.SortStableFunc(routes, func(a, b *Route) int {
			okA, okB := a.quality(req.Task) >= bar, b.quality(req.Task) >= bar
			switch {
			case okA && !okB:
				return -1
			case okB && !okA:
				return 1
			case okA && okB:
				return cmp.Or(cmp.Compare(a.estimate(req), b.estimate(req)), byQuality(a, b))
			}
			return byQuality(a, b)
		})
	}
	return routes
}

// Ask answers a request: validated against req.Schema and check (one
// repair attempt per provider), falling back along the policy's order.
func (rt *Router) Ask(ctx context.Context, req Request, check Check) (Result, error) {
	routes := rt.Order(req)
	if len(routes) == 0 {
		return Result{}, fmt.Errorf("llm: no provider configured: %w", ErrUnavailable)
	}
	if k := rt.Ensemble[req.Task]; k > 1 {
		return rt.ensemble(ctx, routes[:min(k, len(routes))], req, check)
	}
	var errsSeen []string
	for _, r := range routes {
		res, err := rt.call(ctx, r, req, check)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return Result{}, err
		}
		errsSeen = append(errsSeen, err.Error())
	}
	return Result{}, fmt.Errorf("llm: every provider failed: %s: %w", strings.Join(errsSeen, "; "), ErrUnavailable)
}

func (rt *Router) call(ctx context.Context, r *Route, req Request, check Check) (Result, error) {
	start := time.Now()
	res, err := r.breaker.Execute(func() (Result, error) { return Structured(ctx, r.Provider, req, check) })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return Result{}, fmt.Errorf("llm: %s: circuit open: %w", r.Provider.Name(), ErrUnavailable)
	}
	if err == nil && !res.Cached {
		r.observe(time.Since(start))
	}
	return res, err
}

// ensemble asks routes at once and keeps the best valid answer: highest
// score, then policy order.
func (rt *Router) ensemble(ctx context.Context, routes []*Route, req Request, check Check) (Result, error) {
	results := make([]Result, len(routes))
	errsOut := make([]error, len(routes))
	var wg sync.WaitGroup
	for i, r := range routes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errsOut[i] = rt.call(ctx, r, req, check)
		}()
	}
	wg.Wait()
	best := -1
	for i := range routes {
		if errsOut[i] != nil {
			continue
		}
		if best < 0 || results[i].Score > results[best].Score {
			best = i
		}
	}
	if best < 0 {
		return Result{}, fmt.Errorf("llm: no ensemble answer validated: %w", errors.Join(append(errsOut, ErrUnavailable)...))
	}
	return results[best], nil
}
