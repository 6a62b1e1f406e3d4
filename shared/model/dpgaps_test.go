package model_test

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/table"
)

// trips is a table of trips over one month: a start, an end 5 to 108
// minutes later (whole minutes, most trips short), a kind.
func trips(n int, seed uint64) *table.Table {
	rng := rand.New(rand.NewPCG(seed, 7))
	base := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	tb := &table.Table{Columns: []string{"start", "end", "kind"}}
	for range n {
		start := base.Add(time.Duration(rng.IntN(30*24*60)) * time.Minute)
		end := start.Add(time.Duration(5+int(103*rng.Float64()*rng.Float64())) * time.Minute)
		tb.Rows = append(tb.Rows, []string{start.Format("2006-01-02 15:04"), end.Format("2006-01-02 15:04"), []string{"bike", "scooter", "car"}[rng.IntN(3)]})
	}
	return tb
}

// durations returns each row's end − start in minutes, and how many rows
// end before they start.
func durations(tb testing.TB, rows [][]string) ([]float64, int) {
	tb.Helper()
	var out []float64
	neg := 0
	for _, r := range rows {
		a, err1 := time.Parse("2006-01-02 15:04", r[0])
		b, err2 := time.Parse("2006-01-02 15:04", r[1])
		if err1 != nil || err2 != nil {
			tb.Fatalf("row %q does not parse", r)
		}
		d := b.Sub(a).Minutes()
		if d < 0 {
			neg++
		}
		out = append(out, d)
	}
	slices.Sort(out)
	return out, neg
}

// ks is the Kolmogorov–Smirnov distance between two sorted samples.
func ks(a, b []float64) float64 {
	i, j, d := 0, 0, 0.0
	for i < len(a) && j < len(b) {
		x := math.Min(a[i], b[j])
		for i < len(a) && a[i] <= x {
			i++
		}
		for j < len(b) && b[j] <= x {
			j++
		}
		d = math.Max(d, math.Abs(float64(i)/float64(len(a))-float64(j)/float64(len(b))))
	}
	return d
}

// TestDPTripDurations: the dp model measures an order relation's gap under
// its budget, so its trips keep their order in at least 99% of rows and last
// as long as real ones (the durations' KS distance and median close), where
// a gap read from the model's own sample spans the month; the report
// charges the gap histogram.
func TestDPTripDurations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rows    int
		epsilon float64
		maxKS   float64
		// medTol bounds the median's relative error.
		medTol float64
	}{
		{"5000 rows, eps 1", 5000, 1, 0.08, 0.15},
		{"1000 rows, eps 1", 1000, 1, 0.2, 0.35},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tb := trips(tt.rows, 1)
			p, err := profile.Infer(tb, profile.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var rels []string
			for _, r := range p.Relations {
				rels = append(rels, r.String())
			}
			if !slices.Contains(rels, "start <= end") {
				t.Fatalf("relations %q lack start <= end", rels)
			}
			m, err := model.Fit(context.Background(), tb, p, model.Options{Kind: dp.KindDP, Seed: 1, Epsilon: tt.epsilon, Delta: 1e-9})
			if err != nil {
				t.Fatal(err)
			}
			d, ok := model.Unwrap(m).(*dp.Model)
			if !ok {
				t.Fatalf("model %T", model.Unwrap(m))
			}
			charged := false
			for _, s := range d.Report.Steps {
				charged = charged || s.Name == "relation gaps" && s.Count == 1 && s.Rho > 0
			}
			if !charged || !strings.Contains(d.Report.Statement, "gaps") || !strings.Contains(strings.Join(d.Report.Public, "; "), "start <= end") {
				t.Errorf("the gap histogram is not charged: %+v", d.Report.Steps)
			}
			real, _ := durations(t, tb.Rows)
			out := sample(t, m, 5000, 0, 1, 3, model.SampleOptions{})
			syn, neg := durations(t, out)
			if float64(neg) > 0.01*float64(len(out)) {
				t.Errorf("%d of %d trips end before they start", neg, len(out))
			}
			dist := ks(real, syn)
			rm, sm := real[len(real)/2], syn[len(syn)/2]
			t.Logf("durations: real median %.0f max %.0f min, synthetic median %.0f max %.0f; KS %.3f", rm, real[len(real)-1], sm, syn[len(syn)-1], dist)
			if dist > tt.maxKS {
				t.Errorf("durations' KS distance %.3f > %v", dist, tt.maxKS)
			}
			if math.Abs(sm-rm) > tt.medTol*rm {
				t.Errorf("median duration %.0f min, real %.0f", sm, rm)
			}
		})
	}
}

// TestElapsedKept: a trip's length in minutes next to its start and end is
// discovered as an elapsed time and kept by every model in at least 99% of
// rows (the repair recomputes it from the two datetimes), while the model's
// own report measures it.
func TestElapsedKept(t *testing.T) {
	t.Parallel()
	tb := trips(3000, 2)
	tb.Columns = append(tb.Columns, "minutes")
	for i, r := range tb.Rows {
		a, _ := time.Parse("2006-01-02 15:04", r[0])
		b, _ := time.Parse("2006-01-02 15:04", r[1])
		tb.Rows[i] = append(r, strconv.Itoa(int(b.Sub(a).Minutes())))
	}
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var el *relations.Relation
	for i, r := range p.Relations {
		if r.Kind == relations.Elapsed {
			el = &p.Relations[i]
		}
	}
	if el == nil || el.String() != "minutes = end - start in minutes" {
		t.Fatalf("relations %v lack minutes = end - start in minutes", p.Relations)
	}
	real := profile.RelationColumns(tb.Rows, p)
	for _, kind := range model.Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			m, err := model.Fit(context.Background(), tb, p, model.Options{Kind: kind, Seed: 1, Epsilon: 1})
			if err != nil {
				t.Fatal(err)
			}
			out := sample(t, m, 3000, 0, 1, 5, model.SampleOptions{})
			rs, ss, err := relations.Measure(*el, real, profile.RelationColumns(out, p))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: real %.4f, synthetic %.4f", el, rs.Rate, ss.Rate)
			if rs.Rate < 0.99 || ss.Rate < 0.99 {
				t.Errorf("%s: real %.4f, synthetic %.4f, want ≥ 0.99", el, rs.Rate, ss.Rate)
			}
		})
	}
}
