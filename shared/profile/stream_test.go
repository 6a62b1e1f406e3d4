package profile

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/table"
)

// streamOf feeds every row of t to a new Stream.
func streamOf(tb testing.TB, t *table.Table, o Options) *Profile {
	tb.Helper()
	s, err := NewStream(t.Columns, o)
	if err != nil {
		tb.Fatalf("NewStream: %v", err)
	}
	for _, r := range t.Rows {
		if err := s.Add(r); err != nil {
			tb.Fatalf("Add: %v", err)
		}
	}
	p, err := s.Profile()
	if err != nil {
		tb.Fatalf("Profile: %v", err)
	}
	return p
}

// TestStreamSmallIsInfer: a table within the reservoir is profiled
// exactly as Infer profiles it.
func TestStreamSmallIsInfer(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"adult", "insurance", "credit"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tab := loadCSV(t, filepath.Join(datasets, name+".train.csv"))
			want, err := Infer(tab, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := streamOf(t, tab, Options{}); !reflect.DeepEqual(got, want) {
				t.Errorf("stream profile differs from Infer:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// mixed is a table of every kind a stream tracks apart: numbers with a
// missing token, ISO datetimes, a skewed category, emails, a key and a
// boolean, n rows from seed.
func mixed(n int, seed uint64) *table.Table {
	rng := rand.New(rand.NewPCG(seed, 1))
	t := &table.Table{Columns: []string{"amount", "when", "colour", "email", "id", "active"}}
	colours := []string{"red", "green", "blue", "teal", "plum"}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		amount := fmt.Sprintf("%.2f", rng.ExpFloat64()*100)
		if rng.IntN(50) == 0 {
			amount = "?"
		}
		// Skewed: red about half the rows.
		c := colours[min(int(rng.ExpFloat64()*1.5), len(colours)-1)]
		t.Rows = append(t.Rows, []string{
			amount,
			base.Add(time.Duration(rng.Int64N(3*365*24)) * time.Hour).Format("2006-01-02 15:04:05"),
			c,
			fmt.Sprintf("user%d@example.com", rng.IntN(n*4)),
			fmt.Sprintf("C-%07d", i),
			[]string{"yes", "no"}[rng.IntN(2)],
		})
	}
	return t
}

// rank is the share of values at most x.
func rank(sorted []float64, x float64) float64 {
	i, _ := slices.BinarySearch(sorted, math.Nextafter(x, math.Inf(1)))
	return float64(i) / float64(len(sorted))
}

// TestStreamAgreesWithInfer profiles tables larger than the stream's
// reservoir and compares with Infer over every row (Sample -1, exact):
// kinds, formats and PII kinds agree, missing counts and numeric bounds
// are exact, the distinct counts are within the HyperLogLog's error, the
// modes agree, and every quantile is within one percent of rank of the
// exact one.
func TestStreamAgreesWithInfer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		tab    func(testing.TB) *table.Table
		sample int
	}{
		{"adult", func(tb testing.TB) *table.Table { return loadCSV(tb, filepath.Join(datasets, "adult.csv")) }, 5000},
		{"mixed", func(testing.TB) *table.Table { return mixed(40_000, 7) }, 3000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tab := tt.tab(t)
			exact, err := Infer(tab, Options{Sample: -1})
			if err != nil {
				t.Fatal(err)
			}
			got := streamOf(t, tab, Options{Sample: tt.sample, Seed: 3})
			if got.Rows != len(tab.Rows) || got.Sampled != tt.sample {
				t.Fatalf("rows %d sampled %d, want %d and %d", got.Rows, got.Sampled, len(tab.Rows), tt.sample)
			}
			for j, want := range exact.Columns {
				c := got.Columns[j]
				if c.Kind != want.Kind || c.PII != want.PII || c.Format != want.Format || c.IDFormat != want.IDFormat {
					t.Errorf("%s: kind %s/%s/%s/%s, want %s/%s/%s/%s", want.Name, c.Kind, c.PII, c.Format, c.IDFormat, want.Kind, want.PII, want.Format, want.IDFormat)
					continue
				}
				if c.Missing != want.Missing || !slices.Equal(c.MissingTokens, want.MissingTokens) {
					t.Errorf("%s: missing %d %q, want %d %q", want.Name, c.Missing, c.MissingTokens, want.Missing, want.MissingTokens)
				}
				if d := math.Abs(float64(c.Distinct-want.Distinct)) / float64(want.Distinct); d > 0.03 {
					t.Errorf("%s: distinct %d, want %d (off by %.1f%%)", want.Name, c.Distinct, want.Distinct, 100*d)
				}
				if c.Mode != want.Mode {
					t.Errorf("%s: mode %q, want %q", want.Name, c.Mode, want.Mode)
				}
				if c.Kind != Numeric && c.Kind != Datetime {
					continue
				}
				if c.Min != want.Min || c.Max != want.Max || c.Integer != want.Integer || c.Decimals != want.Decimals {
					t.Errorf("%s: bounds %v..%v integer %v decimals %d, want %v..%v %v %d", want.Name, c.Min, c.Max, c.Integer, c.Decimals, want.Min, want.Max, want.Integer, want.Decimals)
				}
				vals := columnValues(t, tab, j, &want)
				if len(c.Quantiles) != len(QuantileProbs) {
					t.Fatalf("%s: quantiles %v", want.Name, c.Quantiles)
				}
				for k, q := range QuantileProbs {
					// A value's rank is a range when it repeats: the
					// quantile is right if q falls in or near it.
					lo := rank(vals, math.Nextafter(c.Quantiles[k], math.Inf(-1)))
					hi := rank(vals, c.Quantiles[k])
					if q < lo-0.01 || q > hi+0.01 {
						t.Errorf("%s: quantile %v = %v has rank %.4f..%.4f", want.Name, q, c.Quantiles[k], lo, hi)
					}
				}
			}
		})
	}
}

// columnValues parses column j of tab as its profile c reads it, sorted.
func columnValues(tb testing.TB, tab *table.Table, j int, c *Column) []float64 {
	tb.Helper()
	var vals []float64
	for _, r := range tab.Rows {
		v := strings.TrimSpace(r[j])
		if c.Kind == Datetime {
			if tm, ok := ParseTime(v, c.Format); ok {
				vals = append(vals, unix(tm))
			}
			continue
		}
		if x, ok := ParseNumber(v); ok {
			vals = append(vals, x)
		}
	}
	slices.Sort(vals)
	return vals
}

// TestStreamDeterministic: one seed and input give one profile.
func TestStreamDeterministic(t *testing.T) {
	t.Parallel()
	tab := mixed(10_000, 9)
	a := streamOf(t, tab, Options{Sample: 1000, Seed: 5})
	b := streamOf(t, tab, Options{Sample: 1000, Seed: 5})
	if !reflect.DeepEqual(a, b) {
		t.Errorf("two streams with one seed differ:\n%+v\n%+v", a, b)
	}
}

func TestStreamErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		names []string
		o     Options
		row   []string
	}{
		{"duplicate column", []string{"a", "a"}, Options{}, nil},
		{"no columns", nil, Options{}, nil},
		{"unbounded sample", []string{"a"}, Options{Sample: -1}, nil},
		{"bad threshold", []string{"a"}, Options{Threshold: 0.2}, nil},
		{"short row", []string{"a", "b"}, Options{}, []string{"1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewStream(tt.names, tt.o)
			if tt.row == nil {
				if err == nil {
					t.Fatal("NewStream: no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Add(tt.row); err == nil || !strings.Contains(err.Error(), "row 1 has 1 cells") {
				t.Errorf("Add: %v, want a row width error", err)
			}
		})
	}
}

// TestMisraGries: the mode of a stream is found in topK counters when it
// leads by more than n/(topK+1), whatever else passes through.
func TestMisraGries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vals func() []string
		want string
	}{
		{"few values, exact", func() []string { return strings.Split("b a b c b a", " ") }, "b"},
		{"tie goes to the smaller", func() []string { return strings.Split("b a a b", " ") }, "a"},
		{"mode among many singletons", func() []string {
			// 10,000 distinct values and "hot" in a fifth of 12,500 cells:
			// 2,500 > 12,500/65, so hot survives every decrement.
			var v []string
			for i := range 10_000 {
				v = append(v, fmt.Sprint("v", i))
				if i%4 == 0 {
					v = append(v, "hot")
				}
			}
			return v
		}, "hot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := newMisraGries()
			for _, v := range tt.vals() {
				g.add(v)
			}
			if got, ok := g.mode(); !ok || got != tt.want {
				t.Errorf("mode %q %v, want %q", got, ok, tt.want)
			}
			if g.len() > topK {
				t.Errorf("%d counters, more than %d", g.len(), topK)
			}
		})
	}
}

// TestMisraGriesCounters: the lazy counters are those of the textbook
// algorithm (a new value when all topK counters are taken lowers each by
// one and drops those at zero), on a stream of many values and a few hot
// ones, through many drops and reused counters.
func TestMisraGriesCounters(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	g, want := newMisraGries(), map[string]int64{}
	for i := range 50_000 {
		v := fmt.Sprint("v", rng.IntN(400))
		if i%2 == 0 {
			v = fmt.Sprint("a value longer than sixteen bytes ", rng.IntN(400))
		}
		if i%3 == 0 {
			v = fmt.Sprint("hot", rng.IntN(5))
		}
		g.add(v)
		switch _, ok := want[v]; {
		case ok:
			want[v]++
		case len(want) < topK:
			want[v] = 1
		default:
			for k := range want {
				if want[k]--; want[k] == 0 {
					delete(want, k)
				}
			}
		}
		if i%997 == 0 || i == 49_999 {
			got := map[string]int64{}
			for _, e := range g.list[:g.n] {
				got[e.v] = e.c - g.off
				if s, ok := g.slotOf(e.v); !ok || g.list[g.slots[s].i-1].v != e.v {
					t.Fatalf("after %d values: %q not found", i+1, e.v)
				}
			}
			if !maps.Equal(got, want) {
				t.Fatalf("after %d values: counters %v, want %v", i+1, got, want)
			}
		}
	}
}

// TestInferQuantiles works the nearest-rank quantiles out by hand.
func TestInferQuantiles(t *testing.T) {
	t.Parallel()
	hundred := make([]string, 100)
	for i := range hundred {
		hundred[i] = fmt.Sprint(3 * (i + 1)) // 3..300, too sparse to be a key
	}
	tests := []struct {
		name  string
		cells []string
		want  []float64
	}{
		// The q quantile of 3, 6, ..., 300 is the smallest value whose
		// rank reaches 100q: 3×(1, 5, 25, 50, 75, 95, 99).
		{"3 to 300", hundred, []float64{3, 15, 75, 150, 225, 285, 297}},
		// 0 nine times and 27 once: 90% of cells are 0.
		{"repeats weigh", append(slices.Repeat([]string{"0"}, 9), "27"), []float64{0, 0, 0, 0, 0, 27, 27}},
		// Dates in seconds: 2020-01-01 and 2020-01-02 equally often.
		{"dates", []string{"2020-01-01", "2020-01-02", "2020-01-01", "2020-01-02"},
			[]float64{1577836800, 1577836800, 1577836800, 1577836800, 1577923200, 1577923200, 1577923200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Infer(single("x", tt.cells), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Columns[0].Quantiles; !slices.Equal(got, tt.want) {
				t.Errorf("quantiles %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSharedStream: a stream sharing its caller's sample profiles exactly
// as a stream with its own reservoir does when given that reservoir, and
// each is profiled only by its own method.
func TestSharedStream(t *testing.T) {
	t.Parallel()
	tab := mixed(20_000, 9)
	o := Options{Sample: 2000, Seed: 4}
	own, err := NewStream(tab.Columns, o)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := NewSharedStream(tab.Columns, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range tab.Rows {
		if err := own.Add(r); err != nil {
			t.Fatal(err)
		}
		if err := shared.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if shared.SampleSize() != 2000 {
		t.Errorf("SampleSize %d, want 2000", shared.SampleSize())
	}
	want, err := own.Profile()
	if err != nil {
		t.Fatal(err)
	}
	got, err := shared.ProfileOf(own.Sample().Rows)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("shared stream's profile differs from the reservoir stream's:\n got %+v\nwant %+v", got, want)
	}
	tests := []struct {
		name string
		call func() (*Profile, error)
	}{
		{"Profile of a shared stream", shared.Profile},
		{"ProfileOf of a reservoir stream", func() (*Profile, error) { return own.ProfileOf(nil) }},
	}
	for _, tt := range tests {
		if _, err := tt.call(); !errors.Is(err, ErrOptions) {
			t.Errorf("%s: err %v, want ErrOptions", tt.name, err)
		}
	}
}

// TestStreamModeBeyondCache: a column of more distinct cells than the
// cache holds finds its mode whether the mode's cells are cached (seen
// early) or sketched (first seen once the cache is full), and when the
// cache is bypassed part way (its later cells then go to the sketch).
func TestStreamModeBeyondCache(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hotFrom int // first row of the hot value
	}{
		{"hot value cached", 0},
		{"hot value after the cache filled", 3 * maxVals},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := NewStream([]string{"v"}, Options{Sample: 1000, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			const n = 60_000
			hot := 0
			for i := range n {
				v := fmt.Sprint("u", i)
				if i >= tt.hotFrom && i%4 == 0 {
					v = "hot"
					hot++
				}
				if err := s.Add([]string{v}); err != nil {
					t.Fatal(err)
				}
			}
			c := &s.cols[0]
			if !c.bypass {
				t.Errorf("a column of mostly unique cells still looks its cells up")
			}
			if m, ok := c.mode(); !ok || m != "hot" {
				t.Errorf("mode %q %v, want hot (%d of %d cells)", m, ok, hot, n)
			}
		})
	}
}

// TestStreamAddIDs: equal raw cells get one identifier, different ones
// different identifiers, and cells past the cache's maxVals get -1.
func TestStreamAddIDs(t *testing.T) {
	t.Parallel()
	s, err := NewSharedStream([]string{"a", "b"}, Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	byCell := map[string]int32{}
	ids := make([]int32, 2)
	for i := range maxVals + 500 {
		row := []string{fmt.Sprint(i % 3), fmt.Sprint(i)} // b: every cell new
		if err := s.AddIDs(row, ids); err != nil {
			t.Fatal(err)
		}
		if id, ok := byCell[row[0]]; ok && id != ids[0] || ids[0] < 0 {
			t.Fatalf("row %d: a's cell %q got %d, before %d", i, row[0], ids[0], byCell[row[0]])
		}
		byCell[row[0]] = ids[0]
		want := int32(i)
		if i >= maxVals {
			want = -1
		}
		if ids[1] != want {
			t.Fatalf("row %d: b's new cell got %d, want %d", i, ids[1], want)
		}
	}
	if len(byCell) != 3 || byCell["0"] == byCell["1"] || byCell["1"] == byCell["2"] || byCell["0"] == byCell["2"] {
		t.Errorf("a's three cells got %v, want three identifiers", byCell)
	}
}

// TestStreamBatches: rows added in batches (Begin), their columns
// profiled in stripes by one goroutine or several at once, give the
// row-by-row stream's profile, cell identifiers and sample, for batches
// that straddle the head and a column whose cells overflow the cache.
func TestStreamBatches(t *testing.T) {
	t.Parallel()
	tab := mixed(30_000, 5)
	for i, r := range tab.Rows {
		// A column of mostly unique values: a full cache, then bypassed.
		r = append(slices.Clone(r), fmt.Sprint("u", i%9000, "-", i%7))
		tab.Rows[i] = r
	}
	tab.Columns = append(slices.Clone(tab.Columns), "unique")
	w := len(tab.Columns)
	o := Options{Sample: 2000, Seed: 3}
	want, err := NewStream(tab.Columns, o)
	if err != nil {
		t.Fatal(err)
	}
	wantIDs := make([]int32, len(tab.Rows)*w)
	for k, r := range tab.Rows {
		if err := want.AddIDs(r, wantIDs[k*w:(k+1)*w]); err != nil {
			t.Fatal(err)
		}
	}
	wantProf, err := want.Profile()
	if err != nil {
		t.Fatal(err)
	}
	for _, stripes := range []int{1, 2, 5} {
		got, err := NewStream(tab.Columns, o)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int32, len(tab.Rows)*w)
		for at := 0; at < len(tab.Rows); at += 777 {
			end := min(at+777, len(tab.Rows))
			b, err := got.Begin(tab.Rows[at:end], ids[at*w:end*w])
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for g := range stripes {
				wg.Go(func() { b.Stripe(g, stripes) })
			}
			wg.Wait()
		}
		gotProf, err := got.Profile()
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gotProf, wantProf) || !reflect.DeepEqual(got.Sample(), want.Sample()) {
			t.Errorf("%d stripes: the profile or sample differs from the row-by-row stream's", stripes)
		}
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("%d stripes: cell identifiers differ", stripes)
		}
	}
	// A ragged row fails Begin, which keeps the rows before it.
	s, err := NewStream(tab.Columns, o)
	if err != nil {
		t.Fatal(err)
	}
	rows := slices.Clone(tab.Rows[:10])
	rows[6] = rows[6][:2]
	b, err := s.Begin(rows, nil)
	if !errors.Is(err, ErrTable) || b.Rows() != 6 || s.Rows() != 6 {
		t.Errorf("ragged row 7: %v, batch of %d rows, stream of %d; want ErrTable, 6, 6", err, b.Rows(), s.Rows())
	}
}
