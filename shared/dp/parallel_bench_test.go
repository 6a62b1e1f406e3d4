package dp

import (
	"context"
	"fmt"
	"testing"

	"synthos.dev/synthos/internal/cputime"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// byteCount counts the bytes written to it and keeps none.
type byteCount struct{ n int64 }

func (c *byteCount) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// BenchmarkSampleParallel samples b.N rows of a DP model fitted on adult
// (ε = 1) with synth.SampleParallel into the table package's CSV writer, as
// the CLI and the pipeline do, on one and two workers: rows/s over
// workers=1's is the speed-up issue 19 asks of every model, rows/cpu-s the
// per-core cost (which, unlike wall time, a shared machine does not blur).
func BenchmarkSampleParallel(b *testing.B) {
	train := loadTable(b, "adult.train.csv")
	m, err := Fit(context.Background(), train, inferProfile(b, train), Options{Epsilon: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("dp/workers=%d", workers), func(b *testing.B) {
			out := &byteCount{}
			w, err := table.NewWriter(out, table.CSV, m.Columns())
			if err != nil {
				b.Fatal(err)
			}
			n := max(int64(b.N), 1)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			if err := synth.SampleParallel(context.Background(), m, n, 0, 1, 1, synth.SampleOptions{}, w, workers); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			cpu := cputime.Process() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(n)/cpu.Seconds(), "rows/cpu-s")
			b.SetBytes(out.n / n)
		})
	}
}
