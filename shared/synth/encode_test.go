package synth

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
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

// numberMarginalByIndex is numberMarginal as it sorted row indexes by key
// before it sorted (key, row) pairs: the reference the pairs must match
// bit for bit, ties, missing cells and signed zeros included.
func numberMarginalByIndex(vals []float64) ([]float64, float64, []float64) {
	n := len(vals)
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) float64 {
		if v := vals[i]; v == v {
			return v
		}
		return math.Inf(-1)
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(key(a), key(b)) })
	scores := make([]float64, n)
	var missing int
	for lo := 0; lo < n; {
		hi := lo
		for hi < n && key(idx[hi]) == key(idx[lo]) {
			hi++
		}
		z := tieScore(lo, hi, n)
		for _, i := range idx[lo:hi] {
			scores[i] = z
		}
		if math.IsInf(key(idx[lo]), -1) {
			missing = hi - lo
		}
		lo = hi
	}
	xs := make([]float64, 0, n-missing)
	for _, i := range idx[missing:] {
		xs = append(xs, vals[i])
	}
	return evenQuantiles(xs), float64(missing) / float64(n), scores
}

func TestNumberMarginalMatchesIndexSort(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 13, 100, 5000} {
		vals := make([]float64, n)
		for i := range vals {
			switch r.IntN(6) {
			case 0:
				vals[i] = math.NaN()
			case 1:
				vals[i] = math.Copysign(0, -1)
			case 2:
				vals[i] = 0
			default:
				vals[i] = float64(r.IntN(20)) - 5
			}
		}
		q, mp, sc := numberMarginal(vals)
		wq, wmp, wsc := numberMarginalByIndex(vals)
		if !sameBits(q, wq) || math.Float64bits(mp) != math.Float64bits(wmp) || !sameBits(sc, wsc) {
			t.Errorf("n=%d: numberMarginal differs from the index sort", n)
		}
	}
}

// TestLevelSumsMatchRowLoop: levelSums' blocks add what a row-by-row loop
// adds, in the same order.
func TestLevelSumsMatchRowLoop(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	const nm, n, levels = 5, 5000, 7
	scores := make([][]float64, nm)
	for q := range scores {
		scores[q] = make([]float64, n)
		for i := range scores[q] {
			scores[q][i] = r.NormFloat64()
		}
	}
	v := []float64{0.3, -0.5, 0.1, 0.7, -0.2}
	cat := make([]int32, n)
	for i := range cat {
		cat[i] = int32(r.IntN(levels))
	}
	for k := range nm {
		want := make([]float64, levels)
		for i, code := range cat {
			var pc float64
			for q := range nm {
				if q != k {
					pc += v[q] * scores[q][i]
				}
			}
			want[code] += pc
		}
		if got := levelSums(cat, levels, k, v, scores); !sameBits(got, want) {
			t.Errorf("k=%d: %v, want %v", k, got, want)
		}
	}
}

func sameBits(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}
