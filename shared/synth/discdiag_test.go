package synth

import (
	"context"
	"os"
	"testing"

	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/table"
)

// featureAUC is the quality report's discriminator restricted to the
// named columns (three folds, seed 1): the cross-validated AUC of its
// classifier telling real rows from synthetic ones.
func featureAUC(tb testing.TB, real, syn *table.Table, p *profile.Profile, cols ...string) float64 {
	tb.Helper()
	sp := &profile.Profile{Version: p.Version}
	for _, name := range cols {
		sp.Columns = append(sp.Columns, *p.Col(name))
	}
	d, err := quality.Discriminate(context.Background(), real, syn, sp, quality.Options{Seed: 1, Folds: 3})
	if err != nil {
		tb.Fatal(err)
	}
	return d.AUC
}

// TestDiscriminatorDiagnosis logs, on the generated trips and sensors
// tables, the tree model's discriminator AUC and the AUC of a
// discriminator given one column or one pair of columns. It is a tool for
// finding what gives synthetic rows away, run with SYNTHOS_DISC_DIAG=1.
func TestDiscriminatorDiagnosis(t *testing.T) {
	if os.Getenv("SYNTHOS_DISC_DIAG") == "" {
		t.Skip("set SYNTHOS_DISC_DIAG=1 to run the diagnosis")
	}
	for _, name := range []string{"trips", "stations", "sensors"} {
		if only := os.Getenv("SYNTHOS_DISC_TABLE"); only != "" && only != name {
			continue
		}
		train, hold := realisticTables(name)
		p, err := profile.Infer(train, profile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range p.Columns {
			t.Logf("%s profile: %s kind=%s int=%v dec=%d fmt=%q", name, c.Name, c.Kind, c.Integer, c.Decimals, c.Format)
		}
		for _, r := range p.Relations {
			t.Logf("%s relation: %+v", name, r)
		}
		ctx := context.Background()
		m, err := model.Fit(ctx, train, p, model.Options{Kind: KindTree, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if tm, err := Fit(ctx, train, p, FitOptions{Seed: 1}); err == nil {
			tr := tm.(*Tree)
			for k, lk := range tr.Links {
				lines, groups := 0, 0
				for _, ln := range lk.Lines {
					if ln.N > 0 {
						lines++
					}
				}
				for _, p := range lk.GroupParent {
					if p >= 0 {
						groups++
					}
				}
				t.Logf("%s %s: %d leaves, %d with a line, %d with groups (%d groups)", name, tr.Schema.Cols[tr.Schema.Modelled[k]].Name, len(tr.Carts[k].LeafStart)-1, lines, groups, len(lk.GroupCodes))
			}
		}
		syn := sampleTable(t, m, int64(len(train.Rows)), 1)
		q, err := quality.Evaluate(ctx, hold, syn, nil, p, quality.Options{Seed: 1, Triples: -1})
		if err != nil {
			t.Fatal(err)
		}
		pr := measure(t, train, hold, syn, p)
		t.Logf("%s: AUC %.4f (folds %v), shapes %.4f, pairs %.4f, DCR share %.4f, identical %.5f (holdout %.5f)", name, q.Discriminator.AUC, q.Discriminator.FoldAUC, q.ColumnShapes, q.ColumnPairTrends, pr.dcrShare, pr.identical, pr.baseIdentical)
		var cols []string
		for _, c := range p.Columns {
			switch c.Kind {
			case profile.Numeric, profile.Datetime, profile.Categorical, profile.Boolean:
				cols = append(cols, c.Name)
			}
		}
		for _, c := range cols {
			t.Logf("%s single %-14s AUC %.4f  distinct real %d synth %d", name, c, featureAUC(t, hold, syn, p, c), distinct(hold, c), distinct(syn, c))
		}
		if os.Getenv("SYNTHOS_DISC_LOO") != "" {
			for i := range cols {
				rest := append(append([]string(nil), cols[:i]...), cols[i+1:]...)
				t.Logf("%s without %-14s AUC %.4f", name, cols[i], featureAUC(t, hold, syn, p, rest...))
			}
		}
		if os.Getenv("SYNTHOS_DISC_PAIRS") != "" {
			for i := range cols {
				for j := i + 1; j < len(cols); j++ {
					t.Logf("%s pair %s,%s AUC %.4f", name, cols[i], cols[j], featureAUC(t, hold, syn, p, cols[i], cols[j]))
				}
			}
		}
	}
}

func distinct(t *table.Table, col string) int {
	j := t.Col(col)
	seen := map[string]bool{}
	for _, r := range t.Rows {
		seen[r[j]] = true
	}
	return len(seen)
}

// realisticTables returns the train and holdout parts of a generated table.
func realisticTables(name string) (train, hold *table.Table) {
	switch name {
	case "trips":
		return tripsTable(1, 5146, false), tripsTable(2, 5146, false)
	case "stations":
		return tripsTable(1, 5146, true), tripsTable(2, 5146, true)
	case "sensors":
		return sensorsTable(1, 43000), sensorsTable(2, 43000)
	}
	panic(name)
}
