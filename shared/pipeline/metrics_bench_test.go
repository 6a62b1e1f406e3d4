package pipeline

import (
	"context"
	"testing"
	"time"

	"synthos.dev/synthos/shared/metrics"
)

type discardRows struct{ n int }

func (d *discardRows) Write(row []string) error { d.n++; return nil }

// BenchmarkSampleInstrumentation measures what metrics add to sampling:
// "row" is the counting writer's cost per row (against "bare", the same
// write without it), "shard" the two records made once per shard on the
// Prometheus pipeline. Compare with shared/synth's BenchmarkSampleCopula
// (ns per sampled row) for the share of sampling throughput.
func BenchmarkSampleInstrumentation(b *testing.B) {
	row := []string{"39", "State-gov", "77516", "Bachelors", "13", "Never-married"}
	b.Run("bare", func(b *testing.B) {
		var w discardRows
		b.ReportAllocs()
		for b.Loop() {
			_ = w.Write(row)
		}
	})
	b.Run("row", func(b *testing.B) {
		c := &countingWriter{RowWriter: &discardRows{}}
		b.ReportAllocs()
		for b.Loop() {
			_ = c.Write(row)
		}
	})
	b.Run("shard", func(b *testing.B) {
		p, err := metrics.Setup(context.Background(), metrics.Options{Exporter: metrics.ExportPrometheus})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			p.Recorder.Sample(ctx, "copula", time.Second)
			p.Recorder.Rows(ctx, "copula", 1000)
		}
	})
}
