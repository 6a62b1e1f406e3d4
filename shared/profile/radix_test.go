package profile

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSortFloatsAsSlicesSort checks the radix sort orders every batch as
// slices.Sort does, so the digests it feeds are unchanged.
func TestSortFloatsAsSlicesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	gen := map[string]func() float64{
		"integers":  func() float64 { return float64(r.IntN(1_500_000)) },
		"ages":      func() float64 { return float64(17 + r.IntN(73)) },
		"signed":    func() float64 { return r.NormFloat64() * 1e3 },
		"tiny":      func() float64 { return (r.Float64() - 0.5) * 1e-300 },
		"zeros":     func() float64 { return float64(r.IntN(3) - 1) },
		"infinites": func() float64 { return []float64{math.Inf(-1), math.Inf(1), -2, 2}[r.IntN(4)] },
		"with NaN": func() float64 {
			if r.IntN(500) == 0 {
				return math.NaN()
			}
			return r.Float64()
		},
	}
	for name, g := range gen {
		for _, n := range []int{0, 1, 10, radixMin - 1, radixMin, 1000, numBatch} {
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = g()
			}
			want := slices.Clone(xs)
			slices.Sort(want)
			var keys []uint64
			keys = sortFloats(xs, keys)
			for i := range xs {
				same := xs[i] == want[i] || (xs[i] != xs[i] && want[i] != want[i])
				if !same {
					t.Fatalf("%s, %d values: at %d got %v, want %v", name, n, i, xs[i], want[i])
				}
			}
		}
	}
}

// TestSortFloatsNegativeZero: -0 goes before +0 (slices.Sort leaves them
// in either order, being equal).
func TestSortFloatsNegativeZero(t *testing.T) {
	xs := make([]float64, radixMin)
	for i := range xs {
		xs[i] = float64(len(xs) - i)
	}
	xs[3], xs[7] = 0, math.Copysign(0, -1)
	sortFloats(xs, nil)
	if !math.Signbit(xs[0]) || math.Signbit(xs[1]) || xs[2] != 1 || xs[len(xs)-1] != float64(len(xs)) {
		t.Fatalf("got %v", xs[:4])
	}
}

func BenchmarkSortFloats(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	src := make([]float64, numBatch)
	for i := range src {
		src[i] = float64(12_000 + r.IntN(1_500_000))
	}
	xs := make([]float64, numBatch)
	b.Run("radix", func(b *testing.B) {
		var keys []uint64
		for b.Loop() {
			copy(xs, src)
			keys = sortFloats(xs, keys)
		}
	})
	b.Run("slices.Sort", func(b *testing.B) {
		for b.Loop() {
			copy(xs, src)
			slices.Sort(xs)
		}
	})
}
