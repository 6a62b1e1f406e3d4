package analytics

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestHoltKnownSeries: a noiseless line is forecast exactly, with an
// interval of (almost) zero width; a constant stays constant.
func TestHoltKnownSeries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		a, b     float64
		wantAt10 float64 // the forecast 10 steps past the last of 30 points
	}{
		{"line", 5, 2, 5 + 2*39},
		{"constant", 7, 0, 7},
		{"falling", 100, -1.5, 100 - 1.5*39},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := make([]float64, 30)
			for i := range y {
				y[i] = tc.a + tc.b*float64(i)
			}
			m, err := FitHolt(y)
			if err != nil {
				t.Fatal(err)
			}
			p := m.Forecast(10, Z80)[9]
			if math.Abs(p.Mean-tc.wantAt10) > 1e-6 || p.Upper-p.Lower > 1e-6 {
				t.Errorf("step 10 = %+v, want %g exactly", p, tc.wantAt10)
			}
		})
	}
	if _, err := FitHolt([]float64{1, 2, 3}); err == nil {
		t.Error("a 3-point series was fitted")
	}
}

// TestHoltIntervalWidens: the h-step variance grows with h.
func TestHoltIntervalWidens(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, 60)
	for i := range y {
		y[i] = 100 + 3*float64(i) + r.NormFloat64()*10
	}
	m, _ := FitHolt(y)
	pts := m.Forecast(14, Z80)
	for i := 1; i < len(pts); i++ {
		if pts[i].Upper-pts[i].Lower < pts[i-1].Upper-pts[i-1].Lower-1e-9 {
			t.Fatalf("interval narrows at step %d: %+v", i+1, pts)
		}
	}
	// The one-step interval is ±z·σ, and σ estimates the noise's 10.
	if w := (pts[0].Upper - pts[0].Lower) / 2 / Z80; w < 7 || w > 13 {
		t.Errorf("one-step sigma %.2f, want about 10", w)
	}
}

// TestHoltCoverage back-tests the 80% interval on synthetic daily usage
// series of several shapes (seeded, 300 series each): fit on the first 56
// days, forecast 1..14 days ahead, and count how often the truth falls
// inside. The target is at least 75% overall; each shape must reach 70%
// (a shape far below would be hidden by the others).
func TestHoltCoverage(t *testing.T) {
	const n, h, series = 56, 14, 300
	shapes := []struct {
		name string
		// gen returns day i's usage; r is the series' generator and p
		// holds its parameters (base, slope, noise).
		gen func(r *rand.Rand, i int, p *shapeParams) float64
	}{
		{"linear trend, gaussian noise", func(r *rand.Rand, i int, p *shapeParams) float64 {
			return p.base + p.slope*float64(i) + r.NormFloat64()*p.noise
		}},
		{"random-walk level", func(r *rand.Rand, i int, p *shapeParams) float64 {
			p.level += r.NormFloat64() * p.noise * 0.3
			return p.base + p.slope*float64(i) + p.level + r.NormFloat64()*p.noise
		}},
		{"trend change at day 40", func(r *rand.Rand, i int, p *shapeParams) float64 {
			slope := p.slope
			if i >= 40 {
				slope = p.slope * 1.5 // growth picks up late in the history
			}
			p.level += slope
			return p.base + p.level + r.NormFloat64()*p.noise
		}},
		{"weekly cycle (quiet weekends)", func(r *rand.Rand, i int, p *shapeParams) float64 {
			v := p.base + p.slope*float64(i) + r.NormFloat64()*p.noise
			if i%7 >= 5 {
				v *= 0.6
			}
			return v
		}},
		{"poisson counts, low volume", func(r *rand.Rand, i int, p *shapeParams) float64 {
			return poisson(r, math.Max(0.5, 3+p.slope/10*float64(i)))
		}},
		{"multiplicative noise", func(r *rand.Rand, i int, p *shapeParams) float64 {
			return (p.base + p.slope*float64(i)) * math.Exp(r.NormFloat64()*0.15)
		}},
	}
	r := rand.New(rand.NewPCG(42, 7))
	inside, total := 0, 0
	for _, sh := range shapes {
		in, tot := 0, 0
		for range series {
			p := shapeParams{base: 50 + r.Float64()*1000, slope: (r.Float64() - 0.3) * 20}
			p.noise = 1 + r.Float64()*0.2*p.base
			y := make([]float64, n+h)
			for i := range y {
				y[i] = sh.gen(r, i, &p)
			}
			m, err := FitHolt(y[:n])
			if err != nil {
				t.Fatal(err)
			}
			for _, pt := range m.Forecast(h, Z80) {
				if truth := y[n+pt.Step-1]; truth >= pt.Lower && truth <= pt.Upper {
					in++
				}
				tot++
			}
		}
		cov := float64(in) / float64(tot)
		t.Logf("%-32s 80%% interval coverage %.3f over %d forecasts", sh.name, cov, tot)
		if cov < 0.70 {
			t.Errorf("%s: coverage %.3f, want at least 0.70", sh.name, cov)
		}
		inside, total = inside+in, total+tot
	}
	cov := float64(inside) / float64(total)
	t.Logf("overall 80%% interval coverage: %.3f over %d forecasts", cov, total)
	if cov < 0.75 {
		t.Errorf("coverage %.3f, want at least 0.75", cov)
	}
}

type shapeParams struct{ base, slope, noise, level float64 }

// poisson draws a Poisson count of mean mu (Knuth's method: mu is small).
func poisson(r *rand.Rand, mu float64) float64 {
	l, k, p := math.Exp(-mu), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return float64(k)
		}
		k++
	}
}

func TestForecastExhaustion(t *testing.T) {
	last := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	// 1,000 rows a day, exactly: 20,000 used of 30,000 runs out in 10 days.
	y := make([]float64, 28)
	for i := range y {
		y[i] = 1000
	}
	e, err := ForecastExhaustion(y, last, 20000, 30000, 30)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Reached || !e.Date.Equal(last.AddDate(0, 0, 10)) || e.PlusMinusDays != 0 {
		t.Errorf("exhaustion = %+v, want 2026-03-20 ± 0", e)
	}
	// Noisy usage: the date is bracketed by the interval.
	r := rand.New(rand.NewPCG(3, 4))
	for i := range y {
		y[i] = 1000 + r.NormFloat64()*300
	}
	e, _ = ForecastExhaustion(y, last, 20000, 30000, 30)
	if !e.Reached || e.Earliest.After(e.Date) || (!e.Latest.IsZero() && e.Latest.Before(e.Date)) || e.PlusMinusDays < 1 {
		t.Errorf("noisy exhaustion = %+v", e)
	}
	// Flat zero usage never runs out.
	for i := range y {
		y[i] = 0
	}
	if e, _ := ForecastExhaustion(y, last, 10, 30000, 30); e.Reached {
		t.Errorf("zero usage runs out: %+v", e)
	}
}
