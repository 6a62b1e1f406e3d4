package dp

import (
	"math"
	"slices"
)

// Consistent estimation on a tree. Private-PGM estimates the data
// distribution that best fits every noisy measurement in least squares over
// the marginal polytope; on a tree the marginal polytope is exactly the set
// of non-negative clique tables that agree on their shared attributes, so the
// estimate below works clique by clique:
//
//  1. the total and each attribute's 1-way marginal are the inverse-variance
//     weighted combination of every measurement that determines them (the
//     attribute's own 1-way measurement and the row or column sums of the
//     2-way measurements on the tree edges touching it), projected onto the
//     simplex scaled to the total;
//  2. each edge table is the least-squares projection of its noisy
//     measurement onto the non-negative tables with those two marginals (the
//     transportation polytope), by Dykstra's alternating projections, then
//     raked (IPF) to make the marginals exact.
//
// The result is a consistent set of tree marginals: the junction tree's
// exact inference is then sampling the root marginal followed by conditionals.

// projectSimplex returns the Euclidean projection of y onto
// {x >= 0, sum x = total}; total > 0.
func projectSimplex(y []float64, total float64) []float64 {
	s := slices.Clone(y)
	slices.Sort(s)
	slices.Reverse(s)
	cum, theta := 0.0, 0.0
	for i, v := range s {
		cum += v
		t := (cum - total) / float64(i+1)
		if v-t > 0 {
			theta = t
		}
	}
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = math.Max(v-theta, 0)
	}
	return out
}

// fitTable returns a non-negative na×nb table (row-major) with row sums r
// and column sums c (sum r = sum c > 0) close to y in least squares.
func fitTable(y []float64, r, c []float64) []float64 {
	na, nb := len(r), len(c)
	total := 0.0
	for _, v := range r {
		total += v
	}
	x := slices.Clone(y)
	q := make([]float64, len(y)) // Dykstra's correction for the orthant
	z := make([]float64, len(y))
	rs, cs := make([]float64, na), make([]float64, nb)
	const iters = 300
	for range iters {
		// Project onto the affine set of tables with margins r, c.
		clear(rs)
		clear(cs)
		s := 0.0
		for i := range na {
			for j := range nb {
				v := x[i*nb+j]
				rs[i] += v
				cs[j] += v
				s += v
			}
		}
		shift := (total - s) / float64(na*nb)
		for i := range na {
			di := (r[i] - rs[i]) / float64(nb)
			for j := range nb {
				k := i*nb + j
				z[k] = x[k] + di + (c[j]-cs[j])/float64(na) - shift
			}
		}
		// Project onto the non-negative orthant, with the correction.
		for k := range z {
			w := z[k] + q[k]
			x[k] = math.Max(w, 0)
			q[k] = w - x[k]
		}
	}
	return rake(x, r, c)
}

// rake scales x (non-negative) to margins r and c by iterative proportional
// fitting. A row or column left without mass takes the other margin's
// proportions, so the margins are always met.
func rake(x []float64, r, c []float64) []float64 {
	na, nb := len(r), len(c)
	total := 0.0
	for _, v := range r {
		total += v
	}
	out := make([]float64, len(x))
	for i := range na {
		for j := range nb {
			// A tiny independent floor keeps every row and column reachable.
			out[i*nb+j] = x[i*nb+j] + 1e-9*r[i]*c[j]/total
		}
	}
	for range 100 {
		for i := range na {
			s := 0.0
			for j := range nb {
				s += out[i*nb+j]
			}
			if s > 0 {
				f := r[i] / s
				for j := range nb {
					out[i*nb+j] *= f
				}
			}
		}
		for j := range nb {
			s := 0.0
			for i := range na {
				s += out[i*nb+j]
			}
			if s > 0 {
				f := c[j] / s
				for i := range na {
					out[i*nb+j] *= f
				}
			}
		}
	}
	return out
}

// measurement is a noisy vector with independent noise of variance Var[k]
// in cell k.
type measurement struct {
	Y   []float64
	Var []float64
}

// combine returns the inverse-variance weighted mean of several
// measurements of the same vector.
func combine(ms []measurement) []float64 {
	n := len(ms[0].Y)
	out := make([]float64, n)
	for k := range n {
		num, den := 0.0, 0.0
		for _, m := range ms {
			num += m.Y[k] / m.Var[k]
			den += 1 / m.Var[k]
		}
		out[k] = num / den
	}
	return out
}
