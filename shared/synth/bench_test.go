package synth

import (
	"context"
	"io"
	"testing"

	"synthos.dev/synthos/internal/cputime"
)

// csvDiscard formats rows as CSV (comma-separated, quoting cells that need
// it) into a reused buffer flushed to io.Discard, counting bytes.
type csvDiscard struct {
	buf   []byte
	bytes int64
}

func (w *csvDiscard) Write(row []string) error {
	for i, c := range row {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		quote := false
		for k := 0; k < len(c); k++ {
			if ch := c[k]; ch == ',' || ch == '"' || ch == '\n' || ch == '\r' {
				quote = true
				break
			}
		}
		if !quote {
			w.buf = append(w.buf, c...)
			continue
		}
		w.buf = append(w.buf, '"')
		for k := 0; k < len(c); k++ {
			if c[k] == '"' {
				w.buf = append(w.buf, '"')
			}
			w.buf = append(w.buf, c[k])
		}
		w.buf = append(w.buf, '"')
	}
	w.buf = append(w.buf, '\n')
	if len(w.buf) > 32<<10 {
		n, _ := io.Discard.Write(w.buf)
		w.bytes += int64(n)
		w.buf = w.buf[:0]
	}
	return nil
}

func benchFit(b *testing.B, kind string) {
	train, _ := adult(b)
	p := adultProfile()
	b.ReportAllocs()
	cpu0 := cputime.Process()
	for b.Loop() {
		if _, err := Fit(context.Background(), train, p, FitOptions{Kind: kind}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cputime.Process()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

func BenchmarkFitCopula(b *testing.B) { benchFit(b, KindCopula) }
func BenchmarkFitTree(b *testing.B)   { benchFit(b, KindTree) }

// benchSample samples b.N rows in one shard on one goroutine and reports
// rows/s and CSV bytes/s.
func benchSample(b *testing.B, kind string) {
	train, _ := adult(b)
	m, err := Fit(context.Background(), train, adultProfile(), FitOptions{Kind: kind})
	if err != nil {
		b.Fatal(err)
	}
	w := &csvDiscard{}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	if err := m.Sample(context.Background(), int64(b.N), 0, 1, 1, SampleOptions{}, w); err != nil {
		b.Fatal(err)
	}
	cpu := cputime.Process() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/cpu.Seconds(), "rows/cpu-s")
	b.SetBytes(w.bytes / int64(max(b.N, 1)))
}

func BenchmarkSampleCopula(b *testing.B) { benchSample(b, KindCopula) }
func BenchmarkSampleTree(b *testing.B)   { benchSample(b, KindTree) }

// BenchmarkSampleTreeGuard samples the tree with and without the near-copy
// guard in one process, so that the guard's cost is read under the same
// machine load.
func BenchmarkSampleTreeGuard(b *testing.B) {
	train, _ := adult(b)
	for _, off := range []bool{true, false} {
		m, err := Fit(context.Background(), train, adultProfile(), FitOptions{NoGuard: off})
		if err != nil {
			b.Fatal(err)
		}
		name := "guard"
		if off {
			name = "noguard"
		}
		b.Run(name, func(b *testing.B) {
			w := &csvDiscard{}
			b.ReportAllocs()
			cpu0 := cputime.Process()
			if err := m.Sample(context.Background(), int64(b.N), 0, 1, 1, SampleOptions{}, w); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/(cputime.Process()-cpu0).Seconds(), "rows/cpu-s")
		})
	}
}
