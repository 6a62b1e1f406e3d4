// Package relations discovers the relations a table's rows obey — order
// between two datetime or two numeric columns (end ≥ start), functional
// dependencies between low-cardinality columns (place → region, code ↔
// label) and arithmetic identities (total = a + b, c = a × b, c = a / b
// within the rounding the source writes) — each with its support and
// confidence on the rows, and measures how often a relation holds in any
// table of the same columns.
//
// The package works on parsed column vectors (Column) and knows nothing of
// cells or profiles: package profile builds the vectors, runs Discover
// during Infer and keeps the relations in the profile, where a schema can
// drop or add them; package model enforces them in every model's sample;
// package quality reports how often each holds in real and synthetic rows.
// Per-column formats (integer-valued, decimals, trailing zeros) are not
// relations: the profile records them on each column (profile.Column
// Integer, Decimals, Trim) and every model writes numbers through
// profile.AppendNumber.
//
// Discovery is bounded so that wide tables stay fast: pairs are checked on
// a screening slice of rows before the full pass, arithmetic identities are
// searched only among the first MaxArithColumns numeric columns, and
// functional dependencies only between columns of at most MaxLevels values.
package relations

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Kind is a kind of relation.
type Kind string

const (
	// Order: Columns[0] ≤ Columns[1] (two datetime or two numeric columns).
	Order Kind = "order"
	// FD: Columns[0] determines Columns[1] (each value of the first goes
	// with one value of the second).
	FD Kind = "fd"
	// Sum: Columns[0] = Columns[1] + Columns[2] (+ Columns[3] …): a total
	// and its parts (a difference A = C − B is the sum C = A + B).
	Sum Kind = "sum"
	// Product: Columns[0] = Columns[1] × Columns[2].
	Product Kind = "product"
	// Ratio: Columns[0] = Columns[1] / Columns[2].
	Ratio Kind = "ratio"
	// Elapsed: Columns[0], a number, = Columns[1] − Columns[2], two
	// datetimes, in Unit seconds (a duration in minutes next to a start
	// and an end).
	Elapsed Kind = "elapsed"
	// Geodesic: Columns[0], a travelled distance in Unit kilometres, is at
	// least the great-circle distance between the points (Columns[1],
	// Columns[2]) and (Columns[3], Columns[4]), latitudes and longitudes in
	// degrees (a trip's length next to its start and end coordinates).
	// Ratio summarises the distance over the great-circle one: the models
	// keep that ratio's distribution, not just the bound.
	Geodesic Kind = "geodesic"
)

// Kinds lists every kind, in the order String's forms are parsed.
var Kinds = []Kind{Order, FD, Sum, Product, Ratio, Elapsed, Geodesic}

// Unit is a unit an Elapsed relation's number may count, by name, in
// seconds.
type Unit struct {
	Name    string
	Seconds float64
}

// Units are the units of Elapsed relations.
var Units = []Unit{{"seconds", 1}, {"minutes", 60}, {"hours", 3600}, {"days", 86400}}

// unitName is the name of a unit of Units ("" for another).
func unitName(sec float64) string {
	for _, u := range Units {
		if u.Seconds == sec {
			return u.Name
		}
	}
	return ""
}

// DistanceUnits are the units of Geodesic relations, Seconds holding
// kilometres per unit, in ascending size: discovery keeps the smallest
// unit in which the distance is never below the great-circle one.
var DistanceUnits = []Unit{{"m", 0.001}, {"km", 1}, {"mi", 1.609344}, {"nmi", 1.852}}

// distanceUnitName is the name of a unit of DistanceUnits ("" for another).
func distanceUnitName(km float64) string {
	for _, u := range DistanceUnits {
		if u.Seconds == km {
			return u.Name
		}
	}
	return ""
}

// earthRadiusKm is the Earth's mean radius (IUGG).
const earthRadiusKm = 6371.0088

// GreatCircle returns the great-circle distance in kilometres between two
// points given by latitude and longitude in degrees (haversine formula).
func GreatCircle(lat1, lng1, lat2, lng2 float64) float64 {
	const rad = math.Pi / 180
	s1 := math.Sin((lat2 - lat1) * rad / 2)
	s2 := math.Sin((lng2 - lng1) * rad / 2)
	a := s1*s1 + math.Cos(lat1*rad)*math.Cos(lat2*rad)*s2*s2
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(min(1, a)))
}

// HoldsGeodesic reports whether a distance d in unit kilometres is at least
// the great-circle distance gc (km), within tol (d's Tolerance).
func HoldsGeodesic(d, gc, unit, tol float64) bool {
	return (d+tol)*unit >= gc
}

// Relation is one relation between columns of a table.
type Relation struct {
	Kind    Kind     `json:"kind"`
	Columns []string `json:"columns"`
	// Support is the number of rows the relation was checked on (rows with
	// every one of its cells present); Confidence the share of them it
	// holds in. A relation added by hand in a schema has neither.
	Support    int     `json:"support,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	// Gap summarises Columns[1] − Columns[0] of an order relation on the
	// rows (seconds for datetimes): the models keep the gap's distribution,
	// not just its sign.
	Gap *Gap `json:"gap,omitempty"`
	// Declared marks a relation a schema added rather than Discover found.
	Declared bool `json:"declared,omitempty"`
	// Unit is an Elapsed relation's unit in seconds (one of Units), a
	// Geodesic relation's in kilometres (one of DistanceUnits).
	Unit float64 `json:"unit,omitempty"`
	// Ratio summarises a Geodesic relation's distance over the
	// great-circle one (in the same unit), on the rows where the points
	// are apart.
	Ratio *Gap `json:"ratio,omitempty"`
}

// Gap is the distribution of an order relation's gap, as quantiles.
type Gap struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// ErrRelation reports a relation that cannot be parsed or does not fit the
// table's columns.
var ErrRelation = errors.New("relations: bad relation")

// String writes the relation as Parse reads it: "a <= b", "x -> y",
// "c = a + b", "c = a * b" or "c = a / b".
func (r Relation) String() string {
	c := r.Columns
	switch {
	case r.Kind == Order && len(c) == 2:
		return c[0] + " <= " + c[1]
	case r.Kind == FD && len(c) == 2:
		return c[0] + " -> " + c[1]
	case r.Kind == Sum && len(c) >= 3:
		return c[0] + " = " + strings.Join(c[1:], " + ")
	case r.Kind == Product && len(c) == 3:
		return c[0] + " = " + c[1] + " * " + c[2]
	case r.Kind == Ratio && len(c) == 3:
		return c[0] + " = " + c[1] + " / " + c[2]
	case r.Kind == Elapsed && len(c) == 3 && unitName(r.Unit) != "":
		return c[0] + " = " + c[1] + " - " + c[2] + " in " + unitName(r.Unit)
	case r.Kind == Geodesic && len(c) == 5 && distanceUnitName(r.Unit) != "":
		return c[0] + " >= geodesic(" + strings.Join(c[1:], ", ") + ") in " + distanceUnitName(r.Unit)
	}
	return fmt.Sprintf("%s%q", r.Kind, c)
}

// Parse reads a relation written as String writes it ("c = a + b + d" sums
// any number of parts). Column names are
// trimmed; the operators need a space on each side, so names may hold
// other punctuation.
func Parse(s string) (Relation, error) {
	split := func(s, op string) (string, string, bool) {
		a, b, ok := strings.Cut(s, " "+op+" ")
		a, b = strings.TrimSpace(a), strings.TrimSpace(b)
		return a, b, ok && a != "" && b != ""
	}
	if a, b, ok := split(s, "<="); ok {
		return Relation{Kind: Order, Columns: []string{a, b}}, nil
	}
	if a, b, ok := split(s, ">="); ok {
		if g, ok := parseGeodesic(a, b); ok {
			return g, nil
		}
		return Relation{Kind: Order, Columns: []string{b, a}}, nil
	}
	if a, b, ok := split(s, "->"); ok {
		return Relation{Kind: FD, Columns: []string{a, b}}, nil
	}
	if c, rhs, ok := split(s, "="); ok {
		for _, u := range Units {
			if e, ok := strings.CutSuffix(rhs, " in "+u.Name); ok {
				if a, b, ok := split(e, "-"); ok {
					return Relation{Kind: Elapsed, Columns: []string{c, a, b}, Unit: u.Seconds}, nil
				}
			}
		}
		if parts := strings.Split(rhs, " + "); len(parts) > 2 {
			cols := []string{c}
			for _, p := range parts {
				if p = strings.TrimSpace(p); p == "" {
					return Relation{}, fmt.Errorf("%w: %q: an empty term", ErrRelation, s)
				}
				cols = append(cols, p)
			}
			return Relation{Kind: Sum, Columns: cols}, nil
		}
		for _, k := range []struct {
			op   string
			kind Kind
		}{{"+", Sum}, {"*", Product}, {"/", Ratio}} {
			if a, b, ok := split(rhs, k.op); ok {
				return Relation{Kind: k.kind, Columns: []string{c, a, b}}, nil
			}
		}
		if a, b, ok := split(rhs, "-"); ok { // c = a - b is a = c + b
			return Relation{Kind: Sum, Columns: []string{a, c, b}}, nil
		}
	}
	return Relation{}, fmt.Errorf(`%w: %q: write "a <= b", "a >= b", "x -> y", "c = a + b", "c = a - b", "c = a * b", "c = a / b" or "d = end - start in minutes" (seconds, hours, days; spaces around the operator)`, ErrRelation, s)
}

// parseGeodesic reads the right side of "d >= geodesic(lat1, lng1, lat2,
// lng2) in km" (any of DistanceUnits).
func parseGeodesic(d, rhs string) (Relation, bool) {
	for _, u := range DistanceUnits {
		e, ok := strings.CutSuffix(rhs, " in "+u.Name)
		if !ok {
			continue
		}
		args, ok := strings.CutPrefix(strings.TrimSpace(e), "geodesic(")
		if args, ok = strings.CutSuffix(args, ")"); !ok {
			return Relation{}, false
		}
		cols := []string{d}
		for _, a := range strings.Split(args, ",") {
			if a = strings.TrimSpace(a); a == "" {
				return Relation{}, false
			}
			cols = append(cols, a)
		}
		if len(cols) != 5 {
			return Relation{}, false
		}
		return Relation{Kind: Geodesic, Columns: cols, Unit: u.Seconds}, true
	}
	return Relation{}, false
}

// Target is the column a model derives when it enforces the relation: the
// later of an order, the dependent of an FD, the result of an identity.
func (r Relation) Target() string {
	switch r.Kind {
	case Order, FD:
		return r.Columns[1]
	}
	return r.Columns[0]
}

// Sources are the columns the target is derived from.
func (r Relation) Sources() []string {
	switch r.Kind {
	case Order, FD:
		return r.Columns[:1]
	}
	return r.Columns[1:]
}

// ColKind is how a column's values are held for relations.
type ColKind uint8

const (
	// Skip columns take part in no relation (keys, PII, free text).
	Skip ColKind = iota
	// Number columns hold Num (NaN where missing).
	Number
	// Time columns hold Num as seconds since 1970 (NaN where missing).
	Time
	// Level columns hold Codes only (categorical, boolean).
	Level
)

// Column is one column's values, parsed. Number columns with few distinct
// values (an education code) also hold Codes, so that they take part in
// functional dependencies.
type Column struct {
	Name string
	Kind ColKind
	Num  []float64 // Number, Time: the values, NaN where missing
	// Codes index Levels (-1 where missing); set for Level columns and for
	// Number columns of at most MaxLevels distinct values.
	Codes  []int32
	Levels []string
	// Decimals the source writes (Number): identities hold within half a
	// unit of the last written digit of their result.
	Decimals int
}

// Rows returns the number of rows the column holds.
func (c *Column) Rows() int {
	if c.Kind == Level {
		return len(c.Codes)
	}
	return len(c.Num)
}

// Tolerance is how far a computed value may lie from one written with
// decimals digits after the point and still equal it: half a unit of the
// last digit, widened by a relative 1e-9 for floating-point error.
func Tolerance(decimals int, v float64) float64 {
	return 0.5*math.Pow10(-decimals)*(1+1e-6) + 1e-9*math.Abs(v)
}

// Holds reports whether the relation holds on one row's values: a, b and c
// are the values of Columns[0], [1] and [2] (c unused by two-column
// kinds), tol the target's Tolerance for identities. FDs are checked by
// Measure against a mapping, not here.
func Holds(k Kind, a, b, c, tol float64) bool {
	switch k {
	case Order:
		return a <= b
	case Sum:
		return math.Abs(a-(b+c)) <= tol
	case Product:
		return math.Abs(a-b*c) <= tol
	case Ratio:
		return c != 0 && math.Abs(a-b/c) <= tol
	}
	return false
}

// HoldsElapsed reports whether d, in unit seconds, equals end − start
// within tol (d's Tolerance).
func HoldsElapsed(d, end, start, unit, tol float64) bool {
	return math.Abs(d-(end-start)/unit) <= tol
}

// HoldsSum reports whether total equals the sum of parts within tol.
func HoldsSum(total float64, parts []float64, tol float64) bool {
	sum := 0.0
	for _, p := range parts {
		sum += p
	}
	return math.Abs(total-sum) <= tol
}
