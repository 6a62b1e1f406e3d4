package dp

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
)

// The samplers below follow Canonne, Kamath and Steinke 2020, "The Discrete
// Gaussian for Differential Privacy", Algorithms 1–3: every random choice is a
// Bernoulli trial with an exactly rational probability, decided by comparing
// a uniform integer from crypto/rand with the numerator, so no floating-point
// rounding can leak through the low bits of a noisy answer (Mironov 2012).

// secureUniform returns an integer uniform on [0, n) from crypto/rand; n > 0.
func secureUniform(n *big.Int) (*big.Int, error) {
	if n.IsUint64() {
		u, err := secureUint64n(n.Uint64())
		if err != nil {
			return nil, err
		}
		return new(big.Int).SetUint64(u), nil
	}
	u, err := rand.Int(rand.Reader, n)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRandom, err)
	}
	return u, nil
}

// secureUint64n returns an integer uniform on [0, n) from crypto/rand by
// rejection (no modulo bias); n > 0.
func secureUint64n(n uint64) (uint64, error) {
	// Accept x below the largest multiple of n that fits in 2^64.
	limit := math.MaxUint64 - (math.MaxUint64%n+1)%n
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return 0, fmt.Errorf("%w: %w", ErrRandom, err)
		}
		x := binary.LittleEndian.Uint64(b[:])
		if x <= limit {
			return x % n, nil
		}
	}
}

// bernoulli returns true with probability num/den, 0 <= num <= den, den > 0.
func bernoulli(num, den *big.Int) (bool, error) {
	u, err := secureUniform(den)
	if err != nil {
		return false, err
	}
	return u.Cmp(num) < 0, nil
}

var bigOne = big.NewInt(1)

// bernoulliExp returns true with probability exp(-num/den), num >= 0,
// den > 0 (CKS Algorithm 1).
func bernoulliExp(num, den *big.Int) (bool, error) {
	if num.Cmp(den) <= 0 {
		return bernoulliExpSmall(num, den)
	}
	// exp(-g) = exp(-1)^floor(g) * exp(-(g - floor g)).
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	for ; q.Sign() > 0; q.Sub(q, bigOne) {
		ok, err := bernoulliExpSmall(bigOne, bigOne)
		if err != nil || !ok {
			return false, err
		}
	}
	return bernoulliExpSmall(r, den)
}

// bernoulliExpSmall is bernoulliExp for num/den in [0, 1]: it draws
// A_k ~ Bernoulli(g/k) for k = 1, 2, ... until one fails at K and returns
// whether K is odd, which happens with probability exp(-g).
func bernoulliExpSmall(num, den *big.Int) (bool, error) {
	k := int64(1)
	kd := new(big.Int)
	for {
		kd.Mul(den, big.NewInt(k))
		ok, err := bernoulli(num, kd)
		if err != nil {
			return false, err
		}
		if !ok {
			return k%2 == 1, nil
		}
		k++
	}
}

// discreteLaplace draws from the discrete Laplace distribution of scale t
// (P[x] proportional to exp(-|x|/t)), t >= 1 (CKS Algorithm 2 with s = 1).
func discreteLaplace(t *big.Int) (*big.Int, error) {
	for {
		u, err := secureUniform(t)
		if err != nil {
			return nil, err
		}
		d, err := bernoulliExp(u, t)
		if err != nil {
			return nil, err
		}
		if !d {
			continue
		}
		v := int64(0)
		for {
			a, err := bernoulliExpSmall(bigOne, bigOne)
			if err != nil {
				return nil, err
			}
			if !a {
				break
			}
			v++
		}
		x := new(big.Int).Mul(t, big.NewInt(v))
		x.Add(x, u)
		b, err := secureUint64n(2)
		if err != nil {
			return nil, err
		}
		if b == 1 && x.Sign() == 0 {
			continue
		}
		if b == 1 {
			x.Neg(x)
		}
		return x, nil
	}
}

// SigmaDenominator is the denominator of the rational noise variance a
// DiscreteGaussian uses: variances are rounded up to a multiple of
// 1/SigmaDenominator, so the privacy cost never exceeds the one asked for and
// the exact arithmetic stays within machine words for practical scales.
const SigmaDenominator = 1024

// DiscreteGaussian samples the discrete Gaussian distribution N_Z(0, sigma²)
// on the integers, P[x] proportional to exp(-x²/(2 sigma²)), exactly and from
// crypto/rand (CKS Algorithm 3). Added to an integer query of L2 sensitivity
// 1 it is 1/(2 sigma²)-zCDP, the same as continuous Gaussian noise, and its
// output is an integer, so a noisy count is released without rounding.
type DiscreteGaussian struct {
	p, q *big.Int // sigma² = p/q
	t    *big.Int // floor(sigma) + 1
	den  *big.Int // 2 p q t²
}

// NewDiscreteGaussian returns a sampler of variance parameter sigma2 rounded
// up to a multiple of 1/SigmaDenominator.
func NewDiscreteGaussian(sigma2 float64) (*DiscreteGaussian, error) {
	if !(sigma2 > 0) || sigma2 > 1e15 {
		return nil, fmt.Errorf("dp.NewDiscreteGaussian: sigma² %v outside (0, 1e15]: %w", sigma2, ErrInvalid)
	}
	p := big.NewInt(int64(math.Ceil(sigma2 * SigmaDenominator)))
	q := big.NewInt(SigmaDenominator)
	// t = floor(sqrt(p/q)) + 1 = floor(sqrt(p*q)/q) + 1 computed exactly:
	// the largest s with s² q <= p.
	s := new(big.Int).Sqrt(new(big.Int).Quo(p, q))
	for {
		n := new(big.Int).Add(s, bigOne)
		if new(big.Int).Mul(new(big.Int).Mul(n, n), q).Cmp(p) > 0 {
			break
		}
		s = n
	}
	t := new(big.Int).Add(s, bigOne)
	den := new(big.Int).Mul(p, q)
	den.Mul(den, t)
	den.Mul(den, t)
	den.Lsh(den, 1)
	return &DiscreteGaussian{p: p, q: q, t: t, den: den}, nil
}

// Sigma2 is the variance parameter actually used (after rounding up).
func (g *DiscreteGaussian) Sigma2() float64 {
	f, _ := new(big.Rat).SetFrac(g.p, g.q).Float64()
	return f
}

// Rho is the zCDP cost of one measurement of L2 sensitivity 1.
func (g *DiscreteGaussian) Rho() float64 { return GaussianRho(g.Sigma2()) }

// Sample draws one value.
func (g *DiscreteGaussian) Sample() (int64, error) {
	for {
		y, err := discreteLaplace(g.t)
		if err != nil {
			return 0, fmt.Errorf("dp.DiscreteGaussian: %w", err)
		}
		// Accept with probability exp(-(|y| - sigma²/t)² / (2 sigma²))
		// = exp(-(|y| q t - p)² / (2 p q t²)).
		num := new(big.Int).Abs(y)
		num.Mul(num, g.q)
		num.Mul(num, g.t)
		num.Sub(num, g.p)
		num.Mul(num, num)
		ok, err := bernoulliExp(num, g.den)
		if err != nil {
			return 0, fmt.Errorf("dp.DiscreteGaussian: %w", err)
		}
		if ok {
			if !y.IsInt64() {
				continue
			}
			return y.Int64(), nil
		}
	}
}

// AddNoise adds an independent draw to each count, in place.
func (g *DiscreteGaussian) AddNoise(counts []int64) error {
	for i := range counts {
		z, err := g.Sample()
		if err != nil {
			return err
		}
		counts[i] += z
	}
	return nil
}
