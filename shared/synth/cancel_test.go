package synth

import (
	"context"
	"errors"
	"runtime"
	"syscall"
	"testing"
	"time"
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
// costs: each iteration samples 20,000 rows of the tree model under
// context.Background (never checked: its Done channel is nil), then the
// same rows under a cancelable context (checked every CheckEvery candidates
// and every block), in turn, so that a machine shared with other work slows
// both alike. Time is the sampling thread's CPU time (Sample runs on the
// calling goroutine, locked to its thread here), which waiting for a core
// does not inflate. It reports the rows per CPU-second of each and the
// overhead in percent:
//
//	go test -run='^$' -bench=SampleCancelCheck -benchtime=100x ./shared/synth/
func BenchmarkSampleCancelCheck(b *testing.B) {
	train, _ := adult(b)
	m, err := Fit(context.Background(), train, adultProfile(), FitOptions{Kind: KindTree})
	if err != nil {
		b.Fatal(err)
	}
	const rows = 20_000
	cancelable, cancel := context.WithCancel(context.Background())
	defer cancel()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var took [2]time.Duration
	w := &csvDiscard{}
	b.ReportAllocs()
	for b.Loop() {
		for i, ctx := range []context.Context{context.Background(), cancelable} {
			start := threadCPU(b)
			if err := m.Sample(ctx, rows, 0, 1, 1, SampleOptions{}, w); err != nil {
				b.Fatal(err)
			}
			took[i] += threadCPU(b) - start
		}
	}
	unchecked := float64(b.N*rows) / took[0].Seconds()
	checked := float64(b.N*rows) / took[1].Seconds()
	b.ReportMetric(unchecked, "rows/cpu-s-unchecked")
	b.ReportMetric(checked, "rows/cpu-s-checked")
	b.ReportMetric(100*(unchecked-checked)/unchecked, "%overhead")
}

// threadCPU is the calling thread's user+system CPU time.
func threadCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		tb.Skipf("no per-thread CPU time here (getrusage(RUSAGE_THREAD): %v)", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rusageThread is Linux's RUSAGE_THREAD; elsewhere getrusage refuses it
// and the benchmark is skipped.
const rusageThread = 1

// BenchmarkCancelCheckTick is the cost of the check per candidate row on a
// cancelable context; a row of the tree model costs about 2 µs
// (BenchmarkSampleTree), so a tick of a nanosecond or two is below 0.1%.
func BenchmarkCancelCheckTick(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := NewCancelCheck(ctx)
	for b.Loop() {
		if c.Tick() != nil {
			b.Fatal("canceled")
		}
	}
}
