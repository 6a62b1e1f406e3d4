package profile

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"synthos.dev/synthos/internal/parallel"
	"synthos.dev/synthos/shared/relations"
)

// numericLevels: a numeric column of at most this many distinct values
// (an education code, a rating) also takes part in functional
// dependencies.
const numericLevels = 100

// RelationColumns parses rows, cells of the columns p describes, into the
// vectors package relations reads: numbers and datetimes (seconds since
// 1970) as floats, categorical, boolean and few-valued numeric columns as
// level codes. Keys, PII and free text take part in no relation. A cell
// that does not parse as its column's kind counts as missing.
//
// Columns are parsed independently, on every core; each cell is trimmed
// once.
func RelationColumns(rows [][]string, p *Profile) []relations.Column {
	out := make([]relations.Column, len(p.Columns))
	parallel.Each(len(p.Columns), func(j int) { relationColumn(&out[j], rows, j, &p.Columns[j]) })
	return out
}

// relationColumn fills rc from column j of rows, described by c.
func relationColumn(rc *relations.Column, rows [][]string, j int, c *Column) {
	rc.Name = c.Name
	// cell returns row i's trimmed cell, ok false when it is missing.
	cell := func(i int) (string, bool) {
		if j >= len(rows[i]) {
			return "", false
		}
		v := strings.TrimSpace(rows[i][j])
		return v, v != "" && !slices.Contains(c.MissingTokens, v)
	}
	switch c.Kind {
	case Numeric:
		rc.Kind, rc.Decimals = relations.Number, c.Decimals
		if c.Integer {
			rc.Decimals = 0
		}
		rc.Num = make([]float64, len(rows))
		for i := range rows {
			rc.Num[i] = math.NaN()
			if v, ok := cell(i); ok {
				if x, ok := ParseNumber(v); ok {
					rc.Num[i] = x
				}
			}
		}
		if c.Distinct <= numericLevels {
			numberLevels(rc)
		}
	case Datetime:
		rc.Kind = relations.Time
		rc.Num = make([]float64, len(rows))
		for i := range rows {
			rc.Num[i] = math.NaN()
			if v, ok := cell(i); ok {
				if t, ok := ParseTime(v, c.Format); ok {
					rc.Num[i] = unix(t)
				}
			}
		}
	case Categorical, Boolean:
		rc.Kind = relations.Level
		levels(rc, len(rows), cell)
	}
}

// numberLevels fills rc.Codes and rc.Levels from rc.Num as levels does
// from the numbers formatted ('g', shortest): distinct numbers format
// distinctly, so each is formatted once, when first seen.
func numberLevels(rc *relations.Column) {
	index := make(map[uint64]int32)
	rc.Codes = make([]int32, len(rc.Num))
	for i, v := range rc.Num {
		if math.IsNaN(v) {
			rc.Codes[i] = -1
			continue
		}
		code, seen := index[math.Float64bits(v)]
		if !seen {
			code = int32(len(rc.Levels))
			index[math.Float64bits(v)] = code
			rc.Levels = append(rc.Levels, strconv.FormatFloat(v, 'g', -1, 64))
		}
		rc.Codes[i] = code
	}
}

// levels fills rc.Codes and rc.Levels from value(i), codes numbered in
// first-seen order.
func levels(rc *relations.Column, n int, value func(i int) (string, bool)) {
	index := make(map[string]int32)
	rc.Codes = make([]int32, n)
	for i := range n {
		v, ok := value(i)
		if !ok {
			rc.Codes[i] = -1
			continue
		}
		code, seen := index[v]
		if !seen {
			code = int32(len(rc.Levels))
			index[v] = code
			rc.Levels = append(rc.Levels, v)
		}
		rc.Codes[i] = code
	}
}

// checkRelation checks that a relation's columns exist in p and are of
// kinds it can relate.
func checkRelation(r relations.Relation, p *Profile) error {
	want := 2
	if r.Kind == relations.Sum || r.Kind == relations.Product || r.Kind == relations.Ratio || r.Kind == relations.Elapsed {
		want = 3
	}
	if r.Kind == relations.Elapsed && !slices.ContainsFunc(relations.Units, func(u relations.Unit) bool { return u.Seconds == r.Unit }) {
		return fmt.Errorf("%w: %s: unit of %v seconds", relations.ErrRelation, r, r.Unit)
	}
	if r.Kind == relations.Geodesic {
		want = 5
		if !slices.ContainsFunc(relations.DistanceUnits, func(u relations.Unit) bool { return u.Seconds == r.Unit }) {
			return fmt.Errorf("%w: %s: unit of %v km", relations.ErrRelation, r, r.Unit)
		}
	}
	if !slices.Contains(relations.Kinds, r.Kind) || len(r.Columns) != want && !(r.Kind == relations.Sum && len(r.Columns) > 3) {
		return fmt.Errorf("%w: %s: kind %q with %d columns", relations.ErrRelation, r, r.Kind, len(r.Columns))
	}
	var first Kind
	for i, name := range r.Columns {
		c := p.Col(name)
		if c == nil {
			return fmt.Errorf("%s: column %q is not in the table", r, name)
		}
		if slices.Contains(r.Columns[:i], name) {
			return fmt.Errorf("%s: column %q appears twice", r, name)
		}
		switch r.Kind {
		case relations.Order:
			if c.Kind != Numeric && c.Kind != Datetime || i == 1 && c.Kind != first {
				return fmt.Errorf("%s: an order relates two numeric or two datetime columns, %q is %s", r, name, c.Kind)
			}
			first = c.Kind
		case relations.Elapsed:
			if i == 0 && c.Kind != Numeric || i > 0 && c.Kind != Datetime {
				return fmt.Errorf("%s: an elapsed time is a numeric column of two datetime ones, %q is %s", r, name, c.Kind)
			}
		case relations.Geodesic:
			if c.Kind != Numeric {
				return fmt.Errorf("%s: a geodesic relates a numeric distance to four numeric coordinates, %q is %s", r, name, c.Kind)
			}
		case relations.FD:
			if c.Kind != Categorical && c.Kind != Boolean && c.Kind != Numeric {
				return fmt.Errorf("%s: a dependency relates categorical, boolean or numeric columns, %q is %s", r, name, c.Kind)
			}
			if c.Kind == Numeric && c.Distinct > numericLevels {
				return fmt.Errorf("%s: a numeric column in a dependency has at most %d distinct values, %q has %d", r, numericLevels, name, c.Distinct)
			}
		default:
			if c.Kind != Numeric {
				return fmt.Errorf("%s: an identity relates numeric columns, %q is %s", r, name, c.Kind)
			}
		}
	}
	return nil
}
