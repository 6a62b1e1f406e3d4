// Package benchsample is the scaffolding the parallel sampling benchmarks
// of every model share (issue 19 asks each model for a speed-up on two
// cores): the same writer, worker counts and metrics, so that figures of
// different models compare. It imports no model package, so that a
// model's own in-package benchmark can use it.
package benchsample

import (
	"fmt"
	"runtime"
	"testing"

	"synthos.dev/synthos/internal/cputime"
	"synthos.dev/synthos/shared/table"
)

// Workers are the worker counts benchmarked: rows/s of workers=2 over
// workers=1's is the speed-up.
var Workers = []int{1, 2}

// SampleFunc writes n rows into w on `workers` workers.
type SampleFunc func(n int64, w table.Writer, workers int) error

// byteCount counts the bytes written to it and keeps none.
type byteCount struct{ n int64 }

func (c *byteCount) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// Parallel runs a sub-benchmark name/workers=N for each of Workers, which
// samples b.N rows of columns cols into the table package's CSV writer (the
// writer the CLI and the pipeline use) over a byte counter, and reports:
//   - rows/s, whose ratio across worker counts is the speed-up;
//   - rows/cpu-s, the cost of a row (on a machine shared with other jobs,
//     wall time shows the contention, CPU time not; rows/s above
//     rows/cpu-s means the run kept more than one core busy);
//   - gcs, the collections during the sample (the collector's marking runs
//     on a core a single worker leaves idle, and takes a share of the
//     workers' own when every core samples);
//   - bytes per row (as MB/s) and allocations.
func Parallel(b *testing.B, name string, cols []table.Column, sample SampleFunc) {
	for _, workers := range Workers {
		b.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(b *testing.B) {
			out := &byteCount{}
			w, err := table.NewWriter(out, table.CSV, cols)
			if err != nil {
				b.Fatal(err)
			}
			n := max(int64(b.N), 1)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			gc0 := ms.NumGC
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cputime.Process()
			if err := sample(n, w, workers); err != nil {
				b.Fatal(err)
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			cpu := cputime.Process() - cpu0
			b.StopTimer()
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(n)/cpu.Seconds(), "rows/cpu-s")
			b.ReportMetric(float64(ms.NumGC-gc0), "gcs")
			b.SetBytes(out.n / n)
		})
	}
}
