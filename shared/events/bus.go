package events

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

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
	// Logger receives dead letters nobody else takes. Default slog.Default().
	Logger *slog.Logger
}

// Bus is an in-process Pub/Sub: every subscription of a topic receives each
// message published to it, at least once, on its own goroutine. A failed
// delivery is retried with exponential backoff and jitter, and after
// MaxAttempts the message is dead-lettered. Messages published to a topic
// without subscriptions are dropped, as Pub/Sub drops them.
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
	pending int           // deliveries queued, running or waiting to retry
	idle    chan struct{} // closed when pending drops to 0
	timers  map[*time.Timer]struct{}
	running sync.WaitGroup // handler goroutines

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
	subs := append([]*subscription(nil), b.subs[topic]...)
	b.subs[topic] = append(subs, &subscription{topic: topic, name: name, h: h})
	return nil
}

// Publish delivers a copy of data and attrs, plus ctx's trace, to every
// subscription of topic, and returns the message id at once. While the Bus
// drains, only handlers it is running may still publish, so that chains of
// functions complete; otherwise Publish fails with ErrClosed.
func (b *Bus) Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
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
			b.startLocked(delivery{sub: s, msg: m, attempt: 1})
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

// startLocked counts d as pending and runs it on a new goroutine. b.mu must be
// held and the Bus not closed.
func (b *Bus) startLocked(d delivery) {
	if b.pending == 0 {
		b.idle = make(chan struct{})
	}
	b.pending++
	b.running.Add(1)
	go b.deliver(d)
}

// deliver makes one delivery attempt and then acknowledges, retries or
// dead-letters.
func (b *Bus) deliver(d delivery) {
	defer b.running.Done()
	m := *d.msg
	m.Data = bytes.Clone(d.msg.Data)
	m.Attributes = maps.Clone(d.msg.Attributes)
	m.DeliveryAttempt = d.attempt
	m.Subscription = d.sub.name

	ctx := obs.ExtractAttributes(context.WithValue(b.ctx, busKey{}, b), m.Attributes)
	err := b.call(ctx, d.sub.h, &m)
	switch {
	case err == nil:
		b.finish()
	case d.attempt >= b.opts.MaxAttempts:
		b.deadLetter(ctx, d.sub, &m, err)
		b.finish()
	default:
		b.retry(d)
	}
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

// retry schedules the next attempt of d after a backoff, unless the Bus has
// been closed meanwhile.
func (b *Bus) retry(d delivery) {
	d.attempt++
	wait := b.backoff(d.attempt - 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == closed {
		b.finishLocked()
		return
	}
	var t *time.Timer
	t = time.AfterFunc(wait, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.timers[t]; !ok {
			return // Close took it
		}
		delete(b.timers, t)
		b.running.Add(1) // still counted in pending
		go b.deliver(d)
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

func (b *Bus) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.finishLocked()
}

func (b *Bus) finishLocked() {
	b.pending--
	if b.pending == 0 {
		close(b.idle)
	}
}

// Drain stops accepting publications from outside the Bus's own handlers and
// waits until every delivery, retries included, has been acknowledged or
// dead-lettered, or until ctx ends. It is what a SIGTERM handler calls before
// Close.
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
			return fmt.Errorf("events.Bus.Drain: %w", context.Cause(ctx))
		}
		b.mu.Lock()
	}
	b.mu.Unlock()
	return nil
}

// Close stops the Bus at once: later calls fail with ErrClosed, pending
// retries are dropped, and running handlers see their context canceled.
// Close returns once those handlers have returned. Call Drain first to let
// work finish.
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
		b.finishLocked()
	}
	b.mu.Unlock()
	b.cancel()
	b.running.Wait()
	return nil
}

var _ Publisher = (*Bus)(nil)
