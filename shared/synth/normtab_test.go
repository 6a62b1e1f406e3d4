package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// TestNormalMatchesRand checks that normal and uniform53 return bit for bit
// what rand.Rand's NormFloat64 and Float64 return on the same stream, so
// that drawing through them leaves every sample unchanged. A million draws
// per seed reach the ziggurat's rare paths (tail and wedge) thousands of
// times.
func TestNormalMatchesRand(t *testing.T) {
	for _, seed := range []struct{ a, b uint64 }{{1, 2}, {mix(7), mix(9 ^ 0x5eed)}, {math.MaxUint64, 0}} {
		ref := rand.New(rand.NewPCG(seed.a, seed.b))
		src := rand.NewPCG(seed.a, seed.b)
		for i := range 1_000_000 {
			var want, got float64
			if i%5 == 4 {
				want, got = ref.Float64(), uniform53(src)
			} else {
				want, got = ref.NormFloat64(), normal(src)
			}
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("seed %v draw %d: got %v, want %v", seed, i, got, want)
			}
		}
	}
}

// TestLowerBound checks the branch-free search against slices.BinarySearch
// on edge sets of every length up to 70 (bins hold at most 64), with values
// below, between, on and above the edges, repeated edges included.
func TestLowerBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for n := range 71 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(rng.IntN(2 * n)) // repeats on purpose
		}
		slices.Sort(xs)
		for v := -1.0; v <= float64(2*n)+1; v += 0.5 {
			want, _ := slices.BinarySearch(xs, v)
			if got := lowerBound(xs, v); got != want {
				t.Fatalf("n=%d v=%v: got %d, want %d (edges %v)", n, v, got, want, xs)
			}
		}
	}
}

// TestCountAtMost checks the branch-free search against sort.Search over
// cumulative counts of every length up to 300, repeats included.
func TestCountAtMost(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for n := range 301 {
		cum := make([]uint32, n)
		var c uint32
		for i := range cum {
			c += uint32(rng.IntN(3)) // zero steps repeat a value
			cum[i] = c
		}
		for u := range c + 2 {
			want := sort.Search(n, func(i int) bool { return cum[i] > u })
			if got := countAtMost(cum, u); got != want {
				t.Fatalf("n=%d u=%d: got %d, want %d", n, u, got, want)
			}
		}
	}
}
