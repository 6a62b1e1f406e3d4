package privacy

import (
	"context"
	"testing"
)

// BenchmarkEncode times parsing and scaling the three Adult tables.
func BenchmarkEncode(b *testing.B) {
	train, holdout, synth, p := adultNoisy(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encode(train, holdout, synth, p); err != nil {
			b.Fatal(err)
		}
	}
}

// benchEvaluation encodes Adult once for the per-metric benchmarks.
func benchEvaluation(b *testing.B) *evaluation {
	train, holdout, synth, p := adultNoisy(b)
	e, err := encode(train, holdout, synth, p)
	if err != nil {
		b.Fatal(err)
	}
	return &evaluation{ctx: context.Background(), e: e, maxQ: DefaultMaxQueries}
}

// BenchmarkDCR times the DCR shares, DCR and NNDR: five tree builds and
// 20,000 nearest-neighbour queries.
func BenchmarkDCR(b *testing.B) {
	ev := benchEvaluation(b)
	b.ReportAllocs()
	for b.Loop() {
		ev.rng = newRNG(1)
		if _, _, err := ev.dcr(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMIA times the membership-inference attack: a tree over the
// 26,049 synthetic rows and 5,000 queries.
func BenchmarkMIA(b *testing.B) {
	ev := benchEvaluation(b)
	b.ReportAllocs()
	for b.Loop() {
		ev.rng = newRNG(1)
		m, n := ev.candidates()
		if _, err := ev.membership(m, n); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAttribute times attribute inference of two columns from six
// quasi-identifiers.
func BenchmarkAttribute(b *testing.B) {
	ev := benchEvaluation(b)
	sens, known, _, err := ev.e.s.roles(adultOptions().Sensitive, adultOptions().Quasi)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		ev.rng = newRNG(1)
		m, n := ev.candidates()
		if _, err := ev.attributes(sens, known, m, n, DefaultNumericTolerance); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNearest compares the tree with a full scan for 1,000 synthetic
// queries against the 26,049 training rows (k = 2).
func BenchmarkNearest(b *testing.B) {
	ev := benchEvaluation(b)
	q := sample(newRNG(1), ev.e.synth.n, 1000)
	b.Run("vptree", func(b *testing.B) {
		for b.Loop() {
			t := newVPTree(ev.e.train, newRNG(2))
			if _, err := t.batch(context.Background(), ev.e.synth, q, 2); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			for _, i := range q {
				bruteNearest(ev.e.train, ev.e.synth, i, 2)
			}
		}
	})
}
