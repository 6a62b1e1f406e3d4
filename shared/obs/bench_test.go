package obs

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	nooptrace "go.opentelemetry.io/otel/trace/noop"

	"synthos.dev/synthos/shared/metrics"
)

func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMiddleware serves one routed request through Middleware:
// "bare" with no-op metrics and tracer (the logging and trace-id cost alone),
// "metrics" with the Prometheus pipeline, "metrics+spans" also recording a
// span per request. The instrumentation overhead is the difference, in
// cpu-ns/op (the machine is shared; wall time overstates).
func BenchmarkMiddleware(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	l := slog.New(slog.NewJSONHandler(io.Discard, nil))
	run := func(b *testing.B, rec *metrics.Recorder, tp *sdktrace.TracerProvider, header ...string) {
		restore := metrics.SetDefault(rec)
		defer restore()
		if tp != nil {
			otel.SetTracerProvider(tp)
			defer otel.SetTracerProvider(nooptrace.NewTracerProvider())
		}
		h := Middleware(l, mux)
		req := httptest.NewRequest("GET", "/v1/jobs/j123", nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		w := httptest.NewRecorder()
		b.ReportAllocs()
		cpu0 := cpuTime(b)
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
		b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
	b.Run("bare", func(b *testing.B) { run(b, metrics.Default(), nil) })
	b.Run("metrics", func(b *testing.B) {
		p, err := metrics.Setup(context.Background(), metrics.Options{Exporter: metrics.ExportPrometheus})
		if err != nil {
			b.Fatal(err)
		}
		run(b, p.Recorder, nil)
	})
	b.Run("metrics+spans", func(b *testing.B) {
		p, err := metrics.Setup(context.Background(), metrics.Options{Exporter: metrics.ExportPrometheus})
		if err != nil {
			b.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		defer tp.Shutdown(context.Background())
		run(b, p.Recorder, tp)
	})
	// The caller decided not to sample (traceparent flags 00): the
	// parent-based sampler gives a non-recording span, which records
	// nothing and is never exported.
	b.Run("metrics+spans/unsampled", func(b *testing.B) {
		p, err := metrics.Setup(context.Background(), metrics.Options{Exporter: metrics.ExportPrometheus})
		if err != nil {
			b.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
		defer tp.Shutdown(context.Background())
		run(b, p.Recorder, tp, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	})
}
