package privacy

import (
	"fmt"
	"math"
	"strings"
	"time"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// nan32 marks a missing numeric cell. It is one fixed bit pattern, so that
// rows hash and compare equal when they are missing in the same places.
var nan32 = float32(math.NaN())

// schema says how each modelled column is encoded. It is decided once, from
// the profile and the training table, and applied to every table so that the
// three encodings share scales and category codes.
type schema struct {
	num  []numSpec
	cat  []catSpec
	skip []Exclusion // profiled columns left out of distances, and why
}

// numSpec encodes a numeric or datetime column as (x - min) / scale, a
// datetime as seconds since 1970.
type numSpec struct {
	col    *profile.Column
	layout string // Go time layout for datetime columns, "" for numbers
	min    float64
	scale  float64
}

// catSpec encodes a categorical or boolean column as a code: 0 for a missing
// cell, and 1, 2, … for values in order of first appearance (train first).
type catSpec struct {
	col  *profile.Column
	dict map[string]int32
}

// Exclusion names a profiled column that distances ignore, and why.
type Exclusion struct {
	Column string       `json:"column"`
	Kind   profile.Kind `json:"kind"`
	Reason string       `json:"reason"`
}

// names returns the modelled column names in encoding order: numeric and
// datetime columns first, then categorical and boolean ones.
func (s *schema) names() []string {
	out := make([]string, 0, len(s.num)+len(s.cat))
	for _, n := range s.num {
		out = append(out, n.col.Name)
	}
	for _, c := range s.cat {
		out = append(out, c.col.Name)
	}
	return out
}

// width is the number of modelled columns: a Gower distance is a sum over
// them divided by width.
func (s *schema) width() int { return len(s.num) + len(s.cat) }

// newSchema sorts the profiled columns into encoded and excluded ones.
func newSchema(p *profile.Profile) *schema {
	s := &schema{}
	for i := range p.Columns {
		c := &p.Columns[i]
		switch c.Kind {
		case profile.Numeric:
			s.num = append(s.num, numSpec{col: c})
		case profile.Datetime:
			layout := c.Format
			if layout == "" {
				layout = time.RFC3339 // a profile without a format: the interchange layout
			}
			s.num = append(s.num, numSpec{col: c, layout: layout})
		case profile.Categorical, profile.Boolean:
			s.cat = append(s.cat, catSpec{col: c, dict: map[string]int32{}})
		case profile.ID, profile.PII, profile.Text:
			s.skip = append(s.skip, Exclusion{Column: c.Name, Kind: c.Kind,
				Reason: "identifier or free text: checked for verbatim leakage, not used in distances"})
		default:
			s.skip = append(s.skip, Exclusion{Column: c.Name, Kind: c.Kind, Reason: "unknown kind"})
		}
	}
	return s
}

// matrix is a table encoded for distances: row-major float32 features
// (scaled numbers and datetimes, nan32 when missing) and int32 category
// codes, plus a hash of each encoded row for exact-match lookups.
type matrix struct {
	n, nNum, nCat int
	num           []float32
	cat           []int32
	hash          []uint64
}

func (m *matrix) numRow(i int) []float32 { return m.num[i*m.nNum : (i+1)*m.nNum : (i+1)*m.nNum] }
func (m *matrix) catRow(i int) []int32   { return m.cat[i*m.nCat : (i+1)*m.nCat : (i+1)*m.nCat] }

// equal reports whether row i of m and row j of o encode the same values.
// Missing numbers compare equal to each other.
func (m *matrix) equal(i int, o *matrix, j int) bool {
	a, b := m.numRow(i), o.numRow(j)
	for k := range a {
		if math.Float32bits(a[k]) != math.Float32bits(b[k]) {
			return false
		}
	}
	ac, bc := m.catRow(i), o.catRow(j)
	for k := range ac {
		if ac[k] != bc[k] {
			return false
		}
	}
	return true
}

// dist returns the Gower distance between row i of m and row j of o times
// the number of columns (the caller divides): per numeric column the absolute
// difference capped at 1, per categorical column 0 or 1, and 1 between a
// missing and a present cell. The terms are summed in a fixed order, so equal
// inputs give bit-identical results and ties are exact.
func (m *matrix) dist(i int, o *matrix, j int) float32 {
	return rowDist(m.numRow(i), o.numRow(j), m.catRow(i), o.catRow(j))
}

func rowDist(an, bn []float32, ac, bc []int32) float32 {
	var s float32
	bn = bn[:len(an)]
	for k, a := range an {
		b := bn[k]
		d := a - b
		if d != d { // at least one side missing
			if a == a || b == b {
				s++
			}
			continue
		}
		if d < 0 {
			d = -d
		}
		if d > 1 {
			d = 1
		}
		s += d
	}
	bc = bc[:len(ac)]
	for k, a := range ac {
		if a != bc[k] {
			s++
		}
	}
	return s
}

// rawTable is a table parsed against the schema but not yet scaled.
type rawTable struct {
	n       int
	num     []float64 // row-major, NaN when missing or unparseable
	cat     []int32
	invalid []int // per numeric column: non-missing cells that did not parse
}

// parse reads t's modelled columns. Category codes are added to the shared
// dictionaries, so tables must be parsed train first for stable codes.
func (s *schema) parse(t *table.Table, what string) (*rawTable, error) {
	numIdx := make([]int, len(s.num))
	for k, sp := range s.num {
		if numIdx[k] = t.Col(sp.col.Name); numIdx[k] < 0 {
			return nil, fmt.Errorf("%s table has no column %q: %w", what, sp.col.Name, ErrSchema)
		}
	}
	catIdx := make([]int, len(s.cat))
	for k, sp := range s.cat {
		if catIdx[k] = t.Col(sp.col.Name); catIdx[k] < 0 {
			return nil, fmt.Errorf("%s table has no column %q: %w", what, sp.col.Name, ErrSchema)
		}
	}
	n := len(t.Rows)
	r := &rawTable{n: n, num: make([]float64, n*len(s.num)), cat: make([]int32, n*len(s.cat)),
		invalid: make([]int, len(s.num))}
	for i, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return nil, fmt.Errorf("%s table row %d has %d cells, header has %d: %w",
				what, i+1, len(row), len(t.Columns), ErrSchema)
		}
		out := r.num[i*len(s.num) : (i+1)*len(s.num)]
		for k := range s.num {
			sp := &s.num[k]
			cell := row[numIdx[k]]
			v, ok := math.NaN(), false
			if !profile.IsMissing(cell, sp.col) {
				if sp.layout != "" {
					if ts, okT := profile.ParseTime(cell, sp.layout); okT {
						v, ok = float64(ts.Unix())+float64(ts.Nanosecond())/1e9, true
					}
				} else {
					v, ok = profile.ParseNumber(cell)
				}
				if !ok {
					v = math.NaN()
					r.invalid[k]++
				}
			}
			out[k] = v
		}
		codes := r.cat[i*len(s.cat) : (i+1)*len(s.cat)]
		for k := range s.cat {
			codes[k] = s.cat[k].code(row[catIdx[k]])
		}
	}
	return r, nil
}

// code returns the category code of a cell, adding new values to the
// dictionary. Boolean cells are read through the column's true and false
// tokens, so "Yes" and "yes" are one value.
func (c *catSpec) code(cell string) int32 {
	if profile.IsMissing(cell, c.col) {
		return 0
	}
	key := strings.TrimSpace(cell)
	if c.col.Kind == profile.Boolean {
		if v, ok := profile.ParseBool(key, c.col); ok {
			key = "\x00false"
			if v {
				key = "\x00true"
			}
		}
	}
	if v, ok := c.dict[key]; ok {
		return v
	}
	v := int32(len(c.dict) + 1)
	c.dict[key] = v
	return v
}

// fitScales sets each numeric column's offset and scale from the training
// rows: the minimum and the range, so that training values map to [0, 1]. A
// column that is constant or wholly missing in train gets scale 1, which
// still tells a different value apart.
func (s *schema) fitScales(train *rawTable) {
	w := len(s.num)
	for k := range s.num {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := 0; i < train.n; i++ {
			v := train.num[i*w+k]
			if v == v {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		s.num[k].min, s.num[k].scale = 0, 1
		if lo <= hi {
			s.num[k].min = lo
			if hi > lo {
				s.num[k].scale = hi - lo
			}
		}
	}
}

// finish scales r into a matrix and hashes its rows.
func (s *schema) finish(r *rawTable) *matrix {
	w := len(s.num)
	m := &matrix{n: r.n, nNum: w, nCat: len(s.cat), num: make([]float32, len(r.num)), cat: r.cat}
	for i := 0; i < r.n; i++ {
		for k := 0; k < w; k++ {
			v := r.num[i*w+k]
			if v != v {
				m.num[i*w+k] = nan32
			} else {
				m.num[i*w+k] = float32((v - s.num[k].min) / s.num[k].scale)
			}
		}
	}
	m.rehash()
	return m
}

// rehash computes every row's FNV-1a hash over its encoded bits.
func (m *matrix) rehash() {
	m.hash = make([]uint64, m.n)
	for i := range m.hash {
		h := uint64(14695981039346656037)
		for _, v := range m.numRow(i) {
			h = (h ^ uint64(math.Float32bits(v))) * 1099511628211
		}
		for _, c := range m.catRow(i) {
			h = (h ^ uint64(uint32(c))) * 1099511628211
		}
		m.hash[i] = h
	}
}

// project returns a matrix of m's rows restricted to the given numeric and
// categorical columns, without parsing anything again.
func (m *matrix) project(numCols, catCols []int) *matrix {
	p := &matrix{n: m.n, nNum: len(numCols), nCat: len(catCols),
		num: make([]float32, m.n*len(numCols)), cat: make([]int32, m.n*len(catCols))}
	for i := 0; i < m.n; i++ {
		src, dst := m.numRow(i), p.numRow(i)
		for k, c := range numCols {
			dst[k] = src[c]
		}
		sc, dc := m.catRow(i), p.catRow(i)
		for k, c := range catCols {
			dc[k] = sc[c]
		}
	}
	p.rehash()
	return p
}

// encoded holds the three tables encoded with one schema.
type encoded struct {
	s                     *schema
	train, holdout, synth *matrix
	invalid               map[string]int // synthetic cells of numeric columns that did not parse
}

// encode parses and scales the three tables once.
func encode(train, holdout, synth *table.Table, p *profile.Profile) (*encoded, error) {
	s := newSchema(p)
	if s.width() == 0 {
		return nil, fmt.Errorf("profile has no numeric, datetime, categorical or boolean column: %w", ErrInput)
	}
	rt, err := s.parse(train, "train")
	if err != nil {
		return nil, err
	}
	rh, err := s.parse(holdout, "holdout")
	if err != nil {
		return nil, err
	}
	rs, err := s.parse(synth, "synthetic")
	if err != nil {
		return nil, err
	}
	s.fitScales(rt)
	e := &encoded{s: s, train: s.finish(rt), holdout: s.finish(rh), synth: s.finish(rs)}
	for k, n := range rs.invalid {
		if n > 0 {
			if e.invalid == nil {
				e.invalid = map[string]int{}
			}
			e.invalid[s.num[k].col.Name] = n
		}
	}
	return e, nil
}
