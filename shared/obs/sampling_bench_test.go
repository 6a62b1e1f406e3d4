package obs_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	nooptrace "go.opentelemetry.io/otel/trace/noop"

	"synthos.dev/synthos/internal/cputime"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// shardRows is the shard this benchmark samples: a hundredth of the
// default SYNTHOS_SHARD_ROWS (1,000,000), so the per-shard hooks weigh a
// hundred times more than in a default shard.
const shardRows = 10_000

// discard is the cheapest row writer: the sampler's own cost, no encoding.
type discard struct{ n int64 }

func (d *discard) Write([]string) error { d.n++; return nil }

// counting is what the pipeline wraps the table writer in to count a
// shard's rows for metrics (shared/pipeline countingWriter): the one hook
// that runs per row.
type counting struct {
	synth.RowWriter
	n int64
}

func (c *counting) Write(row []string) error {
	if err := c.RowWriter.Write(row); err != nil {
		return err
	}
	c.n++
	return nil
}

// BenchmarkSamplingHooks compares sampling one shard bare with sampling it
// under the hooks the pipeline runs around a shard: the consumer span of the
// Pub/Sub message (sampled, so recorded and exported), the per-row counting
// wrapper, and the shard's Sample and Rows metrics on the Prometheus
// pipeline. The two throughputs are rows per CPU-second; because their
// difference is smaller than the noise of a shared machine, "hooks" also
// times the hooks alone over many repetitions and reports their share of
// a shard's sampling CPU as overhead-% (the target is at most 1).
func BenchmarkSamplingHooks(b *testing.B) {
	ctx := context.Background()
	m := fitModel(b)
	p, err := metrics.Setup(ctx, metrics.Options{Exporter: metrics.ExportPrometheus})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Shutdown(ctx)
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
	defer tp.Shutdown(ctx)
	otel.SetTracerProvider(tp)
	defer otel.SetTracerProvider(nooptrace.NewTracerProvider())
	rec := p.Recorder
	traced := obs.WithTrace(ctx, obs.Trace{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true})

	sample := func(b *testing.B, w synth.RowWriter, seed uint64) {
		if err := synth.SampleParallel(ctx, m, shardRows, 0, 1, seed, synth.SampleOptions{}, w, 1); err != nil {
			b.Fatal(err)
		}
	}
	hooked := func(b *testing.B, seed uint64) int64 {
		start := time.Now()
		sctx, span := obs.StartSpan(traced, "process generate", trace.SpanKindConsumer)
		rows := &counting{RowWriter: &discard{}}
		sample(b, rows, seed)
		rec.Sample(sctx, synth.KindCopula, time.Since(start))
		rec.Rows(sctx, synth.KindCopula, rows.n)
		obs.EndSpan(span, nil)
		return rows.n
	}
	var bareCPU float64 // cpu-ns per shard of "bare", for overhead-%
	b.Run("bare", func(b *testing.B) {
		cpu0 := cputime.Process()
		var seed uint64
		for b.Loop() {
			seed++
			sample(b, &discard{}, seed)
		}
		bareCPU = float64((cputime.Process() - cpu0).Nanoseconds()) / float64(b.N)
		b.ReportMetric(shardRows/(bareCPU/1e9), "rows/cpu-s")
	})
	b.Run("hooks", func(b *testing.B) {
		cpu0 := cputime.Process()
		var seed uint64
		for b.Loop() {
			seed++
			if n := hooked(b, seed); n != shardRows {
				b.Fatalf("counted %d rows, sampled %d", n, shardRows)
			}
		}
		perShard := float64((cputime.Process() - cpu0).Nanoseconds()) / float64(b.N)
		b.ReportMetric(shardRows/(perShard/1e9), "rows/cpu-s")

		// The hooks alone, repeated: the per-shard part (span and two
		// measurements) and the per-row part (the counting wrapper over
		// a writer that does nothing).
		const reps = 20_000
		c0 := cputime.Process()
		for range reps {
			sctx, span := obs.StartSpan(traced, "process generate", trace.SpanKindConsumer)
			rec.Sample(sctx, synth.KindCopula, time.Millisecond)
			rec.Rows(sctx, synth.KindCopula, shardRows)
			obs.EndSpan(span, nil)
		}
		shardHook := float64((cputime.Process() - c0).Nanoseconds()) / reps
		row := []string{"x"}
		w := &counting{RowWriter: &discard{}}
		const rowReps = 5_000_000
		c0 = cputime.Process()
		for range rowReps {
			_ = w.Write(row)
		}
		// Includes the inner no-op write: an upper bound on the wrapper.
		rowHook := float64((cputime.Process() - c0).Nanoseconds()) / rowReps
		if bareCPU == 0 {
			b.Skip("run with the bare sub-benchmark for overhead-%")
		}
		b.ReportMetric(shardHook, "hook-ns/shard")
		b.ReportMetric(rowHook, "hook-ns/row")
		b.ReportMetric(100*(shardHook+shardRows*rowHook)/bareCPU, "overhead-%")
	})
}

// fitModel fits a copula model on a small mixed table: numeric,
// categorical and boolean columns, as a customer's table would have.
func fitModel(b *testing.B) synth.Model {
	r := rand.New(rand.NewPCG(1, 2))
	t := &table.Table{Columns: []string{"age", "income", "city", "plan", "active", "score"}}
	cities := []string{"paris", "lyon", "nantes", "lille", "nice", "brest"}
	plans := []string{"free", "team", "business"}
	for range 2000 {
		age := 18 + r.IntN(60)
		t.Rows = append(t.Rows, []string{
			strconv.Itoa(age),
			fmt.Sprintf("%.2f", 20000+float64(age)*800+r.NormFloat64()*5000),
			cities[r.IntN(len(cities))],
			plans[r.IntN(len(plans))],
			strconv.FormatBool(r.IntN(3) > 0),
			fmt.Sprintf("%.3f", r.Float64()),
		})
	}
	prof, err := profile.Infer(t, profile.Options{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := synth.Fit(context.Background(), t, prof, synth.FitOptions{Kind: synth.KindCopula, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return m
}
