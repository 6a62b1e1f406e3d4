package relations

import (
	"fmt"
	"math"
)

// Share is how many of the rows a relation applies to it holds in.
type Share struct {
	Held    int     `json:"held"`
	Support int     `json:"support"`
	Rate    float64 `json:"rate"` // Held / Support, 0 without support
}

func share(held, sup int) Share {
	s := Share{Held: held, Support: sup}
	if sup > 0 {
		s.Rate = float64(held) / float64(sup)
	}
	return s
}

// Measure returns how often r holds in the rows of ref and of other, two
// tables of the same columns (a real and a synthetic one). A functional
// dependency holds in a row whose dependent value is the one ref most often
// pairs with its determinant value, in either table: a synthetic row that
// pairs a place with a region it never belongs to breaks it. A row holding
// a value ref never holds, in either column (a category the dp model could
// not release, written as its "(other)" label), is left out of the
// support: the dependency says nothing about it, and the column's shape
// score counts it.
func Measure(r Relation, ref, other []Column) (Share, Share, error) {
	find := func(cols []Column) ([]*Column, error) {
		out := make([]*Column, len(r.Columns))
		for i, name := range r.Columns {
			for j := range cols {
				if cols[j].Name == name {
					out[i] = &cols[j]
				}
			}
			c := out[i]
			switch {
			case c == nil:
				return nil, fmt.Errorf("%w: %s: no column %q", ErrRelation, r, name)
			case r.Kind == FD && c.Codes == nil:
				return nil, fmt.Errorf("%w: %s: column %q has no levels", ErrRelation, r, name)
			case r.Kind != FD && c.Num == nil:
				return nil, fmt.Errorf("%w: %s: column %q is not numeric or datetime", ErrRelation, r, name)
			}
		}
		return out, nil
	}
	rc, err := find(ref)
	if err != nil {
		return Share{}, Share{}, err
	}
	oc, err := find(other)
	if err != nil {
		return Share{}, Share{}, err
	}
	if r.Kind == FD {
		dom := Dominant(rc[0], rc[1])
		known := make(map[string]bool, len(rc[1].Levels))
		for _, v := range rc[1].Levels {
			known[v] = true
		}
		return fdShare(oc2(rc), dom, known), fdShare(oc2(oc), dom, known), nil
	}
	if (r.Kind == Elapsed || r.Kind == Geodesic) && !(r.Unit > 0) {
		return Share{}, Share{}, fmt.Errorf("%w: %s: no unit", ErrRelation, r)
	}
	return numShare(r, rc), numShare(r, oc), nil
}

func oc2(c []*Column) [2]*Column { return [2]*Column{c[0], c[1]} }

// Dominant maps each value of x to the value of y it is most often paired
// with (the first such in level order on a tie).
func Dominant(x, y *Column) map[string]string {
	counts := make(map[[2]int32]int)
	for r := range x.Codes {
		if cx, cy := x.Codes[r], y.Codes[r]; cx >= 0 && cy >= 0 {
			counts[[2]int32{cx, cy}]++
		}
	}
	best := make([]int32, len(x.Levels))
	top := make([]int, len(x.Levels))
	for i := range best {
		best[i] = -1
	}
	for k, c := range counts {
		if c > top[k[0]] || c == top[k[0]] && k[1] < best[k[0]] {
			top[k[0]], best[k[0]] = c, k[1]
		}
	}
	out := make(map[string]string, len(best))
	for i, b := range best {
		if b >= 0 {
			out[x.Levels[i]] = y.Levels[b]
		}
	}
	return out
}

func fdShare(c [2]*Column, dom map[string]string, known map[string]bool) Share {
	held, sup := 0, 0
	for r := range c[0].Codes {
		cx, cy := c[0].Codes[r], c[1].Codes[r]
		if cx < 0 || cy < 0 {
			continue
		}
		want, ok := dom[c[0].Levels[cx]]
		if !ok || !known[c[1].Levels[cy]] {
			continue
		}
		sup++
		if want == c[1].Levels[cy] {
			held++
		}
	}
	return share(held, sup)
}

func numShare(rel Relation, c []*Column) Share {
	k := rel.Kind
	held, sup := 0, 0
	parts := make([]float64, len(c)-1)
rows:
	for r := range c[0].Num {
		for i := range parts {
			if parts[i] = c[i+1].Num[r]; math.IsNaN(parts[i]) {
				continue rows
			}
		}
		a := c[0].Num[r]
		if math.IsNaN(a) {
			continue
		}
		sup++
		tol := Tolerance(c[0].Decimals, a)
		switch {
		case k == Elapsed:
			if HoldsElapsed(a, parts[0], parts[1], rel.Unit, tol) {
				held++
			}
		case k == Geodesic:
			if len(parts) == 4 && HoldsGeodesic(a, GreatCircle(parts[0], parts[1], parts[2], parts[3]), rel.Unit, tol) {
				held++
			}
		case k == Sum && HoldsSum(a, parts, tol) || k != Sum && Holds(k, a, parts[0], parts[len(parts)-1], tol):
			held++
		}
	}
	return share(held, sup)
}
