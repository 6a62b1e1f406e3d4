package relations

import (
	"math"
	"slices"
)

// Bounds on discovery, so that a wide table stays fast (a 50,000-row,
// 40-column table is discovered in tens of milliseconds; see the benchmark).
const (
	// DefaultMinConfidence: a relation is kept when it holds in at least
	// this share of the rows it applies to.
	DefaultMinConfidence = 0.99
	// MinSupport is the fewest rows a relation must be checked on.
	MinSupport = 20
	// MaxLevels: columns of more distinct values take part in no functional
	// dependency (an id determines everything and says nothing).
	MaxLevels = 1000
	// MinRowsPerValue: a determinant's values must repeat on average this
	// often, so that near-unique columns make no trivial dependencies.
	MinRowsPerValue = 5
	// MaxArithColumns caps the numeric columns searched for identities
	// (the search is cubic in them).
	MaxArithColumns = 40
	// screenRows are checked first; a candidate failing more than a
	// (1 − confidence) share of them, plus one, is dropped unread.
	screenRows = 256
)

// Options tune Discover; the zero value uses the defaults.
type Options struct {
	// MinConfidence in (0, 1]; 0 means DefaultMinConfidence.
	MinConfidence float64
}

// Discover finds the relations that hold in at least MinConfidence of the
// rows they apply to, in a fixed order (orders, dependencies, identities,
// each by column position). Every column must hold the same number of
// rows. Relations that any table with the columns' ranges obeys (a ≤ b
// when a's largest value is at most b's smallest) and dependencies on a
// column that is nearly constant are left out: they say nothing a model
// could break.
func Discover(cols []Column, o Options) []Relation {
	minConf := o.MinConfidence
	if !(minConf > 0 && minConf <= 1) {
		minConf = DefaultMinConfidence
	}
	n := -1
	for i := range cols {
		if cols[i].Kind == Skip {
			continue
		}
		if n >= 0 && cols[i].Rows() != n {
			return nil
		}
		n = cols[i].Rows()
	}
	if n < MinSupport {
		return nil
	}
	var out []Relation
	out = append(out, orders(cols, n, minConf)...)
	out = append(out, dependencies(cols, n, minConf)...)
	out = append(out, identities(cols, n, minConf)...)
	out = append(out, elapsed(cols, n, minConf)...)
	out = append(out, geodesics(cols, n, minConf)...)
	return out
}

// Bounds on geodesic discovery.
const (
	// minCoordDecimals: coordinates are written with at least this many
	// decimals (an integer rating in [1, 5] is no latitude).
	minCoordDecimals = 3
	// minGeodesicCorr is the correlation a distance must have with the
	// great-circle distance: a travelled distance grows with it.
	minGeodesicCorr = 0.5
	// screenGeodesicCorr is the correlation a distance must reach on the
	// screening rows to be read in full.
	screenGeodesicCorr = 0.4
	// maxPoints bounds the candidate points (the search is quadratic in
	// them, times the number columns).
	maxPoints = 8
)

// geodesics finds d ≥ geodesic(p1, p2): a number column that is, in one of
// DistanceUnits, never below the great-circle distance between two points,
// and grows with it (a trip's length next to its start and end
// coordinates). A point is two adjacent number columns written with
// decimals, a latitude in [-90, 90] and a longitude in [-180, 180] (in
// either order); the smallest unit that holds is kept. The bound must not
// follow from the ranges (see maxIndependentOrder), and rows where the two
// points coincide say nothing of it, so a tenth of the rows (at least
// MinSupport/2) must have them apart.
func geodesics(cols []Column, n int, minConf float64) []Relation {
	inRange := func(c *Column, lim float64) bool {
		if c.Kind != Number || c.Decimals < minCoordDecimals {
			return false
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range c.Num {
			if v == v {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		return lo >= -lim && hi <= lim && hi > lo
	}
	// A point is two adjacent columns; both orders are tried when both
	// could be latitudes.
	var points [][][2]int // per point, its readings as (latitude, longitude)
	for i := 0; i+1 < len(cols) && len(points) < maxPoints; i++ {
		a, b := &cols[i], &cols[i+1]
		var ways [][2]int
		if inRange(a, 90) && inRange(b, 180) {
			ways = append(ways, [2]int{i, i + 1})
		}
		if inRange(b, 90) && inRange(a, 180) {
			ways = append(ways, [2]int{i + 1, i})
		}
		if ways != nil {
			points = append(points, ways)
			i++
		}
	}
	if len(points) < 2 {
		return nil
	}
	var out []Relation
	gc := make([]float64, n)
	m := min(n, 8*screenRows)
	for x, pt1 := range points {
		for _, pt2 := range points[x+1:] {
			// One distance per pair of points, the one (and the reading of
			// the points) most correlated with the great-circle distance: a
			// fare may also exceed it in some unit, but the trip's length
			// is what it measures.
			best, bestCorr := Relation{}, 0.0
			for _, p1 := range pt1 {
				for _, p2 := range pt2 {
					la1, lo1, la2, lo2 := cols[p1[0]].Num, cols[p1[1]].Num, cols[p2[0]].Num, cols[p2[1]].Num
					// Screened on the first rows: columns that only look like
					// coordinates (scores in [-1, 1]) cost one short pass.
					for r := range m {
						gc[r] = GreatCircle(la1[r], lo1[r], la2[r], lo2[r]) // NaN where one is missing
					}
					full := false
					for di := range cols {
						d := &cols[di]
						if d.Kind != Number || di == p1[0] || di == p1[1] || di == p2[0] || di == p2[1] {
							continue
						}
						if c, ok := presentCorr(d.Num[:m], gc[:m]); !ok || c < screenGeodesicCorr {
							continue
						}
						if !full {
							for r := m; r < n; r++ {
								gc[r] = GreatCircle(la1[r], lo1[r], la2[r], lo2[r])
							}
							full = true
						}
						if r, corr, ok := geodesic(d, gc, n, minConf, bestCorr); ok {
							r.Columns = []string{d.Name, cols[p1[0]].Name, cols[p1[1]].Name, cols[p2[0]].Name, cols[p2[1]].Name}
							best, bestCorr = r, corr
						}
					}
				}
			}
			if bestCorr > 0 {
				out = append(out, best)
			}
		}
	}
	return out
}

// geodesic checks d ≥ gc (great-circle distances in km) in each of
// DistanceUnits, smallest first, and returns the relation (without its
// columns) in the first unit that holds, with the correlation of d and gc;
// false when that correlation is not above beat (a better candidate was
// found already).
func geodesic(d *Column, gc []float64, n int, minConf, beat float64) (Relation, float64, bool) {
	var xs, ys []float64 // rows with both present
	for r := range n {
		if x, g := d.Num[r], gc[r]; x == x && g == g {
			xs, ys = append(xs, x), append(ys, g)
		}
	}
	sup := len(xs)
	if sup < MinSupport {
		return Relation{}, 0, false
	}
	corr := pearson(xs, ys)
	if corr < minGeodesicCorr || corr <= beat {
		return Relation{}, 0, false
	}
	for _, u := range DistanceUnits {
		held, apart := 0, 0
		var ratios []float64
		for r, x := range xs {
			if !HoldsGeodesic(x, ys[r], u.Seconds, Tolerance(d.Decimals, x)) {
				if r < screenRows && r-held >= screenFails(min(sup, screenRows), minConf) {
					break
				}
				continue
			}
			held++
			if ys[r] > 0 {
				apart++
				ratios = append(ratios, x*u.Seconds/ys[r])
			}
		}
		conf := float64(held) / float64(sup)
		if conf < minConf || apart < max(MinSupport/2, sup/10) {
			continue
		}
		scaled := make([]float64, sup)
		for r, y := range ys {
			scaled[r] = y / u.Seconds
		}
		if independentOrder(scaled, slices.Clone(xs)) >= maxIndependentOrder {
			return Relation{}, 0, false
		}
		slices.Sort(ratios)
		return Relation{Kind: Geodesic, Unit: u.Seconds, Support: sup, Confidence: conf,
			Ratio: &Gap{Min: ratios[0], Median: ratios[len(ratios)/2], Max: ratios[len(ratios)-1]}}, corr, true
	}
	return Relation{}, 0, false
}

// presentCorr is the correlation of xs and ys over the rows where both
// are present (two passes, no copies); false with fewer than MinSupport of
// them.
func presentCorr(xs, ys []float64) (float64, bool) {
	var n, mx, my float64
	for r, x := range xs {
		if y := ys[r]; x == x && y == y {
			n++
			mx += x
			my += y
		}
	}
	if n < MinSupport {
		return 0, false
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for r, x := range xs {
		if y := ys[r]; x == x && y == y {
			dx, dy := x-mx, y-my
			sxy += dx * dy
			sxx += dx * dx
			syy += dy * dy
		}
	}
	if sxx <= 0 || syy <= 0 {
		return 0, true
	}
	return sxy / math.Sqrt(sxx*syy), true
}

// pearson is the correlation of xs and ys (0 when either is constant).
func pearson(xs, ys []float64) float64 {
	n := float64(len(xs))
	var mx, my float64
	for i := range xs {
		mx += xs[i]
		my += ys[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range xs {
		dx, dy := xs[i]-mx, ys[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx <= 0 || syy <= 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

// elapsed finds d = end − start in a unit of Units: a number column that
// is, within the rounding it is written with, the time between two
// datetime columns (a trip's length in minutes next to its start and end).
// The first unit that holds is kept; rows where end = start say nothing of
// the unit, so a tenth of the rows (at least MinSupport/2) must differ.
func elapsed(cols []Column, n int, minConf float64) []Relation {
	var num, times []int
	for i := range cols {
		switch cols[i].Kind {
		case Number:
			num = append(num, i)
		case Time:
			times = append(times, i)
		}
	}
	if len(times) < 2 {
		return nil
	}
	var out []Relation
	m := min(n, screenRows)
	holds := func(d, e, s *Column, unit float64, rows int) (held, sup, informative int, ok bool) {
		fails := 0
		for r := 0; r < rows; r++ {
			x, y, z := d.Num[r], e.Num[r], s.Num[r]
			if math.IsNaN(x) || math.IsNaN(y) || math.IsNaN(z) {
				continue
			}
			sup++
			if HoldsElapsed(x, y, z, unit, Tolerance(d.Decimals, x)) {
				held++
				if y != z {
					informative++
				}
			} else if fails++; rows == m && fails > screenFails(m, minConf) {
				return held, sup, informative, false
			}
		}
		return held, sup, informative, true
	}
	for _, di := range num {
	pairs:
		for _, ei := range times {
			for _, si := range times {
				if ei == si {
					continue
				}
				d, e, st := &cols[di], &cols[ei], &cols[si]
				for _, u := range Units {
					if _, _, _, ok := holds(d, e, st, u.Seconds, m); !ok {
						continue
					}
					held, sup, informative, _ := holds(d, e, st, u.Seconds, n)
					conf := float64(held) / float64(max(sup, 1))
					if sup < MinSupport || conf < minConf || informative < max(MinSupport/2, sup/10) {
						continue
					}
					out = append(out, Relation{Kind: Elapsed, Columns: []string{d.Name, e.Name, st.Name}, Unit: u.Seconds, Support: sup, Confidence: conf})
					continue pairs
				}
			}
		}
	}
	return out
}

// screenFails is how many of m screened rows a relation of confidence
// minConf may fail.
func screenFails(m int, minConf float64) int {
	return int(float64(m)*(1-minConf)) + 1
}

func orders(cols []Column, n int, minConf float64) []Relation {
	var out []Relation
	m := min(n, screenRows)
	for i := range cols {
		for j := range cols {
			a, b := &cols[i], &cols[j]
			if i == j || (a.Kind != Number && a.Kind != Time) || a.Kind != b.Kind {
				continue
			}
			// Screen: a ≤ b on the first rows.
			fails, seen := 0, 0
			for r := 0; r < m; r++ {
				x, y := a.Num[r], b.Num[r]
				if math.IsNaN(x) || math.IsNaN(y) {
					continue
				}
				seen++
				if x > y {
					fails++
				}
			}
			if fails > screenFails(seen, minConf) {
				continue
			}
			held, eq, sup := 0, 0, 0
			maxA, minB := math.Inf(-1), math.Inf(1)
			for r := 0; r < n; r++ {
				x, y := a.Num[r], b.Num[r]
				if math.IsNaN(x) || math.IsNaN(y) {
					continue
				}
				sup++
				maxA, minB = max(maxA, x), min(minB, y)
				if x <= y {
					held++
					if x == y {
						eq++
					}
				}
			}
			conf := float64(held) / float64(max(sup, 1))
			switch {
			case sup < MinSupport || conf < minConf:
				continue
			case maxA <= minB: // any values in these ranges obey it
				continue
			case float64(eq) >= minConf*float64(sup): // equal, not ordered
				continue
			}
			xs, ys, gaps := make([]float64, 0, sup), make([]float64, 0, sup), make([]float64, 0, sup)
			for r := 0; r < n; r++ {
				x, y := a.Num[r], b.Num[r]
				if !math.IsNaN(x) && !math.IsNaN(y) {
					xs, ys, gaps = append(xs, x), append(ys, y), append(gaps, y-x)
				}
			}
			if independentOrder(xs, ys) >= maxIndependentOrder {
				continue
			}
			slices.Sort(gaps)
			out = append(out, Relation{Kind: Order, Columns: []string{a.Name, b.Name}, Support: sup, Confidence: conf,
				Gap: &Gap{Min: gaps[0], Median: gaps[len(gaps)/2], Max: gaps[len(gaps)-1]}})
		}
	}
	return out
}

// maxIndependentOrder: an order that would hold in this share of rows if
// the two columns were paired at random follows from their ranges (capital
// gains are below weights), not from the rows, and is left out.
const maxIndependentOrder = 0.95

// independentOrder is the share of pairs (x, y), x from xs and y from ys
// drawn independently, with x ≤ y. It sorts xs and ys.
func independentOrder(xs, ys []float64) float64 {
	slices.Sort(xs)
	slices.Sort(ys)
	var pairs float64
	k := 0 // ys[:k] < x
	for _, x := range xs {
		for k < len(ys) && ys[k] < x {
			k++
		}
		pairs += float64(len(ys) - k)
	}
	return pairs / (float64(len(xs)) * float64(len(ys)))
}

// dependencies finds X → Y between level columns: the share of rows whose Y
// is the most frequent Y of their X.
func dependencies(cols []Column, n int, minConf float64) []Relation {
	var out []Relation
	var counts []int32
	m := min(n, screenRows*8)
	for i := range cols {
		x := &cols[i]
		if x.Codes == nil || len(x.Levels) > MaxLevels || len(x.Levels) < 2 {
			continue
		}
		for j := range cols {
			y := &cols[j]
			if i == j || y.Codes == nil || len(y.Levels) > MaxLevels || len(y.Levels) < 2 {
				continue
			}
			nx, ny := len(x.Levels), len(y.Levels)
			if cap(counts) < nx*ny {
				counts = make([]int32, nx*ny)
			}
			counts = counts[:nx*ny]
			conf := func(rows int) (float64, int, int) {
				clear(counts)
				sup, top := 0, 0
				yc := make([]int, ny)
				for r := 0; r < rows; r++ {
					cx, cy := x.Codes[r], y.Codes[r]
					if cx < 0 || cy < 0 {
						continue
					}
					sup++
					counts[int(cx)*ny+int(cy)]++
					yc[cy]++
				}
				held := 0
				for v := 0; v < nx; v++ {
					held += int(slices.Max(counts[v*ny : (v+1)*ny]))
				}
				for _, c := range yc {
					top = max(top, c)
				}
				return float64(held) / float64(max(sup, 1)), sup, top
			}
			if m < n {
				if c, sup, _ := conf(m); sup > 0 && sup-int(c*float64(sup)+0.5) > screenFails(sup, minConf) {
					continue
				}
			}
			c, sup, top := conf(n)
			switch {
			case sup < MinSupport || c < minConf:
				continue
			case float64(top) >= minConf*float64(sup): // Y nearly constant
				continue
			}
			used := 0 // determinant values present
			for v := 0; v < nx; v++ {
				if slices.Max(counts[v*ny:(v+1)*ny]) > 0 {
					used++
				}
			}
			if sup < MinRowsPerValue*used {
				continue
			}
			out = append(out, Relation{Kind: FD, Columns: []string{x.Name, y.Name}, Support: sup, Confidence: c})
		}
	}
	return out
}

// identities finds c = a + b, c = a × b and c = a / b among numeric
// columns, within the rounding of c. Trivial solutions (a term that is
// zero, a factor that is zero or one) do not count towards the rows that
// make an identity worth keeping: at least a tenth of its rows must be
// informative.
func identities(cols []Column, n int, minConf float64) []Relation {
	var num []int
	for i := range cols {
		if cols[i].Kind == Number && len(num) < MaxArithColumns {
			num = append(num, i)
		}
	}
	var out []Relation
	m := min(n, screenRows)
	check := func(k Kind, ci, ai, bi int) {
		c, a, b := &cols[ci], &cols[ai], &cols[bi]
		fails, seen := 0, 0
		for r := 0; r < m; r++ {
			x, y, z := c.Num[r], a.Num[r], b.Num[r]
			if math.IsNaN(x) || math.IsNaN(y) || math.IsNaN(z) {
				continue
			}
			seen++
			if !Holds(k, x, y, z, Tolerance(c.Decimals, x)) {
				if fails++; fails > screenFails(m, minConf) {
					return
				}
			}
		}
		held, sup, informative := 0, 0, 0
		for r := 0; r < n; r++ {
			x, y, z := c.Num[r], a.Num[r], b.Num[r]
			if math.IsNaN(x) || math.IsNaN(y) || math.IsNaN(z) {
				continue
			}
			sup++
			if Holds(k, x, y, z, Tolerance(c.Decimals, x)) {
				held++
				switch k {
				case Sum:
					if y != 0 && z != 0 {
						informative++
					}
				default:
					if y != 0 && z != 0 && z != 1 && (k == Ratio || y != 1) {
						informative++
					}
				}
			}
		}
		conf := float64(held) / float64(max(sup, 1))
		if sup < MinSupport || conf < minConf || informative < max(MinSupport/2, sup/10) {
			return
		}
		out = append(out, Relation{Kind: k, Columns: []string{c.Name, a.Name, b.Name}, Support: sup, Confidence: conf})
	}
	for _, ci := range num {
		for x, ai := range num {
			for _, bi := range num[x+1:] {
				if ai != ci && bi != ci {
					check(Sum, ci, ai, bi)
					check(Product, ci, ai, bi)
				}
			}
		}
	}
	out = append(out, totals(cols, num, n, minConf, out)...)
	// c = a × b is also a = c / b: keep the product alone.
	products := map[[3]string]bool{}
	for _, r := range out {
		if r.Kind == Product {
			k := [3]string{r.Columns[0], r.Columns[1], r.Columns[2]}
			slices.Sort(k[:])
			products[k] = true
		}
	}
	for _, ci := range num {
		for _, ai := range num {
			for _, bi := range num {
				k := [3]string{cols[ci].Name, cols[ai].Name, cols[bi].Name}
				slices.Sort(k[:])
				if ai != ci && bi != ci && bi != ai && !products[k] {
					check(Ratio, ci, ai, bi)
				}
			}
		}
	}
	return out
}

// maxParts bounds the candidate parts of a total (the search tries every
// subset of them).
const maxParts = 10

// totals finds c = a + b + d (+ …), a total of three or more parts, for
// each numeric column without a two-part sum in found. Its candidate parts
// are the numeric columns that are never negative and never above it on
// the screening rows (the first maxParts of them); every subset of three
// or more is screened, and the smallest that holds is kept.
func totals(cols []Column, num []int, n int, minConf float64, found []Relation) []Relation {
	var out []Relation
	m := min(n, screenRows)
	for _, ci := range num {
		c := &cols[ci]
		if slices.ContainsFunc(found, func(r Relation) bool { return r.Kind == Sum && r.Columns[0] == c.Name }) {
			continue
		}
		var parts []int
		for _, ai := range num {
			if ai == ci {
				continue
			}
			a := &cols[ai]
			bad, nonzero := 0, false
			for r := 0; r < m; r++ {
				x, y := a.Num[r], c.Num[r]
				if math.IsNaN(x) || math.IsNaN(y) {
					continue
				}
				nonzero = nonzero || x != 0
				if x < 0 || x > y {
					bad++
				}
			}
			if nonzero && bad <= screenFails(m, minConf) {
				parts = append(parts, ai)
				if len(parts) == maxParts {
					break
				}
			}
		}
		if len(parts) < 3 {
			continue
		}
		best := -1
		var bestRel Relation
		vals := make([]float64, 0, len(parts))
		for mask := 1; mask < 1<<len(parts); mask++ {
			k := bitCount(mask)
			if k < 3 || best >= 0 && k >= best {
				continue
			}
			hold := func(rows int) (held, sup, informative int) {
				for r := 0; r < rows; r++ {
					y := c.Num[r]
					vals = vals[:0]
					nz := 0
					for b, ai := range parts {
						if mask&(1<<b) != 0 {
							x := cols[ai].Num[r]
							vals = append(vals, x)
							if x != 0 {
								nz++
							}
						}
					}
					if math.IsNaN(y) || slices.ContainsFunc(vals, math.IsNaN) {
						continue
					}
					sup++
					if HoldsSum(y, vals, Tolerance(c.Decimals, y)) {
						held++
						if nz >= 2 {
							informative++
						}
					}
				}
				return
			}
			if held, sup, _ := hold(m); sup-held > screenFails(sup, minConf) {
				continue
			}
			held, sup, informative := hold(n)
			conf := float64(held) / float64(max(sup, 1))
			if sup < MinSupport || conf < minConf || informative < max(MinSupport/2, sup/10) {
				continue
			}
			names := []string{c.Name}
			for b, ai := range parts {
				if mask&(1<<b) != 0 {
					names = append(names, cols[ai].Name)
				}
			}
			best, bestRel = k, Relation{Kind: Sum, Columns: names, Support: sup, Confidence: conf}
		}
		if best >= 0 {
			out = append(out, bestRel)
		}
	}
	return out
}

func bitCount(x int) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}
