package quality

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/table"
)

// TestEvaluateRelations: a synthetic table that breaks some of the real
// table's relations is reported as doing so, row for row.
func TestEvaluateRelations(t *testing.T) {
	t.Parallel()
	cols := []string{"start", "end", "place", "region", "net", "tax", "total", "visits"}
	places := []string{"Leeds", "York", "Hull", "Bath"}
	trips := func(n int, broken int) *table.Table {
		tb := &table.Table{Columns: cols}
		for i := range n {
			start := fmt.Sprintf("2024-03-%02d 10:%02d", 1+i%28, i%60)
			end := fmt.Sprintf("2024-03-%02d 11:%02d", 1+i%28, i%60)
			region := []string{"North", "South"}[i%4%2]
			total := fmt.Sprintf("%d.50", 12+i%50)
			visits := fmt.Sprintf("%d.0", i%9)
			if i < broken { // ends before it starts, wrong region, bad total, a fraction
				end = fmt.Sprintf("2024-03-%02d 09:%02d", 1+i%28, i%60)
				region = []string{"South", "North"}[i%4%2]
				total = fmt.Sprintf("%d.51", 12+i%50)
				visits = "2.5"
			}
			tb.Rows = append(tb.Rows, []string{start, end, places[i%4], region,
				fmt.Sprintf("%d.25", 10+i%50), "2.25", total, visits})
		}
		return tb
	}
	real, syn := trips(400, 0), trips(400, 12)
	p, err := profile.Infer(real, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A relation on a column the evaluation does not score is noted, not
	// measured.
	p.Relations = append(p.Relations, relations.Relation{Kind: relations.Order, Columns: []string{"start", "gone"}})
	rep, err := Evaluate(context.Background(), real, syn, nil, p, Options{DiscriminatorRows: -1, Triples: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(rep.Notes, `relation start <= gone not measured: column "gone" is not scored`) {
		t.Errorf("notes %q", rep.Notes)
	}
	got := map[string]RelationReport{}
	for _, r := range rep.Relations {
		got[r.Relation] = r
	}
	for _, want := range []string{"start <= end", "place -> region", "total = net + tax", "visits is integer-valued"} {
		r, ok := got[want]
		switch {
		case !ok:
			t.Errorf("no report of %q; have %v", want, rep.Relations)
		case r.Real.Held != 400 || r.Real.Support != 400:
			t.Errorf("%s on real rows: %+v", want, r.Real)
		case r.Synthetic.Held != 388 || r.Synthetic.Support != 400 || r.Synthetic.Rate != 0.97:
			t.Errorf("%s on synthetic rows: %+v, want 388 of 400", want, r.Synthetic)
		}
	}
}
