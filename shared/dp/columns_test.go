package dp

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/quality"
)

// TestColumnLoss prints, per column, the mean column shape and the mean
// trend of the pairs it is in, with the domain public and discovered, and
// how many categories each discovered column released: where the
// discovered domain loses on a table. Heavy; runs only with SYNTHOS_BIG=1:
//
//	SYNTHOS_BIG=1 go test -count=1 -run TestColumnLoss -v ./shared/dp/ -args -dp.tables credit -dp.fits 20
func TestColumnLoss(t *testing.T) {
	if os.Getenv("SYNTHOS_BIG") != "1" {
		t.Skip("set SYNTHOS_BIG=1 to print the per-column losses")
	}
	for _, name := range strings.Split(*curveTables, ",") {
		train := loadTable(t, name+".train.csv")
		holdout := loadTable(t, name+".holdout.csv")
		p := inferProfile(t, train)
		type acc struct{ shape, trend, ntrend, levels float64 }
		res := map[string][]acc{}
		var tot [2][2]float64
		for mi, mode := range []string{"public", "discovered"} {
			fp := p
			if mode == "public" {
				fp = publicDomain(t, p, loadTable(t, name+".csv"))
			}
			cols := make([]acc, len(p.Columns))
			for i := range *curveFits {
				m, err := Fit(context.Background(), train, fp, Options{Epsilon: 1, Delta: 1e-9})
				if err != nil {
					t.Fatal(err)
				}
				syn := sample(t, m, int64(len(train.Rows)), uint64(i%3+1))
				rep, err := quality.Evaluate(context.Background(), holdout, syn, nil, p, quality.Options{Triples: -1, DiscriminatorRows: -1})
				if err != nil {
					t.Fatal(err)
				}
				tot[mi][0] += rep.ColumnShapes / float64(*curveFits)
				tot[mi][1] += rep.ColumnPairTrends / float64(*curveFits)
				idx := map[string]int{}
				for j, c := range p.Columns {
					idx[c.Name] = j
				}
				for _, c := range rep.Columns {
					cols[idx[c.Name]].shape += c.Shape
				}
				for _, pr := range rep.Pairs {
					if pr.Skipped != "" {
						continue
					}
					for _, n := range []string{pr.A, pr.B} {
						cols[idx[n]].trend += pr.Trend
						cols[idx[n]].ntrend++
					}
				}
				for j := range p.Columns {
					if a := m.Cols[j].Attr; a >= 0 {
						cols[j].levels += float64(len(m.Attrs[a].Levels))
					}
				}
			}
			res[mode] = cols
		}
		var b strings.Builder
		fmt.Fprintf(&b, "\n%s: shapes / trends public %.3f / %.3f, discovered %.3f / %.3f\n", name, tot[0][0], tot[0][1], tot[1][0], tot[1][1])
		fmt.Fprintf(&b, "| column | kind | shape public | shape discovered | trend public | trend discovered | levels discovered |\n")
		n := float64(*curveFits)
		for j, c := range p.Columns {
			pu, di := res["public"][j], res["discovered"][j]
			fmt.Fprintf(&b, "| %s | %s | %.3f | %.3f | %.3f | %.3f | %.1f |\n", c.Name, c.Kind, pu.shape/n, di.shape/n,
				pu.trend/max(pu.ntrend, 1), di.trend/max(di.ntrend, 1), di.levels/n)
		}
		t.Log(b.String())
	}
}
