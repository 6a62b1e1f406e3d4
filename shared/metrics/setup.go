package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	mexporter "github.com/GoogleCloudPlatform/opentelemetry-operations-go/exporter/metric"
	metricapi "go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/exemplar"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// Exporters SYNTHOS_METRICS accepts.
const (
	ExportPrometheus = "prometheus" // a /metrics endpoint (the local runner)
	ExportGCP        = "gcp"        // Cloud Monitoring, every Interval
	ExportNone       = "none"
)

// Options configure Setup.
type Options struct {
	// Exporter is ExportPrometheus, ExportGCP or ExportNone.
	Exporter string
	// Project is the Cloud Monitoring project (ExportGCP).
	Project string
	// Service names the process in the resource (service.name).
	Service string
	// Interval is how often metrics are pushed to Cloud Monitoring (60s
	// when zero; Cloud Monitoring accepts one point per series per 5 s at
	// most).
	Interval time.Duration
	// CardinalityLimit bounds the series of one instrument (2000 when
	// zero), behind the per-label limits of the Recorder.
	CardinalityLimit int
}

// Provider is what Setup built.
type Provider struct {
	// Recorder records on the provider.
	Recorder *Recorder
	// Handler serves the Prometheus text format; nil unless
	// Exporter is ExportPrometheus.
	Handler http.Handler

	mp *metric.MeterProvider
}

// Setup builds the meter provider for o and its Recorder. It does not
// install the Recorder: call SetDefault.
func Setup(ctx context.Context, o Options) (*Provider, error) {
	limit := o.CardinalityLimit
	if limit == 0 {
		limit = 2000
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(orDefault(o.Service, "synthos"))))
	if err != nil {
		return nil, fmt.Errorf("metrics.Setup: resource: %w", err)
	}
	// No exemplars: the Prometheus text format has no place for them and
	// Cloud Monitoring's exporter does not need them, yet the default
	// filter samples one per measurement made inside a sampled span (the
	// hot path's cost) and every collection walks the reservoirs.
	opts := []metric.Option{metric.WithResource(res), metric.WithCardinalityLimit(limit),
		metric.WithExemplarFilter(exemplar.AlwaysOffFilter)}
	p := &Provider{}
	switch o.Exporter {
	case ExportNone, "":
		r, _ := New(noopProvider())
		p.Recorder = r
		return p, nil
	case ExportPrometheus:
		// A manual reader rendered by our own text encoder (exposition.go
		// says why not the OpenTelemetry Prometheus exporter).
		r := metric.NewManualReader()
		opts = append(opts, metric.WithReader(r))
		p.Handler = newExposition(r)
	case ExportGCP:
		if o.Project == "" {
			return nil, errors.New("metrics.Setup: the gcp exporter needs GOOGLE_CLOUD_PROJECT")
		}
		exp, err := mexporter.New(mexporter.WithProjectID(o.Project), mexporter.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("metrics.Setup: Cloud Monitoring exporter: %w", err)
		}
		iv := o.Interval
		if iv == 0 {
			iv = time.Minute
		}
		opts = append(opts, metric.WithReader(metric.NewPeriodicReader(exp, metric.WithInterval(iv))))
	default:
		return nil, fmt.Errorf("metrics.Setup: unknown exporter %q (prometheus, gcp or none)", o.Exporter)
	}
	p.mp = metric.NewMeterProvider(opts...)
	if p.Recorder, err = New(p.mp); err != nil {
		return nil, fmt.Errorf("metrics.Setup: %w", err)
	}
	return p, nil
}

// Shutdown flushes and stops the exporter.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p == nil || p.mp == nil {
		return nil
	}
	return p.mp.Shutdown(ctx)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func noopProvider() metricapi.MeterProvider { return noop.NewMeterProvider() }
