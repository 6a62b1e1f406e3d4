package synth

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// TestParseFloatCell checks the fast path against what it stands for:
// strconv.ParseFloat of the trimmed cell, NaN and infinities rejected.
func TestParseFloatCell(t *testing.T) {
	t.Parallel()
	cells := []string{
		"0", "-0", "+0", "7", " 39", "39 ", "\t12\r", "-5", "+5", "007", "123456789012345",
		"1234567890123456", "-999999999999999", "12345678901234567890", "3.5", " 2.50",
		"1e3", "0x1p3", "NaN", "nan", "Inf", "-inf", "", " ", "-", "+", "1_000", "١٢",
		"\u00a042", "42\u0085", "--1", "1-", "4 2", ".5", "5.",
	}
	for _, c := range cells {
		got, gotOK := parseFloatCell(c)
		want, err := strconv.ParseFloat(strings.TrimSpace(c), 64)
		wantOK := err == nil && !math.IsNaN(want) && !math.IsInf(want, 0)
		if !wantOK {
			want = 0
		}
		if gotOK != wantOK || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseFloatCell(%q) = %v, %v; want %v, %v", c, got, gotOK, want, wantOK)
		}
	}
}

// FuzzParseFloatCell: the fast path never disagrees with strconv.
func FuzzParseFloatCell(f *testing.F) {
	for _, s := range []string{" 39", "-0", "007", "1.5", "123456789012345"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, c string) {
		got, gotOK := parseFloatCell(c)
		want, err := strconv.ParseFloat(strings.TrimSpace(c), 64)
		wantOK := err == nil && !math.IsNaN(want) && !math.IsInf(want, 0)
		if gotOK != wantOK || gotOK && math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("parseFloatCell(%q) = %v, %v; want %v, %v", c, got, gotOK, want, wantOK)
		}
	})
}

// TestSchemaDecodesOnce checks that the cells newSchema decodes while
// fitting the columns are those a separate decode of the table gives, on
// adult and on a table with datetimes, missing tokens and unreadable cells.
func TestSchemaDecodesOnce(t *testing.T) {
	t.Parallel()
	train, _ := adult(t)
	odd := &table.Table{
		Columns: []string{"n", "d", "c"},
		Rows: [][]string{
			{" 1", "2024-01-02", " b"}, {"?", "?", "?"}, {"x", "2024-01-03", "a"},
			{"2.5", "", ""}, {"", "bad", " b"}, {"-0", "2024-01-04", "a "},
		},
	}
	oddP := &profile.Profile{Columns: []profile.Column{
		{Name: "n", Kind: profile.Numeric, Decimals: 1, MissingTokens: []string{"?"}},
		{Name: "d", Kind: profile.Datetime, Format: "2006-01-02", MissingTokens: []string{"?"}},
		{Name: "c", Kind: profile.Categorical, MissingTokens: []string{"?"}},
	}}
	for _, tc := range []struct {
		name string
		t    *table.Table
		p    *profile.Profile
	}{{"adult", train, adultProfile()}, {"odd", odd, oddP}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := newSchema(tc.t, tc.p, 1)
			if err != nil {
				t.Fatal(err)
			}
			want := s.decode(tc.t, tc.p)
			got := s.pre
			if got == nil || got.n != want.n {
				t.Fatalf("newSchema kept %+v, want %d rows", got, want.n)
			}
			for k := range s.Modelled {
				for i := range want.n {
					if want.num[k] != nil && math.Float64bits(got.num[k][i]) != math.Float64bits(want.num[k][i]) && !(math.IsNaN(got.num[k][i]) && math.IsNaN(want.num[k][i])) {
						t.Fatalf("column %d row %d: number %v, want %v", k, i, got.num[k][i], want.num[k][i])
					}
					if want.cat[k] != nil && got.cat[k][i] != want.cat[k][i] {
						t.Fatalf("column %d row %d: level %d, want %d", k, i, got.cat[k][i], want.cat[k][i])
					}
				}
			}
		})
	}
}
