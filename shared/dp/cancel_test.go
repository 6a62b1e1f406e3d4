package dp

import (
	"context"
	"errors"
	"testing"

	"synthos.dev/synthos/shared/synth"
)

// TestSampleStopsSoonAfterCancel cancels a 1e9-row, one-shard sample after
// 10,000 rows: Sample returns context.Canceled having written at most
// synth.CheckEvery rows more, and a rule rejecting 499 candidates in 500
// does not let it run on to the end of its block.
func TestSampleStopsSoonAfterCancel(t *testing.T) {
	t.Parallel()
	tb, p := tiny(t, 2000)
	m, err := Fit(context.Background(), tb, p, Options{Epsilon: 4})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var written int64
	const at = 10_000
	w := writerFunc(func([]string) error {
		if written++; written == at {
			cancel()
		}
		return nil
	})
	if err := m.Sample(ctx, 1e9, 0, 1, 1, synth.SampleOptions{}, w); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sample = %v, want context.Canceled", err)
	}
	if after := written - at; after > synth.CheckEvery {
		t.Errorf("%d rows written after cancel, want at most %d", after, synth.CheckEvery)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	var candidates, atCancel int64
	accept := func([]string) bool {
		if candidates++; candidates == 10_000 {
			cancel()
			atCancel = candidates
		}
		return candidates%500 == 0
	}
	opts := synth.SampleOptions{Accept: accept, MaxTriesPerRow: 1000}
	if err := m.Sample(ctx, 1e9, 0, 1, 1, opts, writerFunc(func([]string) error { return nil })); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sample while rejecting = %v, want context.Canceled", err)
	}
	if after := candidates - atCancel; after > synth.CheckEvery {
		t.Errorf("%d candidates drawn after cancel, want at most %d", after, synth.CheckEvery)
	}
}

type writerFunc func([]string) error

func (f writerFunc) Write(row []string) error { return f(row) }
