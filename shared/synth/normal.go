package synth

import "math"

// phi is the standard normal CDF.
func phi(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// phiInv is the standard normal quantile, clamped to ±8.
func phiInv(p float64) float64 {
	switch {
	case p <= 0:
		return -8
	case p >= 1:
		return 8
	}
	return min(max(math.Sqrt2*math.Erfinv(2*p-1), -8), 8)
}

// pdf is the standard normal density.
func pdf(z float64) float64 { return math.Exp(-z*z/2) / math.Sqrt(2*math.Pi) }

// intervalMean is E[Z | a < Z < b] for a standard normal Z: the normal
// score of a tied block of ranks or of a category's interval.
func intervalMean(a, b float64) float64 {
	pa, pb := phi(a), phi(b)
	if pb-pa < 1e-12 {
		return (max(a, -8) + min(b, 8)) / 2
	}
	return (pdf(a) - pdf(b)) / (pb - pa)
}

// cholesky returns the lower-triangular L with L Lᵀ = a (row-major n×n),
// adding a growing ridge to the diagonal until a is positive definite.
func cholesky(a []float64, n int) []float64 {
	for ridge := 0.0; ; ridge = max(ridge*10, 1e-10) {
		l := make([]float64, n*n)
		ok := true
		for i := 0; i < n && ok; i++ {
			for j := 0; j <= i; j++ {
				s := a[i*n+j]
				if i == j {
					s += ridge
				}
				for k := 0; k < j; k++ {
					s -= l[i*n+k] * l[j*n+k]
				}
				if i == j {
					if s <= 1e-12 {
						ok = false
						break
					}
					l[i*n+i] = math.Sqrt(s)
				} else {
					l[i*n+j] = s / l[j*n+j]
				}
			}
		}
		if ok {
			if ridge > 0 { // keep unit variances after the ridge
				for i := 0; i < n; i++ {
					var s float64
					for k := 0; k <= i; k++ {
						s += l[i*n+k] * l[i*n+k]
					}
					s = math.Sqrt(s)
					for k := 0; k <= i; k++ {
						l[i*n+k] /= s
					}
				}
			}
			return l
		}
		if ridge > 1 {
			id := make([]float64, n*n)
			for i := 0; i < n; i++ {
				id[i*n+i] = 1
			}
			return id
		}
	}
}
