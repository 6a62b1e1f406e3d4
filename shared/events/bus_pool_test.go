package events_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/events/eventstest"
)

// TestBusConformanceOneWorker runs the conformance suite on a Bus whose pool
// has a single worker: bounding the pool must not change what a subscriber
// sees.
func TestBusConformanceOneWorker(t *testing.T) {
	h := &busHarness{dead: map[string]func(eventstest.DeadLetter){}}
	h.bus = events.NewBus(events.BusOptions{
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 4, Seed: 1,
		Workers: 1,
		DeadLetter: func(_ context.Context, topic string, m *events.Message, err error) {
			h.mu.Lock()
			f := h.dead[topic]
			h.mu.Unlock()
			if f != nil {
				f(eventstest.DeadLetter{Topic: topic, Message: m, Err: err})
			}
		},
	})
	t.Cleanup(func() { _ = h.bus.Close() })
	eventstest.Run(t, h)
}

// gauge tracks how many handler calls run at once and the most ever seen.
type gauge struct {
	cur, peak atomic.Int64
}

func (g *gauge) enter() int64 {
	n := g.cur.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			return n
		}
	}
}

func (g *gauge) exit() { g.cur.Add(-1) }

// TestBusPoolBound publishes 1,000 messages to a Bus with a pool of 4: the
// first four calls hold their workers until the test has checked that the
// other 996 wait in the queue; then everything is delivered, never more than
// four at once.
func TestBusPoolBound(t *testing.T) {
	t.Parallel()
	const n, workers = 1000, 4
	b := events.NewBus(events.BusOptions{Workers: workers, SubscriptionWorkers: workers})
	defer b.Close()
	var g gauge
	var delivered atomic.Int64
	full := make(chan struct{})
	release := make(chan struct{})
	if err := b.Subscribe("shards", "generate", func(context.Context, *events.Message) error {
		defer g.exit()
		if g.enter() == workers && delivered.Load() == 0 {
			close(full) // the first time all four workers are busy
		}
		<-release
		delivered.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := b.Publish(t.Context(), "shards", []byte(strconv.Itoa(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	<-full
	// Every publication was queued before the pool filled, and no call can
	// end before release: the counts are exact.
	if s := b.Stats(); s.Running != workers || s.Queued != n-workers || s.Pending() != n {
		t.Errorf("with the pool full: %v (pending %d), want %d running, %d queued", s, s.Pending(), workers, n-workers)
	}
	close(release)
	drain(t, b)
	if got := delivered.Load(); got != n {
		t.Errorf("delivered %d, want %d", got, n)
	}
	if p := g.peak.Load(); p != workers {
		t.Errorf("at most %d handlers ran at once, want exactly the pool size %d", p, workers)
	}
	t.Logf("%d messages, pool %d: at most %d handlers at once", n, workers, g.peak.Load())
}

// TestBusSubscriptionBound checks that one flooded subscription holds at most
// SubscriptionWorkers workers, so another subscription is served while the
// flood's handlers are all blocked.
func TestBusSubscriptionBound(t *testing.T) {
	t.Parallel()
	b := events.NewBus(events.BusOptions{Workers: 4, SubscriptionWorkers: 2})
	defer b.Close()
	var g gauge
	started := make(chan struct{}, 100)
	release := make(chan struct{})
	if err := b.Subscribe("flood", "flood-sub", func(context.Context, *events.Message) error {
		defer g.exit()
		g.enter()
		started <- struct{}{}
		<-release
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	other := make(chan *events.Message, 1)
	if err := b.Subscribe("audit", "audit-sub", collect(other)); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if _, err := b.Publish(t.Context(), "flood", []byte(strconv.Itoa(i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Publish(t.Context(), "audit", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	// Served although every flood handler is blocked: without the
	// per-subscription bound the flood would hold all four workers.
	recv(t, other)
	<-started
	<-started
	// The audit handler returns just after it hands its message over:
	// wait for it to leave the running count.
	s := b.Stats()
	for i := 0; i < 500 && (s.Running != 2 || s.Queued != 98); i++ {
		time.Sleep(10 * time.Millisecond)
		s = b.Stats()
	}
	if s.Running != 2 || s.Queued != 98 {
		t.Errorf("flood blocked: %v, want 2 running, 98 queued", s)
	}
	close(release)
	drain(t, b)
	if p := g.peak.Load(); p != 2 {
		t.Errorf("the flooded subscription ran %d handlers at once, want 2", p)
	}
}

// TestBusPublishFromFullPool has every handler publish while the pool (one
// worker) is busy with that very handler: a fan-out of 10 shards, each of
// which publishes a result, and a chain of 50 messages each publishing the
// next. Publish only queues, so none of this can deadlock.
func TestBusPublishFromFullPool(t *testing.T) {
	t.Parallel()
	b := events.NewBus(events.BusOptions{Workers: 1})
	defer b.Close()
	var shards, results, chain atomic.Int64
	sub := func(topic string, h events.Handler) {
		if err := b.Subscribe(topic, topic+"-sub", h); err != nil {
			t.Fatal(err)
		}
	}
	sub("job", func(ctx context.Context, m *events.Message) error {
		for i := range 10 {
			if _, err := b.Publish(ctx, "shard", []byte(strconv.Itoa(i)), nil); err != nil {
				return err
			}
		}
		return nil
	})
	sub("shard", func(ctx context.Context, m *events.Message) error {
		shards.Add(1)
		_, err := b.Publish(ctx, "result", m.Data, nil)
		return err
	})
	sub("result", func(context.Context, *events.Message) error {
		results.Add(1)
		return nil
	})
	sub("chain", func(ctx context.Context, m *events.Message) error {
		i, _ := strconv.Atoi(string(m.Data))
		chain.Add(1)
		if i == 49 {
			return nil
		}
		_, err := b.Publish(ctx, "chain", []byte(strconv.Itoa(i+1)), nil)
		return err
	})
	for _, tp := range []string{"job", "chain"} {
		if _, err := b.Publish(t.Context(), tp, []byte("0"), nil); err != nil {
			t.Fatal(err)
		}
	}
	drain(t, b)
	if shards.Load() != 10 || results.Load() != 10 || chain.Load() != 50 {
		t.Errorf("delivered %d shards, %d results, %d chain links; want 10, 10, 50", shards.Load(), results.Load(), chain.Load())
	}
}

// TestBusCloseSlowHandler stops a Bus whose only worker runs a handler that
// ignores cancellation, with four deliveries queued behind it: Drain gives up
// at its deadline naming what is pending, and Close returns after
// CloseTimeout instead of waiting for the handler, counting the dropped
// deliveries.
func TestBusCloseSlowHandler(t *testing.T) {
	t.Parallel()
	const closeTimeout = 50 * time.Millisecond
	b := events.NewBus(events.BusOptions{Workers: 1, CloseTimeout: closeTimeout})
	started := make(chan struct{}, 1)
	stuck := make(chan struct{})
	defer close(stuck) // let the handler go at the end
	if err := b.Subscribe("slow", "slow-sub", func(context.Context, *events.Message) error {
		started <- struct{}{}
		<-stuck // ignores its context
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := b.Publish(t.Context(), "slow", []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	<-started
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := b.Drain(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "4 queued, 1 running") {
		t.Errorf("Drain = %v, want the deadline and 4 queued, 1 running", err)
	}
	begin := time.Now()
	err = b.Close()
	if err == nil || !strings.Contains(err.Error(), "1 handlers still running") {
		t.Errorf("Close = %v, want an error naming the running handler", err)
	}
	if took := time.Since(begin); took < closeTimeout {
		t.Errorf("Close returned after %v, before CloseTimeout %v", took, closeTimeout)
	}
	if s := b.Stats(); s.Dropped != 4 || s.Queued != 0 {
		t.Errorf("after Close: %v, dropped %d; want 4 dropped, none queued", s, s.Dropped)
	}
}

// TestBusCloseQueuedCanceled closes a Bus with a full pool of handlers that
// honour cancellation: Close cancels them, waits for them, and drops the
// queued deliveries, which never reach a handler.
func TestBusCloseQueuedCanceled(t *testing.T) {
	t.Parallel()
	b := events.NewBus(events.BusOptions{Workers: 2, SubscriptionWorkers: 2})
	var calls atomic.Int64
	var started sync.WaitGroup
	started.Add(2)
	if err := b.Subscribe("t", "s", func(ctx context.Context, _ *events.Message) error {
		calls.Add(1)
		started.Done()
		<-ctx.Done()
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if _, err := b.Publish(t.Context(), "t", []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	started.Wait()
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// 8 queued, plus the 2 canceled calls whose retries Close refuses.
	if s := b.Stats(); s.Dropped != 10 || s.Running != 0 || calls.Load() != 2 {
		t.Errorf("after Close: %v, dropped %d, %d calls; want 10 dropped, 2 calls", s, s.Dropped, calls.Load())
	}
}
