package dp

import (
	"fmt"
	"math"
	"math/big"
)

// Exponential runs the exponential mechanism: it returns index i with
// probability proportional to exp(eps * scores[i] / (2 * sensitivity)), which
// is eps-DP when each score changes by at most sensitivity between
// neighbouring datasets (and so eps²/8-zCDP).
//
// Sampling is exact: a candidate drawn uniformly is accepted with probability
// exp(-eps (max - score) / (2 sensitivity)), a Bernoulli trial on the exact
// rational value of that exponent (every float64 is a dyadic rational), so
// the selection probabilities are exactly the mechanism's. The expected
// number of trials is len(scores) / sum_i exp(-gap_i) <= len(scores).
func Exponential(scores []float64, eps, sensitivity float64) (int, error) {
	if len(scores) == 0 || !(eps > 0) || math.IsInf(eps, 0) || !(sensitivity > 0) || math.IsInf(sensitivity, 0) {
		return 0, fmt.Errorf("dp.Exponential: %d scores, eps %v, sensitivity %v: %w", len(scores), eps, sensitivity, ErrInvalid)
	}
	hi := math.Inf(-1)
	for _, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return 0, fmt.Errorf("dp.Exponential: score %v: %w", s, ErrInvalid)
		}
		hi = math.Max(hi, s)
	}
	scale := new(big.Rat).SetFloat64(eps)
	scale.Quo(scale, new(big.Rat).SetFloat64(2*sensitivity))
	max := new(big.Rat).SetFloat64(hi)
	gaps := make([]*big.Rat, len(scores))
	for i, s := range scores {
		g := new(big.Rat).Sub(max, new(big.Rat).SetFloat64(s))
		gaps[i] = g.Mul(g, scale)
	}
	m := uint64(len(scores))
	for {
		i, err := secureUint64n(m)
		if err != nil {
			return 0, fmt.Errorf("dp.Exponential: %w", err)
		}
		ok, err := bernoulliExp(gaps[i].Num(), gaps[i].Denom())
		if err != nil {
			return 0, fmt.Errorf("dp.Exponential: %w", err)
		}
		if ok {
			return int(i), nil
		}
	}
}
