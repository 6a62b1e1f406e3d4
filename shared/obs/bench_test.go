package obs

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	nooptrace "go.opentelemetry.io/otel/trace/noop"

	"synthos.dev/synthos/internal/cputime"
	"synthos.dev/synthos/shared/metrics"
)

// BenchmarkMiddleware serves one routed request through Middleware:
// "bare" with no-op metrics and tracer (the logging and trace-id cost alone),
// "metrics" with the Prometheus pipeline, "metrics+spans" also recording a
// span per request. The instrumentation overhead is the difference, in
// cpu-ns/op (the machine is shared; wall time overstates).
func BenchmarkMiddleware(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	// The log line is the same in every case and costs several times the
	// instrumentation: discarded (DiscardHandler), so the difference is
	// not lost in its noise.
	l := slog.New(slog.DiscardHandler)
	run := func(b *testing.B, rec *metrics.Recorder, traced bool, header ...string) {
		restore := metrics.SetDefault(rec)
		defer restore()
		if traced {
			// As the services set tracing up (SetupTracing: the
			// parent-based sampler and our batcher), exporting to nothing.
			shutdown, err := SetupTracing(context.Background(), TracingOptions{SpanExporter: tracetest.NewNoopExporter()})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				_ = shutdown(context.Background())
				otel.SetTracerProvider(nooptrace.NewTracerProvider())
			}()
		}
		h := Middleware(l, mux)
		req := httptest.NewRequest("GET", "/v1/jobs/j123", nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		w := httptest.NewRecorder()
		b.ReportAllocs()
		cpu0 := cputime.Process()
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
		b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	b.Run("bare", func(b *testing.B) { run(b, metrics.Default(), false) })
	b.Run("metrics", func(b *testing.B) {
		p, err := metrics.Setup(context.Background(), metrics.Options{Exporter: metrics.ExportPrometheus})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p.Recorder, false)
	})
	b.Run("metrics+spans", func(b *testing.B) {
		p, err := metrics.Setup(context.Background(), metrics.Options{Exporter: metrics.ExportPrometheus})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p.Recorder, true)
	})
	// The caller decided not to sample (traceparent flags 00): the
	// parent-based sampler gives a non-recording span, which records
	// nothing and is never exported.
	b.Run("metrics+spans/unsampled", func(b *testing.B) {
		p, err := metrics.Setup(context.Background(), metrics.Options{Exporter: metrics.ExportPrometheus})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p.Recorder, true, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	})
}

// BenchmarkStartSpan starts and ends one server span under a trace that
// arrived with the request: "noop" without a tracer provider (the trace-id
// bookkeeping alone), "sampled" recorded and exported through SetupTracing's
// batcher, "unsampled" under a caller that decided not to sample. The span
// part of BenchmarkMiddleware, without its noise.
func BenchmarkStartSpan(b *testing.B) {
	for _, tc := range []struct {
		name           string
		traced, sample bool
	}{{"noop", false, true}, {"sampled", true, true}, {"unsampled", true, false}} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.traced {
				shutdown, err := SetupTracing(context.Background(), TracingOptions{SpanExporter: tracetest.NewNoopExporter()})
				if err != nil {
					b.Fatal(err)
				}
				defer func() {
					_ = shutdown(context.Background())
					otel.SetTracerProvider(nooptrace.NewTracerProvider())
				}()
			}
			ctx := WithTrace(context.Background(), Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: tc.sample})
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				_, s := StartSpan(ctx, "GET /v1/jobs/{id}", trace.SpanKindServer)
				s.End()
			}
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkMiddlewareOverhead measures what BenchmarkMiddleware does with
// less noise: each iteration serves a block of requests in every
// configuration in turn, so all of them see the same load on a shared
// machine, and reports each configuration's CPU per request and its
// overhead over "bare" (no-op metrics and tracer): overhead-metrics-ns,
// overhead-sampled-ns (metrics and a recorded, exported span),
// overhead-unsampled-ns (metrics and the span of a caller that did not
// sample). The target is at most 2000 ns.
func BenchmarkMiddlewareOverhead(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	l := slog.New(slog.DiscardHandler)
	h := Middleware(l, mux)
	p, err := metrics.Setup(context.Background(), metrics.Options{Exporter: metrics.ExportPrometheus})
	if err != nil {
		b.Fatal(err)
	}
	shutdown, err := SetupTracing(context.Background(), TracingOptions{SpanExporter: tracetest.NewNoopExporter()})
	if err != nil {
		b.Fatal(err)
	}
	sdk := otel.GetTracerProvider()
	noop := nooptrace.NewTracerProvider()
	defer func() {
		_ = shutdown(context.Background())
		otel.SetTracerProvider(noop)
	}()
	plain := httptest.NewRequest("GET", "/v1/jobs/j123", nil)
	unsampled := httptest.NewRequest("GET", "/v1/jobs/j123", nil)
	unsampled.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	configs := []struct {
		name   string
		rec    *metrics.Recorder
		tp     trace.TracerProvider
		req    *http.Request
		cpu    time.Duration
		served int
	}{
		{name: "bare", rec: metrics.Default(), tp: noop, req: plain},
		{name: "metrics", rec: p.Recorder, tp: noop, req: plain},
		{name: "sampled", rec: p.Recorder, tp: sdk, req: plain},
		{name: "unsampled", rec: p.Recorder, tp: sdk, req: unsampled},
		// The baseline of "unsampled": its traceparent header is parsed
		// with or without instrumentation.
		{name: "bare+traceparent", rec: metrics.Default(), tp: noop, req: unsampled},
	}
	restore := metrics.SetDefault(metrics.Default())
	defer restore()
	const block = 256
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		for i := range configs {
			c := &configs[i]
			metrics.SetDefault(c.rec)
			otel.SetTracerProvider(c.tp)
			cpu0 := cputime.Process()
			for range block {
				h.ServeHTTP(w, c.req)
			}
			c.cpu += cputime.Process() - cpu0
			c.served += block
		}
	}
	per := func(i int) float64 { return float64(configs[i].cpu.Nanoseconds()) / float64(configs[i].served) }
	b.ReportMetric(per(0), "bare-cpu-ns/req")
	b.ReportMetric(per(1)-per(0), "overhead-metrics-ns")
	b.ReportMetric(per(2)-per(0), "overhead-sampled-ns")
	b.ReportMetric(per(3)-per(4), "overhead-unsampled-ns")
	// Spans the batcher shed (its buffer full: the worker behind) cost
	// no export; the figures hold if this stays 0.
	b.ReportMetric(float64(own.Load().b.dropped.Load()), "dropped-spans")
}
