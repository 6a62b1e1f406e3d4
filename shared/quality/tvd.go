package quality

import "math"

// denseCells bounds the dense joint-count array; larger joint spaces use a map.
const denseCells = 1 << 22

// jointTVD returns the total variation distance ½Σ|p−q| between the joint
// distributions of the code columns a (real) and b (synthetic). a and b hold
// the same number (1 to 3) of equally long columns each; card[i] bounds the
// codes of column i. An empty side is at distance 1 from a non-empty one and
// 0 from another empty one.
func jointTVD(a, b [][]int32, card []int) float64 {
	na, nb := colLen(a), colLen(b)
	switch {
	case na == 0 && nb == 0:
		return 0
	case na == 0 || nb == 0:
		return 1
	}
	wa, wb := 1/float64(na), 1/float64(nb)
	cells := 1
	for _, c := range card {
		if c <= 0 || cells > denseCells/c {
			cells = -1
			break
		}
		cells *= c
	}
	if cells < 0 {
		return sparseTVD(a, b, wa, wb)
	}
	diff := make([]float64, cells)
	accumulate(diff, a, card, wa)
	accumulate(diff, b, card, -wb)
	s := 0.0
	for _, d := range diff {
		s += math.Abs(d)
	}
	return clamp01(s / 2)
}

func colLen(cols [][]int32) int {
	if len(cols) == 0 {
		return 0
	}
	return len(cols[0])
}

// accumulate adds w to diff at each row's joint index.
func accumulate(diff []float64, cols [][]int32, card []int, w float64) {
	switch len(cols) {
	case 1:
		for _, c := range cols[0] {
			diff[c] += w
		}
	case 2:
		x, y, cx := cols[0], cols[1], int32(card[0])
		for i := range x {
			diff[x[i]+cx*y[i]] += w
		}
	default:
		x, y, z := cols[0], cols[1], cols[2]
		cx, cy := int32(card[0]), int32(card[1])
		for i := range x {
			diff[x[i]+cx*(y[i]+cy*z[i])] += w
		}
	}
}

// sparseTVD is jointTVD for joint spaces too large to count densely.
func sparseTVD(a, b [][]int32, wa, wb float64) float64 {
	type key [3]int32
	diff := map[key]float64{}
	add := func(cols [][]int32, w float64) {
		for i := range cols[0] {
			var k key
			for j, c := range cols {
				k[j] = c[i]
			}
			diff[k] += w
		}
	}
	add(a, wa)
	add(b, -wb)
	s := 0.0
	for _, d := range diff {
		s += math.Abs(d)
	}
	return clamp01(s / 2)
}

// clamp01 removes floating-point excursions outside [0, 1].
func clamp01(x float64) float64 {
	return math.Min(1, math.Max(0, x))
}
