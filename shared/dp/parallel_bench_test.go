package dp

import (
	"context"
	"testing"

	"synthos.dev/synthos/internal/benchsample"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// BenchmarkSampleParallel samples b.N rows of a DP model fitted on adult
// (ε = 1) with synth.SampleParallel on one and two workers, with the
// scaffolding and metrics of synth's BenchmarkSampleParallel (package
// benchsample): rows/s over workers=1's is the speed-up issue 19 asks of
// every model.
func BenchmarkSampleParallel(b *testing.B) {
	train := loadTable(b, "adult.train.csv")
	m, err := Fit(context.Background(), train, inferProfile(b, train), Options{Epsilon: 1})
	if err != nil {
		b.Fatal(err)
	}
	benchsample.Parallel(b, KindDP, m.Columns(), func(n int64, w table.Writer, workers int) error {
		return synth.SampleParallel(context.Background(), m, n, 0, 1, 1, synth.SampleOptions{}, w, workers)
	})
}
