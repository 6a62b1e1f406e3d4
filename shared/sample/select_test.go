package sample

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestSelectSmallest: the quickselect keeps the same k entries a sort
// would, with the largest of them at k-1, ties of priority broken by index.
func TestSelectSmallest(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	tests := []struct {
		name   string
		n, k   int
		values uint64 // priorities drawn from [0, values): few values make ties
	}{
		{"one", 1, 1, 10},
		{"all", 50, 50, 1 << 62},
		{"first", 50, 1, 1 << 62},
		{"half", 1000, 500, 1 << 62},
		{"ties", 1000, 317, 3},
		{"sorted input", 200, 77, 0},
	}
	for _, tt := range tests {
		e := make([]*entry, tt.n)
		for i := range e {
			v := uint64(i)
			if tt.values > 0 {
				v = rng.Uint64N(tt.values)
			}
			e[i] = &entry{i: int64(rng.IntN(1 << 30)), v: v}
		}
		want := slices.Clone(e)
		slices.SortFunc(want, compareEntries)
		selectSmallest(e, tt.k)
		if e[tt.k-1] != want[tt.k-1] {
			t.Errorf("%s: e[k-1] = %+v, want %+v", tt.name, *e[tt.k-1], *want[tt.k-1])
		}
		got := slices.Clone(e[:tt.k])
		slices.SortFunc(got, compareEntries)
		if !slices.Equal(got, want[:tt.k]) {
			t.Errorf("%s: the %d kept are not the %d smallest", tt.name, tt.k, tt.k)
		}
	}
}
