package quality

import (
	"context"
	"testing"
)

// adultPrepared decodes Adult's training rows against its holdout for the
// per-family benchmarks.
func adultPrepared(b *testing.B) *prepared {
	b.Helper()
	d, err := prepare(loadCSV(b, "adult.train.csv"), loadCSV(b, "adult.holdout.csv"), adultProfile(), 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkColumnShapes: KSComplement and TVComplement over Adult's 15
// columns (26,049 real × 6,512 synthetic rows).
func BenchmarkColumnShapes(b *testing.B) {
	d := adultPrepared(b)
	b.ReportAllocs()
	for b.Loop() {
		shapes(d, &Report{})
	}
}

// BenchmarkPairTrends: CorrelationSimilarity and ContingencySimilarity over
// Adult's 105 column pairs.
func BenchmarkPairTrends(b *testing.B) {
	d := adultPrepared(b)
	rep := &Report{}
	shapes(d, rep)
	b.ReportAllocs()
	for b.Loop() {
		if err := trends(context.Background(), d, rep); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAccuracy: uni-, bi- and trivariate (100 triples) accuracy on
// Adult.
func BenchmarkAccuracy(b *testing.B) {
	d := adultPrepared(b)
	rep := &Report{}
	shapes(d, rep)
	if err := trends(context.Background(), d, rep); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := accuracy(context.Background(), d, Options{}, rep); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDiscriminator: 5-fold discriminator on 10,000 real and 10,000
// synthetic (column-shuffled) Adult rows.
func BenchmarkDiscriminator(b *testing.B) {
	train := loadCSV(b, "adult.train.csv")
	synth := shuffledColumns(train, 1)
	p := adultProfile()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := discriminate(context.Background(), train, synth, p, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateAdult: everything, end to end, on 26,049 real and 26,049
// synthetic (column-shuffled) Adult rows with the 6,512-row holdout and
// income as the ML efficacy target.
func BenchmarkEvaluateAdult(b *testing.B) {
	train, hold := loadCSV(b, "adult.train.csv"), loadCSV(b, "adult.holdout.csv")
	synth := shuffledColumns(train, 1)
	p := adultProfile()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Evaluate(context.Background(), train, synth, hold, p, Options{Target: "income"}); err != nil {
			b.Fatal(err)
		}
	}
}
