package synth

import (
	"context"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/table"
)

func envF(name string, def float64) float64 {
	if s := os.Getenv(name); s != "" {
		v, _ := strconv.ParseFloat(s, 64)
		return v
	}
	return def
}

func TestTuneSweep(t *testing.T) {
	if os.Getenv("SYNTH_TUNE") == "" {
		t.Skip()
	}
	sets := strings.Split(os.Getenv("SYNTH_TUNE"), ",")
	seeds := int(envF("SEEDS", 3))
	opts := FitOptions{MinLeaf: int(envF("MINLEAF", 0)), Smoothing: envF("SMOOTH", 0), MinSplitStat: envF("STAT", 0)}
	if o := os.Getenv("ORDER"); o != "" {
		opts.Order = strings.Split(o, ",")
	}
	for _, name := range sets {
		train, hold := readCSV(t, name+".train.csv"), readCSV(t, name+".holdout.csv")
		var p *profile.Profile
		if name == "adult" && os.Getenv("INFER") == "" {
			p = adultProfile()
		} else {
			var err error
			p, err = profile.Infer(train, profile.Options{})
			if err != nil {
				t.Fatal(err)
			}
		}
		if os.Getenv("SHOWPROF") != "" {
			for _, c := range p.Columns {
				t.Logf("%s %s %v int=%v", name, c.Name, c.Kind, c.Integer)
			}
		}
		ceil, err := quality.Evaluate(context.Background(), hold, train, nil, p, quality.Options{Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		cpriv, err := privacy.Evaluate(context.Background(), train, hold, hold, p, privacy.Options{Seed: 1, MaxQueries: int(envF("MAXQ", 0))})
		if err != nil {
			t.Fatal(err)
		}
		auc := 0.0
		if ceil.Discriminator != nil {
			auc = ceil.Discriminator.AUC
		}
		t.Logf("%s ceiling: shapes %.4f pairs %.4f bivar %.4f auc %.4f | holdout ident %.5f", name, ceil.ColumnShapes, ceil.ColumnPairTrends, ceil.Accuracy.Bivariate, auc, cpriv.Identical.HoldoutShare)
		m, err := Fit(context.Background(), train, p, opts)
		if err != nil {
			t.Fatal(err)
		}
		for s := 1; s <= seeds; s++ {
			syn := sampleTable(t, m, int64(len(train.Rows)), uint64(s*7))
			q, err := quality.Evaluate(context.Background(), hold, syn, nil, p, quality.Options{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if d := os.Getenv("DROPS"); d != "" {
				for _, col := range strings.Split(d, ";") {
					keep := strings.Split(col, ",")
					pt, pp := project(train, p, keep), project(hold, p, keep)
					ps := project(syn, p, keep)
					pr, err := privacy.Evaluate(context.Background(), pt, pp, ps, pp2(p, keep), privacy.Options{Seed: 1, MaxQueries: int(envF("MAXQ", 0))})
					if err != nil {
						t.Fatal(err)
					}
					t.Logf("  drop %s: dcr %.4f eq %.4f ties %d", col, pr.DCR.CloserToTrainShare, pr.DCR.EqualSizeShare, pr.DCR.Ties)
				}
			}
			pr, err := privacy.Evaluate(context.Background(), train, hold, syn, p, privacy.Options{Seed: 1, MaxQueries: int(envF("MAXQ", 0))})
			if err != nil {
				t.Fatal(err)
			}
			if os.Getenv("PAIRS") != "" {
				ps := append([]quality.PairReport(nil), q.Pairs...)
				ci := map[string]float64{}
				for _, pr := range ceil.Pairs {
					ci[pr.A+"|"+pr.B] = pr.Trend
				}
				sort.Slice(ps, func(a, b int) bool { return ps[a].Trend-ci[ps[a].A+"|"+ps[a].B] < ps[b].Trend-ci[ps[b].A+"|"+ps[b].B] })
				for _, pr := range ps[:15] {
					t.Logf("   pair %s x %s: %.4f ceil %.4f (%s)", pr.A, pr.B, pr.Trend, ci[pr.A+"|"+pr.B], pr.Metric)
				}
				for _, c := range q.Columns {
					t.Logf("   col %s: %.4f", c.Name, c.Shape)
				}
			}
			auc := 0.0
			if q.Discriminator != nil {
				auc = q.Discriminator.AUC
			}
			t.Logf("%s seed %d: shapes %.4f pairs %.4f bivar %.4f auc %.4f | dcr %.4f eq %.4f ident %.5f (hold %.5f) mia %.4f",
				name, s*7, q.ColumnShapes, q.ColumnPairTrends, q.Accuracy.Bivariate, auc, pr.DCR.CloserToTrainShare, pr.DCR.EqualSizeShare, pr.Identical.SyntheticShare, pr.Identical.HoldoutShare, pr.Membership.AUC)
		}
	}
}

func project(t *table.Table, p *profile.Profile, drop []string) *table.Table {
	var idx []int
	var cols []string
	for j, c := range t.Columns {
		if !contains(drop, c) {
			idx = append(idx, j)
			cols = append(cols, c)
		}
	}
	out := &table.Table{Columns: cols}
	for _, r := range t.Rows {
		nr := make([]string, len(idx))
		for k, j := range idx {
			nr[k] = r[j]
		}
		out.Rows = append(out.Rows, nr)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func pp2(p *profile.Profile, drop []string) *profile.Profile {
	q := &profile.Profile{Version: p.Version}
	for _, c := range p.Columns {
		if !contains(drop, c.Name) {
			q.Columns = append(q.Columns, c)
		}
	}
	return q
}
