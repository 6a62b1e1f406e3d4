package obs

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// ownTracing is what SetupTracing installed: the SDK provider (for spans
// other code starts through otel.Tracer, and for the sampler's rules, which
// ownSpan follows), its batcher and resource.
type ownTracing struct {
	tp  *sdktrace.TracerProvider
	b   *batcher
	res *resource.Resource
	// The provider's limits (sdktrace.NewSpanLimits: the defaults or
	// OTEL_SPAN_* variables). A span holds at most about twice as many
	// attributes, events and links as they allow: see ownSpan.bound.
	limits sdktrace.SpanLimits

	// replay turns a span with attributes, events or links into the SDK's
	// ReadOnlySpan in the batcher's worker (export lock held).
	replay *replayer
}

var own atomic.Pointer[ownTracing]

// ownOf returns the tracing SetupTracing installed if gp is its provider.
func ownOf(gp trace.TracerProvider) *ownTracing {
	if o := own.Load(); o != nil && gp == trace.TracerProvider(o.tp) {
		return o
	}
	return nil
}

// ownSpan is the recording span startSpan gives for a sampled trace under
// SetupTracing's provider, in place of the SDK's: one allocation that is at
// once the span, the context carrying it (OpenTelemetry's span key and our
// Trace, which log lines read) and everything recorded, handed as is to the
// batcher when it ends. The batcher's worker turns it into the SDK's
// ReadOnlySpan when it exports (snapshot), off the request path.
//
// It follows the SDK's rules: the parent-based sampler (only sampled
// parents and roots get one), the trace flags and state of the parent, the
// status order (Ok over Error over Unset), nothing recorded after End, a
// panic passing through a deferred End recorded as an exception event.
// Attributes, events and links are recorded raw and normalised by the SDK
// itself when the worker replays them (limits, de-duplication).
//
// It is not pooled: the context it is escapes to the handler, which may
// keep it (a goroutine starting children later) after the span ended.
type ownSpan struct {
	embedded.Span
	context.Context // the parent's

	t        Trace // the span as log lines and traceparent name it
	sc       trace.SpanContext
	parent   trace.SpanContext
	kind     trace.SpanKind
	o        *ownTracing
	start    time.Time
	children atomic.Int32 // spans started by startSpan under this one
	ended    atomic.Bool  // written under mu

	mu     sync.Mutex
	name   string
	end    time.Time
	status sdktrace.Status
	attrs  []attribute.KeyValue
	events []sdktrace.Event
	links  []trace.Link
	// Events and links dropped by bound: the oldest, as the SDK drops.
	droppedEvents, droppedLinks int
}

var _ trace.Span = (*ownSpan)(nil)

// spanKey is the key under which OpenTelemetry's trace.ContextWithSpan
// stores the current span, learnt by asking a context that records the key
// it is asked for: ownSpan answers it itself, which spares the context
// ContextWithSpan would allocate. nil if SpanFromContext asks no key
// (then startSpan wraps the span with ContextWithSpan).
var spanKey = func() any {
	var p keyProbe
	trace.SpanFromContext(&p)
	return p.key
}()

type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

func (s *ownSpan) Value(key any) any {
	switch key {
	case any(traceKey{}):
		return &s.t
	case spanKey:
		return trace.Span(s)
	}
	return s.Context.Value(key)
}

// start returns a recording span of t's trace, as the SDK's tracer with
// SetupTracing's sampler and id generator would give, or nil where the
// sampler would not record (an unsampled parent in ctx) or the provider is
// shut down: the caller then goes through the SDK. start zero means now.
func (o *ownTracing) start(ctx context.Context, t Trace, name string, kind trace.SpanKind, attrs []attribute.KeyValue, start time.Time) *ownSpan {
	if o.b.stopped.Load() {
		return nil
	}
	ps := trace.SpanFromContext(ctx)
	cur := ps.SpanContext()
	var psc trace.SpanContext
	switch {
	case cur.IsValid() && sameIDs(cur, t):
		psc = cur // t's span is the one in ctx
	case t.root:
		// A trace NewTrace started: its span id names no exported span,
		// the span is a root keeping the trace id.
	default:
		psc, _ = spanContext(t) // a remote parent (invalid: a root)
	}
	var tid trace.TraceID
	if psc.IsValid() {
		if !psc.IsSampled() {
			return nil // ParentBased: not recorded
		}
		tid = psc.TraceID()
	} else if !decodeHex(tid[:], t.TraceID) || !tid.IsValid() {
		tid, _ = idGenerator{}.NewIDs(context.Background())
	}
	sid := newSpanID()
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: psc.TraceFlags() | trace.FlagsSampled, TraceState: psc.TraceState(),
	})
	if start.IsZero() {
		start = time.Now()
	}
	s := &ownSpan{
		Context: ctx,
		t:       Trace{TraceID: t.TraceID, SpanID: hexID(sid), Sampled: true},
		sc:      sc, parent: psc, kind: trace.ValidateSpanKind(kind), o: o, start: start, name: name,
	}
	if !sameTraceID(sc, t.TraceID) {
		s.t.TraceID = tid.String() // t's id was not usable: a new root
	}
	if len(attrs) > 0 {
		s.attrs = append([]attribute.KeyValue(nil), attrs...)
	}
	if p, ok := ps.(*ownSpan); ok && psc.IsValid() && p.sc.SpanID() == psc.SpanID() {
		p.children.Add(1)
	}
	return s
}

func (s *ownSpan) SpanContext() trace.SpanContext { return s.sc }

func (s *ownSpan) IsRecording() bool { return !s.ended.Load() }

func (s *ownSpan) TracerProvider() trace.TracerProvider { return s.o.tp }

func (s *ownSpan) SetName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended.Load() {
		s.name = name
	}
}

// SetStatus sets the status as the SDK does: a description only with
// Error, Unset never over another code, nothing over Ok.
func (s *ownSpan) SetStatus(code codes.Code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setStatus(code, description)
}

func (s *ownSpan) setStatus(code codes.Code, description string) {
	if s.ended.Load() || s.status.Code > code {
		return
	}
	st := sdktrace.Status{Code: code}
	if code == codes.Error {
		st.Description = description
	}
	s.status = st
}

func (s *ownSpan) SetAttributes(kv ...attribute.KeyValue) {
	if len(kv) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended.Load() {
		s.attrs = append(s.attrs, kv...)
		if l := s.o.limits.AttributeCountLimit; l >= 0 && len(s.attrs) > 2*l+16 {
			s.attrs = dedupe(s.attrs)
		}
	}
}

func (s *ownSpan) AddEvent(name string, opts ...trace.EventOption) {
	c := trace.NewEventConfig(opts...) // its timestamp: now unless given
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addEvent(name, c)
}

func (s *ownSpan) addEvent(name string, c trace.EventConfig) {
	if !s.ended.Load() {
		s.events = append(s.events, sdktrace.Event{Name: name, Attributes: c.Attributes(), Time: c.Timestamp()})
		s.events = keepLast(s.events, s.o.limits.EventCountLimit, &s.droppedEvents)
	}
}

// RecordError adds the SDK's exception event for err.
func (s *ownSpan) RecordError(err error, opts ...trace.EventOption) {
	if err == nil || s.ended.Load() {
		return
	}
	opts = append(opts, trace.WithAttributes(semconv.ExceptionType(typeStr(err)), semconv.ExceptionMessage(err.Error())))
	if c := trace.NewEventConfig(opts...); c.StackTrace() {
		opts = append(opts, trace.WithAttributes(semconv.ExceptionStacktrace(stackTrace())))
	}
	s.AddEvent(semconv.ExceptionEventName, opts...)
}

func (s *ownSpan) AddLink(l trace.Link) {
	if !l.SpanContext.IsValid() && len(l.Attributes) == 0 && l.SpanContext.TraceState().Len() == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended.Load() {
		l.Attributes = slices.Clone(l.Attributes) // the caller's slice: read at export
		s.links = append(s.links, l)
		s.links = keepLast(s.links, s.o.limits.LinkCountLimit, &s.droppedLinks)
	}
}

// End ends the span (at the end option's time, else now, read on the
// monotonic clock from the start) and hands it to the batcher. Called
// deferred while a panic unwinds, it records the panic as the SDK does.
func (s *ownSpan) End(opts ...trace.SpanEndOption) {
	et := s.start.Add(time.Since(s.start))
	s.mu.Lock()
	if s.ended.Load() {
		s.mu.Unlock()
		return
	}
	c := trace.NewSpanEndConfig(opts...)
	if ts := c.Timestamp(); !ts.IsZero() {
		et = ts
	}
	if p := recover(); p != nil {
		defer panic(p) // recorded, not stopped
		eo := []trace.EventOption{trace.WithAttributes(semconv.ExceptionType(typeStr(p)), semconv.ExceptionMessage(fmt.Sprint(p)))}
		if c.StackTrace() {
			eo = append(eo, trace.WithAttributes(semconv.ExceptionStacktrace(stackTrace())))
		}
		s.addEvent(semconv.ExceptionEventName, trace.NewEventConfig(eo...))
	}
	s.finish(et)
}

// endRequest ends Middleware's server span at end with the request's
// outcome: named by route (unless empty), the status code an attribute
// from 400 on, an Error status from 500 on. One lock for all of it.
func (s *ownSpan) endRequest(route string, status int, end time.Time) {
	s.mu.Lock()
	if s.ended.Load() {
		s.mu.Unlock()
		return
	}
	if route != "" {
		s.name = route
	}
	if status >= 400 {
		s.attrs = append(s.attrs, attribute.Int("http.response.status_code", status))
	}
	if status >= 500 {
		s.setStatus(codes.Error, http.StatusText(status))
	}
	s.finish(end)
}

// finish marks s ended at end, unlocks it and hands it to the batcher:
// nothing writes s after this (every writer checks ended under mu), so the
// worker reads it without the lock.
func (s *ownSpan) finish(end time.Time) {
	s.end = end
	s.ended.Store(true)
	s.mu.Unlock()
	s.o.b.push(pending{own: s})
}

// snapshot returns s as the SDK's ReadOnlySpan, for the exporter. A span
// with only a name, ids, times and status becomes a SpanStub's snapshot;
// one with attributes, events or links is replayed through an SDK tracer
// (as the span's own start, calls and end, with their times and ids), so
// that the SDK applies its limits and normalisation exactly. Called by the
// batcher under its export lock.
func (s *ownSpan) snapshot() sdktrace.ReadOnlySpan {
	if len(s.attrs) == 0 && len(s.events) == 0 && len(s.links) == 0 {
		return stubOf(s).Snapshot()
	}
	o := s.o
	if o.replay == nil {
		o.replay = newReplayer(o.res, o.limits)
	}
	ro := o.replay.replay(s)
	if n := int(s.children.Load()); n > 0 || s.droppedEvents > 0 || s.droppedLinks > 0 {
		st := tracetest.SpanStubFromReadOnlySpan(ro)
		st.ChildSpanCount = n
		st.DroppedEvents += s.droppedEvents
		st.DroppedLinks += s.droppedLinks
		return st.Snapshot()
	}
	return ro
}

// A span holds its attributes, events and links as recorded, for the SDK
// to apply its limits when the worker replays them; these keep a span that
// records far more than the limits allow from growing without bound.

// dedupe keeps the first place and last value of each key, as the SDK
// does when the attributes reach its limit. (The SDK also counts as
// dropped each setting of a key past the limit; settings merged here count
// once.)
func dedupe(kv []attribute.KeyValue) []attribute.KeyValue {
	at := make(map[attribute.Key]int, len(kv))
	out := kv[:0]
	for _, a := range kv {
		if i, ok := at[a.Key]; ok {
			out[i] = a
			continue
		}
		at[a.Key] = len(out)
		out = append(out, a)
	}
	clear(kv[len(out):])
	return out
}

// keepLast drops the oldest of q past about twice limit (negative: no
// limit), leaving the limit's worth, and counts them in dropped: the SDK
// keeps the last limit and counts the rest.
func keepLast[T any](q []T, limit int, dropped *int) []T {
	if limit < 0 || len(q) <= 2*limit+16 {
		return q
	}
	n := len(q) - limit
	*dropped += n
	k := copy(q, q[n:])
	clear(q[k:])
	return q[:k]
}

// stubOf is s as a SpanStub (without attributes, events or links: see
// ownSpan.snapshot).
func stubOf(s *ownSpan) tracetest.SpanStub {
	return tracetest.SpanStub{
		Name: s.name, SpanContext: s.sc, Parent: s.parent, SpanKind: s.kind,
		StartTime: s.start, EndTime: s.end, Status: s.status,
		ChildSpanCount: int(s.children.Load()), Resource: s.o.res,
		InstrumentationScope: instrumentation.Scope{Name: tracerName},
	}
}

// replayer is an SDK provider that records exactly what an ownSpan
// recorded: always sampling, with the span's own ids.
type replayer struct {
	tr  trace.Tracer
	got sdktrace.ReadOnlySpan
}

func newReplayer(res *resource.Resource, limits sdktrace.SpanLimits) *replayer {
	r := &replayer{}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sdktrace.AlwaysSample()), sdktrace.WithRawSpanLimits(limits),
		sdktrace.WithIDGenerator(replayIDs{}), sdktrace.WithSpanProcessor(r)}
	if res != nil {
		opts = append(opts, sdktrace.WithResource(res))
	}
	r.tr = sdktrace.NewTracerProvider(opts...).Tracer(tracerName)
	return r
}

type replayKey struct{}

func (r *replayer) replay(s *ownSpan) sdktrace.ReadOnlySpan {
	ctx := context.WithValue(context.Background(), replayKey{}, s.sc)
	if s.parent.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, s.parent)
	}
	_, rs := r.tr.Start(ctx, s.name, trace.WithSpanKind(s.kind), trace.WithTimestamp(s.start),
		trace.WithAttributes(s.attrs...), trace.WithLinks(s.links...))
	for _, e := range s.events {
		rs.AddEvent(e.Name, trace.WithTimestamp(e.Time), trace.WithAttributes(e.Attributes...))
	}
	rs.SetStatus(s.status.Code, s.status.Description)
	r.got = nil
	rs.End(trace.WithTimestamp(s.end))
	return r.got
}

func (r *replayer) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *replayer) OnEnd(s sdktrace.ReadOnlySpan)                   { r.got = s }
func (r *replayer) Shutdown(context.Context) error                  { return nil }
func (r *replayer) ForceFlush(context.Context) error                { return nil }

// replayIDs gives a replayed span the ids of the ownSpan it replays.
type replayIDs struct{}

func (replayIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	sc, _ := ctx.Value(replayKey{}).(trace.SpanContext)
	return sc.TraceID(), sc.SpanID()
}

func (replayIDs) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	sc, _ := ctx.Value(replayKey{}).(trace.SpanContext)
	return sc.SpanID()
}

// typeStr names an error's or panic value's type as the SDK's exception
// events do.
func typeStr(i any) string {
	t := reflect.TypeOf(i)
	if t.PkgPath() == "" && t.Name() == "" {
		return t.String()
	}
	return fmt.Sprintf("%s.%s", t.PkgPath(), t.Name())
}

func stackTrace() string {
	b := make([]byte, 2048)
	return string(b[:runtime.Stack(b, false)])
}
