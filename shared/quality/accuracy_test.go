package quality

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"synthos.dev/synthos/shared/profile"
)

func TestQuantileCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		real, syn []float64
		wantReal  []int32
		wantSyn   []int32
		wantBins  int
	}{
		{
			// Ten distinct values: one per decile bin.
			name: "one value per decile", real: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, syn: []float64{0, 10.5, nan, 5.5},
			wantReal: []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, wantSyn: []int32{1, 10, 0, 5}, wantBins: 11,
		},
		{
			// Mostly zeros: the deciles collapse into "< 7" and "≥ 7".
			name: "heavy ties", real: []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 7}, syn: []float64{0, 8},
			wantReal: []int32{1, 1, 1, 1, 1, 1, 1, 1, 1, 2}, wantSyn: []int32{1, 2}, wantBins: 3,
		},
		{
			name: "constant", real: []float64{4, 4}, syn: []float64{4, 5, nan},
			wantReal: []int32{1, 1}, wantSyn: []int32{1, 1, 0}, wantBins: 2,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := quantileCodes(&column{kind: profile.Numeric, continuous: true, real: tc.real, syn: tc.syn})
			if !slices.Equal(a.real, tc.wantReal) || !slices.Equal(a.syn, tc.wantSyn) || len(a.labels) != tc.wantBins {
				t.Errorf("got real %v syn %v bins %q; want real %v syn %v, %d bins", a.real, a.syn, a.labels, tc.wantReal, tc.wantSyn, tc.wantBins)
			}
		})
	}
}

func TestTopCodes(t *testing.T) {
	t.Parallel()
	// Twelve real categories: "a" twice, "b".."l" once; synthetic adds "z".
	real := []string{"a", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", ""}
	syn := []string{"a", "l", "z", ""}
	pc := &profile.Column{Kind: profile.Categorical}
	rc, sc, labels, rm, sm := encodeDiscrete(real, syn, pc)
	a := topCodes(&column{realCode: rc, synCode: sc, labels: labels, realMissing: rm, synMissing: sm})
	wantLabels := []string{missingLabel, "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", otherLabel}
	if !slices.Equal(a.labels, wantLabels) {
		t.Fatalf("labels = %q, want %q", a.labels, wantLabels)
	}
	if want := []int32{1, 11, 11, 0}; !slices.Equal(a.syn, want) {
		t.Errorf("synthetic codes = %v, want %v", a.syn, want)
	}
	d := a.distribution()
	if math.Abs(d.Real[1]-2.0/14) > eps || math.Abs(d.Real[11]-2.0/14) > eps || math.Abs(d.Synthetic[11]-0.5) > eps {
		t.Errorf("distribution = %+v", d)
	}
	// Univariate accuracy by hand: real (missing 1/14, a 2/14, b..j 1/14 each,
	// other 2/14); synthetic (missing 1/4, a 1/4, other 1/2).
	want := 1 - 0.5*(math.Abs(1.0/14-0.25)+math.Abs(2.0/14-0.25)+9.0/14+math.Abs(2.0/14-0.5))
	if got := accuracy1(a); math.Abs(got-want) > eps {
		t.Errorf("accuracy1 = %v, want %v", got, want)
	}
}

func TestTriples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m, n, want int
	}{
		{2, 100, 0},
		{3, 100, 1},
		{6, 100, 20},
		{15, 100, 100},
		{400, 100, 100}, // sampled by rejection
		{5, 0, 0},
	}
	for _, tc := range tests {
		got := triples(tc.m, tc.n, rand.New(rand.NewPCG(1, 2)))
		if len(got) != tc.want {
			t.Errorf("triples(%d, %d) gave %d, want %d", tc.m, tc.n, len(got), tc.want)
		}
		seen := map[[3]int]bool{}
		for _, tr := range got {
			if !(0 <= tr[0] && tr[0] < tr[1] && tr[1] < tr[2] && tr[2] < tc.m) || seen[tr] {
				t.Errorf("triples(%d, %d): bad or repeated triple %v", tc.m, tc.n, tr)
			}
			seen[tr] = true
		}
	}
}
