package synth

import (
	"math"
	"slices"
)

// Instruments and price lists record numbers on a lattice coarser than the
// decimals they are written with: a pressure in steps of 0.25 hPa written
// with two decimals, a CO2 reading in steps of 5 ppm, prices in steps of
// five cents. A model that rounds only to the written decimals fills the
// gaps between lattice points (on a generated table of sensor readings the
// tree model wrote 855 distinct pressures where the source had 129, and 835
// CO2 readings against 192), and every such value marks its row as
// synthetic to a discriminator that looks at the last digits. lattice finds
// the step so that round keeps drawn values on it.

// latticeMinValues is the fewest distinct values a column needs before a
// common step of its values is taken for a lattice (two values always have
// one).
const latticeMinValues = 3

// lattice returns the largest step, a whole multiple of the column's
// written unit (10^-Decimals, or 1 for an integer column), that every
// value of numeric column j is a whole multiple of, when it is above the
// unit; otherwise 0.
func (c *Col) lattice(vals []float64) float64 {
	dec := c.Decimals
	if c.Integer {
		dec = 0
	}
	if dec < 0 || dec > 15 {
		return 0
	}
	unit := pow10[dec]
	var g int64
	distinct := map[int64]struct{}{}
	for _, v := range vals {
		x := v * unit
		r := math.Round(x)
		if math.Abs(x-r) > 1e-6*max(1, math.Abs(x)) || math.Abs(r) > 1<<52 {
			return 0 // not on the written unit, or too large to be exact
		}
		n := int64(r)
		if len(distinct) < latticeMinValues {
			distinct[n] = struct{}{}
		}
		g = gcd(g, n)
		if g == 1 {
			return 0
		}
	}
	if g <= 1 || len(distinct) < latticeMinValues {
		return 0
	}
	return float64(g) / unit
}

func gcd(a, b int64) int64 {
	if a < 0 {
		a = -a
	}
	if b < 0 {
		b = -b
	}
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// onLattice moves v to the nearest point of the column's lattice within
// [Lo, Hi] (which lie on it unless a profile narrowed them).
func (c *Col) onLattice(v float64) float64 {
	s := c.Step
	r := math.Round(v/s) * s
	if r > c.Hi {
		r -= s
	}
	if r < c.Lo {
		r += s
	}
	return r
}

// A column can also be recorded on a grid that is no lattice: a 12-bit
// converter's volts written with four decimals (516 distinct values in
// 43,000 readings, where the tree model wrote 3,958), or amounts from a
// table of rates. When a column's values are few for its rows
// (gridShare rows or more per distinct value) and spaced several written
// units apart (gridGap), round moves a drawn value to the nearest value held by
// at least two training rows, so that no value is written that the source
// could not have recorded, and none held by one row only is reproduced.

// gridShare is how many rows per distinct value a column needs for a
// grid, gridGap how many lattice steps (or written units) apart its
// neighbouring distinct values must be at the median: a column with a long
// sparse tail (a particulate reading's rare spikes) but every step used in
// its body gets no grid.
const (
	gridShare = 20
	gridGap   = 3
)

// valueGrid returns the sorted values held by two or more of vals, when
// vals has at most len(vals)/gridShare distinct values whose median gap is
// at least gridGap points of the column's lattice (Step, or the written
// unit); otherwise nil.
func (c *Col) valueGrid(vals []float64) []float64 {
	counts := map[float64]int{}
	for _, v := range vals {
		counts[v]++
		if len(counts) > len(vals)/gridShare {
			return nil
		}
	}
	step := c.Step
	if step == 0 {
		dec := c.Decimals
		if c.Integer {
			dec = 0
		}
		if dec < 0 || dec > 15 {
			return nil
		}
		step = 1 / pow10[dec]
	}
	distinct := make([]float64, 0, len(counts))
	for v := range counts {
		distinct = append(distinct, v)
	}
	slices.Sort(distinct)
	if len(distinct) < latticeMinValues {
		return nil
	}
	gaps := make([]float64, len(distinct)-1)
	for i := range gaps {
		gaps[i] = distinct[i+1] - distinct[i]
	}
	slices.Sort(gaps)
	if gaps[len(gaps)/2] < gridGap*step*(1-1e-9) {
		return nil
	}
	var grid []float64
	for _, v := range distinct {
		if counts[v] >= 2 {
			grid = append(grid, v)
		}
	}
	if len(grid) < latticeMinValues {
		return nil
	}
	return grid
}

// onGrid moves v to the nearest value of the column's grid.
func (c *Col) onGrid(v float64) float64 {
	g := c.Grid
	i := lowerBound(g, v)
	switch {
	case i == 0:
		return g[0]
	case i == len(g):
		return g[len(g)-1]
	case v-g[i-1] <= g[i]-v:
		return g[i-1]
	}
	return g[i]
}

// sortedFinite says whether xs is strictly increasing and finite (a
// loaded grid must be, for onGrid's search).
func sortedFinite(xs []float64) bool {
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) || i > 0 && x <= xs[i-1] {
			return false
		}
	}
	return true
}
