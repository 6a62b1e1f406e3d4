package fanout

import (
	"context"
	"fmt"
	"io"
	"testing"

	"synthos.dev/synthos/internal/cputime"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// BenchmarkShard is one shard's work on one CPU, as an instance does it:
// SampleParallel (one worker) through the table writer of the part's
// format. It reports rows/s, rows per CPU-second and CPU ns per cell, the
// figure CellSeconds rounds up.
func BenchmarkShard(b *testing.B) {
	for _, kind := range []string{synth.KindTree, synth.KindCopula} {
		_, m := fitAdultModel(b, b.TempDir(), kind)
		for _, f := range []table.Format{table.CSV, table.JSONL} {
			b.Run(fmt.Sprintf("%s/%s", kind, f), func(b *testing.B) {
				tw, err := table.NewWriter(io.Discard, f, m.Columns())
				if err != nil {
					b.Fatal(err)
				}
				n := int64(max(b.N, 1))
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cputime.Process()
				if err := synth.SampleParallel(context.Background(), m, n, 0, 1, 1, synth.SampleOptions{}, tw, 1); err != nil {
					b.Fatal(err)
				}
				if err := tw.Close(); err != nil {
					b.Fatal(err)
				}
				cpu := cputime.Process() - cpu0
				b.StopTimer()
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(n)/cpu.Seconds(), "rows/cpu-s")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(n)/float64(len(m.Columns())), "cpu-ns/cell")
			})
		}
	}
}
