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
// true, then missing.
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

	// Groups maps compressed bin k to the fine bins it stands for; a group
	// of several is the merge of the rare fine bins, decompressed uniformly
	// as in MST.
	Groups [][]int
}

// fine returns the size of the fine domain.
func (a *Attr) fine() int {
	switch a.Kind {
	case profile.Numeric, profile.Datetime:
		return a.valueBins() + 1
	case profile.Boolean:
		return 3
	}
	return len(a.Levels) + 2
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
	missing := a.fine() - 1
	if profile.IsMissing(cell, b.pc) {
		return missing
	}
	switch a.Kind {
	case profile.Numeric, profile.Datetime:
		v, ok := parseValue(a.Kind, a.Format, cell)
		if !ok {
			return missing
		}
		return a.valueBin(v)
	case profile.Boolean:
		v, ok := profile.ParseBool(cell, b.pc)
		if !ok {
			return missing
		}
		if v {
			return 1
		}
		return 0
	}
	if k, ok := b.level[strings.TrimSpace(cell)]; ok {
		return k
	}
	return len(a.Levels) // OtherBin
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
// has that few values, otherwise an atom at lo and equal-width intervals.
func (a *Attr) setBins(lo, hi float64, maxBins int) {
	if a.Integer {
		lo, hi = math.Ceil(lo), math.Floor(hi)
	}
	if hi < lo {
		hi = lo
	}
	a.Lo, a.Hi = lo, hi
	a.Atom, a.Edges = false, nil
	if a.Integer {
		if hi-lo+1 <= float64(maxBins) {
			for v := lo; v <= hi+1; v++ {
				a.Edges = append(a.Edges, v)
			}
			return
		}
		a.Atom = true
		k := maxBins - 1
		span := hi - lo // integers lo+1..hi
		for i := 0; i <= k; i++ {
			a.Edges = append(a.Edges, lo+1+math.Floor(float64(i)*span/float64(k)))
		}
		return
	}
	if hi == lo {
		a.Edges = []float64{lo, lo}
		return
	}
	a.Atom = true
	k := maxBins - 1
	for i := 0; i <= k; i++ {
		a.Edges = append(a.Edges, lo+(hi-lo)*float64(i)/float64(k))
	}
	a.Edges[k] = hi
}

// drawValue writes a value of fine bin k to buf: uniform within a numeric
// bin and rounded to the column's precision, the level of a categorical or
// boolean bin, the missing token for the missing bin.
func (a *Attr) drawValue(buf []byte, k int, rng *rand.Rand) []byte {
	if k == a.fine()-1 {
		return append(buf, a.Missing...)
	}
	switch a.Kind {
	case profile.Categorical:
		if k == len(a.Levels) {
			return append(buf, a.Other...)
		}
		return append(buf, a.Levels[k]...)
	case profile.Boolean:
		return append(buf, a.Levels[k]...)
	}
	v := a.Lo
	if !(a.Atom && k == 0) {
		if a.Atom {
			k--
		}
		lo, hi := a.Edges[k], a.Edges[k+1]
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
	switch {
	case a.Kind == profile.Datetime:
		return time.Unix(int64(math.Round(v)), 0).UTC().AppendFormat(buf, a.Format)
	default:
		return profile.AppendNumber(buf, v, a.Integer, a.Decimals, a.Trim)
	}
}

// Public grid for DP bounds: signed powers of two from 2^minExp to 2^maxExp,
// plus a bucket for |v| < 2^minExp. Bucket logBuckets is that near-zero one;
// logBuckets+1+e' holds [2^(e'+minExp), 2^(e'+minExp+1)), and the negative
// side mirrors it.
const (
	minExp     = -20
	maxExp     = 62
	logBuckets = maxExp - minExp + 1
)

func logBucket(v float64) int {
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

// logRange is the closed range covered by a bucket of logBucket.
func logRange(b int) (lo, hi float64) {
	switch {
	case b == logBuckets:
		t := math.Ldexp(1, minExp)
		return -t, t
	case b > logBuckets:
		e := b - logBuckets - 1 + minExp
		return math.Ldexp(1, e), math.Ldexp(1, e+1)
	}
	e := logBuckets - 1 - b + minExp
	return -math.Ldexp(1, e+1), -math.Ldexp(1, e)
}
