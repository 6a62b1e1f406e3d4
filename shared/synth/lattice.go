package synth

import (
	"math"
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
