package analytics

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// Trend compares the last Days days with the Days before them.
type Trend struct {
	Days     int      `json:"days"`
	Rows     float64  `json:"rows"`      // total of the last Days
	PrevRows float64  `json:"prev_rows"` // total of the Days before
	Change   *float64 `json:"change"`    // (Rows - PrevRows) / PrevRows; nil when PrevRows is 0
	Quality  *float64 `json:"quality"`   // mean quality of the last Days
	Failed   int64    `json:"failed"`
	Jobs     int64    `json:"jobs"`
	// Cost and PrevCost are the US dollars (estimated compute + AI) of
	// the last Days and the Days before; CostChange is their relative
	// change, nil when PrevCost is 0.
	Cost       float64  `json:"cost_usd"`
	PrevCost   float64  `json:"prev_cost_usd"`
	CostChange *float64 `json:"cost_change"`
}

// Flag is an anomaly with the figures that raised it.
type Flag struct {
	Kind     string `json:"kind"` // quality_drop, failure_spike, epsilon_burn
	Message  string `json:"message"`
	Evidence string `json:"evidence"`
}

// Recommendation is advice with its evidence.
type Recommendation struct {
	Dataset  string `json:"dataset,omitempty"`
	Message  string `json:"message"`
	Evidence string `json:"evidence"`
}

// Insights are a tenant's trends, quota forecast, anomaly flags and
// recommendations.
type Insights struct {
	AsOf            string           `json:"as_of"`
	Trends          []Trend          `json:"trends"`
	Quota           *Exhaustion      `json:"quota_exhaustion,omitempty"`
	Flags           []Flag           `json:"flags"`
	Recommendations []Recommendation `json:"recommendations"`
}

// Quota is what the quota forecast needs: the month's rows used and the
// plan's monthly limit.
type Quota struct {
	Used, Limit int64
	ResetsAt    time.Time
}

// Thresholds of the anomaly flags and recommendations.
const (
	// QualityDrop flags a 7-day mean quality this far under the 28 days
	// before.
	QualityDrop = 0.05
	// FailureSpikeFactor flags a 7-day failure rate this many times the
	// 28 days before's (and at least FailureSpikeMin failures).
	FailureSpikeFactor = 2
	FailureSpikeMin    = 3
	// EpsilonBurnFactor flags 7-day epsilon spending this many times the
	// daily average of the 28 days before.
	EpsilonBurnFactor = 2
	// ModelGap is the quality difference between models that is worth a
	// recommendation, with at least ModelMinJobs jobs each.
	ModelGap     = 0.02
	ModelMinJobs = 2
)

// Analyze derives insights from a tenant's daily aggregates (all
// datasets) up to asOf, which should cover at least the last 35 days.
func Analyze(days []Daily, asOf time.Time, q *Quota) *Insights {
	asOf = truncDay(asOf)
	in := &Insights{AsOf: asOf.Format(time.DateOnly), Flags: []Flag{}, Recommendations: []Recommendation{}}
	// Totals per day, oldest first, over the last 56 days.
	const span = 56
	type dayTotal struct {
		rows, eps   float64
		cost        float64
		jobs, fails int64
		quality     Score
	}
	series := make([]dayTotal, span)
	first := asOf.AddDate(0, 0, -(span - 1))
	byDataset := map[string]map[string]Score{}
	for _, d := range days {
		t, err := time.Parse(time.DateOnly, d.Day)
		if err != nil || t.Before(first) || t.After(asOf) {
			continue
		}
		i := int(t.Sub(first).Hours() / 24)
		s := &series[i]
		s.rows += float64(d.Rows)
		s.eps += d.Epsilon
		s.cost += d.Cost()
		s.jobs += d.Jobs
		s.fails += d.Failed
		s.quality.add(d.Quality)
		if i >= span-28 {
			for m, sc := range d.QualityByModel {
				if byDataset[d.Dataset] == nil {
					byDataset[d.Dataset] = map[string]Score{}
				}
				x := byDataset[d.Dataset][m]
				x.add(sc)
				byDataset[d.Dataset][m] = x
			}
		}
	}
	window := func(from, to int) (rows, eps float64, jobs, fails int64, q Score) {
		for i := from; i < to; i++ {
			rows += series[i].rows
			eps += series[i].eps
			jobs += series[i].jobs
			fails += series[i].fails
			q.add(series[i].quality)
		}
		return
	}
	costOf := func(from, to int) float64 {
		var c float64
		for i := from; i < to; i++ {
			c += series[i].cost
		}
		return round(c, 6)
	}
	for _, n := range []int{7, 28} {
		rows, _, jobs, fails, qs := window(span-n, span)
		prev, _, _, _, _ := window(span-2*n, span-n)
		tr := Trend{Days: n, Rows: rows, PrevRows: prev, Quality: qs.Mean(), Failed: fails, Jobs: jobs}
		if prev > 0 {
			c := (rows - prev) / prev
			tr.Change = &c
		}
		tr.Cost, tr.PrevCost = costOf(span-n, span), costOf(span-2*n, span-n)
		if tr.PrevCost > 0 {
			c := (tr.Cost - tr.PrevCost) / tr.PrevCost
			tr.CostChange = &c
		}
		in.Trends = append(in.Trends, tr)
	}

	// Anomalies: the last 7 days against the 28 before them.
	_, eps7, jobs7, fails7, q7 := window(span-7, span)
	_, eps28, jobs28, fails28, q28 := window(span-35, span-7)
	if m7, m28 := q7.Mean(), q28.Mean(); m7 != nil && m28 != nil && *m28-*m7 >= QualityDrop {
		in.Flags = append(in.Flags, Flag{Kind: "quality_drop",
			Message:  fmt.Sprintf("quality fell %.3f in the last 7 days", *m28-*m7),
			Evidence: fmt.Sprintf("mean quality %.3f over %d jobs in the last 7 days, %.3f over %d jobs in the 28 days before", *m7, q7.N, *m28, q28.N)})
	}
	if jobs7 > 0 && fails7 >= FailureSpikeMin {
		rate7 := float64(fails7) / float64(jobs7)
		rate28 := 0.0
		if jobs28 > 0 {
			rate28 = float64(fails28) / float64(jobs28)
		}
		if rate7 >= FailureSpikeFactor*rate28 {
			in.Flags = append(in.Flags, Flag{Kind: "failure_spike",
				Message:  fmt.Sprintf("%d of %d jobs failed in the last 7 days", fails7, jobs7),
				Evidence: fmt.Sprintf("failure rate %.1f%% in the last 7 days, %.1f%% (%d of %d) in the 28 days before", 100*rate7, 100*rate28, fails28, jobs28)})
		}
	}
	if daily28 := eps28 / 28; eps7 > 0 && eps7/7 >= EpsilonBurnFactor*daily28 {
		in.Flags = append(in.Flags, Flag{Kind: "epsilon_burn",
			Message:  fmt.Sprintf("epsilon spent %.2f a day in the last 7 days", eps7/7),
			Evidence: fmt.Sprintf("ε %.3f in the last 7 days against %.3f a day over the 28 days before", eps7, daily28)})
	}

	// Recommendations: a better model per dataset, over the last 28 days.
	names := make([]string, 0, len(byDataset))
	for ds := range byDataset {
		names = append(names, ds)
	}
	sort.Strings(names)
	for _, ds := range names {
		type ms struct {
			model string
			mean  float64
			n     int64
		}
		var models []ms
		for m, sc := range byDataset[ds] {
			if sc.N >= ModelMinJobs {
				models = append(models, ms{m, *sc.Mean(), sc.N})
			}
		}
		if len(models) < 2 {
			continue
		}
		sort.Slice(models, func(i, j int) bool {
			if models[i].mean != models[j].mean {
				return models[i].mean > models[j].mean
			}
			return models[i].model < models[j].model
		})
		best, next := models[0], models[1]
		if gap := best.mean - next.mean; gap >= ModelGap {
			in.Recommendations = append(in.Recommendations, Recommendation{Dataset: ds,
				Message:  fmt.Sprintf("dataset %s: the %s model scores %+.2f over %s; prefer it", ds, best.model, gap, next.model),
				Evidence: fmt.Sprintf("mean quality %.3f over %d %s jobs and %.3f over %d %s jobs in the last 28 days", best.mean, best.n, best.model, next.mean, next.n, next.model)})
		}
	}

	// Quota: forecast the month's rows from the last 28 days of usage.
	if q != nil && q.Limit > 0 {
		hist := make([]float64, 28)
		for i := range hist {
			hist[i] = series[span-28+i].rows
		}
		horizon := int(math.Ceil(q.ResetsAt.Sub(asOf).Hours() / 24))
		if horizon < 1 {
			horizon = 1
		}
		if e, err := ForecastExhaustion(hist, asOf, float64(q.Used), float64(q.Limit), horizon); err == nil {
			in.Quota = &e
			if e.Reached {
				in.Recommendations = append(in.Recommendations, Recommendation{
					Message: fmt.Sprintf("rows will exceed the plan on %s ± %d days; raise the plan or spread the jobs", e.Date.Format(time.DateOnly), e.PlusMinusDays),
					Evidence: fmt.Sprintf("%d of %d rows used; Holt's linear forecast of the last 28 days' daily rows (80%% interval: %s to %s)",
						q.Used, q.Limit, e.Earliest.Format(time.DateOnly), orLater(e.Latest))})
			}
		}
	}
	return in
}

func orLater(t time.Time) string {
	if t.IsZero() {
		return "after the reset"
	}
	return t.Format(time.DateOnly)
}
