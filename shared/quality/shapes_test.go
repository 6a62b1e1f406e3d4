package quality

import (
	"math"
	"testing"
)

const eps = 1e-12

var nan = math.NaN()

func TestKSComplement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		real, synth []float64
		want        float64
	}{
		{"identical", []float64{1, 2, 3}, []float64{3, 2, 1}, 1},
		{"shifted by half", []float64{1, 2, 3, 4}, []float64{3, 4, 5, 6}, 0.5},
		{"disjoint", []float64{1, 2}, []float64{3, 4}, 0},
		{"ties consumed together", []float64{1, 1, 2}, []float64{1, 2, 2}, 2.0 / 3},
		{"unequal sizes", []float64{1, 2, 3, 4}, []float64{2.5}, 0.5},
		{"NaN dropped", []float64{1, nan, 2}, []float64{1, 2, nan, nan}, 1},
		{"both empty", []float64{nan}, nil, 1},
		{"synthetic empty", []float64{1}, []float64{nan}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := KSComplement(tc.real, tc.synth); math.Abs(got-tc.want) > eps {
				t.Errorf("KSComplement(%v, %v) = %v, want %v", tc.real, tc.synth, got, tc.want)
			}
		})
	}
}

func TestTVComplement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		real, synth []string
		want        float64
	}{
		{"identical shares", []string{"a", "b"}, []string{"b", "a", "a", "b"}, 1},
		{"quarter moved", []string{"a", "a", "b", "b"}, []string{"a", "b", "b", "b"}, 0.75},
		{"unseen synthetic category", []string{"a", "a"}, []string{"a", "c"}, 0.5},
		{"missing is a category", []string{"a", "?"}, []string{"a", "a"}, 0.5},
		{"disjoint", []string{"a"}, []string{"b"}, 0},
		{"synthetic empty", []string{"a"}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := TVComplement(tc.real, tc.synth); math.Abs(got-tc.want) > eps {
				t.Errorf("TVComplement(%v, %v) = %v, want %v", tc.real, tc.synth, got, tc.want)
			}
		})
	}
}
