package synth

import (
	"fmt"
	"math"
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
// one earlier number column (a least-squares line explaining at least
// leafLineR2 of their variance, significantly), the leaf stores each training value
// moved along the line to the leaf's mean of that column, and sampling
// moves the drawn value back along the line to the row's own value of it.
// The leaf's spread around the line, its ties and its smoothing are those
// of the stored values, so what is drawn is a training row's residual, not
// a row.

// LeafLine is one leaf's line: the value drawn is moved by
// Slope*(x-XMean), x being the row's value of modelled column Parent,
// clamped to [XLo, XHi], the leaf's training range of it. Parent -1 means
// no line.
type LeafLine struct {
	Parent          int32
	Slope           float64
	XMean, XLo, XHi float64
}

const (
	// leafLineR2 is the share of a leaf's variance a line must explain
	// (with leafLineF, so that a line is not noise). On the generated trips
	// the fare's leaves explain 5-50% by the distance (a surge and a charge
	// per minute make the rest): 0.5 gave 3 of 38 leaves a line and left
	// the discriminator AUC at 0.578, 0.05 gives 36 and 0.545.
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
)

// fitLeafLines gives the leaves of every number column's tree their lines
// (see LeafLine) and rewrites the leaves' values accordingly. e holds the
// training values (rounded as sampling rounds), bins their tree bins.
func (m *Tree) fitLeafLines(e *encoded, bins [][]uint8) {
	nm := len(m.Schema.Modelled)
	m.Lines = make([][]LeafLine, nm)
	row := make([]uint8, nm)
	for pos, k := range m.Order {
		if e.num[k] == nil {
			continue
		}
		var parents []int
		for _, p := range m.Order[:pos] {
			if e.num[p] != nil {
				parents = append(parents, p)
			}
		}
		if len(parents) == 0 {
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
		any := false
		for l, rows := range members {
			lines[l] = bestLine(e, k, parents, rows)
			any = any || lines[l].Parent >= 0
		}
		if !any {
			continue
		}
		m.Lines[k] = lines
		cart.rebuildValues(e.num[k], members, lines, e)
	}
}

// bestLine returns the line of the parent that explains most of y's
// variance over rows, or Parent -1 when none explains leafLineR2.
func bestLine(e *encoded, k int, parents []int, rows []int32) LeafLine {
	best, bestR2 := LeafLine{Parent: -1}, leafLineR2
	y := e.num[k]
	if spiky(y, rows) {
		return best
	}
	for _, p := range parents {
		x := e.num[p]
		var n, mx, my float64
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, i := range rows {
			if xi, yi := x[i], y[i]; xi == xi && yi == yi {
				n++
				mx += xi
				my += yi
				lo, hi = min(lo, xi), max(hi, xi)
			}
		}
		if n < leafLineRows {
			continue
		}
		mx, my = mx/n, my/n
		var sxx, sxy, syy float64
		for _, i := range rows {
			if xi, yi := x[i], y[i]; xi == xi && yi == yi {
				dx, dy := xi-mx, yi-my
				sxx += dx * dx
				sxy += dx * dy
				syy += dy * dy
			}
		}
		if sxx <= 0 || syy <= 0 {
			continue
		}
		if r2 := sxy * sxy / (sxx * syy); r2 >= bestR2 && (r2 >= 1 || r2/(1-r2)*(n-2) >= leafLineF) {
			best, bestR2 = LeafLine{Parent: int32(p), Slope: sxy / sxx, XMean: mx, XLo: lo, XHi: hi}, r2
		}
	}
	return best
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
		ln := lines[l]
		if ln.Parent < 0 {
			vals = append(vals, t.Values[lo:hi]...)
			cum = append(cum, t.VCum[lo:hi]...)
			start = append(start, int32(len(vals)))
			continue
		}
		x := e.num[ln.Parent]
		buf = buf[:0]
		for _, i := range rows {
			if v := y[i]; v == v {
				if xi := x[i]; xi == xi {
					v -= ln.Slope * (xi - ln.XMean)
				}
				buf = append(buf, v)
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

// alongLine moves a value drawn at leaf l of column k along the leaf's line
// to the row's value of the line's column (see LeafLine).
func (m *Tree) alongLine(k int, l int32, v float64, vals []float64) float64 {
	ln := &m.Lines[k][l]
	if ln.Parent < 0 {
		return v
	}
	x := vals[ln.Parent]
	if x != x {
		return v
	}
	return v + ln.Slope*(min(max(x, ln.XLo), ln.XHi)-ln.XMean)
}

// validateLines checks a loaded model's lines: one per leaf of a number
// column's tree, each on a number column visited before it.
func (m *Tree) validateLines() error {
	if m.Lines == nil {
		return nil
	}
	if len(m.Lines) != len(m.Carts) {
		return fmt.Errorf("%d leaf line sets for %d trees", len(m.Lines), len(m.Carts))
	}
	pos := make([]int, len(m.Order))
	for i, k := range m.Order {
		pos[k] = i
	}
	for k, lines := range m.Lines {
		if lines == nil {
			continue
		}
		if !m.Schema.Cols[m.Schema.Modelled[k]].isNumber() || len(lines) != len(m.Carts[k].LeafStart)-1 {
			return fmt.Errorf("column %d has %d leaf lines", k, len(lines))
		}
		for _, ln := range lines {
			p := int(ln.Parent)
			if p == -1 {
				continue
			}
			if p < 0 || p >= len(m.Carts) || pos[p] >= pos[k] || !m.Schema.Cols[m.Schema.Modelled[p]].isNumber() ||
				!isFinite(ln.Slope) || !isFinite(ln.XMean) || !isFinite(ln.XLo) || !isFinite(ln.XHi) {
				return fmt.Errorf("column %d has a bad leaf line", k)
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
