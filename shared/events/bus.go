package events

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/obs"
)

// Attributes Pub/Sub adds to a message it forwards to a dead-letter topic; the
// Bus adds the same ones.
const (
	AttrDeadLetterDeliveryCount = "CloudPubSubDeadLetterSourceDeliveryCount"
	AttrDeadLetterSubscription  = "CloudPubSubDeadLetterSourceSubscription"
	AttrDeadLetterPublishTime   = "CloudPubSubDeadLetterSourceTopicPublishTime"
)

// BusOptions configures a Bus. The zero value is usable.
type BusOptions struct {
	// MinBackoff and MaxBackoff bound the delay before a redelivery; the
	// delay doubles with each attempt and is jittered. Defaults: 100ms, 10s
	// (Pub/Sub's retry policy, scaled down for local work).
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts is the number of deliveries before a message is
	// dead-lettered. Default 5, Pub/Sub's default max_delivery_attempts.
	MaxAttempts int
	// DeadLetter, if set, is called for each message given up on, with the
	// source topic and the last handler error.
	DeadLetter func(ctx context.Context, topic string, m *Message, lastErr error)
	// DeadLetterTopic, if set, receives every message given up on, with
	// Pub/Sub's CloudPubSubDeadLetter* attributes added.
	DeadLetterTopic string
	// AckDeadline, if positive, bounds each handler call through its context,
	// as a push subscription's acknowledgement deadline does.
	AckDeadline time.Duration
	// DuplicateEvery, if positive, delivers every Nth published message twice
	// to each subscription, to exercise consumers' idempotency.
	DuplicateEvery int
	// DuplicateRate, in [0, 1], is the chance that a published message is
	// delivered twice; draws come from a generator seeded with Seed.
	DuplicateRate float64
	// Seed seeds the generator behind jitter and DuplicateRate, so test runs
	// repeat.
	Seed uint64
	// Logger receives dead letters nobody else takes and the deliveries
	// Close drops. Default slog.Default().
	Logger *slog.Logger
	// Workers bounds how many handler calls run at once across all
	// subscriptions. Default DefaultWorkers().
	Workers int
	// SubscriptionWorkers bounds how many handler calls of one subscription
	// run at once, so that a flood on one topic (a job fanning out a
	// thousand shards) leaves workers to the others. Default
	// DefaultSubscriptionWorkers(); never more than Workers.
	SubscriptionWorkers int
	// CloseTimeout bounds how long Close waits for running handlers after
	// canceling their context. Default 10s.
	CloseTimeout time.Duration
}

// DefaultWorkers is the default size of a Bus's worker pool: twice
// GOMAXPROCS, at least 4. Handlers are mostly CPU-bound (fitting, sampling)
// with some I/O, so a small multiple of the cores keeps them busy without
// the memory of a goroutine per message.
func DefaultWorkers() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// DefaultSubscriptionWorkers is one less than the cores, at least 1: a
// subscription whose handlers are CPU-bound (the shards of a huge job)
// leaves a core to the API and the other functions. With every core
// sampling, GET /v1/jobs/{id} waited for the scheduler: p99 45 ms during a
// 1e9-row job on 2 cores, 5 ms with one core left free.
func DefaultSubscriptionWorkers() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// Bus is an in-process Pub/Sub: every subscription of a topic receives each
// message published to it, at least once. A failed delivery is retried with
// exponential backoff and jitter, and after MaxAttempts the message is
// dead-lettered. Messages published to a topic without subscriptions are
// dropped, as Pub/Sub drops them.
//
// Handlers run on a bounded pool: at most Workers calls at once, and at most
// SubscriptionWorkers of one subscription. Deliveries beyond that wait in
// their subscription's FIFO queue (a retry joins the back of the queue when
// its backoff ends), and free workers serve the subscriptions with waiting
// deliveries in turn. Publish never blocks: it only queues, so a handler
// may publish while every worker is busy (its own included) without
// deadlock; the queue holds the messages, not goroutines.
type Bus struct {
	opts   BusOptions
	ctx    context.Context // parent of every handler call; canceled by Close
	cancel context.CancelFunc
	ids    atomic.Uint64
	seq    atomic.Uint64 // published messages, for DuplicateEvery

	mu      sync.Mutex
	subs    map[string][]*subscription // by topic; replaced, never mutated
	names   map[string]bool
	state   busState
	order   []*subscription // every subscription, for round-robin dispatch
	next    int             // where the next dispatch starts in order
	pending int             // deliveries queued, running or waiting to retry
	queued  int             // deliveries waiting for a worker
	active  int             // handler calls running
	idle    chan struct{}   // closed when pending drops to 0
	timers  map[*time.Timer]struct{}
	running sync.WaitGroup // handler goroutines
	dropped atomic.Int64   // deliveries given up by Close

	rmu sync.Mutex
	rnd *rand.Rand
}

type busState int

const (
	open busState = iota
	draining
	closed
)

type subscription struct {
	topic, name string
	h           Handler
	queue       []delivery // waiting for a worker; guarded by Bus.mu
	active      int        // handler calls running; guarded by Bus.mu
}

// delivery is one subscription's copy of a message on its way to a handler.
type delivery struct {
	sub     *subscription
	msg     *Message // shared template; each attempt gets a copy
	attempt int
}

// busKey marks contexts of handler calls made by a Bus, so that handlers can
// keep publishing while the Bus drains.
type busKey struct{}

// NewBus returns a running Bus.
func NewBus(opts BusOptions) *Bus {
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = opts.MinBackoff
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 5
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers()
	}
	if opts.SubscriptionWorkers <= 0 {
		opts.SubscriptionWorkers = DefaultSubscriptionWorkers()
	}
	opts.SubscriptionWorkers = min(opts.SubscriptionWorkers, opts.Workers)
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Bus{
		opts:   opts,
		ctx:    ctx,
		cancel: cancel,
		subs:   map[string][]*subscription{},
		names:  map[string]bool{},
		timers: map[*time.Timer]struct{}{},
		rnd:    rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
	}
}

// Subscribe attaches h to topic under the subscription name: h receives
// every message published to topic from now on. It fails with ErrExists if
// the name is taken, ErrInvalid for empty names or a nil handler, and
// ErrClosed once the Bus is draining or closed.
func (b *Bus) Subscribe(topic, name string, h Handler) error {
	if topic == "" || name == "" || h == nil {
		return fmt.Errorf("events.Bus.Subscribe(%q, %q): %w: empty topic or name, or nil handler", topic, name, ErrInvalid)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != open {
		return fmt.Errorf("events.Bus.Subscribe(%q, %q): %w", topic, name, ErrClosed)
	}
	if b.names[name] {
		return fmt.Errorf("events.Bus.Subscribe(%q, %q): %w", topic, name, ErrExists)
	}
	b.names[name] = true
	s := &subscription{topic: topic, name: name, h: h}
	subs := append([]*subscription(nil), b.subs[topic]...)
	b.subs[topic] = append(subs, s)
	b.order = append(b.order, s)
	return nil
}

// Publish delivers a copy of data and attrs, plus ctx's trace, to every
// subscription of topic, and returns the message id at once. While the Bus
// drains, only handlers it is running may still publish, so that chains of
// functions complete; otherwise Publish fails with ErrClosed. Publish never
// waits for a worker: deliveries queue until one is free.
func (b *Bus) Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	if len(data) == 0 && len(attrs) == 0 {
		// Checked before the span: its traceparent must not make an empty
		// message look like one with attributes.
		return "", fmt.Errorf("events.Bus.Publish(%q): %w: message has neither data nor attributes", topic, ErrInvalid)
	}
	ctx, span := publishSpan(ctx, topic)
	defer span.End()
	attrs = obs.InjectAttributes(ctx, maps.Clone(attrs))
	if err := validate(topic, data, attrs); err != nil {
		return "", fmt.Errorf("events.Bus.Publish(%q): %w", topic, err)
	}
	fromHandler := ctx.Value(busKey{}) == b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == closed || b.state == draining && !fromHandler {
		return "", fmt.Errorf("events.Bus.Publish(%q): %w", topic, ErrClosed)
	}
	m := &Message{
		ID:          strconv.FormatUint(b.ids.Add(1), 10),
		Data:        bytes.Clone(data),
		Attributes:  attrs,
		PublishTime: time.Now().UTC(),
	}
	copies := 1
	if b.duplicate() {
		copies = 2
	}
	for _, s := range b.subs[topic] {
		for range copies {
			b.addLocked(delivery{sub: s, msg: m, attempt: 1})
		}
	}
	return m.ID, nil
}

// duplicate decides whether the next published message is delivered twice.
func (b *Bus) duplicate() bool {
	n := b.seq.Add(1)
	if b.opts.DuplicateEvery > 0 && n%uint64(b.opts.DuplicateEvery) == 0 {
		return true
	}
	return b.opts.DuplicateRate > 0 && b.float() < b.opts.DuplicateRate
}

// addLocked counts d as pending and queues it. b.mu must be held and the Bus
// not closed.
func (b *Bus) addLocked(d delivery) {
	if b.pending == 0 {
		b.idle = make(chan struct{})
	}
	b.pending++
	b.enqueueLocked(d)
}

// enqueueLocked queues d, already counted as pending, for a worker.
func (b *Bus) enqueueLocked(d delivery) {
	d.sub.queue = append(d.sub.queue, d)
	b.queued++
	b.dispatchLocked()
}

// dispatchLocked starts queued deliveries while workers are free, taking
// subscriptions in turn so that one flooded subscription cannot starve the
// others.
func (b *Bus) dispatchLocked() {
	if b.state == closed {
		return
	}
	for b.active < b.opts.Workers {
		s := b.readyLocked()
		if s == nil {
			return
		}
		d := s.queue[0]
		s.queue[0] = delivery{}
		s.queue = s.queue[1:]
		if len(s.queue) == 0 {
			s.queue = nil // let the backing array go
		}
		b.queued--
		s.active++
		b.active++
		b.running.Add(1)
		go b.deliver(d)
	}
}

// readyLocked returns the next subscription, in round-robin order, with a
// queued delivery and a free worker of its own, or nil.
func (b *Bus) readyLocked() *subscription {
	n := len(b.order)
	for i := range n {
		s := b.order[(b.next+i)%n]
		if len(s.queue) > 0 && s.active < b.opts.SubscriptionWorkers {
			b.next = (b.next + i + 1) % n
			return s
		}
	}
	return nil
}

// deliver makes one delivery attempt and then acknowledges, retries or
// dead-letters, and hands its worker to the next queued delivery.
func (b *Bus) deliver(d delivery) {
	defer b.running.Done()
	m := *d.msg
	m.Data = bytes.Clone(d.msg.Data)
	m.Attributes = maps.Clone(d.msg.Attributes)
	m.DeliveryAttempt = d.attempt
	m.Subscription = d.sub.name

	ctx := context.WithValue(b.ctx, busKey{}, b)
	var err error
	_ = handle(ctx, func(hctx context.Context, m *Message) error {
		ctx = hctx // the dead-letter record below belongs to the consumer's span
		err = b.call(hctx, d.sub.h, m)
		return err
	}, &m)
	last := err != nil && d.attempt >= b.opts.MaxAttempts
	if last {
		b.deadLetter(ctx, d.sub, &m, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	d.sub.active--
	b.active--
	if err == nil || last {
		b.finishLocked()
	} else {
		b.retryLocked(d)
	}
	b.dispatchLocked()
}

// call runs h, turning a panic into an error so one bad message cannot take
// the process down.
func (b *Bus) call(ctx context.Context, h Handler, m *Message) (err error) {
	if b.opts.AckDeadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.opts.AckDeadline)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("events: handler for %s panicked: %v", m.Subscription, r)
		}
	}()
	return h(ctx, m)
}

// retryLocked queues the next attempt of d after a backoff, unless the Bus
// has been closed meanwhile. b.mu must be held.
func (b *Bus) retryLocked(d delivery) {
	if b.state == closed {
		b.dropped.Add(1)
		b.finishLocked()
		return
	}
	d.attempt++
	wait := b.backoff(d.attempt - 1)
	var t *time.Timer
	t = time.AfterFunc(wait, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.timers[t]; !ok {
			return // Close took it
		}
		delete(b.timers, t)
		b.enqueueLocked(d) // still counted in pending
	})
	b.timers[t] = struct{}{}
}

// backoff returns the delay after the failed attempt n (from 1): MinBackoff
// doubled n-1 times, capped at MaxBackoff, then jittered into its upper half
// and never below MinBackoff.
func (b *Bus) backoff(n int) time.Duration {
	d := b.opts.MaxBackoff
	if n-1 < 62 {
		if e := b.opts.MinBackoff << (n - 1); e > 0 && e < d {
			d = e
		}
	}
	d = d/2 + time.Duration(b.float()*float64(d-d/2))
	return max(d, b.opts.MinBackoff)
}

func (b *Bus) float() float64 {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	return b.rnd.Float64()
}

// deadLetter hands m to the sink and the dead-letter topic, or logs it when
// neither is configured.
func (b *Bus) deadLetter(ctx context.Context, s *subscription, m *Message, lastErr error) {
	metrics.Default().DeadLetter(ctx, s.name)
	if b.opts.DeadLetter != nil {
		b.opts.DeadLetter(ctx, s.topic, m, lastErr)
	}
	if b.opts.DeadLetterTopic != "" {
		attrs := maps.Clone(m.Attributes)
		if attrs == nil {
			attrs = map[string]string{}
		}
		attrs[AttrDeadLetterDeliveryCount] = strconv.Itoa(m.DeliveryAttempt)
		attrs[AttrDeadLetterSubscription] = s.name
		attrs[AttrDeadLetterPublishTime] = m.PublishTime.Format(time.RFC3339Nano)
		if _, err := b.Publish(ctx, b.opts.DeadLetterTopic, m.Data, attrs); err != nil {
			b.opts.Logger.ErrorContext(ctx, "dead letter lost", "topic", s.topic, "subscription", s.name,
				"messageId", m.ID, "err", err, "lastErr", lastErr)
		}
	}
	if b.opts.DeadLetter == nil && b.opts.DeadLetterTopic == "" {
		b.opts.Logger.ErrorContext(ctx, "message dead-lettered", "topic", s.topic, "subscription", s.name,
			"messageId", m.ID, "deliveryAttempt", m.DeliveryAttempt, "err", lastErr)
	}
}

func (b *Bus) finishLocked() {
	b.pending--
	if b.pending == 0 {
		close(b.idle)
	}
}

// BusStats counts a Bus's deliveries at one moment.
type BusStats struct {
	Queued   int   // waiting for a worker
	Running  int   // in a handler call
	Retrying int   // waiting for their backoff to end
	Dropped  int64 // given up by Close: queued, retrying, or failed after Close
}

// Pending is the number of deliveries not yet acknowledged or dead-lettered.
func (s BusStats) Pending() int { return s.Queued + s.Running + s.Retrying }

func (s BusStats) String() string {
	return fmt.Sprintf("%d queued, %d running, %d waiting to retry", s.Queued, s.Running, s.Retrying)
}

// Stats returns the Bus's current counts.
func (b *Bus) Stats() BusStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return BusStats{Queued: b.queued, Running: b.active, Retrying: len(b.timers), Dropped: b.dropped.Load()}
}

// Drain stops accepting publications from outside the Bus's own handlers and
// waits until every delivery, retries included, has been acknowledged or
// dead-lettered, or until ctx ends; the error then says how many deliveries
// were still pending. It is what a SIGTERM handler calls before Close.
func (b *Bus) Drain(ctx context.Context) error {
	b.mu.Lock()
	if b.state == open {
		b.state = draining
	}
	for b.pending > 0 {
		idle := b.idle
		b.mu.Unlock()
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("events.Bus.Drain: %w (deliveries pending: %v)", context.Cause(ctx), b.Stats())
		}
		b.mu.Lock()
	}
	b.mu.Unlock()
	return nil
}

// Close stops the Bus at once: later calls fail with ErrClosed, queued
// deliveries and pending retries are dropped, and running handlers see their
// context canceled. Pub/Sub would redeliver what was dropped; the embedded
// Bus keeps nothing across restarts, so Close logs how many deliveries it
// dropped (Stats reports them too). Close waits for the running handlers up
// to CloseTimeout and fails, naming how many are still running, if they
// outlive it. Call Drain first to let work finish.
func (b *Bus) Close() error {
	b.mu.Lock()
	if b.state == closed {
		b.mu.Unlock()
		return nil
	}
	b.state = closed
	for t := range b.timers {
		t.Stop()
		delete(b.timers, t)
		b.dropped.Add(1)
		b.finishLocked()
	}
	for _, s := range b.order {
		for range s.queue {
			b.dropped.Add(1)
			b.finishLocked()
		}
		s.queue = nil
	}
	b.queued = 0
	b.mu.Unlock()
	b.cancel()

	done := make(chan struct{})
	go func() {
		b.running.Wait()
		close(done)
	}()
	timer := time.NewTimer(b.opts.CloseTimeout)
	defer timer.Stop()
	var err error
	select {
	case <-done:
	case <-timer.C:
		err = fmt.Errorf("events.Bus.Close: %d handlers still running %v after their context was canceled",
			b.Stats().Running, b.opts.CloseTimeout)
	}
	if n := b.dropped.Load(); n > 0 {
		b.opts.Logger.Warn("embedded bus closed with undelivered messages; Pub/Sub would redeliver them, the embedded bus does not",
			"dropped", n)
	}
	return err
}

var _ Publisher = (*Bus)(nil)
