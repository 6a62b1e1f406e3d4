package quality

import (
	"fmt"
	"math"
)

// CorrelationSimilarity is SDMetrics' CorrelationSimilarity with its default
// Pearson coefficient: 1 − |ρ_real − ρ_synth| / 2. Rows where either value is
// NaN (missing) are dropped. It fails with ErrUndefined when a side has fewer
// than two complete rows or a constant column, where SDMetrics returns NaN
// and leaves the pair out of its averages.
func CorrelationSimilarity(realX, realY, synthX, synthY []float64) (float64, error) {
	if len(realX) != len(realY) || len(synthX) != len(synthY) {
		return 0, fmt.Errorf("column lengths differ: %w", ErrInput)
	}
	r, ok := pearson(realX, realY)
	if !ok {
		return 0, fmt.Errorf("real correlation: %w", ErrUndefined)
	}
	s, ok := pearson(synthX, synthY)
	if !ok {
		return 0, fmt.Errorf("synthetic correlation: %w", ErrUndefined)
	}
	return 1 - math.Abs(r-s)/2, nil
}

// pearson returns the Pearson correlation of the rows where neither x nor y
// is NaN, and false when it is undefined.
func pearson(x, y []float64) (float64, bool) {
	var n, sx, sy float64
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		n++
		sx += x[i]
		sy += y[i]
	}
	if n < 2 {
		return 0, false
	}
	mx, my := sx/n, sy/n
	var cxy, cxx, cyy float64
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		dx, dy := x[i]-mx, y[i]-my
		cxy += dx * dy
		cxx += dx * dx
		cyy += dy * dy
	}
	if cxx == 0 || cyy == 0 {
		return 0, false
	}
	return math.Max(-1, math.Min(1, cxy/math.Sqrt(cxx*cyy))), true
}

// ContingencySimilarity is SDMetrics' ContingencySimilarity for two discrete
// columns: 1 − ½Σ|p−q| over the cells of the real and synthetic 2-D
// contingency tables. Every label is a category, missing spellings included.
func ContingencySimilarity(realA, realB, synthA, synthB []string) (float64, error) {
	if len(realA) != len(realB) || len(synthA) != len(synthB) {
		return 0, fmt.Errorf("column lengths differ: %w", ErrInput)
	}
	ia, ib := map[string]int32{}, map[string]int32{}
	enc := func(index map[string]int32, vals []string) []int32 {
		out := make([]int32, len(vals))
		for i, v := range vals {
			c, ok := index[v]
			if !ok {
				c = int32(len(index))
				index[v] = c
			}
			out[i] = c
		}
		return out
	}
	ra, rb := enc(ia, realA), enc(ib, realB)
	sa, sb := enc(ia, synthA), enc(ib, synthB)
	d := jointTVD([][]int32{ra, rb}, [][]int32{sa, sb}, []int{max(1, len(ia)), max(1, len(ib))})
	return 1 - d, nil
}

// sdmBins is the number of equal-width bins a continuous column is cut into
// for ContingencySimilarity, as in SDMetrics (numpy's default of 10).
const sdmBins = 10

// pairCodes are a column's codes for contingency tables: discrete codes as
// they are; continuous values cut into sdmBins equal-width bins between the
// REAL column's minimum and maximum. Both tables are binned on the real
// edges (as SDMetrics' quality report does with np.histogram_bin_edges and
// np.digitize), with an underflow and an overflow bin for synthetic values
// outside the real range and a bin for missing values. Deliberate
// differences: np.digitize puts the real maximum in a bin of its own, shared
// with everything above it and with NaN; here the maximum closes the last
// bin, so every real value falls in one of the sdmBins bins, and missing
// values have a bin of their own. (The standalone SDMetrics metric with
// continuous_column_names may bin differently; the quality report is the
// reference here.)
type pairCodes struct {
	real, syn []int32
	card      int
}

// Continuous pair-code layout: 0 missing, 1 below the real minimum,
// 2..sdmBins+1 the bins, sdmBins+2 above the real maximum.
const (
	codeMissing = 0
	codeUnder   = 1
	codeFirst   = 2
	codeOver    = sdmBins + 2
)

func makePairCodes(c *column) pairCodes {
	if !c.continuous {
		return pairCodes{real: c.realCode, syn: c.synCode, card: len(c.labels)}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range c.real {
		if !math.IsNaN(v) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	width := (hi - lo) / sdmBins
	bin := func(v float64) int32 {
		switch {
		case math.IsNaN(v):
			return codeMissing
		case v < lo:
			return codeUnder
		case v > hi:
			return codeOver
		case width == 0 || v == hi:
			return codeFirst + sdmBins - 1
		}
		return codeFirst + int32(min(sdmBins-1, int((v-lo)/width)))
	}
	enc := func(x []float64) []int32 {
		out := make([]int32, len(x))
		for i, v := range x {
			out[i] = bin(v)
		}
		return out
	}
	return pairCodes{real: enc(c.real), syn: enc(c.syn), card: codeOver + 1}
}

// pairScore is the Column Pair Trends score of columns a and b:
// CorrelationSimilarity when both are continuous, ContingencySimilarity on
// pair codes otherwise. err wraps ErrUndefined for a correlation that does
// not exist.
func pairScore(a, b *column, pa, pb pairCodes) (score float64, metric string, real, syn *float64, err error) {
	if a.continuous && b.continuous {
		r, ok := pearson(a.real, b.real)
		if !ok {
			return 0, MetricCorrelation, nil, nil, fmt.Errorf("real correlation of %q and %q: %w", a.name, b.name, ErrUndefined)
		}
		s, ok := pearson(a.syn, b.syn)
		if !ok {
			return 0, MetricCorrelation, &r, nil, fmt.Errorf("synthetic correlation of %q and %q: %w", a.name, b.name, ErrUndefined)
		}
		return 1 - math.Abs(r-s)/2, MetricCorrelation, &r, &s, nil
	}
	d := jointTVD([][]int32{pa.real, pb.real}, [][]int32{pa.syn, pb.syn}, []int{pa.card, pb.card})
	return 1 - d, MetricContingency, nil, nil, nil
}
