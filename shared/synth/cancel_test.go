package synth

import (
	"context"
	"errors"
	"testing"
)

// cancelAfter is a RowWriter that cancels its context once it has written
// at rows, and counts the rows written after that.
type cancelAfter struct {
	at, written int64
	cancel      context.CancelFunc
}

func (c *cancelAfter) Write([]string) error {
	c.written++
	if c.written == c.at {
		c.cancel()
	}
	return nil
}

// TestSampleStopsSoonAfterCancel cancels a 1e9-row, one-shard sample after
// 10,000 rows (mid-block): every model returns context.Canceled having
// written at most CheckEvery rows more. Promptness is counted in rows, which
// does not depend on the machine's speed; at the benchmark's throughput
// 1,024 rows are about a millisecond.
func TestSampleStopsSoonAfterCancel(t *testing.T) {
	t.Parallel()
	train, p := mixedTable(300)
	for _, kind := range []string{KindTree, KindCopula} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			m, err := Fit(context.Background(), train, p, FitOptions{Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := &cancelAfter{at: 10_000, cancel: cancel}
			err = m.Sample(ctx, 1e9, 0, 1, 1, SampleOptions{}, w)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Sample = %v, want context.Canceled", err)
			}
			if after := w.written - w.at; after > CheckEvery {
				t.Errorf("%d rows written after cancel, want at most %d", after, CheckEvery)
			}
		})
	}
}

// TestSampleStopsSoonAfterCancelWhileRejecting cancels a sample whose Accept
// rule rejects 499 candidates in 500: a block of 4,096 rows would take two
// million candidates, so checking once per block is not enough. The sampler
// stops within CheckEvery candidates of the cancellation.
func TestSampleStopsSoonAfterCancelWhileRejecting(t *testing.T) {
	t.Parallel()
	train, p := mixedTable(300)
	m, err := Fit(context.Background(), train, p, FitOptions{Kind: KindCopula})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var candidates, atCancel int64
	w := writerFunc(func([]string) error { return nil })
	accept := func([]string) bool {
		candidates++
		if candidates == 10_000 {
			cancel()
			atCancel = candidates
		}
		return candidates%500 == 0
	}
	err = m.Sample(ctx, 1e9, 0, 1, 1, SampleOptions{Accept: accept, MaxTriesPerRow: 1000}, w)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Sample = %v, want context.Canceled", err)
	}
	if after := candidates - atCancel; after > CheckEvery {
		t.Errorf("%d candidates drawn after cancel, want at most %d", after, CheckEvery)
	}
}

func TestCancelCheck(t *testing.T) {
	t.Parallel()
	var zero CancelCheck
	for range 3 * CheckEvery {
		if zero.Tick() != nil {
			t.Fatal("the zero CancelCheck reported")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := NewCancelCheck(ctx)
	for range CheckEvery - 1 {
		if c.Tick() != nil {
			t.Fatal("reported before cancellation")
		}
	}
	cancel()
	// The check is due on the CheckEvery-th tick.
	if err := c.Tick(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Tick after cancel = %v, want context.Canceled", err)
	}
}

// BenchmarkSampleCancelCheck measures what the per-row cancellation check
// costs: the same tree-model sample under context.Background (never
// checked: its Done channel is nil) and under a cancelable context (checked
// every CheckEvery candidates and every block). Compare rows/cpu-s of the
// two sub-benchmarks, e.g.
//
//	go test -run='^$' -bench=SampleCancelCheck -count=6 ./shared/synth/
func BenchmarkSampleCancelCheck(b *testing.B) {
	train, _ := adult(b)
	m, err := Fit(context.Background(), train, adultProfile(), FitOptions{Kind: KindTree})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"background", func() (context.Context, context.CancelFunc) { return context.Background(), func() {} }},
		{"cancelable", func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			ctx, cancel := tc.ctx()
			defer cancel()
			w := &csvDiscard{}
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime(b)
			if err := m.Sample(ctx, int64(b.N), 0, 1, 1, SampleOptions{}, w); err != nil {
				b.Fatal(err)
			}
			cpu := cpuTime(b) - cpu0
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(b.N)/cpu.Seconds(), "rows/cpu-s")
		})
	}
}
