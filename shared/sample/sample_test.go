package sample

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// rowsReader streams a table's rows, reusing its row slice like the real
// readers do.
type rowsReader struct {
	t   *table.Table
	i   int
	buf []string
	err error // returned after the rows instead of io.EOF
}

func (r *rowsReader) Columns() []string { return r.t.Columns }
func (r *rowsReader) Read() ([]string, error) {
	if r.i >= len(r.t.Rows) {
		if r.err != nil {
			return nil, r.err
		}
		return nil, io.EOF
	}
	r.buf = append(r.buf[:0], r.t.Rows[r.i]...)
	r.i++
	return r.buf, nil
}

// synthetic builds n rows: id (unique), cat (a 30% "a", the rest "b",
// except every 4000th row which is "rare"), and x = i (numeric, so the
// tails are the first and last rows).
func synthetic(n int) *table.Table {
	t := &table.Table{Columns: []string{"id", "cat", "x"}}
	for i := range n {
		cat := "b"
		switch {
		case i%4000 == 1999:
			cat = "rare"
		case i%10 < 3:
			cat = "a"
		}
		t.Rows = append(t.Rows, []string{"r" + strconv.Itoa(i), cat, strconv.Itoa(i)})
	}
	return t
}

func halves(t *table.Table) (train, holdout *table.Table) {
	h := len(t.Rows) / 2
	return &table.Table{Columns: t.Columns, Rows: t.Rows[h:]}, &table.Table{Columns: t.Columns, Rows: t.Rows[:h]}
}

// budgetFor is the budget that holds k rows of a 3-column table.
func budgetFor(k int) int64 { return int64(k) * 4 * BytesPerCell }

func TestDrawWholeUnderBudget(t *testing.T) {
	t.Parallel()
	src := synthetic(900)
	for _, tc := range []struct {
		name      string
		opts      Options
		train     int
		noHoldout bool
	}{
		{"fits: caller's split", Options{Budget: budgetFor(1000), Split: halves}, 450, false},
		{"fits: no split", Options{Budget: budgetFor(1000)}, 900, true},
		{"All reads every row", Options{Budget: All, Split: halves}, 450, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Draw(context.Background(), &rowsReader{t: src}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if res.Sampled || res.Total != 900 || len(res.Train.Rows) != tc.train || (res.Holdout == nil) != tc.noHoldout {
				t.Fatalf("sampled %v total %d train %d holdout %v; want whole, 900, %d", res.Sampled, res.Total, len(res.Train.Rows), res.Holdout, tc.train)
			}
			if tc.opts.Split != nil && !slices.Equal(res.Train.Rows[0], src.Rows[450]) {
				t.Fatalf("first training row %v, want the split's %v", res.Train.Rows[0], src.Rows[450])
			}
		})
	}
}

func TestDrawAllKeepsEveryRowOfALargeTable(t *testing.T) {
	t.Parallel()
	src := synthetic(30_000)
	// A budget of a few rows would sample; All must not.
	res, err := Draw(context.Background(), &rowsReader{t: src}, Options{Budget: All})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sampled || len(res.Train.Rows) != 30_000 {
		t.Fatalf("sampled %v with %d rows; want all 30000", res.Sampled, len(res.Train.Rows))
	}
}

func TestDrawSamplesALargeTable(t *testing.T) {
	t.Parallel()
	const n, k = 40_000, 2000
	src := synthetic(n)
	opts := Options{Budget: budgetFor(k), Seed: 7, HoldoutShare: 0.2, HoldoutMax: 500}
	res, err := Draw(context.Background(), &rowsReader{t: src}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Sampled || res.Total != n {
		t.Fatalf("sampled %v total %d; want a sample of %d", res.Sampled, res.Total, n)
	}
	if got := len(res.Holdout.Rows); got != 500 {
		t.Fatalf("holdout %d rows, want the cap 500 (0.2 of %d is more)", got, n)
	}
	// k uniform rows, plus at most: 3 values' quotas (the "rare" value
	// has n/4000 = 10 rows, under the quota of 20: all kept) and 2 tails
	// of DefaultTail rows of x.
	if got := len(res.Train.Rows); got < k || got > k+3*DefaultQuota+2*DefaultTail {
		t.Fatalf("train %d rows, want between %d and %d", got, k, k+3*DefaultQuota+2*DefaultTail)
	}
	ids := map[string]bool{}
	last := -1
	for _, part := range []*table.Table{res.Train, res.Holdout} {
		last = -1
		for _, r := range part.Rows {
			i, _ := strconv.Atoi(r[2])
			if i <= last {
				t.Fatalf("row %d after %d: not in input order", i, last)
			}
			last = i
			if ids[r[0]] {
				t.Fatalf("row %s is both in training and holdout", r[0])
			}
			ids[r[0]] = true
			if !slices.Equal(r, src.Rows[i]) {
				t.Fatalf("row %d is %v, want %v (a reused buffer kept?)", i, r, src.Rows[i])
			}
		}
	}
	// Every rare row is kept (training or holdout), and the extremes of x.
	for i := 1999; i < n; i += 4000 {
		if !ids["r"+strconv.Itoa(i)] {
			t.Errorf("rare row %d lost", i)
		}
	}
	for _, i := range []int{0, 1, n - 2, n - 1} {
		if !ids["r"+strconv.Itoa(i)] {
			t.Errorf("tail row %d lost", i)
		}
	}
	// The uniform part keeps the common category's share: 0.3 ± 4σ with
	// σ = sqrt(0.3·0.7/2000) ≈ 0.0102.
	var a int
	for _, r := range res.Train.Rows {
		if r[1] == "a" {
			a++
		}
	}
	if share := float64(a) / float64(len(res.Train.Rows)); math.Abs(share-0.3) > 0.041 {
		t.Errorf("share of a in the sample %.3f, want 0.3 ± 0.041", share)
	}
}

func TestDrawIsSeeded(t *testing.T) {
	t.Parallel()
	src := synthetic(20_000)
	draw := func(seed uint64) *Result {
		res, err := Draw(context.Background(), &rowsReader{t: src}, Options{Budget: budgetFor(1000), Seed: seed, HoldoutShare: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	key := func(r *Result) string { return fmt.Sprint(r.Train.Rows, r.Holdout.Rows) }
	a, b, c := draw(1), draw(1), draw(2)
	if key(a) != key(b) {
		t.Fatal("the same seed drew different rows")
	}
	if key(a) == key(c) {
		t.Fatal("seeds 1 and 2 drew the same rows")
	}
}

func TestDrawErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk gone")
	for _, tc := range []struct {
		name string
		r    table.Reader
		want error
	}{
		{"empty", &rowsReader{t: &table.Table{Columns: []string{"a"}}}, ErrEmpty},
		{"read error while buffering", &rowsReader{t: synthetic(10), err: boom}, boom},
		{"read error while sampling", &rowsReader{t: synthetic(5000), err: boom}, boom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Draw(context.Background(), tc.r, Options{Budget: budgetFor(1000)})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Draw(ctx, &rowsReader{t: synthetic(10)}, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err %v", err)
	}
}

func TestCapacity(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		budget int64
		cols   int
		want   int
	}{
		// 256 MiB / (16 × 64 B) = 262144 rows of a 15-column table.
		{0, 15, 262_144},
		{All, 15, 0},
		{1 << 20, 3, 4096},
		{1 << 20, 10_000, 1000}, // the floor
	} {
		if got := Capacity(tc.budget, tc.cols); got != tc.want {
			t.Errorf("Capacity(%d, %d) = %d, want %d", tc.budget, tc.cols, got, tc.want)
		}
	}
}

// BenchmarkDraw measures the sampling pass alone over rows already in
// memory (the reader's parsing is not counted): a 15-column adult-like
// row layout, 200K rows, a budget of 20K rows.
func BenchmarkDraw(b *testing.B) {
	const n = 200_000
	src := &table.Table{}
	for c := range 15 {
		src.Columns = append(src.Columns, "c"+strconv.Itoa(c))
	}
	for i := range n {
		row := make([]string, 15)
		for c := range row {
			switch c % 3 {
			case 0:
				row[c] = strconv.Itoa((i * (c + 7)) % 90) // numeric, few values
			case 1:
				row[c] = "cat" + strconv.Itoa((i*(c+3))%12) // category
			default:
				// numeric, many values, in no order (input sorted by a
				// measurement would make every row a new tail row)
				row[c] = strconv.FormatFloat(float64(mix(uint64(i*15+c))%10_000_000)/100, 'f', 2, 64)
			}
		}
		src.Rows = append(src.Rows, row)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := Draw(context.Background(), &rowsReader{t: src}, Options{Budget: budgetFor(20_000) * 4, Seed: 1, HoldoutShare: 0.2})
		if err != nil || !res.Sampled {
			b.Fatalf("err %v sampled %v", err, res != nil && res.Sampled)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestDrawProfile: a sampled table is profiled in the same pass over every
// row (its profile counts all rows and agrees with an exact profile of the
// whole table); a table used whole is left to the caller's exact profile.
func TestDrawProfile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rows    int
		budget  int64
		profile bool
	}{
		{"sampled", 40_000, budgetFor(5000), true},
		{"whole", 3000, budgetFor(5000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tab := synthetic(tt.rows)
			res, err := Draw(context.Background(), &rowsReader{t: tab}, Options{Budget: tt.budget, Seed: 4, Profile: &profile.Options{Sample: 2000}})
			if err != nil {
				t.Fatal(err)
			}
			if !tt.profile {
				if res.Profile != nil {
					t.Errorf("a table used whole got a stream profile")
				}
				return
			}
			p := res.Profile
			if p == nil || p.Rows != tt.rows || p.Sampled != 2000 {
				t.Fatalf("profile %+v, want one of %d rows", p, tt.rows)
			}
			exact, err := profile.Infer(tab, profile.Options{Sample: -1})
			if err != nil {
				t.Fatal(err)
			}
			for j, want := range exact.Columns {
				c := p.Columns[j]
				if c.Kind != want.Kind || c.Mode != want.Mode || c.Min != want.Min || c.Max != want.Max || c.Missing != want.Missing {
					t.Errorf("%s: %+v\nwant %+v", want.Name, c, want)
				}
				if d := math.Abs(float64(c.Distinct-want.Distinct)) / float64(want.Distinct); d > 0.03 {
					t.Errorf("%s: distinct %d, want %d", want.Name, c.Distinct, want.Distinct)
				}
			}
		})
	}
}
