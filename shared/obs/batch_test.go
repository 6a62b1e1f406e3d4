package obs

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	nooptrace "go.opentelemetry.io/otel/trace/noop"
)

// countingExporter records the size of every batch it is handed.
type countingExporter struct {
	mu      sync.Mutex
	batches []int
	shut    bool
}

func (e *countingExporter) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.batches = append(e.batches, len(s))
	return nil
}

func (e *countingExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.shut = true
	return nil
}

func (e *countingExporter) total() (n int, batches []int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.batches {
		n += b
	}
	return n, append([]int(nil), e.batches...)
}

// TestBatcher checks the span processor SetupTracing installs: sampled
// spans only, exported in batches of at most the batch size, on a full
// batch without waiting for the interval, on ForceFlush and on Shutdown;
// spans past the buffer are dropped and counted, and nothing is taken
// after Shutdown.
func TestBatcher(t *testing.T) {
	tests := []struct {
		name                 string
		spans, unsampled     int
		batch, max           int
		flush                string // "force", "shutdown" or "full" (the worker, unprompted)
		wantExported, wantDr int
	}{
		{"force flush", 10, 3, 4, 100, "force", 10, 0},
		{"shutdown flushes", 7, 0, 4, 100, "shutdown", 7, 0},
		// Exactly one batch: a batch filled while the worker exports the
		// previous one may stay below the size until the interval, so a
		// test of the unprompted export ends spans that fill one batch.
		{"full batch wakes the worker", 4, 0, 4, 100, "full", 4, 0},
		// A batch larger than the buffer: the worker never wakes, so the
		// buffer fills and exactly the spans past it are dropped.
		{"past the buffer", 30, 0, 100, 20, "force", 20, 10},
	}
	for _, tc := range tests {
		// Spans of the SDK (other code's, through otel.Tracer) and our
		// own (StartSpan's and Middleware's) go through the same batcher.
		for _, kind := range []string{"sdk", "own"} {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				exp := &countingExporter{}
				b := newBatcher(exp, tc.batch, tc.max, time.Hour)
				tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b))
				o := &ownTracing{tp: tp, b: b, limits: sdktrace.NewSpanLimits()}
				start := func() trace.Span {
					if kind == "own" {
						s := o.start(context.Background(), Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true}, "s", trace.SpanKindInternal, nil, time.Time{})
						if s == nil {
							return nil
						}
						return s
					}
					_, s := tp.Tracer("test").Start(context.Background(), "s")
					return s
				}
				for range tc.spans {
					start().End()
				}
				never := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b), sdktrace.WithSampler(sdktrace.NeverSample()))
				for range tc.unsampled {
					_, s := never.Tracer("test").Start(context.Background(), "u")
					s.End()
				}
				open := start() // ends after Shutdown: not exported
				switch tc.flush {
				case "force":
					if err := tp.ForceFlush(context.Background()); err != nil {
						t.Fatal(err)
					}
				case "shutdown":
					if err := b.Shutdown(context.Background()); err != nil {
						t.Fatal(err)
					}
					if !exp.shut {
						t.Error("Shutdown did not shut the exporter down")
					}
				case "full":
					// The batch filled: the worker exports without a flush.
					// Poll (no deadline but the test's): the worker runs
					// when the machine lets it.
					for {
						if n, _ := exp.total(); n == tc.wantExported {
							break
						}
						time.Sleep(time.Millisecond)
					}
				}
				n, batches := exp.total()
				if n != tc.wantExported {
					t.Errorf("exported %d spans (batches %v), want %d", n, batches, tc.wantExported)
				}
				for _, size := range batches {
					if size > tc.batch {
						t.Errorf("a batch of %d, larger than %d", size, tc.batch)
					}
				}
				if d := int(b.dropped.Load()); d != tc.wantDr {
					t.Errorf("dropped %d, want %d", d, tc.wantDr)
				}
				_ = b.Shutdown(context.Background())
				open.End()
				if kind == "own" {
					if s := start(); s != nil {
						t.Errorf("our span started after Shutdown: %v", s.SpanContext())
					}
				} else {
					start().End()
				}
				if n2, _ := exp.total(); n2 != n {
					t.Errorf("a span ended after Shutdown was exported")
				}
			})
		}
	}
}

// setupTestTracing installs tracing as the services do (SetupTracing) with
// o, exporting to the in-memory exporter it returns unless o names
// another, and puts the no-op provider back when the test ends. Tests that
// call it must not run in parallel (the provider is global).
func setupTestTracing(t testing.TB, o TracingOptions) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	if o.SpanExporter == nil && o.Exporter == "" {
		o.SpanExporter = exp
	}
	shutdown, err := SetupTracing(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = shutdown(context.Background())
		otel.SetTracerProvider(nooptrace.NewTracerProvider())
		SetSampleRatio(1)
	})
	return exp
}

// forceFlush exports every span ended so far (through SetupTracing's
// batcher).
func forceFlush(t testing.TB) {
	t.Helper()
	if err := otel.GetTracerProvider().(*sdktrace.TracerProvider).ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestSetupTracingExports checks SetupTracing's provider delivers a
// span to the exporter (through the batcher) on ForceFlush.
func TestSetupTracingExports(t *testing.T) {
	exp := setupTestTracing(t, TracingOptions{})
	_, span := StartSpan(context.Background(), "op", trace.SpanKindInternal)
	span.End()
	forceFlush(t)
	if got := exp.GetSpans(); len(got) != 1 || got[0].Name != "op" {
		t.Fatalf("exported %v", got)
	}
}

// TestNewTraceStartsRootSpan checks that a request arriving without a trace
// gets a root server span (no parent id Cloud Trace would never see) whose
// trace id is the one the traceparent response header and log lines carry,
// and that a request with a traceparent gets a child of the caller's span.
func TestNewTraceStartsRootSpan(t *testing.T) {
	exp := setupTestTracing(t, TracingOptions{})
	h := Middleware(slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, tc := range []struct {
		name, traceparent, wantParent string
	}{
		{"new trace", "", ""},
		{"caller's trace", caller, "00f067aa0ba902b7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp.Reset()
			r := httptest.NewRequest("GET", "/v1/jobs", nil)
			if tc.traceparent != "" {
				r.Header.Set("traceparent", tc.traceparent)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			forceFlush(t)
			got := exp.GetSpans()
			if len(got) != 1 {
				t.Fatalf("exported %d spans, want 1", len(got))
			}
			sp := got[0]
			echoed, ok := ParseTraceparent(w.Header().Get("traceparent"))
			if !ok || sp.SpanContext.TraceID().String() != echoed.TraceID || sp.SpanContext.SpanID().String() != echoed.SpanID {
				t.Errorf("span %s/%s, response traceparent %q: want the same trace and span",
					sp.SpanContext.TraceID(), sp.SpanContext.SpanID(), w.Header().Get("traceparent"))
			}
			parent := ""
			if sp.Parent.IsValid() {
				parent = sp.Parent.SpanID().String()
			}
			if parent != tc.wantParent {
				t.Errorf("span parent %q, want %q", parent, tc.wantParent)
			}
		})
	}
}

// TestSpanContextsAgree checks, for a caller that sampled and one that did
// not, that inside Middleware the OpenTelemetry span in ctx, the Trace log
// lines name and the traceparent echoed to the client name the same span;
// that children started with StartSpan and with the OpenTelemetry tracer
// directly continue that trace with the caller's decision; and that only
// sampled spans are exported.
func TestSpanContextsAgree(t *testing.T) {
	exp := setupTestTracing(t, TracingOptions{})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, tc := range []struct {
		name      string
		flags     string
		sampled   bool
		wantSpans int // the server span and two children
	}{
		{"sampled caller", "01", true, 3},
		{"unsampled caller", "00", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp.Reset()
			var inner, child Trace
			var innerSC, childSC, directSC trace.SpanContext
			var directRecording bool
			h := Middleware(slog.New(slog.DiscardHandler), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				inner, _ = TraceFrom(ctx)
				innerSC = trace.SpanFromContext(ctx).SpanContext()
				cctx, cs := StartSpan(ctx, "child", trace.SpanKindInternal)
				child, _ = TraceFrom(cctx)
				childSC = trace.SpanFromContext(cctx).SpanContext()
				cs.End()
				_, ds := otel.Tracer("test").Start(ctx, "direct")
				directSC, directRecording = ds.SpanContext(), ds.IsRecording()
				ds.End()
			}))
			r := httptest.NewRequest("GET", "/v1/jobs", nil)
			r.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-"+tc.flags)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			forceFlush(t)
			if got := len(exp.GetSpans()); got != tc.wantSpans {
				t.Errorf("exported %d spans, want %d", got, tc.wantSpans)
			}
			echoed, _ := ParseTraceparent(w.Header().Get("traceparent"))
			for _, c := range []struct {
				what string
				tr   Trace
				sc   trace.SpanContext
			}{{"server span", inner, innerSC}, {"child span", child, childSC}} {
				if c.tr.TraceID != traceID || c.sc.TraceID().String() != traceID {
					t.Errorf("%s: trace %s / OpenTelemetry %s, want %s", c.what, c.tr.TraceID, c.sc.TraceID(), traceID)
				}
				if c.tr.SpanID != c.sc.SpanID().String() || c.tr.Sampled != tc.sampled || c.sc.IsSampled() != tc.sampled || c.sc.IsRemote() {
					t.Errorf("%s: log trace %+v, OpenTelemetry span %s sampled %v remote %v: want the same local span, sampled %v",
						c.what, c.tr, c.sc.SpanID(), c.sc.IsSampled(), c.sc.IsRemote(), tc.sampled)
				}
			}
			if inner.SpanID == "00f067aa0ba902b7" || child.SpanID == inner.SpanID {
				t.Errorf("server span %s, child %s: want new span ids", inner.SpanID, child.SpanID)
			}
			if echoed.TraceID != traceID || echoed.SpanID != inner.SpanID || echoed.Sampled != tc.sampled {
				t.Errorf("response traceparent %q, want the server span %s", w.Header().Get("traceparent"), inner.SpanID)
			}
			if directSC.TraceID().String() != traceID || directSC.IsSampled() != tc.sampled || directRecording != tc.sampled {
				t.Errorf("a span started with the tracer: trace %s sampled %v recording %v, want %s and %v",
					directSC.TraceID(), directSC.IsSampled(), directRecording, traceID, tc.sampled)
			}
		})
	}
}
