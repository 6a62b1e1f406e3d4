package ml

import (
	"errors"
	"slices"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

func TestEncoder(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Columns: []profile.Column{
		{Name: "n", Kind: profile.Numeric, MissingTokens: []string{"NA"}},
		{Name: "c", Kind: profile.Categorical},
		{Name: "b", Kind: profile.Boolean},
		{Name: "d", Kind: profile.Datetime, Format: "2006-01-02"},
		{Name: "id", Kind: profile.ID},
		{Name: "y", Kind: profile.Numeric},
	}}
	fit := &table.Table{Columns: []string{"n", "c", "b", "d", "id", "y"}, Rows: [][]string{
		{"1", "a", "True", "2020-01-01", "k1", "0"},
		{"2", "a", "false", "2020-01-02", "k2", "0"},
		{"3", "b", "TRUE", "2020-01-03", "k3", "0"},
		{"NA", "", "", "", "k4", "0"},
	}}
	enc, err := FitEncoder(fit, p, "y")
	if err != nil {
		t.Fatal(err)
	}
	feats := enc.Features()
	names := []string{}
	for _, f := range feats {
		names = append(names, f.Name)
	}
	if !slices.Equal(names, []string{"n", "c", "b", "d"}) {
		t.Fatalf("features = %v, want n c b d (id and the excluded target dropped)", names)
	}
	apply := &table.Table{Columns: []string{"d", "b", "c", "n"}, Rows: [][]string{
		{"2020-01-01", "true", "a", "1"},
		{"2019-12-31", "FALSE", "zzz", "0.5"},
		{"2030-01-01", "True", "b", "99"},
		{"not a date", "", "", "NA"},
	}}
	m, err := enc.Transform(apply)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		feature string
		want    []uint8
	}{
		// Three distinct numbers into up to 63 quantile bins: edges 1 and 2,
		// bins 1 (≤1), 2 (≤2), 3 (>2); missing 0.
		{"n", []uint8{1, 1, 3, 0}},
		// "a" is most frequent (code 1), "b" next (2), other 3.
		{"c", []uint8{1, 3, 2, 0}},
		// Booleans ignore case: true (2 rows) code 1, false code 2.
		{"b", []uint8{1, 2, 1, 0}},
		// Unparseable dates are missing.
		{"d", []uint8{1, 1, 3, 0}},
	}
	for f, tc := range tests {
		if feats[f].Name != tc.feature || !slices.Equal(m.Codes[f], tc.want) {
			t.Errorf("feature %s codes = %v, want %v", feats[f].Name, m.Codes[f], tc.want)
		}
	}
	if feats[0].Kind != Ordinal || feats[1].Kind != Nominal || feats[0].Bins != 4 || feats[1].Bins != 4 {
		t.Errorf("features = %+v", feats)
	}

	if _, err := enc.Transform(&table.Table{Columns: []string{"n"}, Rows: [][]string{{"1"}}}); !errors.Is(err, ErrInput) {
		t.Errorf("missing column: err = %v, want ErrInput", err)
	}
	if _, err := FitEncoder(fit, &profile.Profile{Columns: []profile.Column{{Name: "id", Kind: profile.ID}}}); !errors.Is(err, ErrInput) {
		t.Errorf("no features: err = %v, want ErrInput", err)
	}
	if _, err := FitEncoder(&table.Table{Columns: []string{"n"}, Rows: [][]string{{}}}, p); !errors.Is(err, ErrInput) {
		t.Errorf("short row: err = %v, want ErrInput", err)
	}
}

// TestEncoderManyCategories checks the "other" bin once a column has more
// categories than fit in MaxBins.
func TestEncoderManyCategories(t *testing.T) {
	t.Parallel()
	tb := &table.Table{Columns: []string{"c"}}
	for i := range 100 {
		for range 100 - i { // category i appears 100−i times
			tb.Rows = append(tb.Rows, []string{string(rune('A' + i))})
		}
	}
	p := &profile.Profile{Columns: []profile.Column{{Name: "c", Kind: profile.Categorical}}}
	enc, err := FitEncoder(tb, p)
	if err != nil {
		t.Fatal(err)
	}
	m, err := enc.Transform(&table.Table{Columns: []string{"c"}, Rows: [][]string{{"A"}, {string(rune('A' + 61))}, {string(rune('A' + 62))}, {"?"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{1, 62, 63, 63}; !slices.Equal(m.Codes[0], want) || enc.Features()[0].Bins != MaxBins {
		t.Errorf("codes = %v (bins %d), want %v (bins %d)", m.Codes[0], enc.Features()[0].Bins, want, MaxBins)
	}
}
