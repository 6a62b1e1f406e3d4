package analytics

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Holt is Holt's linear trend method (additive level and trend, ETS(A,A,N))
// fitted to a series: the smoothing weights minimise the one-step-ahead
// squared error over a grid, and the prediction intervals use the model's
// h-step variance σ²·(1 + Σ_{j<h} (α + jαβ)²) (Hyndman & Athanasopoulos,
// Forecasting: Principles and Practice, §8.7, table 8.8).
type Holt struct {
	Alpha, Beta  float64
	Level, Trend float64 // at the last observation
	Sigma        float64 // standard deviation of one-step-ahead errors
	N            int
}

// ErrShortSeries is returned for series under MinPoints long.
var ErrShortSeries = errors.New("analytics: series too short to forecast")

// MinPoints is the shortest series Holt fits.
const MinPoints = 4

// FitHolt fits Holt's method to y.
func FitHolt(y []float64) (*Holt, error) {
	if len(y) < MinPoints {
		return nil, fmt.Errorf("%w: %d points, need %d", ErrShortSeries, len(y), MinPoints)
	}
	best := &Holt{}
	bestSSE := math.Inf(1)
	for a := 0.05; a <= 0.951; a += 0.05 {
		for b := 0.0; b <= a+1e-9; b += 0.05 { // β ≤ α keeps the trend smoother than the level
			h, sse := runHolt(y, a, b)
			if sse < bestSSE {
				bestSSE, best = sse, h
			}
		}
	}
	// The errors of the first two points are the initialisation's.
	dof := float64(len(y) - 2 - 2)
	if dof < 1 {
		dof = 1
	}
	best.Sigma = math.Sqrt(bestSSE / dof)
	best.N = len(y)
	return best, nil
}

// initHolt starts the level and trend from a least-squares line through
// the first points (up to 10), at the first point. Starting from y[1]-y[0]
// puts twice the noise into the trend, which a small β carries for weeks:
// the one-step errors, and so σ and the intervals, came out inflated (the
// 80% interval covered over 90% in TestHoltCoverage).
func initHolt(y []float64) (level, trend float64) {
	k := min(len(y), 10)
	var sx, sy, sxx, sxy float64
	for i := range k {
		x := float64(i)
		sx, sy, sxx, sxy = sx+x, sy+y[i], sxx+x*x, sxy+x*y[i]
	}
	n := float64(k)
	trend = (n*sxy - sx*sy) / (n*sxx - sx*sx)
	return (sy - trend*sx) / n, trend
}

// runHolt smooths y with weights a and b and returns the final state and
// the sum of squared one-step-ahead errors from the third point on.
func runHolt(y []float64, a, b float64) (*Holt, float64) {
	level, trend := initHolt(y)
	var sse float64
	for t := 1; t < len(y); t++ {
		pred := level + trend
		if t >= 2 {
			e := y[t] - pred
			sse += e * e
		}
		prevLevel := level
		level = a*y[t] + (1-a)*(level+trend)
		trend = b*(level-prevLevel) + (1-b)*trend
	}
	return &Holt{Alpha: a, Beta: b, Level: level, Trend: trend}, sse
}

// Point is one forecast step with its prediction interval.
type Point struct {
	Step  int     `json:"step"`
	Mean  float64 `json:"mean"`
	Lower float64 `json:"lower"`
	Upper float64 `json:"upper"`
}

// Z80 is the standard normal quantile of a central 80% interval.
const Z80 = 1.2815515655446004

// Forecast returns h steps ahead with central prediction intervals of
// coverage given by z (Z80 for 80%).
func (m *Holt) Forecast(h int, z float64) []Point {
	out := make([]Point, h)
	var cum float64 // Σ_{j<step} c_j², c_0 = 1, c_j = α(1 + jβ)
	for step := 1; step <= h; step++ {
		j := float64(step - 1)
		if step == 1 {
			cum = 1
		} else {
			c := m.Alpha * (1 + j*m.Beta)
			cum += c * c
		}
		mean := m.Level + float64(step)*m.Trend
		half := z * m.Sigma * math.Sqrt(cum)
		out[step-1] = Point{Step: step, Mean: mean, Lower: mean - half, Upper: mean + half}
	}
	return out
}

// Exhaustion is when a cumulative quantity is forecast to reach a limit.
type Exhaustion struct {
	// Reached reports whether the limit is reached within the horizon.
	Reached bool `json:"reached"`
	// Date is when the point forecast reaches the limit; Earliest and
	// Latest are when the upper and lower 80% bounds of the daily
	// forecasts, summed, reach it (Latest is zero when the lower bound does
	// not reach it within the horizon).
	Date     time.Time `json:"date,omitzero"`
	Earliest time.Time `json:"earliest,omitzero"`
	Latest   time.Time `json:"latest,omitzero"`
	// PlusMinusDays is half the spread of Earliest..Latest, rounded up.
	PlusMinusDays int `json:"plus_minus_days"`
}

// ForecastExhaustion forecasts daily usage from history (one value a day,
// the last for lastDay) and reports when used plus the forecast daily
// usage reaches limit within horizon days. Negative daily forecasts count
// as zero: usage does not flow back.
func ForecastExhaustion(history []float64, lastDay time.Time, used, limit float64, horizon int) (Exhaustion, error) {
	var e Exhaustion
	if used >= limit {
		return Exhaustion{Reached: true, Date: lastDay, Earliest: lastDay, Latest: lastDay}, nil
	}
	m, err := FitHolt(history)
	if err != nil {
		return e, err
	}
	pts := m.Forecast(horizon, Z80)
	mean, lo, hi := used, used, used
	for _, p := range pts {
		day := lastDay.AddDate(0, 0, p.Step)
		mean += math.Max(p.Mean, 0)
		lo += math.Max(p.Lower, 0)
		hi += math.Max(p.Upper, 0)
		if e.Earliest.IsZero() && hi >= limit {
			e.Earliest = day
		}
		if !e.Reached && mean >= limit {
			e.Reached, e.Date = true, day
		}
		if e.Latest.IsZero() && lo >= limit {
			e.Latest = day
		}
	}
	if e.Reached {
		end := e.Latest
		if end.IsZero() {
			end = lastDay.AddDate(0, 0, horizon)
		}
		e.PlusMinusDays = int(math.Ceil(end.Sub(e.Earliest).Hours() / 24 / 2))
	}
	return e, nil
}
