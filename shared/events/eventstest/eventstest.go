// Package eventstest is the conformance suite every events driver passes:
// the embedded Bus, and Pub/Sub (through its emulator and PushHandler).
package eventstest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/obs"
)

// DeadLetter is a message a driver gave up on.
type DeadLetter struct {
	Topic   string
	Message *events.Message
	Err     error // the handler's last error
}

// Harness adapts a driver to the suite.
type Harness interface {
	// Publisher is the driver under test.
	Publisher() events.Publisher
	// Subscribe creates topic if needed and attaches h to it, so that every
	// message published afterwards reaches h, and dead reports each message
	// of topic that is dead-lettered.
	Subscribe(ctx context.Context, topic string, h events.Handler, dead func(DeadLetter)) error
	// MaxAttempts is the number of deliveries after which the driver
	// dead-letters a message.
	MaxAttempts() int
}

// wait bounds every wait in the suite so that a broken driver fails instead
// of hanging; it never measures speed.
const wait = 2 * time.Minute

var errBoom = errors.New("eventstest: handler failure")

// Run runs the suite against h. Each test uses its own topics. The last test
// closes h.Publisher().
func Run(t *testing.T, h Harness) {
	t.Run("Deliver", func(t *testing.T) { testDeliver(t, h) })
	t.Run("Retry", func(t *testing.T) { testRetry(t, h) })
	t.Run("DeadLetter", func(t *testing.T) { testDeadLetter(t, h) })
	t.Run("Trace", func(t *testing.T) { testTrace(t, h) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, h) })
	t.Run("Close", func(t *testing.T) { testClose(t, h) })
}

// topic returns a fresh topic name (letters first, as Pub/Sub requires).
func topic() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "conf-" + hex.EncodeToString(b)
}

type call struct {
	m     *events.Message
	trace obs.Trace
	ok    bool
}

// recorder is a handler that records calls and answers with fail(n) for the
// n-th call (from 1).
type recorder struct {
	fail  func(n int) error
	mu    sync.Mutex
	calls []call
	ch    chan call
}

func newRecorder(fail func(n int) error) *recorder {
	return &recorder{fail: fail, ch: make(chan call, 64)}
}

func (r *recorder) handle(ctx context.Context, m *events.Message) error {
	tr, ok := obs.TraceFrom(ctx)
	c := call{m: m, trace: tr, ok: ok}
	r.mu.Lock()
	r.calls = append(r.calls, c)
	n := len(r.calls)
	r.mu.Unlock()
	select {
	case r.ch <- c:
	default:
	}
	if r.fail != nil {
		return r.fail(n)
	}
	return nil
}

func (r *recorder) next(t *testing.T) call {
	t.Helper()
	select {
	case c := <-r.ch:
		return c
	case <-time.After(wait):
		t.Fatal("no delivery")
		return call{}
	}
}

func subscribe(t *testing.T, h Harness, r *recorder) (string, chan DeadLetter) {
	t.Helper()
	tp := topic()
	dead := make(chan DeadLetter, 16)
	if err := h.Subscribe(t.Context(), tp, r.handle, func(d DeadLetter) { dead <- d }); err != nil {
		t.Fatalf("Subscribe(%s): %v", tp, err)
	}
	return tp, dead
}

func testDeliver(t *testing.T, h Harness) {
	r := newRecorder(nil)
	tp, _ := subscribe(t, h, r)
	attrs := map[string]string{"job": "j-1", "kind": "generate"}
	before := maps.Clone(attrs)
	data := []byte(`{"job":"j-1"}`)
	ctx := obs.WithTrace(t.Context(), obs.NewTrace())
	id, err := h.Publisher().Publish(ctx, tp, data, attrs)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if id == "" {
		t.Error("Publish returned an empty id")
	}
	if !maps.Equal(attrs, before) {
		t.Errorf("Publish changed the caller's attributes: %v, want %v", attrs, before)
	}
	c := r.next(t)
	m := c.m
	if m.ID != id {
		t.Errorf("delivered id %q, published %q", m.ID, id)
	}
	if string(m.Data) != string(data) {
		t.Errorf("data %q, want %q", m.Data, data)
	}
	for k, v := range before {
		if m.Attributes[k] != v {
			t.Errorf("attribute %q = %q, want %q", k, m.Attributes[k], v)
		}
	}
	if _, ok := obs.ParseTraceparent(m.Attributes[obs.AttrTraceparent]); !ok {
		t.Errorf("attribute traceparent = %q, want a W3C traceparent", m.Attributes[obs.AttrTraceparent])
	}
	if m.DeliveryAttempt != 1 {
		t.Errorf("first DeliveryAttempt = %d, want 1", m.DeliveryAttempt)
	}
	if m.PublishTime.IsZero() {
		t.Error("PublishTime is zero")
	}
	if m.Subscription == "" {
		t.Error("Subscription is empty")
	}

	id2, err := h.Publisher().Publish(ctx, tp, []byte("second"), nil)
	if err != nil {
		t.Fatalf("second Publish: %v", err)
	}
	if id2 == "" || id2 == id {
		t.Errorf("second id %q, first %q: want distinct non-empty ids", id2, id)
	}
	for {
		if c := r.next(t); c.m.ID == id2 {
			break
		}
	}
}

func testRetry(t *testing.T, h Harness) {
	if h.MaxAttempts() < 3 {
		t.Fatalf("MaxAttempts %d: the suite needs at least 3", h.MaxAttempts())
	}
	r := newRecorder(func(n int) error {
		if n <= 2 {
			return fmt.Errorf("call %d: %w", n, errBoom)
		}
		return nil
	})
	tp, dead := subscribe(t, h, r)
	id, err := h.Publisher().Publish(t.Context(), tp, []byte("retry me"), nil)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for want := 1; want <= 3; want++ {
		c := r.next(t)
		if c.m.ID != id {
			t.Errorf("call %d: id %q, want %q", want, c.m.ID, id)
		}
		if c.m.DeliveryAttempt != want {
			t.Errorf("call %d: DeliveryAttempt %d, want %d", want, c.m.DeliveryAttempt, want)
		}
		if string(c.m.Data) != "retry me" {
			t.Errorf("call %d: data %q", want, c.m.Data)
		}
	}
	select {
	case d := <-dead:
		t.Errorf("message dead-lettered after succeeding: %+v", d)
	default:
	}
}

func testDeadLetter(t *testing.T, h Harness) {
	r := newRecorder(func(n int) error { return fmt.Errorf("call %d: %w", n, errBoom) })
	tp, dead := subscribe(t, h, r)
	id, err := h.Publisher().Publish(t.Context(), tp, []byte("poison"), map[string]string{"k": "v"})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	var d DeadLetter
	select {
	case d = <-dead:
	case <-time.After(wait):
		t.Fatal("message never dead-lettered")
	}
	n := h.MaxAttempts()
	if d.Topic != tp {
		t.Errorf("dead letter topic %q, want %q", d.Topic, tp)
	}
	if d.Message == nil || d.Message.ID != id {
		t.Fatalf("dead letter message %+v, want id %q", d.Message, id)
	}
	if string(d.Message.Data) != "poison" || d.Message.Attributes["k"] != "v" {
		t.Errorf("dead letter lost the payload: %q %v", d.Message.Data, d.Message.Attributes)
	}
	if d.Message.DeliveryAttempt != n {
		t.Errorf("dead letter DeliveryAttempt %d, want %d", d.Message.DeliveryAttempt, n)
	}
	if !errors.Is(d.Err, errBoom) {
		t.Errorf("dead letter error %v, want the handler's error", d.Err)
	}
	if want := fmt.Sprintf("call %d:", n); d.Err == nil || !strings.HasPrefix(d.Err.Error(), want) {
		t.Errorf("dead letter error %v, want the last one (%q)", d.Err, want)
	}
	r.mu.Lock()
	calls := len(r.calls)
	attempts := make([]int, len(r.calls))
	for i, c := range r.calls {
		attempts[i] = c.m.DeliveryAttempt
	}
	r.mu.Unlock()
	if calls != n {
		t.Errorf("handler called %d times before dead-lettering, want %d", calls, n)
	}
	for i, a := range attempts {
		if a != i+1 {
			t.Errorf("attempts %v, want 1..%d", attempts, n)
			break
		}
	}
}

func testTrace(t *testing.T, h Harness) {
	r := newRecorder(nil)
	tp, _ := subscribe(t, h, r)
	tr := obs.NewTrace()
	if _, err := h.Publisher().Publish(obs.WithTrace(t.Context(), tr), tp, []byte("traced"), nil); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	c := r.next(t)
	if !c.ok {
		t.Fatal("handler context carries no trace")
	}
	if c.trace.TraceID != tr.TraceID {
		t.Errorf("handler trace id %s, published %s", c.trace.TraceID, tr.TraceID)
	}
	// The traceparent attribute survives the transport and names the
	// publish's own span (a child of the publisher's), and the handler runs
	// in a span of its own (a child of the publish).
	sent, ok := obs.ParseTraceparent(c.m.Attributes[obs.AttrTraceparent])
	switch {
	case !ok:
		t.Errorf("delivered traceparent %q is not a W3C traceparent", c.m.Attributes[obs.AttrTraceparent])
	case sent.TraceID != tr.TraceID:
		t.Errorf("delivered traceparent %s, published trace %s", c.m.Attributes[obs.AttrTraceparent], tr.TraceID)
	case sent.SpanID == tr.SpanID:
		t.Error("the message names the publisher's span, not the publish span")
	case c.trace.SpanID == sent.SpanID || c.trace.SpanID == tr.SpanID:
		t.Error("the handler runs in the publish's or the publisher's span, not its own")
	}

	// A message published without a trace still reaches its handler with one.
	if _, err := h.Publisher().Publish(t.Context(), tp, []byte("untraced"), nil); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	for {
		c := r.next(t)
		if string(c.m.Data) != "untraced" {
			continue
		}
		if !c.ok {
			t.Error("handler of an untraced message has no trace")
		}
		if c.trace.TraceID == tr.TraceID {
			t.Error("untraced message inherited an earlier trace")
		}
		break
	}
}

func testInvalid(t *testing.T, h Harness) {
	if _, err := h.Publisher().Publish(t.Context(), "", []byte("x"), nil); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("Publish to an empty topic: %v, want ErrInvalid", err)
	}
	if _, err := h.Publisher().Publish(t.Context(), topic(), nil, nil); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("Publish of an empty message: %v, want ErrInvalid", err)
	}
}

func testClose(t *testing.T, h Harness) {
	p := h.Publisher()
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := p.Publish(t.Context(), topic(), []byte("late"), nil); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Publish after Close: %v, want ErrClosed", err)
	}
}
