package dp

import (
	"errors"
	"math"
	"testing"
)

// The statistical tests below use bands of at least 5 standard errors, so a
// correct sampler fails them with probability below 1e-6 while a sampler of
// the wrong scale (off by 5 % or more) fails them almost surely.

func TestDiscreteGaussianMoments(t *testing.T) {
	t.Parallel()
	cases := []struct {
		sigma2 float64
		draws  int
	}{
		{sigma2: 0.5, draws: 20000},
		{sigma2: 4, draws: 20000},
		{sigma2: 100, draws: 20000},
		{sigma2: 1500, draws: 20000},
	}
	for _, c := range cases {
		g, err := NewDiscreteGaussian(c.sigma2)
		if err != nil {
			t.Fatal(err)
		}
		want := discreteGaussianVariance(c.sigma2)
		var sum, sum2 float64
		for range c.draws {
			x, err := g.Sample()
			if err != nil {
				t.Fatal(err)
			}
			sum += float64(x)
			sum2 += float64(x) * float64(x)
		}
		n := float64(c.draws)
		mean := sum / n
		variance := sum2/n - mean*mean
		if se := math.Sqrt(want / n); math.Abs(mean) > 5*se {
			t.Errorf("sigma² %v: mean %.4f, want 0 ± %.4f", c.sigma2, mean, 5*se)
		}
		// The sample variance has standard error about sqrt(2/n) * variance
		// (kurtosis of a Gaussian); the discrete Gaussian's is no larger.
		if se := math.Sqrt(2/n) * want; math.Abs(variance-want) > 5*se {
			t.Errorf("sigma² %v: variance %.3f, want %.3f ± %.3f", c.sigma2, variance, want, 5*se)
		}
	}
}

// discreteGaussianVariance sums the discrete Gaussian's variance exactly (to
// float precision) from its probability mass function.
func discreteGaussianVariance(sigma2 float64) float64 {
	var z, v float64
	lim := int(20*math.Sqrt(sigma2)) + 10
	for x := -lim; x <= lim; x++ {
		w := math.Exp(-float64(x*x) / (2 * sigma2))
		z += w
		v += w * float64(x*x)
	}
	return v / z
}

func TestDiscreteGaussianPMF(t *testing.T) {
	t.Parallel()
	const sigma2, draws, lim = 2.0, 30000, 4
	g, err := NewDiscreteGaussian(sigma2)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[int64]float64{}
	for range draws {
		x, err := g.Sample()
		if err != nil {
			t.Fatal(err)
		}
		if x < -lim {
			x = -lim
		}
		if x > lim {
			x = lim
		}
		counts[x]++
	}
	// Expected mass, with the tails folded into the end cells.
	var z float64
	mass := map[int64]float64{}
	for x := int64(-40); x <= 40; x++ {
		w := math.Exp(-float64(x*x) / (2 * sigma2))
		z += w
		c := min(max(x, -lim), lim)
		mass[c] += w
	}
	chi2 := 0.0
	for x := int64(-lim); x <= lim; x++ {
		e := mass[x] / z * draws
		chi2 += (counts[x] - e) * (counts[x] - e) / e
	}
	// 9 cells, 8 degrees of freedom: P[chi² > 40] < 2e-6.
	if chi2 > 40 {
		t.Errorf("chi² = %.1f over 8 degrees of freedom, want < 40; counts %v", chi2, counts)
	}
}

func TestExponentialFrequencies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		scores []float64
		eps    float64
		sens   float64
	}{
		{name: "spread", scores: []float64{0, 1, 2, 3}, eps: 1, sens: 1},
		{name: "ties", scores: []float64{5, 5, 5}, eps: 2, sens: 1},
		{name: "peaked", scores: []float64{100, 96, 90, 0.5}, eps: 0.9, sens: 2},
		{name: "negative", scores: []float64{-3.25, -1.5, -2}, eps: 1.7, sens: 0.5},
	}
	const draws = 20000
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			hi := math.Inf(-1)
			for _, s := range c.scores {
				hi = math.Max(hi, s)
			}
			p := make([]float64, len(c.scores))
			z := 0.0
			for i, s := range c.scores {
				p[i] = math.Exp(c.eps * (s - hi) / (2 * c.sens))
				z += p[i]
			}
			got := make([]float64, len(c.scores))
			for range draws {
				i, err := Exponential(c.scores, c.eps, c.sens)
				if err != nil {
					t.Fatal(err)
				}
				got[i]++
			}
			chi2, df := 0.0, -1
			for i := range p {
				e := p[i] / z * draws
				if e < 1e-3 {
					// Practically never drawn: any draw at all is an error.
					if got[i] > 0 {
						t.Errorf("candidate %d drawn %v times, expected %.2g", i, got[i], e)
					}
					continue
				}
				chi2 += (got[i] - e) * (got[i] - e) / e
				df++
			}
			// P[chi²(3) > 30] < 2e-6; smaller df are tighter still.
			if chi2 > 30 {
				t.Errorf("chi² = %.1f over %d degrees of freedom; counts %v, probabilities %v", chi2, df, got, p)
			}
		})
	}
}

func TestExponentialInvalid(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		scores []float64
		eps    float64
		sens   float64
	}{
		{"empty", nil, 1, 1},
		{"zero eps", []float64{1}, 0, 1},
		{"nan score", []float64{math.NaN()}, 1, 1},
		{"inf score", []float64{math.Inf(1)}, 1, 1},
		{"zero sensitivity", []float64{1}, 1, 0},
	}
	for _, c := range cases {
		if _, err := Exponential(c.scores, c.eps, c.sens); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", c.name, err)
		}
	}
}

func TestNewDiscreteGaussianInvalid(t *testing.T) {
	t.Parallel()
	for _, s := range []float64{0, -1, math.NaN(), math.Inf(1), 1e16} {
		if _, err := NewDiscreteGaussian(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("sigma² %v: err %v, want ErrInvalid", s, err)
		}
	}
}

func TestDiscreteGaussianRoundsUp(t *testing.T) {
	t.Parallel()
	for _, s := range []float64{0.3, 1, 1499.99999, 1e6 / 3} {
		g, err := NewDiscreteGaussian(s)
		if err != nil {
			t.Fatal(err)
		}
		if g.Sigma2() < s || g.Sigma2() > s+1.0/SigmaDenominator {
			t.Errorf("sigma² %v became %v", s, g.Sigma2())
		}
		if g.Rho() > GaussianRho(s) {
			t.Errorf("sigma² %v: rho %v exceeds %v", s, g.Rho(), GaussianRho(s))
		}
	}
}

func BenchmarkDiscreteGaussian(b *testing.B) {
	g, err := NewDiscreteGaussian(1500)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Sample(); err != nil {
			b.Fatal(err)
		}
	}
}
