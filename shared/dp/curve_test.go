package dp

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/table"
)

var (
	curveEps    = flag.String("dp.eps", "0.1,0.3,1,3,10", "epsilons of TestEpsilonUtilityCurve, comma-separated")
	curveTables = flag.String("dp.tables", "credit,insurance,adult", "tables of TestEpsilonUtilityCurve (names in ../shared/datasets)")
	curveModes  = flag.String("dp.modes", "public,discovered", "domain modes of TestEpsilonUtilityCurve")
	curveFits   = flag.Int("dp.fits", 3, "fits per cell of TestEpsilonUtilityCurve (sampling seeds 1..n)")
	curveMST    = flag.Bool("dp.mst", false, "TestEpsilonUtilityCurve: select the tree by MST's score, without AIM's noise penalty (to compare)")
)

// utility is the mean of a few fits' scores against the holdout.
type utility struct{ shapes, trends, bivariate float64 }

// publicDomain declares every column's domain public in p as a user's schema
// would: the categories and the bounds of the whole table (train and
// holdout), as MST, AIM and DataSynthesizer take a domain file.
func publicDomain(tb testing.TB, p *profile.Profile, full *table.Table) *profile.Profile {
	tb.Helper()
	q := *p
	q.Columns = slices.Clone(p.Columns)
	for j := range q.Columns {
		c := &q.Columns[j]
		seen := map[string]bool{}
		var cats []string
		lo, hi := 0.0, 0.0
		first := true
		for _, r := range full.Rows {
			cell := r[j]
			if profile.IsMissing(cell, c) {
				continue
			}
			switch c.Kind {
			case profile.Categorical:
				v := strings.TrimSpace(cell)
				if !seen[v] {
					seen[v] = true
					cats = append(cats, v)
				}
			case profile.Numeric, profile.Datetime:
				v, ok := parseValue(c.Kind, c.Format, cell)
				if !ok {
					continue
				}
				if first || v < lo {
					lo = v
				}
				if first || v > hi {
					hi = v
				}
				first = false
			}
		}
		switch c.Kind {
		case profile.Categorical:
			slices.Sort(cats)
			c.Categories = cats
		case profile.Numeric, profile.Datetime:
			c.Min, c.Max, c.PublicBounds = lo, hi, true
		}
	}
	return &q
}

// measureUtility fits fits models at eps on name.train and scores a sample
// of the training size against name.holdout.
func measureUtility(tb testing.TB, name, mode string, eps float64, fits int) utility {
	tb.Helper()
	train := loadTable(tb, name+".train.csv")
	holdout := loadTable(tb, name+".holdout.csv")
	p := inferProfile(tb, train)
	fp := p
	switch mode {
	case "public":
		fp = publicDomain(tb, p, loadTable(tb, name+".csv"))
	case "discovered":
	default:
		tb.Fatalf("mode %q: want public or discovered", mode)
	}
	var u utility
	for i := range fits {
		m, err := Fit(context.Background(), train, fp, Options{Epsilon: eps, Delta: 1e-9})
		if err != nil {
			tb.Fatal(err)
		}
		syn := sample(tb, m, int64(len(train.Rows)), uint64(i+1))
		rep, err := quality.Evaluate(context.Background(), holdout, syn, nil, p, quality.Options{Triples: -1, DiscriminatorRows: -1})
		if err != nil {
			tb.Fatal(err)
		}
		u.shapes += rep.ColumnShapes / float64(fits)
		u.trends += rep.ColumnPairTrends / float64(fits)
		u.bivariate += rep.Accuracy.Bivariate / float64(fits)
	}
	return u
}

// TestEpsilonUtilityCurve prints the ε–utility table of README.md: column
// shapes / column pair trends / bivariate accuracy against the holdout, the
// mean of -dp.fits fits per cell, with the domain public and discovered.
// It is heavy (adult at five budgets), so it runs only with SYNTHOS_BIG=1:
//
//	SYNTHOS_BIG=1 go test -count=1 -run TestEpsilonUtilityCurve -v ./shared/dp/
func TestEpsilonUtilityCurve(t *testing.T) {
	if os.Getenv("SYNTHOS_BIG") != "1" {
		t.Skip("set SYNTHOS_BIG=1 to print the ε–utility curve")
	}
	if *curveMST {
		selectPenalty = false
		t.Cleanup(func() { selectPenalty = true })
	}
	var epss []float64
	for _, s := range strings.Split(*curveEps, ",") {
		e, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			t.Fatalf("-dp.eps: %v", err)
		}
		epss = append(epss, e)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| table | domain |")
	for _, e := range epss {
		fmt.Fprintf(&b, " ε = %g |", e)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(epss)) + "\n")
	for _, name := range strings.Split(*curveTables, ",") {
		for _, mode := range strings.Split(*curveModes, ",") {
			fmt.Fprintf(&b, "| %s | %s |", name, mode)
			for _, e := range epss {
				u := measureUtility(t, name, mode, e, *curveFits)
				fmt.Fprintf(&b, " %.3f / %.3f / %.3f |", u.shapes, u.trends, u.bivariate)
				t.Logf("%s %s eps %g: shapes %.3f trends %.3f bivariate %.3f", name, mode, e, u.shapes, u.trends, u.bivariate)
			}
			b.WriteString("\n")
		}
	}
	t.Log("shapes / trends / bivariate accuracy:" + b.String())
}
