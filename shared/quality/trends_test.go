package quality

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestCorrelationSimilarity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		rx, ry, sx, sy []float64
		want           float64
		err            error
	}{
		{"same correlation", []float64{1, 2, 3}, []float64{1, 2, 3}, []float64{1, 2, 3}, []float64{2, 4, 6}, 1, nil},
		{"opposite correlation", []float64{1, 2, 3}, []float64{1, 2, 3}, []float64{1, 2, 3}, []float64{3, 2, 1}, 0, nil},
		// synthetic: dx = (-1,0,1), dy = (-1,1,0): r = 1/2.
		{"half correlation", []float64{1, 2, 3}, []float64{1, 2, 3}, []float64{1, 2, 3}, []float64{1, 3, 2}, 0.75, nil},
		{"incomplete rows dropped", []float64{1, 2, 3, nan}, []float64{1, 2, 3, 100}, []float64{1, 2, nan, 3}, []float64{1, 2, 7, 3}, 1, nil},
		{"constant real column", []float64{1, 1, 1}, []float64{1, 2, 3}, []float64{1, 2, 3}, []float64{1, 2, 3}, 0, ErrUndefined},
		{"too few rows", []float64{1}, []float64{1}, []float64{1, 2}, []float64{1, 2}, 0, ErrUndefined},
		{"length mismatch", []float64{1, 2}, []float64{1}, nil, nil, 0, ErrInput},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := CorrelationSimilarity(tc.rx, tc.ry, tc.sx, tc.sy)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err == nil && math.Abs(got-tc.want) > eps {
				t.Errorf("score = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestContingencySimilarity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		ra, rb, sa, sb []string
		want           float64
	}{
		{"same table", []string{"a", "b"}, []string{"x", "y"}, []string{"b", "a"}, []string{"y", "x"}, 1},
		// real: four cells of 1/4; synthetic: (a,x)=(b,y)=1/2. ½Σ|p−q| = ½(1/4·4) = 1/2.
		{"relationship broken", []string{"a", "a", "b", "b"}, []string{"x", "y", "x", "y"},
			[]string{"a", "a", "b", "b"}, []string{"x", "x", "y", "y"}, 0.5},
		{"missing is a category", []string{"a", "a"}, []string{"x", "?"}, []string{"a", "a"}, []string{"x", "x"}, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ContingencySimilarity(tc.ra, tc.rb, tc.sa, tc.sb)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got-tc.want) > eps {
				t.Errorf("score = %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := ContingencySimilarity([]string{"a"}, nil, nil, nil); !errors.Is(err, ErrInput) {
		t.Errorf("length mismatch: err = %v, want ErrInput", err)
	}
}

// TestPairCodes checks that continuous columns are binned on the real
// column's edges, for both tables.
func TestPairCodes(t *testing.T) {
	t.Parallel()
	c := &column{continuous: true, real: []float64{0, 5, 10, nan, 0.99}, syn: []float64{-1, 11, 9.99, 0, nan}}
	got := makePairCodes(c)
	// width 1: 0→bin 0 (code 2), 5→bin 5 (code 7), 10 closes the last bin (code 11), 0.99→bin 0.
	if want := []int32{2, 7, 11, codeMissing, 2}; !slices.Equal(got.real, want) {
		t.Errorf("real codes = %v, want %v", got.real, want)
	}
	if want := []int32{codeUnder, codeOver, 11, 2, codeMissing}; !slices.Equal(got.syn, want) {
		t.Errorf("synthetic codes = %v, want %v", got.syn, want)
	}
	if got.card != codeOver+1 {
		t.Errorf("card = %d, want %d", got.card, codeOver+1)
	}
}
