package ml

import (
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

// adultXY encodes an Adult split with income as a 0/1 target (">50K" = 1).
func adultXY(tb testing.TB, enc *Encoder, t *table.Table) (*Matrix, []float64) {
	tb.Helper()
	x, err := enc.Transform(t)
	if err != nil {
		tb.Fatal(err)
	}
	ci := t.Col("income")
	y := make([]float64, len(t.Rows))
	for i, r := range t.Rows {
		if r[ci] == ">50K" {
			y[i] = 1
		}
	}
	return x, y
}
