package privacy

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"synthos.dev/synthos/internal/testdata"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// loadCSV reads a shared dataset, cached, failing clearly if it is missing.
func loadCSV(tb testing.TB, name string) *table.Table {
	tb.Helper()
	return testdata.Table(tb, name)
}

// adult returns the Adult train and holdout split and the profile Infer
// gives the training table.
func adult(tb testing.TB) (train, holdout *table.Table, p *profile.Profile) {
	tb.Helper()
	train, holdout = loadCSV(tb, "adult.train.csv"), loadCSV(tb, "adult.holdout.csv")
	p, err := profile.Infer(train, profile.Options{})
	if err != nil {
		tb.Fatalf("profile.Infer(adult.train): %v", err)
	}
	return train, holdout, p
}

// splitRows splits t's rows at random into a table of n rows and one of the
// rest. Both halves are real records from the same distribution.
func splitRows(t *table.Table, n int, seed uint64) (*table.Table, *table.Table) {
	perm := rand.New(rand.NewPCG(seed, 2)).Perm(len(t.Rows))
	a := &table.Table{Columns: t.Columns}
	b := &table.Table{Columns: t.Columns}
	for k, i := range perm {
		if k < n {
			a.Rows = append(a.Rows, t.Rows[i])
		} else {
			b.Rows = append(b.Rows, t.Rows[i])
		}
	}
	return a, b
}

// shuffled returns t's rows in a random order: an exact copy of the records.
func shuffled(t *table.Table, seed uint64) *table.Table {
	out, _ := splitRows(t, len(t.Rows), seed)
	return out
}

// noisy returns t's rows in a random order with small perturbations, the
// way an overfitted model reproduces its training records: integers move by
// up to 2% of the column's range (at least 1), and each categorical cell is
// replaced by the same column's value from a random row with probability
// 0.1.
func noisy(t *table.Table, p *profile.Profile, seed uint64) *table.Table {
	rng := rand.New(rand.NewPCG(seed, 3))
	base := shuffled(t, seed)
	out := &table.Table{Columns: t.Columns, Rows: make([][]string, len(base.Rows))}
	for i, row := range base.Rows {
		r := append([]string(nil), row...)
		for j, name := range t.Columns {
			c := p.Col(name)
			switch {
			case c.Kind == profile.Numeric:
				v, ok := profile.ParseNumber(r[j])
				if !ok {
					continue
				}
				step := max(1, int((c.Max-c.Min)*0.02))
				v += float64(rng.IntN(2*step+1) - step)
				v = min(max(v, c.Min), c.Max)
				r[j] = strconv.FormatFloat(v, 'f', -1, 64)
			case c.Kind == profile.Categorical && rng.Float64() < 0.1:
				r[j] = base.Rows[rng.IntN(len(base.Rows))][j]
			}
		}
		out.Rows[i] = r
	}
	return out
}

// tbl builds a small table from a header line and comma-separated rows.
func tbl(header string, rows ...string) *table.Table {
	t := &table.Table{Columns: strings.Split(header, ",")}
	for _, r := range rows {
		t.Rows = append(t.Rows, strings.Split(r, ","))
	}
	return t
}
