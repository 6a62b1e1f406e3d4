package obs

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	mrand "math/rand/v2"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	nooptrace "go.opentelemetry.io/otel/trace/noop"
)

// tracerName is the instrumentation scope of Synthos' spans.
const tracerName = "synthos.dev/synthos"

// StartSpan starts an OpenTelemetry span that is a child of the Trace ctx
// carries (the one log lines name) and returns ctx carrying the span and
// the Trace moved to the span's id, so that log lines written inside the
// span, and messages published from it, name this span. Without a tracer
// provider (SYNTHOS_TRACES=none) the span records nothing and the Trace
// still gets a fresh span id for this hop. A ctx without a Trace starts one.
// The caller must call End on the span.
func StartSpan(ctx context.Context, name string, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	t, ok := TraceFrom(ctx)
	if !ok {
		t = NewTrace()
	}
	ctx, span, _, _ := startSpan(ctx, t, name, kind, attrs, time.Time{})
	return ctx, span
}

// startSpan is StartSpan for a caller that holds the parent Trace t (ctx
// need not carry it: Middleware saves a context that way). It also returns
// the span's Trace and whether the span records. start is when the span
// starts (zero: now).
func startSpan(ctx context.Context, t Trace, name string, kind trace.SpanKind, attrs []attribute.KeyValue, start time.Time) (context.Context, trace.Span, Trace, bool) {
	gp := otel.GetTracerProvider()
	if o := ownOf(gp); o != nil {
		if !t.Sampled {
			// SetupTracing's parent-based sampler would give a span that
			// records nothing under a caller that decided not to sample:
			// give it without the SDK (its remote parent context, sampler
			// call and span).
			if c, span, nt, ok := unsampledContext(ctx, t); ok {
				return c, span, nt, false
			}
		} else if s := o.start(ctx, t, name, kind, attrs, start); s != nil {
			if spanKey == nil { // see spanKey
				return trace.ContextWithSpan(s, s), s, s.t, true
			}
			return s, s, s.t, true
		}
	}
	if cur := trace.SpanContextFromContext(ctx); !cur.IsValid() || !sameIDs(cur, t) {
		// The parent is the Trace's span: a remote one (the client's, the
		// publisher's) or one whose OpenTelemetry span is not in ctx. A
		// sampled trace started here has no parent: its span is a root
		// that keeps the trace id (idGenerator). An unsampled one keeps
		// its remote parent, whose flags carry the decision not to record
		// to the parent-based sampler; nothing of it is exported.
		if t.root && t.Sampled {
			if cur.IsValid() {
				ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{})
			}
		} else if sc, ok := spanContext(t); ok {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
		} else if cur.IsValid() {
			ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{}) // a root
		}
	}
	var opts []trace.SpanStartOption
	if int(kind) < len(kindOptions) && len(attrs) == 0 {
		opts = kindOptions[kind] // shared: Start only reads its options
	} else {
		opts = []trace.SpanStartOption{trace.WithSpanKind(kind), trace.WithAttributes(attrs...)}
	}
	// The span's context carries the Trace: the parent's while the span
	// starts (idGenerator reads a root's trace id there), then, set below
	// before anyone else sees the context, the span's own. One context
	// instead of one before Start and another after.
	tc := &traceCtx{Context: ctx, t: t}
	ctx, span := tracerOf(gp).Start(tc, name, opts...)
	own := ownOf(gp) != nil
	var recording bool
	if own {
		// Its sampler records exactly the sampled spans: this saves
		// IsRecording's lock of the span.
		recording = span.SpanContext().IsSampled()
	} else {
		recording = span.IsRecording()
	}
	if sc := span.SpanContext(); sc.IsValid() && recording {
		tid := t.TraceID
		// Under our provider the span is in t's trace: a child of t's
		// span, or a root keeping its id (idGenerator).
		if !own && !sameTraceID(sc, tid) {
			tid = sc.TraceID().String()
		}
		tc.t = Trace{TraceID: tid, SpanID: hexID(sc.SpanID()), Sampled: sc.IsSampled()}
	} else {
		tc.t.SpanID, tc.t.root = newID(8), false
	}
	return ctx, span, tc.t, recording
}

// traceCtx is the context WithTrace returns. Its Value hands out a pointer
// to the Trace it holds, where a context.WithValue would box a copy of the
// Trace on the heap besides the context.
type traceCtx struct {
	context.Context
	t Trace
}

func (c *traceCtx) Value(key any) any {
	if key == any(traceKey{}) {
		return &c.t
	}
	return c.Context.Value(key)
}

// unsampledSpan is a span that records nothing, as the SDK gives under an
// unsampled parent: it carries its span context to children and to
// propagators.
type unsampledSpan struct {
	nooptrace.Span
	sc trace.SpanContext
}

func (s *unsampledSpan) SpanContext() trace.SpanContext { return s.sc }

// TracerProvider is the provider that would have made the span, as for the
// SDK's own non-recording spans.
func (s *unsampledSpan) TracerProvider() trace.TracerProvider { return otel.GetTracerProvider() }

// unsampledContext returns ctx carrying a non-recording span of t's trace
// with a new span id, sampled flag off, and t moved to that span (the
// Trace for log lines; the span, through OpenTelemetry's own
// ContextWithSpan, for children and propagators).
func unsampledContext(ctx context.Context, t Trace) (context.Context, *unsampledSpan, Trace, bool) {
	var tid trace.TraceID
	if !decodeHex(tid[:], t.TraceID) {
		return nil, nil, Trace{}, false
	}
	sid := newSpanID()
	span := &unsampledSpan{sc: trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})}
	nt := Trace{TraceID: t.TraceID, SpanID: hexID(sid)}
	return trace.ContextWithSpan(&traceCtx{Context: ctx, t: nt}, span), span, nt, true
}

// kindOptions are the start options of a span of each kind without
// attributes, built once instead of per span.
var kindOptions = func() (o [6][]trace.SpanStartOption) {
	for k := range o {
		o[k] = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKind(k))}
	}
	return o
}()

type cachedTracer struct {
	p *sdktrace.TracerProvider
	t trace.Tracer
}

var tracerCache atomic.Pointer[cachedTracer]

// tracerOf returns gp's tracer, looked up once per SDK provider: the SDK's
// lookup takes a lock and hashes the scope on every call.
func tracerOf(gp trace.TracerProvider) trace.Tracer {
	p, ok := gp.(*sdktrace.TracerProvider)
	if !ok {
		return gp.Tracer(tracerName) // no-op or another SDK: cheap, or not ours to cache
	}
	if c := tracerCache.Load(); c != nil && c.p == p {
		return c.t
	}
	t := p.Tracer(tracerName)
	tracerCache.Store(&cachedTracer{p, t})
	return t
}

// sameIDs reports whether sc names t's trace and span, comparing in
// stack buffers: this runs on every request, and String() allocates.
func sameIDs(sc trace.SpanContext, t Trace) bool {
	sid := sc.SpanID()
	var sb [16]byte
	hex.Encode(sb[:], sid[:])
	return string(sb[:]) == t.SpanID && sameTraceID(sc, t.TraceID)
}

func sameTraceID(sc trace.SpanContext, id string) bool {
	tid := sc.TraceID()
	var tb [32]byte
	hex.Encode(tb[:], tid[:])
	return string(tb[:]) == id
}

// hexID formats a span id with one allocation (SpanID.String takes two).
func hexID(id trace.SpanID) string {
	var b [16]byte
	hex.Encode(b[:], id[:])
	return string(b[:])
}

// decodeHex decodes s, exactly len(dst)*2 hex digits, into dst without
// the []byte copy hex.Decode needs.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	var bad byte
	for i := range dst {
		hi, lo := hexVal[s[2*i]], hexVal[s[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0x0f
	}
	return bad&0xf0 == 0
}

// hexVal maps a hex digit (either case) to its value and every other byte
// to 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c], t[c-'a'+'A'] = c-'a'+10, c-'a'+10
	}
	return t
}()

// newSpanID returns a random, valid (non-zero) span id.
func newSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.LittleEndian.PutUint64(sid[:], mrand.Uint64())
	}
	return sid
}

// EndSpan ends span, marking it failed when err is not nil.
func EndSpan(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// spanContext converts t into OpenTelemetry's form (a remote parent).
func spanContext(t Trace) (trace.SpanContext, bool) {
	var tid trace.TraceID
	var sid trace.SpanID
	if !decodeHex(tid[:], t.TraceID) || !decodeHex(sid[:], t.SpanID) {
		return trace.SpanContext{}, false
	}
	var flags trace.TraceFlags
	if t.Sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true})
	return sc, sc.IsValid()
}
