package obs

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"time"

	texporter "github.com/GoogleCloudPlatform/opentelemetry-operations-go/exporter/trace"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// Trace exporters SYNTHOS_TRACES accepts.
const (
	TracesNone   = "none"   // spans are not recorded (log lines still carry trace ids)
	TracesStdout = "stdout" // one JSON span per line on the given writer (local debugging)
	TracesOTLP   = "otlp"   // OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT (a local collector, Jaeger...)
	TracesGCP    = "gcp"    // Cloud Trace
)

// TracingOptions configure SetupTracing.
type TracingOptions struct {
	Exporter string
	Project  string    // Cloud Trace's project (TracesGCP)
	Service  string    // service.name of the resource
	Stdout   io.Writer // TracesStdout's writer (os.Stderr when nil)
	// SpanExporter, when set, is used instead of Exporter (tests).
	SpanExporter sdktrace.SpanExporter
	// SampleRatio is the share of new traces (requests and messages that
	// arrive without one) that are sampled, in (0, 1]; 0 means 1. Traces
	// that arrive with a decision keep it.
	SampleRatio float64
}

// SetupTracing installs a global tracer provider exporting to o.Exporter
// and the W3C trace-context propagator, and returns the function that
// flushes and stops it. With TracesNone it installs nothing.
func SetupTracing(ctx context.Context, o TracingOptions) (shutdown func(context.Context) error, err error) {
	SetSampleRatio(o.SampleRatio)
	exp := o.SpanExporter
	if exp == nil {
		switch o.Exporter {
		case TracesNone, "":
			return func(context.Context) error { return nil }, nil
		case TracesStdout:
			w := o.Stdout
			if w == nil {
				w = os.Stderr
			}
			exp, err = stdouttrace.New(stdouttrace.WithWriter(w))
		case TracesOTLP:
			exp, err = otlptracehttp.New(ctx)
		case TracesGCP:
			if o.Project == "" {
				return nil, errors.New("obs.SetupTracing: the gcp exporter needs GOOGLE_CLOUD_PROJECT")
			}
			exp, err = texporter.New(texporter.WithProjectID(o.Project), texporter.WithContext(ctx))
		default:
			return nil, fmt.Errorf("obs.SetupTracing: unknown exporter %q (none, stdout, otlp or gcp)", o.Exporter)
		}
		if err != nil {
			return nil, fmt.Errorf("obs.SetupTracing: %s exporter: %w", o.Exporter, err)
		}
	}
	service := o.Service
	if service == "" {
		service = "synthos"
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil {
		return nil, fmt.Errorf("obs.SetupTracing: resource: %w", err)
	}
	// Sampling follows the caller's sampled flag (a new trace is sampled):
	// Cloud Run's front end and clients decide, as for the log lines.
	// Spans startSpan records (StartSpan's, Middleware's) are ours
	// (ownSpan), following this provider's sampler and ids; the SDK's
	// spans are those other code starts through otel.Tracer. Both end in
	// the same batcher.
	b := newBatcher(exp, 512, 2048, 5*time.Second)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(b), sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())), sdktrace.WithIDGenerator(idGenerator{}))
	own.Store(&ownTracing{tp: tp, b: b, res: res, limits: sdktrace.NewSpanLimits()})
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	return tp.Shutdown, nil
}

// idGenerator makes span and trace ids from math/rand/v2's per-thread
// ChaCha8 generator: the SDK's default shares one math/rand source behind
// a mutex, taken twice per span.
type idGenerator struct{}

func (idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	// A root span of a trace NewTrace started keeps that trace's id, which
	// log lines and the traceparent response header already carry.
	// The Trace is read in place: this runs for every root span.
	if t, _ := ctx.Value(traceKey{}).(*Trace); t != nil && t.root {
		var tid trace.TraceID
		if decodeHex(tid[:], t.TraceID) && tid.IsValid() {
			return tid, newSpanID()
		}
	}
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.LittleEndian.PutUint64(tid[:8], rand.Uint64())
		binary.LittleEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid, newSpanID()
}

func (idGenerator) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }
