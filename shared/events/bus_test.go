package events_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/events/eventstest"
)

// wait bounds waits so a broken Bus fails rather than hangs; never a speed check.
const wait = 2 * time.Minute

// busHarness runs the conformance suite on a Bus, routing its dead-letter
// sink to the suite per topic.
type busHarness struct {
	bus  *events.Bus
	mu   sync.Mutex
	dead map[string]func(eventstest.DeadLetter)
}

func newBusHarness(t *testing.T) *busHarness {
	h := &busHarness{dead: map[string]func(eventstest.DeadLetter){}}
	h.bus = events.NewBus(events.BusOptions{
		MinBackoff:  time.Millisecond,
		MaxBackoff:  5 * time.Millisecond,
		MaxAttempts: 4,
		Seed:        1,
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
	return h
}

func (h *busHarness) Publisher() events.Publisher { return h.bus }
func (h *busHarness) MaxAttempts() int            { return 4 }

func (h *busHarness) Subscribe(_ context.Context, topic string, hd events.Handler, dead func(eventstest.DeadLetter)) error {
	h.mu.Lock()
	h.dead[topic] = dead
	h.mu.Unlock()
	return h.bus.Subscribe(topic, topic+"-sub", hd)
}

func TestBusConformance(t *testing.T) {
	eventstest.Run(t, newBusHarness(t))
}

// collect is a handler that records messages on a channel.
func collect(ch chan<- *events.Message) events.Handler {
	return func(_ context.Context, m *events.Message) error {
		ch <- m
		return nil
	}
}

func recv(t *testing.T, ch <-chan *events.Message) *events.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(wait):
		t.Fatal("no delivery")
		return nil
	}
}

func drain(t *testing.T, b *events.Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if err := b.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

func TestBusSubscribeErrors(t *testing.T) {
	b := events.NewBus(events.BusOptions{})
	defer b.Close()
	ok := func(context.Context, *events.Message) error { return nil }
	if err := b.Subscribe("t", "s", ok); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	tests := []struct {
		name, topic, sub string
		h                events.Handler
		want             error
	}{
		{"empty topic", "", "s2", ok, events.ErrInvalid},
		{"empty name", "t", "", ok, events.ErrInvalid},
		{"nil handler", "t", "s2", nil, events.ErrInvalid},
		{"taken name", "t", "s", ok, events.ErrExists},
		{"taken name other topic", "u", "s", ok, events.ErrExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := b.Subscribe(tt.topic, tt.sub, tt.h); !errors.Is(err, tt.want) {
				t.Errorf("Subscribe(%q, %q) = %v, want %v", tt.topic, tt.sub, err, tt.want)
			}
		})
	}
	_ = b.Close()
	if err := b.Subscribe("t", "s3", ok); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
}

func TestBusPublishInvalid(t *testing.T) {
	b := events.NewBus(events.BusOptions{})
	defer b.Close()
	long := string(make([]byte, 1025))
	tests := []struct {
		name  string
		topic string
		data  []byte
		attrs map[string]string
	}{
		{"empty topic", "", []byte("x"), nil},
		{"empty message", "t", nil, nil},
		{"empty key", "t", nil, map[string]string{"": "v"}},
		{"reserved key", "t", nil, map[string]string{"goog-x": "v"}},
		{"long value", "t", nil, map[string]string{"k": long}},
		{"data too large", "t", make([]byte, 10<<20+1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := b.Publish(t.Context(), tt.topic, tt.data, tt.attrs); !errors.Is(err, events.ErrInvalid) {
				t.Errorf("Publish = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestBusNoSubscriber(t *testing.T) {
	b := events.NewBus(events.BusOptions{})
	id, err := b.Publish(t.Context(), "nobody-listens", []byte("x"), nil)
	if err != nil || id == "" {
		t.Fatalf("Publish = %q, %v; want an id and no error", id, err)
	}
	drain(t, b)
	_ = b.Close()
}

func TestBusFanOut(t *testing.T) {
	b := events.NewBus(events.BusOptions{})
	defer b.Close()
	a, c := make(chan *events.Message, 1), make(chan *events.Message, 1)
	for name, ch := range map[string]chan *events.Message{"a": a, "c": c} {
		if err := b.Subscribe("t", name, collect(ch)); err != nil {
			t.Fatal(err)
		}
	}
	id, err := b.Publish(t.Context(), "t", []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ma, mc := recv(t, a), recv(t, c)
	if ma.ID != id || mc.ID != id {
		t.Errorf("ids %q, %q; want %q", ma.ID, mc.ID, id)
	}
	if ma.Subscription != "a" || mc.Subscription != "c" {
		t.Errorf("subscriptions %q, %q; want a, c", ma.Subscription, mc.Subscription)
	}
	// Each subscription owns its copy.
	ma.Data[0] = 'y'
	if mc.Data[0] != 'x' {
		t.Error("subscriptions share message data")
	}
}

func TestBusUniqueIDs(t *testing.T) {
	b := events.NewBus(events.BusOptions{})
	defer b.Close()
	const n = 500
	ids := make(chan string, n)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range n / 10 {
				id, err := b.Publish(t.Context(), "t", []byte("x"), nil)
				if err != nil {
					t.Error(err)
					return
				}
				ids <- id
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Errorf("%d ids, want %d", len(seen), n)
	}
}

func TestBusDuplicates(t *testing.T) {
	tests := []struct {
		name      string
		opts      events.BusOptions
		published int
		wantMin   int
		wantMax   int
	}{
		{"off", events.BusOptions{}, 20, 20, 20},
		{"every message", events.BusOptions{DuplicateEvery: 1}, 20, 40, 40},
		{"every third", events.BusOptions{DuplicateEvery: 3}, 30, 40, 40},
		{"rate one", events.BusOptions{DuplicateRate: 1}, 20, 40, 40},
		{"rate half", events.BusOptions{DuplicateRate: 0.5, Seed: 7}, 200, 250, 350},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := events.NewBus(tt.opts)
			defer b.Close()
			var mu sync.Mutex
			perID := map[string]int{}
			err := b.Subscribe("t", "s", func(_ context.Context, m *events.Message) error {
				mu.Lock()
				perID[m.ID]++
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.published {
				if _, err := b.Publish(t.Context(), "t", []byte(strconv.Itoa(i)), nil); err != nil {
					t.Fatal(err)
				}
			}
			drain(t, b)
			total := 0
			for id, n := range perID {
				if n > 2 {
					t.Errorf("message %s delivered %d times", id, n)
				}
				total += n
			}
			if len(perID) != tt.published {
				t.Errorf("%d distinct messages delivered, want %d", len(perID), tt.published)
			}
			if total < tt.wantMin || total > tt.wantMax {
				t.Errorf("%d deliveries, want %d..%d", total, tt.wantMin, tt.wantMax)
			}
		})
	}
}

func TestBusDeadLetterTopic(t *testing.T) {
	b := events.NewBus(events.BusOptions{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, MaxAttempts: 2, DeadLetterTopic: "dead"})
	defer b.Close()
	boom := errors.New("boom")
	if err := b.Subscribe("t", "s", func(context.Context, *events.Message) error { return boom }); err != nil {
		t.Fatal(err)
	}
	dead := make(chan *events.Message, 1)
	if err := b.Subscribe("dead", "dead-sub", collect(dead)); err != nil {
		t.Fatal(err)
	}
	id, err := b.Publish(t.Context(), "t", []byte("poison"), map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	m := recv(t, dead)
	if m.ID == id {
		t.Error("dead-letter copy kept the source id; Pub/Sub assigns a new one")
	}
	want := map[string]string{
		"k":                                "v",
		events.AttrDeadLetterDeliveryCount: "2",
		events.AttrDeadLetterSubscription:  "s",
	}
	for k, v := range want {
		if m.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, m.Attributes[k], v)
		}
	}
	if m.Attributes[events.AttrDeadLetterPublishTime] == "" {
		t.Errorf("attribute %s missing", events.AttrDeadLetterPublishTime)
	}
	if string(m.Data) != "poison" {
		t.Errorf("data %q", m.Data)
	}
}

func TestBusPanicIsRetried(t *testing.T) {
	b := events.NewBus(events.BusOptions{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	defer b.Close()
	var calls atomic.Int32
	done := make(chan *events.Message, 1)
	err := b.Subscribe("t", "s", func(_ context.Context, m *events.Message) error {
		if calls.Add(1) == 1 {
			panic("bad message")
		}
		done <- m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(t.Context(), "t", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if m := recv(t, done); m.DeliveryAttempt != 2 {
		t.Errorf("DeliveryAttempt %d after a panic, want 2", m.DeliveryAttempt)
	}
}

func TestBusAckDeadline(t *testing.T) {
	b := events.NewBus(events.BusOptions{AckDeadline: time.Hour})
	defer b.Close()
	got := make(chan bool, 1)
	err := b.Subscribe("t", "s", func(ctx context.Context, _ *events.Message) error {
		_, ok := ctx.Deadline()
		got <- ok
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(t.Context(), "t", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	select {
	case ok := <-got:
		if !ok {
			t.Error("handler context has no deadline")
		}
	case <-time.After(wait):
		t.Fatal("no delivery")
	}
}

// TestBusDrainWaitsForRetries checks that Drain returns only after a message
// that needed retries is done, and that publishing is refused afterwards.
func TestBusDrainWaitsForRetries(t *testing.T) {
	b := events.NewBus(events.BusOptions{MinBackoff: 20 * time.Millisecond, MaxBackoff: 40 * time.Millisecond})
	defer b.Close()
	var calls, ok atomic.Int32
	err := b.Subscribe("t", "s", func(context.Context, *events.Message) error {
		if calls.Add(1) <= 2 {
			return errors.New("not yet")
		}
		ok.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(t.Context(), "t", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	drain(t, b)
	if calls.Load() != 3 || ok.Load() != 1 {
		t.Errorf("after Drain: %d calls, %d successes; want 3, 1", calls.Load(), ok.Load())
	}
	if _, err := b.Publish(t.Context(), "t", []byte("late"), nil); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Publish after Drain = %v, want ErrClosed", err)
	}
}

// TestBusDrainChain checks that a handler may publish downstream while the
// Bus drains, and that Drain waits for the downstream delivery too.
func TestBusDrainChain(t *testing.T) {
	b := events.NewBus(events.BusOptions{})
	defer b.Close()
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	var downstream atomic.Int32
	err := b.Subscribe("first", "first-sub", func(ctx context.Context, m *events.Message) error {
		once.Do(func() { close(started) })
		<-release
		_, err := b.Publish(ctx, "second", m.Data, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("second", "second-sub", func(context.Context, *events.Message) error {
		downstream.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(t.Context(), "first", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	<-started
	done := make(chan error, 1)
	go func() { done <- b.Drain(t.Context()) }()
	// Drain has begun or is about to; outside publishers are refused once it has.
	for {
		if _, err := b.Publish(t.Context(), "first", []byte("y"), nil); errors.Is(err, events.ErrClosed) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Drain: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Drain never returned")
	}
	// Messages published before Drain began may also have gone through.
	if downstream.Load() < 1 {
		t.Error("Drain returned before the downstream delivery")
	}
}

func TestBusDrainContext(t *testing.T) {
	b := events.NewBus(events.BusOptions{})
	release := make(chan struct{})
	started := make(chan struct{})
	err := b.Subscribe("t", "s", func(context.Context, *events.Message) error {
		close(started)
		<-release
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(t.Context(), "t", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := b.Drain(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Drain with a canceled context = %v, want context.Canceled", err)
	}
	close(release)
	drain(t, b)
	_ = b.Close()
}

// TestBusCloseCancelsHandlers checks that Close cancels running handlers,
// waits for them and drops pending retries.
func TestBusCloseCancelsHandlers(t *testing.T) {
	b := events.NewBus(events.BusOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	started := make(chan struct{}, 2)
	var canceled atomic.Bool
	if err := b.Subscribe("block", "block-sub", func(ctx context.Context, _ *events.Message) error {
		started <- struct{}{}
		<-ctx.Done()
		canceled.Store(true)
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	if err := b.Subscribe("fail", "fail-sub", func(context.Context, *events.Message) error {
		started <- struct{}{}
		return errors.New("retry in an hour")
	}); err != nil {
		t.Fatal(err)
	}
	for _, tp := range []string{"block", "fail"} {
		if _, err := b.Publish(t.Context(), tp, []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	<-started
	<-started
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if !canceled.Load() {
		t.Error("Close returned before the running handler saw cancellation")
	}
	// Nothing is left pending: Drain returns at once.
	if err := b.Drain(t.Context()); err != nil {
		t.Errorf("Drain after Close = %v", err)
	}
	if _, err := b.Publish(t.Context(), "t", []byte("x"), nil); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
}

func TestBusBackoffGrows(t *testing.T) {
	// Attempts of a failing message are spaced by at least MinBackoff (timers
	// never fire early); the exact bounds are checked in the internal test.
	b := events.NewBus(events.BusOptions{MinBackoff: 2 * time.Millisecond, MaxBackoff: 8 * time.Millisecond, MaxAttempts: 5})
	defer b.Close()
	var mu sync.Mutex
	var at []time.Time
	if err := b.Subscribe("t", "s", func(context.Context, *events.Message) error {
		mu.Lock()
		at = append(at, time.Now())
		mu.Unlock()
		return fmt.Errorf("fail")
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(t.Context(), "t", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	drain(t, b)
	if len(at) != 5 {
		t.Fatalf("%d attempts, want 5", len(at))
	}
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < 2*time.Millisecond {
			t.Errorf("gap before attempt %d = %v, want at least MinBackoff", i+1, gap)
		}
	}
}

// BenchmarkBus measures publish-to-delivery throughput: each iteration
// publishes one message, and the timer runs until every one was handled.
func BenchmarkBus(b *testing.B) {
	bus := events.NewBus(events.BusOptions{})
	defer bus.Close()
	var wg sync.WaitGroup
	if err := bus.Subscribe("bench", "bench-sub", func(context.Context, *events.Message) error {
		wg.Done()
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	data := []byte(`{"job":"j-123","shard":4}`)
	attrs := map[string]string{"job": "j-123"}
	ctx := b.Context()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for range b.N {
		wg.Add(1)
		if _, err := bus.Publish(ctx, "bench", data, attrs); err != nil {
			b.Fatal(err)
		}
	}
	wg.Wait()
}
