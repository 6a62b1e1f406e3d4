package pipeline

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"testing"

	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/table"
)

// TestReadOutputUnescapes: an output whose text cells start with '=', '+',
// '-' or '@' is stored escaped ("'=x"); the evaluation reads the raw cells,
// so an output row equal to a training row is seen as such (identical-row
// check) and the text column's distribution matches (fidelity). Read as
// stored, neither would hold.
func TestReadOutputUnescapes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b, err := objects.Open(ctx, "mem://")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cols := []table.Column{{Name: "tag"}, {Name: "note"}, {Name: "n", Kind: table.Int}}
	tags := []string{"@web", "=x", "-note", "+1 555", "plain"}
	notes := []string{"'=quoted", "-", "ok", "@", "'"}
	rows := func(from, n int) *table.Table {
		t := &table.Table{Columns: []string{"tag", "note", "n"}}
		for i := from; i < from+n; i++ {
			t.Rows = append(t.Rows, []string{tags[i%len(tags)], notes[(i/5)%len(notes)], fmt.Sprint(i - 100)})
		}
		return t
	}
	train, holdout := rows(0, 300), rows(1000, 100)
	// The "synthetic" output copies 200 training rows, written as the
	// sampler's writer writes outputs.
	copied := &table.Table{Columns: train.Columns, Rows: train.Rows[:200]}
	if err := objects.Put(ctx, b, "out.csv", func(w io.Writer) error {
		tw, err := table.NewWriter(w, table.CSV, cols)
		if err != nil {
			return err
		}
		for _, r := range copied.Rows {
			if err := tw.Write(r); err != nil {
				return err
			}
		}
		return tw.Close()
	}, nil); err != nil {
		t.Fatal(err)
	}
	stored, err := readTable(ctx, b, "out.csv", table.CSV, table.Options{}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(stored.Rows, copied.Rows) {
		t.Fatal("the stored output is not escaped: the test shows nothing")
	}
	got, err := readOutput(ctx, b, "out.csv", table.CSV, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, copied) {
		t.Fatalf("read %q, want the rows written %q", got.Rows[:5], copied.Rows[:5])
	}

	eval := func(syn *table.Table) *report.Report {
		r, err := report.Build(ctx, report.Inputs{Train: train, Holdout: holdout, Synthetic: syn, Seed: 1,
			Quality: quality.Options{DiscriminatorRows: -1}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	shape := func(r *report.Report, col string) float64 {
		for _, c := range r.Quality.Columns {
			if c.Name == col {
				return c.Shape
			}
		}
		return -1
	}
	raw, escaped := eval(got), eval(stored)
	if s := raw.Privacy.Identical.SyntheticShare; s != 1 {
		t.Errorf("identical-row share %v of an output copying training rows, want 1", s)
	}
	if s := escaped.Privacy.Identical.SyntheticShare; s >= 0.5 {
		t.Errorf("read as stored, the identical-row share is %v: the escaping no longer hides copies, so the test shows nothing", s)
	}
	if s := shape(raw, "tag"); s < 0.95 {
		t.Errorf("tag column shape %v read raw, want about 1", s)
	}
	if s := shape(escaped, "tag"); s > 0.5 {
		t.Errorf("tag column shape %v read as stored: the test shows nothing", s)
	}
	t.Logf("identical share raw %v, as stored %v; tag shape raw %.3f, as stored %.3f",
		raw.Privacy.Identical.SyntheticShare, escaped.Privacy.Identical.SyntheticShare, shape(raw, "tag"), shape(escaped, "tag"))
}
