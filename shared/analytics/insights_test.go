package analytics

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestAnalyze builds 56 days of a tenant: steady usage, then a last week
// with lower quality, more failures and more epsilon, and a dataset where
// tree beats copula; every flag and recommendation must be raised with its
// figures, and the trends must add up.
func TestAnalyze(t *testing.T) {
	asOf := time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)
	var days []Daily
	for i := range 56 {
		d := asOf.AddDate(0, 0, -i).Format(time.DateOnly)
		last7 := i < 7
		daily := Daily{Tenant: "t", Dataset: "ds", Day: d, Jobs: 4, Succeeded: 4, Rows: 1000,
			Quality: Score{Sum: 4 * 0.9, N: 4}, Epsilon: 0.1, ComputeCost: 0.01, AICost: 0.02,
			QualityByModel: map[string]Score{"tree": {Sum: 2 * 0.92, N: 2}, "copula": {Sum: 2 * 0.85, N: 2}}}
		if last7 {
			daily.Quality = Score{Sum: 4 * 0.8, N: 4}
			daily.Succeeded, daily.Failed = 3, 1
			daily.Failures = map[string]int64{"internal": 1}
			daily.Epsilon = 0.5
			daily.Rows = 2000
			daily.AICost = 0.07
		}
		days = append(days, daily)
	}
	in := Analyze(days, asOf, &Quota{Used: 40000, Limit: 60000, ResetsAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	if len(in.Trends) != 2 || in.Trends[0].Days != 7 || in.Trends[0].Rows != 14000 || in.Trends[0].PrevRows != 7000 || *in.Trends[0].Change != 1 {
		t.Errorf("7-day trend = %+v, want 14,000 rows against 7,000 (+100%%)", in.Trends[0])
	}
	if tr := in.Trends[1]; tr.Rows != 7*2000+21*1000 || tr.PrevRows != 28000 {
		t.Errorf("28-day trend = %+v", tr)
	}
	// Cost: $0.03 a day (0.01 compute + 0.02 AI), $0.08 in the last 7
	// days. 7 days: 7 × 0.08 = $0.56 against 7 × 0.03 = $0.21, a change
	// of 0.35 / 0.21 = +166.7%. 28 days: 0.56 + 21 × 0.03 = $1.19 against
	// 28 × 0.03 = $0.84, +41.7%.
	for i, want := range []struct{ cost, prev, change float64 }{{0.56, 0.21, 0.35 / 0.21}, {1.19, 0.84, 0.35 / 0.84}} {
		tr := in.Trends[i]
		if math.Abs(tr.Cost-want.cost) > 1e-9 || math.Abs(tr.PrevCost-want.prev) > 1e-9 || tr.CostChange == nil || math.Abs(*tr.CostChange-want.change) > 1e-6 {
			t.Errorf("%d-day cost trend = $%v against $%v (change %v), want $%v against $%v (%+.4f)", tr.Days, tr.Cost, tr.PrevCost, tr.CostChange, want.cost, want.prev, want.change)
		}
	}
	kinds := map[string]Flag{}
	for _, f := range in.Flags {
		kinds[f.Kind] = f
	}
	for _, k := range []string{"quality_drop", "failure_spike", "epsilon_burn"} {
		if _, ok := kinds[k]; !ok {
			t.Errorf("no %s flag; flags %+v", k, in.Flags)
		}
	}
	if f := kinds["quality_drop"]; !strings.Contains(f.Evidence, "0.800") || !strings.Contains(f.Evidence, "0.900") {
		t.Errorf("quality_drop evidence %q lacks the two means", f.Evidence)
	}
	var model, quota bool
	for _, r := range in.Recommendations {
		if strings.Contains(r.Message, "the tree model scores +0.07 over copula") && r.Dataset == "ds" {
			model = true
		}
		if strings.Contains(r.Message, "rows will exceed the plan on 2026-03-3") {
			quota = true // usage doubled a week ago: the end of March
		}
	}
	if !model || !quota {
		t.Errorf("recommendations %+v: want tree over copula (+0.07) and the plan exceeded at the end of March", in.Recommendations)
	}

	// Steady usage of 2,000 rows a day: 40,000 of 60,000 used on 03-20
	// runs out on 03-30 exactly.
	steady := make([]Daily, 28)
	for i := range steady {
		steady[i] = Daily{Day: asOf.AddDate(0, 0, -i).Format(time.DateOnly), Rows: 2000}
	}
	in = Analyze(steady, asOf, &Quota{Used: 40000, Limit: 60000, ResetsAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	if in.Quota == nil || in.Quota.Date.Format(time.DateOnly) != "2026-03-30" || in.Quota.PlusMinusDays != 0 {
		t.Errorf("steady quota forecast = %+v, want 2026-03-30 ± 0", in.Quota)
	}

	// A quiet tenant gets no flags.
	quiet := Analyze(days[7:], asOf.AddDate(0, 0, -7), nil)
	if len(quiet.Flags) != 0 {
		t.Errorf("steady usage flagged: %+v", quiet.Flags)
	}
}
