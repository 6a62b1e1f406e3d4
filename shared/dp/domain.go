package dp

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Attr is one modelled column (numeric, datetime, categorical or boolean) as
// the mechanism sees it: a finite "fine" domain of bins, and the compressed
// domain the noisy 1-way marginal left (rare fine bins merged, as MST does).
// Its fields are exported for serialization.
//
// Fine bins: a numeric or datetime column has its value bins then one bin
// for missing; a categorical column has its released levels, then OtherBin
// (every value not released), then missing; a boolean column has false,
// true, then missing. A column whose profile has no missing-value spelling
// has no missing bin (NoMissing), and one whose categories are public has no
// OtherBin (NoOther): the model can then never write a blank, or a label the
// data does not hold, into it.
type Attr struct {
	Name   string
	Source int // index of the column in the table
	Kind   profile.Kind
	Writer table.Kind
	// Missing is the token written for a missing cell (the profile's first
	// missing spelling, or ""); MissingTokens are every spelling read as
	// missing.
	Missing       string
	MissingTokens []string

	// Numeric and datetime columns (datetimes as Unix seconds, UTC).
	Integer  bool
	Decimals int
	Trim     bool `json:",omitempty"`
	Format   string
	Lo, Hi   float64
	// Atom makes the first value bin the single value Lo: many columns hold
	// a mass at their lower bound (zero gains, zero losses), which uniform
	// bins would smear across the first interval.
	Atom bool
	// Edges bound the interval bins after the atom: bin k covers
	// [Edges[k], Edges[k+1]), the last one closed at Hi.
	Edges []float64

	// Levels are the categorical levels released by the domain step, or a
	// boolean column's false and true tokens.
	Levels       []string
	PublicLevels bool
	// TrueToken and FalseToken spell a boolean column's values.
	TrueToken, FalseToken string
	// Other is the label written for OtherBin.
	Other string
	// NoMissing drops the missing bin: the profile, public, saw no missing
	// cell. NoOther drops OtherBin: the categories are public. (Negated so
	// that models saved before they existed load unchanged.)
	NoMissing bool `json:",omitempty"`
	NoOther   bool `json:",omitempty"`

	// Groups maps compressed bin k to the fine bins it stands for; a group
	// of several is the merge of the rare fine bins, decompressed uniformly
	// as in MST.
	Groups [][]int

	// intCells are an integer column's preformatted cells (setCells), set
	// by the model's prepare.
	intCells []string
}

// fine returns the size of the fine domain.
func (a *Attr) fine() int {
	n := len(a.Levels) + 1 // categorical: levels and OtherBin
	switch {
	case a.isNumber():
		n = a.valueBins()
	case a.Kind == profile.Boolean:
		n = 2
	case a.NoOther:
		n = len(a.Levels)
	}
	if !a.NoMissing {
		n++
	}
	return n
}

// missingBin is the fine bin of missing cells, or -1 when the column has
// none.
func (a *Attr) missingBin() int {
	if a.NoMissing {
		return -1
	}
	return a.fine() - 1
}

// otherBin is the fine bin of categories that were not released, or -1
// when the categories are public.
func (a *Attr) otherBin() int {
	if a.Kind != profile.Categorical || a.NoOther {
		return -1
	}
	return len(a.Levels)
}

// writesOther reports whether the model writes the Other label: only for a
// categorical column of which no category was released. A column with
// released categories draws only them: the OtherBin stands for values that
// are not known, and writing a label the data never holds would make every
// row that carries it stand out (issue 11: never emit a category the data
// could not have).
func (a *Attr) writesOther() bool {
	return a.otherBin() >= 0 && len(a.Levels) == 0
}

func (a *Attr) isNumber() bool { return a.Kind == profile.Numeric || a.Kind == profile.Datetime }

func (a *Attr) valueBins() int {
	n := len(a.Edges) - 1
	if a.Atom {
		n++
	}
	return n
}

// binner encodes the cells of one attribute into fine bins.
type binner struct {
	a     *Attr
	pc    *profile.Column
	level map[string]int
}

func newBinner(a *Attr) *binner {
	pc := &profile.Column{Name: a.Name, Kind: a.Kind, MissingTokens: a.MissingTokens, TrueToken: a.TrueToken, FalseToken: a.FalseToken}
	b := &binner{a: a, pc: pc}
	if a.Kind == profile.Categorical {
		b.level = make(map[string]int, len(a.Levels))
		for i, l := range a.Levels {
			b.level[l] = i
		}
	}
	return b
}

// bin returns the fine bin of a cell; cells that do not parse as the
// column's kind count as missing.
func (b *binner) bin(cell string) int {
	a := b.a
	if profile.IsMissing(cell, b.pc) {
		return b.missing()
	}
	switch a.Kind {
	case profile.Numeric, profile.Datetime:
		v, ok := parseValue(a.Kind, a.Format, cell)
		if !ok {
			return b.missing()
		}
		return a.valueBin(v)
	case profile.Boolean:
		v, ok := profile.ParseBool(cell, b.pc)
		if !ok {
			return b.missing()
		}
		if v {
			return 1
		}
		return 0
	}
	if k, ok := b.level[strings.TrimSpace(cell)]; ok {
		return k
	}
	if a.NoOther {
		// Outside the public categories: counted as missing when the
		// column has missing cells, else in the first category.
		return b.missing()
	}
	return len(a.Levels) // OtherBin
}

// missing is the bin of a missing or unparseable cell: the missing bin, or
// bin 0 in a column the profile says has no missing cells (then such a cell
// is one the profile's kind does not fit; a fixed bin keeps the count's
// sensitivity at one without inventing a blank).
func (b *binner) missing() int {
	if m := b.a.missingBin(); m >= 0 {
		return m
	}
	return 0
}

// level reports whether cell is one of a categorical column's levels.
func (b *binner) isLevel(cell string) bool {
	_, ok := b.level[strings.TrimSpace(cell)]
	return ok
}

// parseValue reads a numeric cell or a datetime cell (as Unix seconds).
func parseValue(kind profile.Kind, format, cell string) (float64, bool) {
	if kind == profile.Datetime {
		ts, ok := profile.ParseTime(cell, format)
		if !ok {
			return 0, false
		}
		return float64(ts.Unix()), true
	}
	return profile.ParseNumber(cell)
}

// valueBin returns the value bin of v, clamped to [Lo, Hi].
func (a *Attr) valueBin(v float64) int {
	off := 0
	if a.Atom {
		if v <= a.Lo {
			return 0
		}
		off = 1
	}
	// Edges[k] <= v < Edges[k+1]; values beyond the ends are clamped.
	k := sort.SearchFloat64s(a.Edges, v)
	if k < len(a.Edges) && a.Edges[k] == v {
		k++
	}
	k--
	k = max(0, min(k, len(a.Edges)-2))
	return off + k
}

// setBins lays out the value bins of a numeric or datetime column on
// [lo, hi] with at most maxBins bins: one per integer when an integer column
// has that few values; otherwise intervals, geometric when the range is
// positive and spans more than a factor geoRatio (skewed amounts, counts,
// prices: equal widths would put most rows in the first bin), equal-width
// else. A column whose range starts at zero gets an atom there: many columns
// hold a mass at zero (gains, losses, counts) that an interval would smear.
// Every input is public or private output, so the layout is too.
func (a *Attr) setBins(lo, hi float64, maxBins int) {
	if a.Integer {
		lo, hi = math.Ceil(lo), math.Floor(hi)
	}
	if hi < lo {
		hi = lo
	}
	a.Lo, a.Hi = lo, hi
	a.Atom, a.Edges = false, nil
	if a.Integer && hi-lo+1 <= float64(maxBins) {
		for v := lo; v <= hi+1; v++ {
			a.Edges = append(a.Edges, v)
		}
		return
	}
	if hi == lo {
		a.Edges = []float64{lo, lo}
		return
	}
	k := maxBins
	start := lo
	if lo == 0 {
		a.Atom = true
		k--
		if a.Integer {
			start = 1
		}
	}
	geo := start > 0 && hi/start > geoRatio
	for i := 0; i <= k; i++ {
		t := float64(i) / float64(k)
		e := start + (hi-start)*t
		if geo {
			e = start * math.Pow(hi/start, t)
		}
		if a.Integer {
			e = math.Floor(e)
		}
		if i == k {
			e = hi
			if a.Integer {
				e = hi + 1 // bins are half-open: the last holds hi
			}
		}
		if n := len(a.Edges); n > 0 && e <= a.Edges[n-1] {
			continue // integer edges that coincide
		}
		a.Edges = append(a.Edges, e)
	}
	if len(a.Edges) < 2 {
		a.Edges = []float64{start, hi}
	}
}

// geoRatio is the hi/lo ratio above which a positive range gets geometric
// bins.
const geoRatio = 8

// perValue reports whether the value bins are one per integer.
func (a *Attr) perValue() bool {
	return a.Integer && !a.Atom && len(a.Edges)-1 == int(a.Hi-a.Lo+1)
}

// drawCell returns a value of fine bin k: uniform within a numeric bin and
// rounded to the column's precision, the level of a categorical or boolean
// bin, the missing token for the missing bin. Levels, tokens and integers
// with a preformatted cell (see setCells) are the Attr's own strings; other
// numbers are formatted into ar, so that no cell costs an allocation of its
// own (the collector's work grows with the bytes allocated, and on two
// workers it takes a core's share that one worker leaves idle).
func (a *Attr) drawCell(k int, rng *rand.Rand, ar *arena) string {
	if k == a.missingBin() {
		return a.Missing
	}
	switch a.Kind {
	case profile.Categorical:
		if k == a.otherBin() {
			return a.Other
		}
		return a.Levels[k]
	case profile.Boolean:
		return a.Levels[k]
	}
	v := a.Lo
	if !(a.Atom && k == 0) {
		if a.Atom {
			k--
		}
		lo, hi := a.Edges[k], a.Edges[k+1]
		if k+2 == len(a.Edges) && !a.Integer {
			hi = a.Hi
		}
		switch {
		case a.Integer && hi > lo:
			v = lo + float64(rng.Int64N(int64(hi-lo)))
		case a.Integer:
			v = lo
		default:
			v = lo + rng.Float64()*(hi-lo)
		}
	}
	v = math.Max(a.Lo, math.Min(a.Hi, v))
	if a.Kind == profile.Datetime {
		ar.reserve(maxCell)
		return ar.cut(time.Unix(int64(math.Round(v)), 0).UTC().AppendFormat(ar.buf, a.Format))
	}
	if a.intCells != nil {
		// AppendNumber writes an integer column's v as the integer
		// math.Round(v) when the cells are set (see setCells).
		if i := math.Round(v) - a.Lo; i >= 0 && i < float64(len(a.intCells)) {
			return a.intCells[int(i)]
		}
	}
	ar.reserve(maxCell)
	return ar.cut(profile.AppendNumber(ar.buf, v, a.Integer, a.Decimals, a.Trim))
}

// maxIntCells bounds an integer column's table of preformatted cells.
const maxIntCells = 8192

// setCells preformats the cells of an integer column of at most
// maxIntCells values that AppendNumber writes as integers (no decimals, or
// trimmed ones): intCells[i] is the cell of Lo+i, as drawCell would format it.
// Below 2^52 in magnitude every integer is a float and Round(v)-Lo is exact.
func (a *Attr) setCells() {
	a.intCells = nil
	if a.Kind != profile.Numeric || !a.Integer || a.Decimals > 0 && !a.Trim ||
		a.Lo != math.Round(a.Lo) || !(math.Abs(a.Lo) < 1<<52) || !(a.Hi-a.Lo < maxIntCells) {
		return
	}
	a.intCells = make([]string, int(a.Hi-a.Lo)+1)
	for i := range a.intCells {
		a.intCells[i] = string(profile.AppendNumber(nil, a.Lo+float64(i), true, a.Decimals, a.Trim))
	}
}

// grid is a public partition of a column's values into buckets, on which the
// domain step measures a noisy histogram to find a coarse range.
type grid interface {
	size() int
	bucket(v float64) int
	// rng is the closed range of bucket b.
	rng(b int) (lo, hi float64)
}

func gridFor(k profile.Kind) grid {
	if k == profile.Datetime {
		return yearGrid{}
	}
	return logGrid{}
}

// logGrid: signed powers of two from 2^minExp to 2^maxExp, plus a bucket for
// |v| < 2^minExp (read as zero). Bucket logBuckets is that near-zero one;
// logBuckets+1+e' holds [2^(e'+minExp), 2^(e'+minExp+1)), and the negative
// side mirrors it.
type logGrid struct{}

const (
	minExp     = -20
	maxExp     = 62
	logBuckets = maxExp - minExp + 1
)

func (logGrid) size() int { return 2*logBuckets + 1 }

func (logGrid) bucket(v float64) int {
	av := math.Abs(v)
	if av < math.Ldexp(1, minExp) {
		return logBuckets
	}
	_, e := math.Frexp(av) // av = f * 2^e, f in [0.5, 1): floor(log2 av) = e-1
	i := min(max(e-1, minExp), maxExp) - minExp
	if v < 0 {
		return logBuckets - 1 - i
	}
	return logBuckets + 1 + i
}

func (logGrid) rng(b int) (lo, hi float64) {
	switch {
	case b == logBuckets:
		return 0, 0
	case b > logBuckets:
		e := b - logBuckets - 1 + minExp
		return math.Ldexp(1, e), math.Ldexp(1, e+1)
	}
	e := logBuckets - 1 - b + minExp
	return -math.Ldexp(1, e+1), -math.Ldexp(1, e)
}

// yearGrid: calendar years (UTC) firstYear to firstYear+years-1 of Unix
// seconds; earlier and later instants fall in the end buckets, so a bound
// never leaves those years.
type yearGrid struct{}

const (
	firstYear = 1900
	years     = 200
)

func (yearGrid) size() int { return years }

func (yearGrid) bucket(v float64) int {
	y := time.Unix(int64(math.Floor(v)), 0).UTC().Year()
	return min(max(y-firstYear, 0), years-1)
}

func (yearGrid) rng(b int) (lo, hi float64) {
	y := firstYear + b
	return float64(time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Unix()), float64(time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
}
