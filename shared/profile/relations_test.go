package profile

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/relations"
)

// relBase is a profile with discovered relations that schema edits change.
func relBase() *Profile {
	return &Profile{Version: Version, Rows: 100, Columns: []Column{
		{Name: "start", Kind: Datetime, Format: "2006-01-02 15:04"},
		{Name: "end", Kind: Datetime, Format: "2006-01-02 15:04"},
		{Name: "net", Kind: Numeric, Decimals: 2, Distinct: 500},
		{Name: "tax", Kind: Numeric, Decimals: 2},
		{Name: "total", Kind: Numeric, Decimals: 2},
		{Name: "place", Kind: Categorical},
		{Name: "region", Kind: Categorical},
		{Name: "note", Kind: Text},
		{Name: "lat1", Kind: Numeric, Decimals: 6},
		{Name: "lng1", Kind: Numeric, Decimals: 6},
		{Name: "lat2", Kind: Numeric, Decimals: 6},
		{Name: "lng2", Kind: Numeric, Decimals: 6},
		{Name: "km", Kind: Numeric, Decimals: 2},
	}, Relations: []relations.Relation{
		{Kind: relations.Order, Columns: []string{"start", "end"}, Support: 100, Confidence: 1},
		{Kind: relations.FD, Columns: []string{"place", "region"}, Support: 100, Confidence: 1},
		{Kind: relations.Sum, Columns: []string{"total", "net", "tax"}, Support: 100, Confidence: 1},
	}}
}

func TestSchemaRelations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, schema string
		want         []string // relations after Apply
		declared     []string
	}{
		{"no edits", `{}`, []string{"start <= end", "place -> region", "total = net + tax"}, nil},
		{"drop one", `{"relations": {"drop": ["place -> region"]}}`, []string{"start <= end", "total = net + tax"}, nil},
		{"drop all, add one", `{"relations": {"drop": ["*"], "add": ["tax <= net"]}}`, []string{"tax <= net"}, []string{"tax <= net"}},
		{"add in another spelling", `{"relations": {"add": ["end >= start", "net = total - tax", "region -> place"]}}`,
			[]string{"start <= end", "place -> region", "total = net + tax", "region -> place"}, []string{"region -> place"}},
		{"add a geodesic", `{"relations": {"add": ["km >= geodesic(lat1, lng1, lat2, lng2) in km"]}}`,
			[]string{"start <= end", "place -> region", "total = net + tax", "km >= geodesic(lat1, lng1, lat2, lng2) in km"},
			[]string{"km >= geodesic(lat1, lng1, lat2, lng2) in km"}},
		{"a kind override drops what no longer fits", `{"columns": {"tax": {"kind": "text"}}}`,
			[]string{"start <= end", "place -> region"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSchema([]byte(tc.schema))
			if err != nil {
				t.Fatalf("ParseSchema: %v", err)
			}
			p := relBase()
			if err := s.Apply(p); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			var got, declared []string
			for _, r := range p.Relations {
				got = append(got, r.String())
				if r.Declared {
					declared = append(declared, r.String())
				}
			}
			if !slices.Equal(got, tc.want) || !slices.Equal(declared, tc.declared) {
				t.Errorf("relations %q (declared %q), want %q (declared %q)", got, declared, tc.want, tc.declared)
			}
		})
	}
}

func TestSchemaRelationErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, schema, wantMsg string }{
		{"unparsable add", `{"relations": {"add": ["end after start"]}}`, "end after start"},
		{"unparsable drop", `{"relations": {"drop": ["??"]}}`, "??"},
		{"unknown column", `{"relations": {"add": ["start <= finish"]}}`, `"finish" is not in the table`},
		{"order across kinds", `{"relations": {"add": ["net <= end"]}}`, "two numeric or two datetime"},
		{"identity on text", `{"relations": {"add": ["total = net + note"]}}`, "identity relates numeric"},
		{"dependency on a datetime", `{"relations": {"add": ["start -> place"]}}`, "dependency relates"},
		{"dependency on a many-valued number", `{"relations": {"add": ["net -> place"]}}`, "at most 100 distinct"},
		{"a column twice", `{"relations": {"add": ["total = net + net"]}}`, "appears twice"},
		{"a geodesic on text", `{"relations": {"add": ["km >= geodesic(lat1, note, lat2, lng2) in km"]}}`, "four numeric coordinates"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := relBase()
			before := slices.Clone(p.Relations)
			s, err := ParseSchema([]byte(tc.schema))
			if err == nil {
				err = s.Apply(p)
			}
			if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %v, want ErrSchema mentioning %q", err, tc.wantMsg)
			}
			if !slices.EqualFunc(p.Relations, before, func(a, b relations.Relation) bool { return a.String() == b.String() }) {
				t.Error("a failed Apply changed the relations")
			}
		})
	}
}

func TestWriteTextRelations(t *testing.T) {
	t.Parallel()
	p := relBase()
	p.Relations[0].Gap = &relations.Gap{Min: 300, Median: 1800, Max: 6480}
	p.Relations = append(p.Relations, relations.Relation{Kind: relations.Order, Columns: []string{"tax", "net"}, Declared: true},
		relations.Relation{Kind: relations.Geodesic, Columns: []string{"km", "lat1", "lng1", "lat2", "lng2"}, Unit: 1, Support: 100, Confidence: 1,
			Ratio: &relations.Gap{Min: 1.02, Median: 1.31, Max: 4.5}})
	var b strings.Builder
	if err := WriteText(&b, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"RELATION", "start <= end", "gap 5m0s … 1h48m0s, median 30m0s", "place -> region", "total = net + tax", "tax <= net", "declared in the schema",
		"km >= geodesic(lat1, lng1, lat2, lng2) in km", "ratio 1.02 … 4.5, median 1.31"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, b.String())
		}
	}
}
