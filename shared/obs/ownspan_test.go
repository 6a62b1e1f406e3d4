package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	nooptrace "go.opentelemetry.io/otel/trace/noop"
)

// byName indexes exported spans by name, failing on a repeated name.
func byName(t *testing.T, spans tracetest.SpanStubs) map[string]tracetest.SpanStub {
	t.Helper()
	m := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		if _, dup := m[s.Name]; dup {
			t.Fatalf("two spans named %q", s.Name)
		}
		m[s.Name] = s
	}
	return m
}

// TestTraceAcrossPublish follows one sampled request through our spans:
// the server span is a child of the caller's and names the route; the log
// lines written in it carry its ids; a producer span started in it is its
// child, and the traceparent it injects into the message makes the
// consumer span (through ParseTraceparent and WithTrace, as shared/events
// does) the producer's child; a span other code starts through otel.Tracer
// in the handler, and one started from the request's context after the
// server span ended, are children of the server span. Every span carries
// the resource SetupTracing built, ours the instrumentation scope
// tracerName.
func TestTraceAcrossPublish(t *testing.T) {
	exp := setupTestTracing(t, TracingOptions{Service: "synthos-test"})
	var logs bytes.Buffer
	l := NewLogger(&logs, slog.LevelInfo, "")
	const caller, callerSpan = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	var msg map[string]string
	var saved context.Context
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		saved = ctx
		Logger(ctx).InfoContext(ctx, "inside")
		pctx, ps := StartSpan(ctx, "send jobs", trace.SpanKindProducer, attribute.String("messaging.destination.name", "jobs"))
		msg = InjectAttributes(pctx, map[string]string{"job": "j1"})
		ps.End()
		_, ds := otel.Tracer("other").Start(ctx, "direct")
		ds.End()
	})
	r := httptest.NewRequest("POST", "/v1/jobs/j1", nil)
	r.Header.Set("Traceparent", "00-"+caller+"-"+callerSpan+"-01")
	w := httptest.NewRecorder()
	Middleware(l, mux).ServeHTTP(w, r)
	_, late := StartSpan(saved, "late child", trace.SpanKindInternal)
	late.End()

	// The consumer, as shared/events' handle starts it.
	tp, ok := ParseTraceparent(msg[AttrTraceparent])
	if !ok || msg["job"] != "j1" {
		t.Fatalf("message attributes %v", msg)
	}
	_, cs := StartSpan(WithTrace(context.Background(), tp), "process jobs-sub", trace.SpanKindConsumer,
		attribute.String("messaging.system", "gcp_pubsub"))
	EndSpan(cs, errors.New("boom"))
	forceFlush(t)

	spans := byName(t, exp.GetSpans())
	server, producer, consumer := spans["POST /v1/jobs/{id}"], spans["send jobs"], spans["process jobs-sub"]
	direct, lateChild := spans["direct"], spans["late child"]
	if len(spans) != 5 {
		t.Fatalf("exported %v, want the server, producer, consumer, direct and late child spans", exp.GetSpans())
	}
	for _, c := range []struct {
		name           string
		span           tracetest.SpanStub
		parent         string
		remote         bool
		kind           trace.SpanKind
		scope          string
		wantAttributes []attribute.KeyValue
	}{
		{"server", server, callerSpan, true, trace.SpanKindServer, tracerName, nil},
		{"producer", producer, server.SpanContext.SpanID().String(), false, trace.SpanKindProducer, tracerName,
			[]attribute.KeyValue{attribute.String("messaging.destination.name", "jobs")}},
		{"consumer", consumer, producer.SpanContext.SpanID().String(), true, trace.SpanKindConsumer, tracerName,
			[]attribute.KeyValue{attribute.String("messaging.system", "gcp_pubsub")}},
		{"direct", direct, server.SpanContext.SpanID().String(), false, trace.SpanKindInternal, "other", nil},
		{"late child", lateChild, server.SpanContext.SpanID().String(), false, trace.SpanKindInternal, tracerName, nil},
	} {
		s := c.span
		if s.SpanContext.TraceID().String() != caller || !s.SpanContext.IsSampled() {
			t.Errorf("%s: trace %s sampled %v, want %s sampled", c.name, s.SpanContext.TraceID(), s.SpanContext.IsSampled(), caller)
		}
		if s.Parent.SpanID().String() != c.parent || s.Parent.IsRemote() != c.remote || s.Parent.TraceID().String() != caller {
			t.Errorf("%s: parent %s remote %v, want %s remote %v", c.name, s.Parent.SpanID(), s.Parent.IsRemote(), c.parent, c.remote)
		}
		if s.SpanKind != c.kind || s.InstrumentationScope.Name != c.scope {
			t.Errorf("%s: kind %v scope %q, want %v %q", c.name, s.SpanKind, s.InstrumentationScope.Name, c.kind, c.scope)
		}
		if v, ok := s.Resource.Set().Value(semconv.ServiceNameKey); !ok || v.AsString() != "synthos-test" {
			t.Errorf("%s: resource %v, want service.name synthos-test", c.name, s.Resource)
		}
		if !slices.Equal(s.Attributes, c.wantAttributes) {
			t.Errorf("%s: attributes %v, want %v", c.name, s.Attributes, c.wantAttributes)
		}
		if !s.StartTime.Before(s.EndTime) && !s.StartTime.Equal(s.EndTime) {
			t.Errorf("%s: start %v after end %v", c.name, s.StartTime, s.EndTime)
		}
	}
	if consumer.Status.Code != codes.Error || consumer.Status.Description != "boom" || len(consumer.Events) != 1 ||
		consumer.Events[0].Name != semconv.ExceptionEventName {
		t.Errorf("consumer: status %v events %v, want the error recorded", consumer.Status, consumer.Events)
	}
	// Children started by StartSpan are counted (the SDK's span counts
	// those its own tracer starts, which ours cannot learn of).
	if server.ChildSpanCount != 2 {
		t.Errorf("server span: %d children counted, want 2 (producer, late child)", server.ChildSpanCount)
	}
	if echoed, _ := ParseTraceparent(w.Header().Get("Traceparent")); echoed.SpanID != server.SpanContext.SpanID().String() {
		t.Errorf("response traceparent %q, want the server span %s", w.Header().Get("Traceparent"), server.SpanContext.SpanID())
	}
	// Both log lines written in the request name the server span.
	n := 0
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		n++
		if m[FieldTrace] != caller || m[FieldSpanID] != server.SpanContext.SpanID().String() || m[FieldTraceSampled] != true {
			t.Errorf("log line %q names trace %v span %v, want %s %s", m[FieldMessage], m[FieldTrace], m[FieldSpanID], caller, server.SpanContext.SpanID())
		}
	}
	if n != 2 {
		t.Errorf("%d log lines, want 2: %s", n, logs.String())
	}
}

// TestOwnSpanMatchesSDK applies the same calls to our span and to the
// SDK's (attributes repeated, invalid and past the count limit; events;
// an error; links; status changes; calls after End) and checks that both
// export the same span, ids and times aside.
func TestOwnSpanMatchesSDK(t *testing.T) {
	exp := setupTestTracing(t, TracingOptions{})
	rec := tracetest.NewSpanRecorder()
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithResource(own.Load().res))
	many := make([]attribute.KeyValue, 140)
	for i := range many {
		many[i] = attribute.Int(fmt.Sprintf("k%03d", i), i)
	}
	link := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled})
	calls := map[string]func(trace.Span){
		"nothing":     func(trace.Span) {}, // and no attributes at the start
		"status only": func(s trace.Span) { s.SetStatus(codes.Error, "bad") },
		"attributes": func(s trace.Span) {
			s.SetAttributes(attribute.Int("a", 1), attribute.String("b", "x"), attribute.Int("a", 2), attribute.String("", "invalid"))
			s.SetAttributes(attribute.StringSlice("c", []string{"p", "q"}))
		},
		"past the limit": func(s trace.Span) {
			s.SetAttributes(attribute.Int("a", 1))
			s.SetAttributes(many...)
			s.SetAttributes(attribute.Int("a", 3))
		},
		"events, error, links, status": func(s trace.Span) {
			s.AddEvent("e", trace.WithAttributes(attribute.String("k", "v"), attribute.String("k", "w")))
			s.RecordError(io.ErrUnexpectedEOF)
			s.AddLink(trace.Link{SpanContext: link, Attributes: []attribute.KeyValue{attribute.Bool("l", true)}})
			s.AddLink(trace.Link{}) // nothing: dropped by both
			s.SetStatus(codes.Error, "bad")
			s.SetStatus(codes.Unset, "")
			s.SetName("renamed")
		},
		// Far more than the limits allow (128 of each): both keep the
		// last value, the last events and links, and count the rest.
		"many": func(s trace.Span) {
			for i := range 600 {
				s.SetAttributes(attribute.Int("progress", i), attribute.String("i", fmt.Sprint(i%7)))
				s.AddEvent("tick", trace.WithAttributes(attribute.Int("i", i)))
				if i%2 == 0 {
					s.AddLink(trace.Link{SpanContext: link, Attributes: []attribute.KeyValue{attribute.Int("i", i)}})
				}
			}
			if o, ok := s.(*ownSpan); ok && (len(o.attrs) > 2*128+16 || len(o.events) > 2*128+16 || len(o.links) > 2*128+16) {
				t.Errorf("our span holds %d attributes, %d events, %d links", len(o.attrs), len(o.events), len(o.links))
			}
		},
		"ok over error": func(s trace.Span) {
			s.SetStatus(codes.Error, "bad")
			s.SetStatus(codes.Ok, "ignored")
			s.SetStatus(codes.Error, "too late")
		},
	}
	parent := Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true}
	psc, _ := spanContext(parent)
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			exp.Reset()
			rec.Reset()
			start := []attribute.KeyValue{attribute.String("s", "start"), attribute.Int("a", 0)}
			if name == "nothing" || name == "status only" {
				start = nil // our span without a replay (SpanStub)
			}
			_, ours := StartSpan(WithTrace(context.Background(), parent), "span", trace.SpanKindClient, start...)
			if _, ok := ours.(*ownSpan); !ok {
				t.Fatalf("StartSpan gave %T, want our span", ours)
			}
			_, theirs := sdk.Tracer(tracerName).Start(trace.ContextWithRemoteSpanContext(context.Background(), psc), "span",
				trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(start...))
			for _, s := range []trace.Span{ours, theirs} {
				call(s)
				s.End()
				if s.IsRecording() {
					t.Errorf("%T records after End", s)
				}
				s.SetAttributes(attribute.Int("after", 1))
				s.AddEvent("after")
				s.SetName("after")
				s.SetStatus(codes.Error, "after")
				s.End()
			}
			forceFlush(t)
			got, want := exp.GetSpans(), tracetest.SpanStubsFromReadOnlySpans(rec.Ended())
			if len(got) != 1 || len(want) != 1 {
				t.Fatalf("exported %d of ours, %d of the SDK's, want 1", len(got), len(want))
			}
			g, w := got[0], want[0]
			if g.SpanContext.SpanID() != ours.SpanContext().SpanID() || g.Parent.SpanID() != psc.SpanID() || !g.Parent.IsRemote() {
				t.Errorf("exported span %s parent %s, want %s parent %s", g.SpanContext.SpanID(), g.Parent.SpanID(), ours.SpanContext().SpanID(), psc.SpanID())
			}
			// Ids and times differ; the SDK's events carry their times.
			for _, s := range []*tracetest.SpanStub{&g, &w} {
				s.SpanContext, s.StartTime, s.EndTime = trace.SpanContext{}, time.Time{}, time.Time{}
				for i := range s.Events {
					s.Events[i].Time = time.Time{}
				}
			}
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			if !bytes.Equal(gj, wj) {
				t.Errorf("ours:\n%s\nthe SDK's:\n%s", gj, wj)
			}
		})
	}
}

// TestOwnSpanRecordsPanic: a deferred End records a panic passing through
// as the SDK's does (the same exception event) and lets it go on.
func TestOwnSpanRecordsPanic(t *testing.T) {
	exp := setupTestTracing(t, TracingOptions{})
	rec := tracetest.NewSpanRecorder()
	sdk := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	for _, start := range []func() trace.Span{
		func() trace.Span { _, s := StartSpan(context.Background(), "panics", trace.SpanKindInternal); return s },
		func() trace.Span { _, s := sdk.Tracer("test").Start(context.Background(), "panics"); return s },
	} {
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			s := start()
			defer s.End()
			panic("boom")
		}()
		if recovered != "boom" {
			t.Errorf("recovered %v, want the panic to go on", recovered)
		}
	}
	forceFlush(t)
	got, want := exp.GetSpans(), rec.Ended()
	if len(got) != 1 || len(got[0].Events) != 1 || len(want) != 1 || len(want[0].Events()) != 1 {
		t.Fatalf("exported %v, want one span with one event", got)
	}
	g, w := got[0].Events[0], want[0].Events()[0]
	if g.Name != semconv.ExceptionEventName || g.Name != w.Name || !slices.Equal(g.Attributes, w.Attributes) ||
		!slices.Contains(g.Attributes, semconv.ExceptionMessage("boom")) {
		t.Errorf("event %s %v, the SDK's %s %v", g.Name, g.Attributes, w.Name, w.Attributes)
	}
}

// TestSampleRatioSpans: under SampleRatio, a request that arrives without
// a trace is sampled with that probability, and exactly the sampled ones
// (those whose traceparent response header says so) are exported, with
// the ids the header names; a caller's decision is kept either way.
func TestSampleRatioSpans(t *testing.T) {
	exp := setupTestTracing(t, TracingOptions{SampleRatio: 0.25})
	h := Middleware(slog.New(slog.DiscardHandler), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	serve := func(traceparent string) Trace {
		r := httptest.NewRequest("GET", "/x", nil)
		if traceparent != "" {
			r.Header.Set("Traceparent", traceparent)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		echoed, ok := ParseTraceparent(w.Header().Get("Traceparent"))
		if !ok {
			t.Fatalf("response traceparent %q", w.Header().Get("Traceparent"))
		}
		return echoed
	}
	sampled := map[string]bool{} // span id -> exported
	const n = 400
	for range n {
		if tr := serve(""); tr.Sampled {
			sampled[tr.TraceID+tr.SpanID] = false
		}
	}
	// About n/4 (±7 standard deviations).
	if len(sampled) < 40 || len(sampled) > 160 {
		t.Errorf("%d of %d new traces sampled at ratio 0.25", len(sampled), n)
	}
	for range 20 {
		if tr := serve("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"); !tr.Sampled {
			t.Fatal("a caller's sampled trace was not sampled")
		} else {
			sampled[tr.TraceID+tr.SpanID] = false
		}
		if tr := serve("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"); tr.Sampled {
			t.Fatal("a caller's unsampled trace was sampled")
		}
	}
	forceFlush(t)
	for _, s := range exp.GetSpans() {
		id := s.SpanContext.TraceID().String() + s.SpanContext.SpanID().String()
		if done, ok := sampled[id]; !ok || done {
			t.Errorf("exported span %s: not a sampled response's, or twice", id)
		}
		sampled[id] = true
	}
	for id, done := range sampled {
		if !done {
			t.Errorf("sampled span %s not exported", id)
		}
	}
}

// TestExportersReceiveOwnSpans sends a request's span through the stdout
// and OTLP/HTTP exporters SetupTracing builds (the gcp one needs Google
// credentials) and checks what reaches them when tracing shuts down.
func TestExportersReceiveOwnSpans(t *testing.T) {
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	serve := func(t *testing.T, o TracingOptions) {
		t.Helper()
		shutdown, err := SetupTracing(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		defer otel.SetTracerProvider(nooptrace.NewTracerProvider())
		mux := http.NewServeMux()
		mux.HandleFunc("GET /v1/jobs/{id}", func(http.ResponseWriter, *http.Request) {})
		r := httptest.NewRequest("GET", "/v1/jobs/j1", nil)
		r.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
		Middleware(slog.New(slog.DiscardHandler), mux).ServeHTTP(httptest.NewRecorder(), r)
		if err := shutdown(context.Background()); err != nil { // flushes
			t.Fatal(err)
		}
	}
	t.Run("stdout", func(t *testing.T) {
		var out bytes.Buffer
		serve(t, TracingOptions{Exporter: TracesStdout, Stdout: &out, Service: "synthos-test"})
		var got struct {
			Name        string
			SpanContext struct{ TraceID string }
			Resource    []struct {
				Key   string
				Value struct{ Value any }
			}
			InstrumentationScope struct{ Name string }
		}
		if err := json.Unmarshal(out.Bytes(), &got); err != nil {
			t.Fatalf("stdout exporter wrote %q: %v", out.String(), err)
		}
		service := ""
		for _, kv := range got.Resource {
			if kv.Key == "service.name" {
				service, _ = kv.Value.Value.(string)
			}
		}
		if got.Name != "GET /v1/jobs/{id}" || got.SpanContext.TraceID != traceID || service != "synthos-test" || got.InstrumentationScope.Name != tracerName {
			t.Errorf("stdout exporter wrote %s", out.String())
		}
	})
	t.Run("otlp", func(t *testing.T) {
		var mu sync.Mutex
		var bodies [][]byte
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			bodies = append(bodies, b)
			mu.Unlock()
			w.Header().Set("Content-Type", "application/x-protobuf")
		}))
		defer srv.Close()
		t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
		t.Setenv("OTEL_EXPORTER_OTLP_COMPRESSION", "none")
		serve(t, TracingOptions{Exporter: TracesOTLP, Service: "synthos-test"})
		mu.Lock()
		defer mu.Unlock()
		if len(bodies) != 1 {
			t.Fatalf("the collector got %d requests, want 1", len(bodies))
		}
		// The protobuf request holds strings and ids as raw bytes.
		tid, _ := spanContext(Trace{TraceID: traceID, SpanID: "00f067aa0ba902b7"})
		raw := tid.TraceID()
		for _, want := range [][]byte{[]byte("GET /v1/jobs/{id}"), []byte("synthos-test"), []byte(tracerName), raw[:]} {
			if !bytes.Contains(bodies[0], want) {
				t.Errorf("the OTLP request lacks %q", want)
			}
		}
	})
}

// TestDedupe: the first place and the last value of each key, as the SDK
// de-duplicates.
func TestDedupe(t *testing.T) {
	in := []attribute.KeyValue{attribute.Int("a", 1), attribute.Int("b", 1), attribute.Int("a", 2), attribute.Int("c", 1), attribute.Int("b", 3)}
	want := []attribute.KeyValue{attribute.Int("a", 2), attribute.Int("b", 3), attribute.Int("c", 1)}
	if got := dedupe(in); !slices.Equal(got, want) {
		t.Errorf("dedupe: %v, want %v", got, want)
	}
}
