package obs

import (
	"context"
	"encoding/hex"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
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
		ctx = WithTrace(ctx, t) // idGenerator reads the root's trace id here
	}
	if cur := trace.SpanContextFromContext(ctx); !cur.IsValid() || !sameIDs(cur, t) {
		// The parent is the Trace's span: a remote one (the client's, the
		// publisher's) or one whose OpenTelemetry span is not in ctx. A
		// sampled trace started here has no parent: its span is a root
		// that keeps the trace id (idGenerator). An unsampled one keeps
		// its remote parent, whose flags carry the decision not to record
		// to the parent-based sampler; nothing of it is exported.
		if t.root && t.Sampled {
			ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{})
		} else if sc, ok := spanContext(t); ok {
			ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
		} else {
			ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{}) // a root
		}
	}
	var opts []trace.SpanStartOption
	if int(kind) < len(kindOptions) && len(attrs) == 0 {
		opts = kindOptions[kind] // shared: Start only reads its options
	} else {
		opts = []trace.SpanStartOption{trace.WithSpanKind(kind), trace.WithAttributes(attrs...)}
	}
	ctx, span := tracer().Start(ctx, name, opts...)
	if sc := span.SpanContext(); sc.IsValid() && span.IsRecording() {
		tid := t.TraceID
		if !sameTraceID(sc, tid) {
			tid = sc.TraceID().String()
		}
		t = Trace{TraceID: tid, SpanID: sc.SpanID().String(), Sampled: sc.IsSampled()}
	} else {
		t.SpanID = newID(8)
	}
	return WithTrace(ctx, t), span
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

// tracer returns the global provider's tracer, looked up once per provider:
// the SDK's lookup takes a lock and hashes the scope on every call.
func tracer() trace.Tracer {
	gp := otel.GetTracerProvider()
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
	if len(t.SpanID) != 16 {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(tid[:], []byte(t.TraceID)); err != nil {
		return trace.SpanContext{}, false
	}
	if _, err := hex.Decode(sid[:], []byte(t.SpanID)); err != nil {
		return trace.SpanContext{}, false
	}
	var flags trace.TraceFlags
	if t.Sampled {
		flags = trace.FlagsSampled
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, Remote: true})
	return sc, sc.IsValid()
}
