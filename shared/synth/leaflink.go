package synth

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// A tree leaf hands out a number column's values whatever the exact values
// of the earlier columns the row holds: the leaf is reached through their
// bins, and inside it a value is drawn as if they did not matter. For a
// column tied tightly to an earlier number (a fare to a distance, an end
// time to a start time, one sensor's reading to another's) that loosens the
// tie to the width of the leaf, and a discriminator trained on both columns
// tells synthetic rows from real ones by it (issue 11, item 4: a table of
// trips and a table of measurements scored a discriminator AUC of 0.62 and
// 0.64, the pair fare/distance alone 0.57 on a generated table of trips).
//
// A leaf line keeps the tie inside the leaf: where the leaf's values follow
// up to maxLineParents earlier number columns (a least-squares line
// explaining at least leafLineR2 of their variance, significantly), the
// leaf stores each training value moved along the line to the leaf's means
// of those columns, and sampling moves the drawn value back along the line
// to the row's own values of them.
// The leaf's spread around the line, its ties and its smoothing are those
// of the stored values, so what is drawn is a training row's residual, not
// a row.

// The same holds of a number tied to an earlier level column that the tree
// could not split on finely enough: a station's coordinates, when leaves of
// at least MinLeaf rows must pool the rarer stations, are drawn from the
// pooled stations' coordinates (on a generated table of trips, the
// discriminator given only a station and its longitude scored 0.63, given
// latitude and longitude 0.71). A leaf's groups keep that tie: where one
// earlier level column explains at least leafGroupEta2 of a leaf's variance
// (or its levels differ that much in their share of tied values), each of
// its levels held by leafGroupRows rows or more of the leaf gets the
// distribution of their values (smoothed as a leaf's is), and a row of that
// level draws from it; other rows draw from the whole leaf. A second level
// column may split the groups again (see secondParent).

// LeafLine is one leaf's line: the value drawn is moved by
// sum Slope[i]*(x[i]-XMean[i]) over the line's columns i < N, x[i] being
// the row's value of modelled column Parent[i] clamped to [XLo[i], XHi[i]],
// the leaf's training range of it. N 0 means no line.
type LeafLine struct {
	N               int32
	Parent          [maxLineParents]int32
	Slope           [maxLineParents]float64
	XMean, XLo, XHi [maxLineParents]float64
}

// maxLineParents is the most earlier columns a line is fitted on (chosen
// one at a time, each the one adding most to the share explained).
const maxLineParents = 3

// LeafLinks are a number column's leaf lines and leaf groups; a leaf has
// at most one of them. Lines is nil when no leaf has a line, GroupParent
// when none has groups.
type LeafLinks struct {
	Lines []LeafLine // per leaf
	// GroupParent is per leaf the level column whose groups the leaf
	// draws within, -1 for none; GroupStart[l]:GroupStart[l+1] indexes
	// leaf l's groups in GroupCodes (their level codes, ascending) and in
	// Groups, whose "leaves" are the groups' value distributions.
	GroupParent []int32
	GroupStart  []int32
	GroupCodes  []int32
	Groups      CART
	// GroupParent2 is per leaf a second level column its groups split by
	// (-1 none); GroupSub holds each group's code of it, -1 for a group
	// of the first column's level as a whole, which precedes its
	// sub-groups.
	GroupParent2 []int32
	GroupSub     []int32
}

// on says whether any leaf has a line or groups.
func (lk *LeafLinks) on() bool { return lk.Lines != nil || lk.GroupParent != nil }

const (
	// leafLineR2 is the share of a leaf's variance a line must explain
	// (with leafLineF, so that a line is not noise). On a first version of
	// the generated trips, with lines on one column, the fare's leaves
	// explained 5-50% by the distance (a surge and a charge per minute make
	// the rest): 0.5 gave 3 of 38 leaves a line and left the discriminator
	// AUC at 0.578, 0.05 gave 36 and 0.545.
	leafLineR2 = 0.05
	// leafLineRows is the fewest rows, with both values present, a leaf
	// needs for a line.
	leafLineRows = 10
	// leafLineF is the F statistic a line must reach (about a slope
	// three standard errors from zero).
	leafLineF = 10
	// leafLineSpike: a leaf whose commonest value is held by this share of
	// its rows or more gets no line, so that a spike (a run of zeros)
	// stays one.
	leafLineSpike = 0.2
	// leafGroupEta2 is the share of a leaf's variance that the means of an
	// earlier level column's groups must explain for the leaf to draw
	// within them; leafGroupRows is the fewest rows a group needs.
	leafGroupEta2 = 0.3
	leafGroupRows = 20
)

// fitLeafLinks gives the leaves of every number column's tree their lines
// or groups (see LeafLinks) and rewrites the values of the leaves with a
// line. e holds the training values (rounded as sampling rounds), bins
// their tree bins.
func (m *Tree) fitLeafLinks(e *encoded, bins [][]uint8) {
	nm := len(m.Schema.Modelled)
	m.Links = make([]LeafLinks, nm)
	nlev := make([]int, nm)
	for k, j := range m.Schema.Modelled {
		nlev[k] = len(m.Schema.Cols[j].Levels)
	}
	row := make([]uint8, nm)
	for pos, k := range m.Order {
		if e.num[k] == nil {
			continue
		}
		var nums, levels []int
		for _, p := range m.Order[:pos] {
			if e.num[p] != nil {
				nums = append(nums, p)
			} else {
				levels = append(levels, p)
			}
		}
		for g, f := range m.Geo { // a derived distance once its points are drawn
			if slices.Contains(m.Order[:pos], int(f.Coords[0])) && slices.Contains(m.Order[:pos], int(f.Coords[1])) &&
				slices.Contains(m.Order[:pos], int(f.Coords[2])) && slices.Contains(m.Order[:pos], int(f.Coords[3])) {
				nums = append(nums, nm+g)
			}
		}
		if len(nums)+len(levels) == 0 {
			continue
		}
		cart := &m.Carts[k]
		leaves := len(cart.LeafStart) - 1
		members := make([][]int32, leaves)
		for i := range e.n {
			for f := range nm {
				row[f] = bins[f][i]
			}
			l := cart.leaf(row)
			members[l] = append(members[l], int32(i))
		}
		lines := make([]LeafLine, leaves)
		groups := make([]int32, leaves)
		anyLine, anyGroup := false, false
		for l, rows := range members {
			line, r2 := bestLine(e, k, nums, rows)
			p, eta2 := bestGroups(e, k, levels, rows, nlev)
			lines[l], groups[l] = LeafLine{}, -1
			switch {
			case p >= 0 && eta2 > r2:
				groups[l], anyGroup = int32(p), true
			case line.N > 0:
				lines[l], anyLine = line, true
			}
		}
		lk := &m.Links[k]
		if anyGroup {
			lk.fitGroups(e, k, levels, members, groups)
		}
		if anyLine {
			lk.Lines = lines
			cart.rebuildValues(e.num[k], members, lines, e)
		}
	}
}

// bestLine returns the least-squares line of y on up to maxLineParents
// of parents over rows, chosen forward (each adding the most to the share
// of y's variance explained, and significantly: see leafLineF), and the
// share it explains; N is 0 when no line explains leafLineR2.
func bestLine(e *encoded, k int, parents []int, rows []int32) (LeafLine, float64) {
	var best LeafLine
	y := e.num[k]
	if len(parents) == 0 || spiky(y, rows) {
		return best, 0
	}
	var chosen []int
	r2 := 0.0
	for len(chosen) < maxLineParents {
		step, stepR2 := -1, r2
		var stepLine LeafLine
		for _, p := range parents {
			if slices.Contains(chosen, p) {
				continue
			}
			ln, got, n := fitLine(e, y, append(chosen, p), rows)
			if n < leafLineRows+float64(len(chosen)) || got <= stepR2 {
				continue
			}
			// partial F of the added column
			df := n - float64(len(chosen)) - 2
			if got < 1 && (got-r2)/(1-got)*df < leafLineF {
				continue
			}
			step, stepR2, stepLine = p, got, ln
		}
		if step < 0 {
			break
		}
		chosen = append(chosen, step)
		r2, best = stepR2, stepLine
	}
	if r2 < leafLineR2 {
		return LeafLine{}, 0
	}
	return best, r2
}

// fitLine fits y on the columns ps by least squares over the rows where
// all are present, returning the line, the share of variance explained and
// the rows used.
func fitLine(e *encoded, y []float64, ps []int, rows []int32) (LeafLine, float64, float64) {
	d := len(ps)
	var ln LeafLine
	ln.N = int32(d)
	var n, my float64
	for i := range d {
		ln.Parent[i] = int32(ps[i])
		ln.XLo[i], ln.XHi[i] = math.Inf(1), math.Inf(-1)
	}
	ok := func(i int32) bool {
		if y[i] != y[i] {
			return false
		}
		for _, p := range ps {
			if x := e.num[p][i]; x != x {
				return false
			}
		}
		return true
	}
	for _, i := range rows {
		if !ok(i) {
			continue
		}
		n++
		my += y[i]
		for j, p := range ps {
			x := e.num[p][i]
			ln.XMean[j] += x
			ln.XLo[j], ln.XHi[j] = min(ln.XLo[j], x), max(ln.XHi[j], x)
		}
	}
	if n < 2 {
		return ln, 0, n
	}
	my /= n
	for j := range d {
		ln.XMean[j] /= n
	}
	var a [maxLineParents][maxLineParents + 1]float64 // normal equations | rhs
	var syy float64
	var dx [maxLineParents]float64
	for _, i := range rows {
		if !ok(i) {
			continue
		}
		dy := y[i] - my
		syy += dy * dy
		for j, p := range ps {
			dx[j] = e.num[p][i] - ln.XMean[j]
		}
		for j := range d {
			for l := range d {
				a[j][l] += dx[j] * dx[l]
			}
			a[j][d] += dx[j] * dy
		}
	}
	if syy <= 0 {
		return ln, 0, n
	}
	// Gaussian elimination with partial pivoting.
	for c := range d {
		piv := c
		for r := c + 1; r < d; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		a[c], a[piv] = a[piv], a[c]
		if math.Abs(a[c][c]) <= 1e-12*max(1, math.Abs(a[c][d])) || a[c][c] == 0 {
			return ln, 0, n
		}
		for r := c + 1; r < d; r++ {
			f := a[r][c] / a[c][c]
			for l := c; l <= d; l++ {
				a[r][l] -= f * a[c][l]
			}
		}
	}
	for c := d - 1; c >= 0; c-- {
		v := a[c][d]
		for l := c + 1; l < d; l++ {
			v -= a[c][l] * ln.Slope[l]
		}
		ln.Slope[c] = v / a[c][c]
	}
	// explained sum of squares: sum b_j * s_jy
	var ss float64
	for _, i := range rows {
		if !ok(i) {
			continue
		}
		fit := 0.0
		for j, p := range ps {
			fit += ln.Slope[j] * (e.num[p][i] - ln.XMean[j])
		}
		r := y[i] - my - fit
		ss += r * r
	}
	for j := range d {
		if !isFinite(ln.Slope[j]) {
			return ln, 0, n
		}
	}
	return ln, max(0, 1-ss/syy), n
}

// bestGroups returns the level column among parents whose groups of at
// least leafGroupRows rows (the smaller groups pooled into one) explain the
// largest share of y's variance over rows, or whose groups' shares of tied
// values (values another row of the leaf holds) differ most from the
// leaf's, by their mean gap over the groups' rows, and that share or gap;
// or -1 when none reaches leafGroupEta2. nlev holds each modelled column's
// number of levels.
func bestGroups(e *encoded, k int, parents []int, rows []int32, nlev []int) (int, float64) {
	y := e.num[k]
	best, bestEta2 := -1, leafGroupEta2
	// Which rows hold a value another row of the leaf holds: sorted once
	// per leaf, then counted per level.
	type vr struct {
		v float64
		i int32
	}
	var present []vr
	for _, i := range rows {
		if v := y[i]; v == v {
			present = append(present, vr{v, i})
		}
	}
	n := float64(len(present))
	if n < 2*leafGroupRows {
		return -1, 0
	}
	slices.SortFunc(present, func(a, b vr) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	tied := make([]bool, len(present))
	var sum, sq, tiedAll float64
	for r, x := range present {
		tied[r] = r > 0 && present[r-1].v == x.v || r+1 < len(present) && present[r+1].v == x.v
		if tied[r] {
			tiedAll++
		}
		sum += x.v
		sq += x.v * x.v
	}
	mean := sum / n
	total := sq - n*mean*mean
	type acc struct{ n, sum, tied float64 }
	for _, p := range parents {
		codes := e.cat[p]
		g := make([]acc, nlev[p])
		for r, x := range present {
			a := &g[codes[x.i]]
			a.n++
			a.sum += x.v
			if tied[r] {
				a.tied++
			}
		}
		var between, div, kept float64
		var small acc
		groups := 0
		for _, a := range g {
			if a.n == 0 {
				continue
			}
			groups++
			if a.n < leafGroupRows {
				small.n += a.n
				small.sum += a.sum
				continue
			}
			kept += a.n
			d := a.sum/a.n - mean
			between += a.n * d * d
			div += math.Abs(a.tied - a.n*tiedAll/n)
		}
		if groups < 2 || kept == 0 {
			continue
		}
		if small.n > 0 {
			d := small.sum/small.n - mean
			between += small.n * d * d
		}
		eta2 := div / kept // the groups' tie shares' mean gap
		if total > 0 {
			eta2 = max(eta2, between/total)
		}
		if eta2 > bestEta2 {
			best, bestEta2 = p, eta2
		}
	}
	if best < 0 {
		return -1, 0
	}
	return best, bestEta2
}

// fitGroups builds the groups of the leaves whose parent is set in groups:
// one per level of the parent held by leafGroupRows rows or more of the
// leaf, and inside it, when a second level column among levels changes
// the values' spread or ties (see secondParent), one per level of that
// column held by leafGroupRows rows or more of the group.
func (lk *LeafLinks) fitGroups(e *encoded, k int, levels []int, members [][]int32, groups []int32) {
	y := e.num[k]
	lk.GroupParent = groups
	lk.GroupParent2 = make([]int32, len(groups))
	lk.GroupStart = []int32{0}
	lk.Groups.LeafStart = []int32{0}
	var vals []float64
	for l, rows := range members {
		lk.GroupParent2[l] = -1
		if p := groups[l]; p >= 0 {
			c1 := e.cat[p]
			p2 := secondParent(e, k, int(p), levels, rows)
			lk.GroupParent2[l] = int32(p2)
			c2 := func(i int32) int32 { return 0 }
			if p2 >= 0 {
				c2 = func(i int32) int32 { return e.cat[p2][i] }
			}
			rs := slices.Clone(rows)
			slices.SortStableFunc(rs, func(a, b int32) int {
				if c1[a] != c1[b] {
					return int(c1[a] - c1[b])
				}
				return int(c2(a) - c2(b))
			})
			for s := 0; s < len(rs); {
				t := s
				for t < len(rs) && c1[rs[t]] == c1[rs[s]] {
					t++
				}
				if t-s >= leafGroupRows {
					vals = vals[:0]
					for _, i := range rs[s:t] {
						vals = append(vals, y[i])
					}
					lk.addGroup(c1[rs[s]], -1, vals)
					for a := s; p2 >= 0 && a < t; {
						b := a
						for b < t && c2(rs[b]) == c2(rs[a]) {
							b++
						}
						if b-a >= leafGroupRows && b-a < t-s {
							vals = vals[:0]
							for _, i := range rs[a:b] {
								vals = append(vals, y[i])
							}
							lk.addGroup(c1[rs[a]], c2(rs[a]), vals)
						}
						a = b
					}
				}
				s = t
			}
		}
		lk.GroupStart = append(lk.GroupStart, int32(len(lk.GroupCodes)))
	}
}

// addGroup appends the group of level code c1 (and c2 of the second
// parent, -1 for none) holding vals (NaN missing); vals is reordered.
func (lk *LeafLinks) addGroup(c1, c2 int32, vals []float64) {
	g := &lk.Groups
	lk.GroupCodes = append(lk.GroupCodes, c1)
	lk.GroupSub = append(lk.GroupSub, c2)
	var miss uint32
	n := 0
	for _, v := range vals {
		if v == v {
			vals[n] = v
			n++
		} else {
			miss++
		}
	}
	vals = vals[:n]
	slices.Sort(vals)
	var acc uint32
	for i, v := range vals {
		acc++
		if i+1 == len(vals) || vals[i+1] != v {
			g.Values = append(g.Values, v)
			g.VCum = append(g.VCum, acc)
		}
	}
	g.Missing = append(g.Missing, miss)
	g.LeafStart = append(g.LeafStart, int32(len(g.Values)))
}

// leafGroupSecond is how much a second level column must change a leaf's
// groups for them to split by it: the share of the groups' variance its
// sub-groups' means explain, or the mean gap between a sub-group's share
// of tied values (values held by several of its rows) and its group's. A
// classic bike reports its station's coordinates, tied across its trips,
// an electric bike a GPS fix; without the split, the tie pattern of one
// would be handed to the other.
const leafGroupSecond = 0.2

// secondParent returns the level column among levels, other than p1,
// whose sub-groups of p1's groups over rows change y most (see
// leafGroupSecond), or -1.
func secondParent(e *encoded, k, p1 int, levels []int, rows []int32) int {
	y := e.num[k]
	best, bestScore := -1, leafGroupSecond
	for _, p2 := range levels {
		if p2 == p1 {
			continue
		}
		type key struct{ a, b int32 }
		cells := map[key][]float64{}
		groups := map[int32][]float64{}
		for _, i := range rows {
			if v := y[i]; v == v {
				c := key{e.cat[p1][i], e.cat[p2][i]}
				cells[c] = append(cells[c], v)
				groups[c.a] = append(groups[c.a], v)
			}
		}
		counts := map[int32]map[float64]int{}
		for a, g := range groups {
			counts[a] = valueCounts(g)
		}
		var within1, within2, div, n float64
		for c, vals := range cells {
			g := groups[c.a]
			if len(g) < leafGroupRows {
				continue
			}
			if len(vals) < leafGroupRows {
				within2 += sumSquares(vals, mean(g))
				continue
			}
			within2 += sumSquares(vals, mean(vals))
			div += float64(len(vals)) * math.Abs(tiedIn(vals, counts[c.a])-tiedIn(g, counts[c.a]))
			n += float64(len(vals))
		}
		for _, g := range groups {
			if len(g) >= leafGroupRows {
				within1 += sumSquares(g, mean(g))
			}
		}
		score := 0.0
		if within1 > 0 {
			score = 1 - within2/within1
		}
		if n > 0 {
			score = max(score, div/n)
		}
		if score > bestScore {
			best, bestScore = p2, score
		}
	}
	return best
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func sumSquares(xs []float64, m float64) float64 {
	var s float64
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return s
}

// valueCounts counts each value of xs.
func valueCounts(xs []float64) map[float64]int {
	c := make(map[float64]int, len(xs))
	for _, x := range xs {
		c[x]++
	}
	return c
}

// tiedIn is the share of xs whose value counts holds more than once. The
// counts are of a reference set (a leaf, a group) that xs is part of, so
// that a small part is not found to have fewer ties only for being small.
func tiedIn(xs []float64, counts map[float64]int) float64 {
	tied := 0
	for _, x := range xs {
		if counts[x] > 1 {
			tied++
		}
	}
	return float64(tied) / float64(len(xs))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rebuildValues replaces the values of the leaves that have a line by the
// training values moved along it to the leaf's mean (rows missing the
// parent keep theirs); members lists each leaf's training rows.
func (t *CART) rebuildValues(y []float64, members [][]int32, lines []LeafLine, e *encoded) {
	var vals []float64
	var cum []uint32
	start := []int32{0}
	var buf []float64
	for l, rows := range members {
		lo, hi := t.LeafStart[l], t.LeafStart[l+1]
		ln := &lines[l]
		if ln.N == 0 {
			vals = append(vals, t.Values[lo:hi]...)
			cum = append(cum, t.VCum[lo:hi]...)
			start = append(start, int32(len(vals)))
			continue
		}
		buf = buf[:0]
		for _, i := range rows {
			if v := y[i]; v == v {
				shift := 0.0
				for j := range ln.N {
					xi := e.num[ln.Parent[j]][i]
					if xi != xi {
						shift = 0
						break
					}
					shift += ln.Slope[j] * (xi - ln.XMean[j])
				}
				buf = append(buf, v-shift)
			}
		}
		slices.Sort(buf)
		var acc uint32
		for i, v := range buf {
			acc++
			if i+1 == len(buf) || buf[i+1] != v {
				vals = append(vals, v)
				cum = append(cum, acc)
			}
		}
		start = append(start, int32(len(vals)))
	}
	t.Values, t.VCum, t.LeafStart = vals, cum, start
}

// drawLinked draws a value of number column k at leaf l with the uniform
// u01 (see drawNumber): within the row's group when the leaf has groups and
// the row's level has one, moved along the leaf's line when it has one.
// vals holds the row's values of the columns visited before k.
func (m *Tree) drawLinked(k int, l int32, u01 float64, src *rand.PCG, vals []float64) float64 {
	lk := &m.Links[k]
	if lk.GroupParent != nil {
		if p := lk.GroupParent[l]; p >= 0 {
			code, sub := int32(vals[p]), int32(-1)
			if p2 := lk.GroupParent2[l]; p2 >= 0 {
				sub = int32(vals[p2])
			}
			found := int32(-1)
			for g := lk.GroupStart[l]; g < lk.GroupStart[l+1]; g++ {
				if lk.GroupCodes[g] == code {
					if s := lk.GroupSub[g]; s == -1 {
						found = g
					} else if s == sub {
						found = g
						break
					}
				}
			}
			if found >= 0 {
				v, _, _ := lk.Groups.drawNumber(found, u01, src, m.Smoothing)
				return v
			}
		}
	}
	v, _, _ := m.Carts[k].drawNumber(l, u01, src, m.Smoothing)
	if lk.Lines == nil || v != v {
		return v
	}
	ln := &lk.Lines[l]
	shift := 0.0
	for j := range ln.N {
		x := m.lineX(vals, ln.Parent[j])
		if x != x {
			return v
		}
		shift += ln.Slope[j] * (min(max(x, ln.XLo[j]), ln.XHi[j]) - ln.XMean[j])
	}
	return v + shift
}

// validateLinks checks a loaded model's leaf links: lines and groups per
// leaf of a number column's tree, each on a column of the right kind
// visited before it, and well-formed group distributions.
func (m *Tree) validateLinks() error {
	if m.Links == nil {
		return nil
	}
	if len(m.Links) != len(m.Carts) {
		return fmt.Errorf("%d leaf link sets for %d trees", len(m.Links), len(m.Carts))
	}
	pos := make([]int, len(m.Order))
	for i, k := range m.Order {
		pos[k] = i
	}
	before := func(p, k int, number bool) bool {
		if g := p - len(m.Carts); number && g >= 0 && g < len(m.Geo) { // a derived distance
			for _, c := range m.Geo[g].Coords {
				if pos[c] >= pos[k] {
					return false
				}
			}
			return true
		}
		return p >= 0 && p < len(m.Carts) && pos[p] < pos[k] && m.Schema.Cols[m.Schema.Modelled[p]].isNumber() == number
	}
	for k := range m.Links {
		lk := &m.Links[k]
		if !lk.on() {
			continue
		}
		leaves := len(m.Carts[k].LeafStart) - 1
		if !m.Schema.Cols[m.Schema.Modelled[k]].isNumber() {
			return fmt.Errorf("level column %d has leaf links", k)
		}
		if lk.Lines != nil {
			if len(lk.Lines) != leaves {
				return fmt.Errorf("column %d has %d leaf lines for %d leaves", k, len(lk.Lines), leaves)
			}
			for _, ln := range lk.Lines {
				if ln.N < 0 || ln.N > maxLineParents {
					return fmt.Errorf("column %d has a bad leaf line", k)
				}
				for j := range ln.N {
					if !before(int(ln.Parent[j]), k, true) || !isFinite(ln.Slope[j]) || !isFinite(ln.XMean[j]) || !isFinite(ln.XLo[j]) || !isFinite(ln.XHi[j]) {
						return fmt.Errorf("column %d has a bad leaf line", k)
					}
				}
			}
		}
		if lk.GroupParent == nil {
			continue
		}
		g := &lk.Groups
		ng := len(lk.GroupCodes)
		if len(lk.GroupParent) != leaves || len(lk.GroupStart) != leaves+1 || lk.GroupStart[0] != 0 || int(lk.GroupStart[leaves]) != ng ||
			len(g.LeafStart) != ng+1 || len(g.Missing) != ng || g.LeafStart[0] != 0 || int(g.LeafStart[ng]) != len(g.Values) || len(g.VCum) != len(g.Values) {
			return fmt.Errorf("column %d has bad leaf groups", k)
		}
		if len(lk.GroupParent2) != leaves || len(lk.GroupSub) != ng {
			return fmt.Errorf("column %d has bad leaf groups", k)
		}
		for l, p := range lk.GroupParent {
			p2 := lk.GroupParent2[l]
			if lk.GroupStart[l+1] < lk.GroupStart[l] || p != -1 && !before(int(p), k, false) ||
				p2 != -1 && (p < 0 || p2 == p || !before(int(p2), k, false)) {
				return fmt.Errorf("column %d has bad leaf groups", k)
			}
			levels := func(p int32) int32 { return int32(len(m.Schema.Cols[m.Schema.Modelled[p]].Levels)) }
			for g := lk.GroupStart[l]; g < lk.GroupStart[l+1]; g++ {
				c, sub := lk.GroupCodes[g], lk.GroupSub[g]
				if p < 0 || c < 0 || c >= levels(p) || sub != -1 && (p2 < 0 || sub < 0 || sub >= levels(p2)) {
					return fmt.Errorf("column %d has bad leaf groups", k)
				}
			}
		}
		for i := range ng {
			lo, hi := g.LeafStart[i], g.LeafStart[i+1]
			if hi < lo || hi == lo && g.Missing[i] == 0 {
				return fmt.Errorf("column %d has an empty leaf group", k)
			}
			var prev uint32
			for e := lo; e < hi; e++ {
				if g.VCum[e] <= prev || math.IsNaN(g.Values[e]) || e > lo && g.Values[e] <= g.Values[e-1] {
					return fmt.Errorf("column %d has a bad leaf group", k)
				}
				prev = g.VCum[e]
			}
		}
	}
	return nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// spiky says whether one value of y is held by leafLineSpike of rows or more.
func spiky(y []float64, rows []int32) bool {
	vs := make([]float64, 0, len(rows))
	for _, i := range rows {
		if v := y[i]; v == v {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	run, most := 0, 0
	for i := range vs {
		if i > 0 && vs[i] == vs[i-1] {
			run++
		} else {
			run = 1
		}
		most = max(most, run)
	}
	return float64(most) >= leafLineSpike*float64(len(rows))
}
