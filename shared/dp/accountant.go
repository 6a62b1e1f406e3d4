package dp

import (
	"fmt"
	"math"
)

// Conversions between rho-zCDP and (epsilon, delta)-DP.
//
// A mechanism is rho-zCDP when the Rényi divergence of order alpha between its
// output distributions on neighbouring datasets is at most rho*alpha for every
// alpha > 1 (Bun and Steinke 2016). Adding Gaussian or discrete Gaussian
// noise of variance sigma² to a query of L2 sensitivity 1 is 1/(2 sigma²)-zCDP;
// an eps-DP exponential mechanism is eps²/8-zCDP (Cesar and Rogers 2021);
// rho adds up under composition, across the steps of one fit and across jobs.
//
// The conversion to (epsilon, delta) is the tight one of Canonne, Kamath and
// Steinke 2020 ("The Discrete Gaussian for Differential Privacy", Prop. 12,
// and cdp2adp.py in private-pgm): rho-zCDP implies (eps, delta)-DP for
//
//	delta = exp((alpha-1)(alpha*rho - eps) + alpha*log(1 - 1/alpha)) / (alpha-1)
//
// minimised over alpha > 1. Every alpha gives a valid bound, so an inexact
// search can only overstate delta, never understate it.

// Delta returns the smallest delta the conversion gives for rho-zCDP at eps:
// rho-zCDP implies (eps, Delta(rho, eps))-DP.
func Delta(rho, eps float64) (float64, error) {
	if !(rho >= 0) || math.IsInf(rho, 0) || !(eps >= 0) || math.IsInf(eps, 0) {
		return 0, fmt.Errorf("dp.Delta: rho %v, eps %v: %w", rho, eps, ErrInvalid)
	}
	return cdpDelta(rho, eps), nil
}

func cdpDelta(rho, eps float64) float64 {
	if rho == 0 {
		return 0
	}
	// The optimal alpha solves (2 alpha - 1) rho - eps + log(1 - 1/alpha) = 0;
	// the left side increases in alpha, so bisect. alpha >= 1.01 avoids the
	// cancellation near 1 (only reached when eps <= rho, a useless regime).
	lo, hi := 1.01, (eps+1)/(2*rho)+2
	for range 200 {
		a := (lo + hi) / 2
		if (2*a-1)*rho-eps+math.Log1p(-1/a) < 0 {
			lo = a
		} else {
			hi = a
		}
	}
	a := (lo + hi) / 2
	d := math.Exp((a-1)*(a*rho-eps)+a*math.Log1p(-1/a)) / (a - 1)
	return math.Min(d, 1)
}

// Epsilon returns the smallest eps such that rho-zCDP implies
// (eps, delta)-DP, to within 1e-12 relative, rounded up.
func Epsilon(rho, delta float64) (float64, error) {
	if !(rho >= 0) || math.IsInf(rho, 0) || !(delta > 0 && delta < 1) {
		return 0, fmt.Errorf("dp.Epsilon: rho %v, delta %v: %w", rho, delta, ErrInvalid)
	}
	if rho == 0 {
		return 0, nil
	}
	// Bun–Steinke's simple bound rho + 2 sqrt(rho log(1/delta)) is an upper end.
	lo, hi := 0.0, rho+2*math.Sqrt(rho*math.Log(1/delta))
	for range 200 {
		e := (lo + hi) / 2
		if cdpDelta(rho, e) <= delta {
			hi = e
		} else {
			lo = e
		}
	}
	return hi, nil
}

// Rho returns the largest rho such that rho-zCDP implies (eps, delta)-DP,
// rounded down: the budget a job may spend to promise (eps, delta).
func Rho(eps, delta float64) (float64, error) {
	if !(eps > 0) || math.IsInf(eps, 0) || !(delta > 0 && delta < 1) {
		return 0, fmt.Errorf("dp.Rho: eps %v, delta %v: %w", eps, delta, ErrInvalid)
	}
	lo, hi := 0.0, eps+1
	for range 200 {
		r := (lo + hi) / 2
		if cdpDelta(r, eps) <= delta {
			lo = r
		} else {
			hi = r
		}
	}
	return lo, nil
}

// GaussianRho is the zCDP cost of one (discrete) Gaussian measurement of
// L2 sensitivity 1 with noise variance sigma2.
func GaussianRho(sigma2 float64) float64 { return 1 / (2 * sigma2) }

// ExponentialRho is the zCDP cost of one eps-DP exponential mechanism
// (Cesar and Rogers 2021: the exponential mechanism is eps²/8-zCDP).
func ExponentialRho(eps float64) float64 { return eps * eps / 8 }
