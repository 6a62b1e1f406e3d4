package sample_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/sample"
	_ "synthos.dev/synthos/shared/synth" // the tree and copula drivers
	"synthos.dev/synthos/shared/table"
)

// adultCSV is the shared adult table, relative to this package.
const adultCSV = "../../../shared/datasets/adult.csv"

// collect keeps the rows a model writes.
type collect struct{ t *table.Table }

func (c *collect) Write(row []string) error {
	c.t.Rows = append(c.t.Rows, slices.Clone(row))
	return nil
}

func sampleRows(tb testing.TB, m model.Model, n int64, seed uint64) *table.Table {
	tb.Helper()
	cols := m.Columns()
	c := &collect{t: &table.Table{}}
	for _, col := range cols {
		c.t.Columns = append(c.t.Columns, col.Name)
	}
	if err := m.Sample(context.Background(), n, 0, 1, seed, model.SampleOptions{}, c); err != nil {
		tb.Fatalf("sample: %v", err)
	}
	return c.t
}

// TestBigTrends measures what fitting on the bounded sample costs in
// fidelity: a table of SYNTHOS_BIG_ROWS rows (default 5,000,000) is
// sampled from a tree model fitted on adult and written to a temporary
// CSV file; a tree model is fitted on Draw's sample of it (profiled in the
// same pass) and another on every row (profiled exactly). Each writes
// 200,000 rows, scored against a 200,000-row uniform subset of the big
// table with quality's column-pair trends; the two scores must be within
// 0.005 (the target). SYNTHOS_BIG=1 runs it: it takes minutes and
// the every-row fit several GB.
func TestBigTrends(t *testing.T) {
	if os.Getenv("SYNTHOS_BIG") != "1" {
		t.Skip("SYNTHOS_BIG=1 runs the sampled-fit fidelity measurement")
	}
	ctx := context.Background()
	rows := int64(5_000_000)
	if v := os.Getenv("SYNTHOS_BIG_ROWS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			t.Fatalf("SYNTHOS_BIG_ROWS=%q: want a positive number of rows", v)
		}
		rows = n
	}
	const kind, evalRows = "tree", 200_000
	adult := readCSV(t, adultCSV)
	ap, err := profile.Infer(adult, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	gen, err := model.Fit(ctx, adult, ap, model.Options{Kind: kind, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(t.TempDir(), "big.csv")
	w, err := table.Create(big, table.CSV, gen.Columns())
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Sample(ctx, rows, 0, 1, 11, model.SampleOptions{}, w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// The sampled fit, as the pipeline does it.
	r, err := table.Open(big, table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	drawn, err := sample.Draw(ctx, r, sample.Options{Seed: 5, Profile: &profile.Options{Seed: 5}})
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !drawn.Sampled || drawn.Profile == nil {
		t.Fatalf("%d rows were not sampled", rows)
	}
	mSample, err := model.Fit(ctx, drawn.Train, drawn.Profile, model.Options{Kind: kind, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	seen := drawn.Seen()
	synthSample := sampleRows(t, mSample, evalRows, 21)
	drawn, mSample = nil, nil

	// The every-row fit, and the real rows the scores compare with.
	r, err = table.Open(big, table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	all, err := table.ReadAll(r)
	r.Close()
	if err != nil {
		t.Fatal(err)
	}
	pAll, err := profile.Infer(all, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mAll, err := model.Fit(ctx, all, pAll, model.Options{Kind: kind, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	real := &table.Table{Columns: all.Columns}
	step := len(all.Rows) / evalRows
	for i := 0; i < len(all.Rows) && len(real.Rows) < evalRows; i += step {
		real.Rows = append(real.Rows, all.Rows[i])
	}
	all = nil
	runtime.GC()
	synthAll := sampleRows(t, mAll, evalRows, 21)

	score := func(s *table.Table) float64 {
		rep, err := quality.Evaluate(ctx, real, s, nil, pAll, quality.Options{Seed: 1, Triples: -1, DiscriminatorRows: -1})
		if err != nil {
			t.Fatal(err)
		}
		return rep.ColumnPairTrends
	}
	onSample, onAll := score(synthSample), score(synthAll)
	t.Logf("| input rows | fitted on | column-pair trends |")
	t.Logf("|---|---|---|")
	t.Logf("| %d | sample of %d | %.4f |", rows, seen, onSample)
	t.Logf("| %d | every row | %.4f |", rows, onAll)
	if d := math.Abs(onSample - onAll); d > 0.005 {
		t.Errorf("trends on the sample %.4f, on every row %.4f: %.4f apart, more than 0.005", onSample, onAll, d)
	}
}

func readCSV(tb testing.TB, path string) *table.Table {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("dataset missing (the test needs /work/shared/datasets): %v", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) == 0 {
		tb.Fatal(fmt.Errorf("read %s: %v", path, err))
	}
	return &table.Table{Columns: recs[0], Rows: recs[1:]}
}
