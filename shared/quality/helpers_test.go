package quality

import (
	"math/rand/v2"
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

// adultProfile is a hand-built profile of the Adult census table.
func adultProfile() *profile.Profile {
	num := func(n string) profile.Column { return profile.Column{Name: n, Kind: profile.Numeric, Integer: true} }
	cat := func(n string) profile.Column {
		return profile.Column{Name: n, Kind: profile.Categorical, MissingTokens: []string{"?"}}
	}
	return &profile.Profile{Version: 1, Columns: []profile.Column{
		num("age"), cat("workclass"), num("fnlwgt"), cat("education"), num("education-num"),
		cat("marital-status"), cat("occupation"), cat("relationship"), cat("race"), cat("sex"),
		num("capital-gain"), num("capital-loss"), num("hours-per-week"), cat("native-country"), cat("income"),
	}}
}

// shuffledColumns returns a copy of t whose columns are permuted
// independently: every marginal survives, every relationship is destroyed.
func shuffledColumns(t *table.Table, seed uint64) *table.Table {
	rng := rand.New(rand.NewPCG(seed, 1))
	rows := make([][]string, len(t.Rows))
	for i := range rows {
		rows[i] = make([]string, len(t.Columns))
	}
	for c := range t.Columns {
		perm := rng.Perm(len(t.Rows))
		for i, j := range perm {
			rows[i][c] = t.Rows[j][c]
		}
	}
	return &table.Table{Columns: t.Columns, Rows: rows}
}
