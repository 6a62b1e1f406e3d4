package synth

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"synthos.dev/synthos/internal/parallel"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Copula is the Gaussian copula model. Each modelled column has a marginal
// (a quantile table for numbers, an ordered list of levels for levels) and
// a normal score; the normal scores' correlation matrix ties them together.
// Sampling draws correlated normals and maps each through its marginal.
//
// Levels have no natural order, yet a copula needs one: an arbitrary order
// (alphabetical, by frequency) makes dependence look weaker than it is and
// bends it into shapes the Gaussian cannot hold. Levels are therefore
// ordered by optimal scaling toward the data's first principal direction:
// starting from frequency order, each level column's levels are sorted by
// the mean first-principal-component score of the other columns over the
// rows holding that level, and the scores and principal direction are
// recomputed, a few rounds. This puts levels that co-occur with high values
// of the dominant factor (age, education, hours, income) at one end, so a
// single latent normal carries as much of each level column's dependence as
// one dimension can. Fields are exported for serialization.
type Copula struct {
	Schema Schema
	// Per modelled column: for numbers, Quant[k] is the quantile table of
	// the non-missing values at probabilities 0, 1/(Q-1), ..., 1 and MissP
	// the missing share; for levels, LevelOrder lists level codes from the
	// bottom of the normal scale up and Cuts the normal-scale upper bound
	// of each but the last.
	Quant      [][]float64
	MissP      []float64
	LevelOrder [][]int32
	Cuts       [][]float64
	Corr       []float64 // correlation of normal scores, row-major
	Chol       []float64 // its Cholesky factor

	locs []*time.Location
	// zTab[k] tabulates number column k's marginal on the normal scale
	// (see prepare); zMiss[k] is the normal score below which it is missing.
	zTab  [][]float64
	zMiss []float64
	// nanCuts says, per modelled column, whether its Cuts hold a NaN (see searchCuts).
	nanCuts []bool
	// out holds, per modelled column, what draw needs to turn a normal
	// score into a cell without going through Schema (see copulaOut).
	out []copulaOut
}

// copulaOut is a modelled column's output side, precomputed by prepare so
// that draw reads one small record per cell.
type copulaOut struct {
	j     int  // table column
	c     *Col // its schema column
	level bool
	// Level columns: by position on the normal scale (LevelOrder's order),
	// the cell and the level code as a float; start[g] is the number of
	// cuts below grid cell g's lower edge (see cutIndex), nil when the
	// cuts are not ascending or hold a NaN.
	levels []cellValue
	cuts   []float64
	nan    bool
	start  []int32
	// Number columns: cell of value v is cell[round(v*scale)-cellLo] when
	// that index is in range and v is exactly (cellLo+i)/scale (see
	// numberCell); nil when the column has too many values or is a datetime.
	cell   []string
	cellLo int64
	scale  float64
	// intRound says that the column rounds to integers (c.round is
	// math.Round(min(max(v, c.Lo), c.Hi))).
	intRound bool
	// whole[i], for an integer column, is the index in wholeVals of the
	// value every point of zTab's interval i rounds to, or -1 when the
	// interval spans two values (see wholeCells).
	whole     []int16
	wholeVals []cellValue
	// intFmt says that the column's cells are strconv.AppendInt of the
	// rounded value (profile.AppendNumber's integer case).
	intFmt bool
}

// cellValue is a cell and the value draw records for it (d.vals).
type cellValue struct {
	cell string
	val  float64
}

// cutGrid is the number of cells of the level lookup grid over
// [-cutRange, cutRange] (phiInv keeps every cut inside it).
const (
	cutGrid  = 512
	cutRange = 8.0
)

// maxNumberCells bounds a number column's table of preformatted cells.
const maxNumberCells = 8192

// zGrid is the number of intervals of zTab over [-zRange, zRange]: fine
// enough that interpolating in z is within a fraction of a quantile-table
// step of interpolating in probability, and saves a normal CDF per cell.
const (
	zGrid  = 8192
	zRange = 6.0
)

// quantPoints is the size of a number column's quantile table.
const quantPoints = 2049

// orderRounds is the number of optimal-scaling rounds for level orders.
const orderRounds = 4

// Kind implements Model.
func (m *Copula) Kind() string { return KindCopula }

// Columns implements Model.
func (m *Copula) Columns() []table.Column { return m.Schema.tableColumns() }

func (m *Copula) prepare() {
	m.locs = m.Schema.locations()
	m.Schema.Guard.prepare(&m.Schema)
	m.Schema.rows = m.Schema.rowSet()
	m.nanCuts = make([]bool, len(m.Cuts))
	for k, cuts := range m.Cuts {
		m.nanCuts[k] = slices.ContainsFunc(cuts, func(x float64) bool { return x != x })
	}
	m.zTab = make([][]float64, len(m.Quant))
	m.zMiss = make([]float64, len(m.Quant))
	defer m.prepareOut()
	for k, q := range m.Quant {
		if q == nil {
			m.zMiss[k] = math.Inf(1)
			continue
		}
		pm := m.MissP[k]
		m.zMiss[k] = math.Inf(-1)
		if pm > 0 {
			m.zMiss[k] = phiInv(pm)
		}
		tab := make([]float64, zGrid+1)
		for g := range tab {
			u := phi(-zRange + 2*zRange*float64(g)/zGrid)
			pos := max((u-pm)/(1-pm), 0) * float64(len(q)-1)
			i := min(int(pos), len(q)-2)
			tab[g] = q[i] + (pos-float64(i))*(q[i+1]-q[i])
		}
		m.zTab[k] = tab
	}
}

// prepareOut fills m.out from the schema and the tables prepare made.
func (m *Copula) prepareOut() {
	m.out = make([]copulaOut, len(m.Schema.Modelled))
	for k, j := range m.Schema.Modelled {
		c := &m.Schema.Cols[j]
		o := &m.out[k]
		o.j, o.c = j, c
		if m.LevelOrder[k] != nil {
			o.level = true
			o.cuts, o.nan = m.Cuts[k], m.nanCuts[k]
			o.levels = make([]cellValue, len(m.LevelOrder[k]))
			for i, code := range m.LevelOrder[k] {
				o.levels[i] = cellValue{c.Levels[code], float64(code)}
			}
			if !o.nan && slices.IsSorted(o.cuts) {
				o.start = cutStarts(o.cuts)
			}
			continue
		}
		o.intRound = c.Kind != profile.Datetime && c.Integer
		o.intFmt = o.intRound && (min(max(c.Decimals, 0), 15) == 0 || c.Trim)
		if tab := m.zTab[k]; tab != nil && c.Kind != profile.Datetime {
			o.cell, o.cellLo, o.scale = numberCells(c, tab, m.locs[j])
			if o.intRound && len(tab)-1 <= math.MaxInt16 {
				o.whole, o.wholeVals = wholeCells(c, tab, m.locs[j])
			}
		}
	}
}

// cutStarts returns, per cell g of the lookup grid, the number of cuts
// below the cell's lower edge less a margin, so that every z cutIndex maps
// to cell g has at least that many cuts below it despite rounding.
func cutStarts(cuts []float64) []int32 {
	start := make([]int32, cutGrid)
	for g := range start {
		edge := -cutRange + float64(g)*(2*cutRange/cutGrid) - 1e-9
		start[g] = int32(lowerBound(cuts, edge))
	}
	return start
}

// cutIndex is searchCuts(o.cuts, z, o.nan) for a column whose cuts are
// ascending and hold no NaN (o.start set): the grid gives a count of cuts
// known to lie below z, and a short scan the rest.
func (o *copulaOut) cutIndex(z float64) int {
	g := int((z + cutRange) * (cutGrid / (2 * cutRange)))
	if z != z || z < -cutRange || uint(g) >= cutGrid {
		return searchCuts(o.cuts, z, o.nan)
	}
	i := int(o.start[g])
	for i < len(o.cuts) && o.cuts[i] < z {
		i++
	}
	return i
}

// numberCells formats every value a number column can take between its
// table's ends, when there are at most maxNumberCells of them: value
// (lo+i)/scale is cell[i]. scale is 1 for integers, else 10^Decimals.
func numberCells(c *Col, tab []float64, loc *time.Location) ([]string, int64, float64) {
	scale := 1.0
	if !c.Integer {
		if c.Decimals < 0 || c.Decimals > 15 {
			return nil, 0, 0
		}
		scale = pow10[c.Decimals]
	}
	a, b := slices.Min(tab), slices.Max(tab)
	a, b = c.round(a), c.round(b)
	if !(a <= b) || math.IsInf(a, 0) || math.IsInf(b, 0) || (b-a)*scale >= maxNumberCells {
		return nil, 0, 0
	}
	lo, hi := int64(math.Floor(a*scale))-1, int64(math.Ceil(b*scale))+1
	cell := make([]string, hi-lo+1)
	ends := make([]int, len(cell))
	var buf []byte
	for i := range cell {
		buf = c.appendNumber(buf, float64(lo+int64(i))/scale, loc)
		ends[i] = len(buf)
	}
	all, start := string(buf), 0 // one allocation for every cell
	for i, end := range ends {
		cell[i], start = all[start:end], end
	}
	return cell, lo, scale
}

// wholeCells returns, for each interval i of an integer column's zTab,
// the index in vals of the one value (and its cell) that interpolating
// anywhere in the interval and rounding gives, or -1. Rounding and
// clamping are monotone, so when both ends, widened by a margin far above
// the interpolation's rounding error, round to the same value, every point
// between does. A 0 reached from below would round to -0, not 0: such
// intervals get -1 unless the lower bound is +0 or above, as do
// non-finite ends.
func wholeCells(c *Col, tab []float64, loc *time.Location) ([]int16, []cellValue) {
	whole := make([]int16, len(tab)-1)
	lifts := c.Lo >= 0 && !math.Signbit(c.Lo) // clamping takes every x <= 0 to c.Lo, which rounds to +0 or more
	var vals []cellValue
	for i := range whole {
		whole[i] = -1
		a, b := tab[i], tab[i+1]
		if math.IsInf(a, 0) || math.IsInf(b, 0) || a != a || b != b {
			continue
		}
		eps := 1e-9 * (1 + math.Abs(a) + math.Abs(b))
		x0, x1 := min(a, b)-eps, max(a, b)+eps
		r0, r1 := math.Round(min(max(x0, c.Lo), c.Hi)), math.Round(min(max(x1, c.Lo), c.Hi))
		if r0 != r1 || r0 != r0 || r0 == 0 && (x0 < 0 && !lifts || math.Signbit(r0)) {
			continue
		}
		// zTab ascends, so equal values are neighbours.
		if n := len(vals); n == 0 || math.Float64bits(vals[n-1].val) != math.Float64bits(r0) {
			vals = append(vals, cellValue{string(c.appendNumber(nil, r0, loc)), r0})
		}
		whole[i] = int16(len(vals) - 1)
	}
	return whole, vals
}

// numberCell returns the preformatted cell of v (rounded, not missing) and
// true, or false when v has none: v must be exactly (cellLo+i)/scale, the
// value cell[i] was formatted from, and not -0 (which formats as "-0").
func (o *copulaOut) numberCell(v float64) (string, bool) {
	if o.cell == nil {
		return "", false
	}
	x := v
	if o.scale != 1 {
		x = math.Round(v * o.scale)
	}
	if !(x >= float64(o.cellLo) && x < float64(o.cellLo)+float64(len(o.cell))) {
		return "", false
	}
	i := int64(x)
	if o.scale == 1 && float64(i) != v || o.scale != 1 && float64(i)/o.scale != v || v == 0 && math.Signbit(v) {
		return "", false
	}
	return o.cell[i-o.cellLo], true
}

func fitCopula(ctx context.Context, s *Schema, t *table.Table, p *profile.Profile) (*Copula, error) {
	e := s.encode(t, p)
	nm := len(s.Modelled)
	m := &Copula{Schema: *s, Quant: make([][]float64, nm), MissP: make([]float64, nm), LevelOrder: make([][]int32, nm), Cuts: make([][]float64, nm)}
	scores := make([][]float64, nm) // normal score per row
	// levelScore[k][code] is the normal score of a level under the current order.
	levelScore := make([][]float64, nm)
	freq := make([][]float64, nm)
	centred := make([][]float64, nm) // correlation's scratch, kept between rounds
	// The marginals are independent: each column's on any core.
	parallel.Each(nm, func(k int) {
		c := &s.Cols[s.Modelled[k]]
		if c.isNumber() {
			m.Quant[k], m.MissP[k], scores[k] = numberMarginal(e.num[k])
			return
		}
		freq[k] = make([]float64, len(c.Levels))
		for _, code := range e.cat[k] {
			freq[k][code]++
		}
		order := make([]int32, len(c.Levels))
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortStableFunc(order, func(a, b int32) int { return int(freq[k][b] - freq[k][a]) })
		m.LevelOrder[k] = order
		scores[k] = make([]float64, e.n)
	})
	for round := 0; round <= orderRounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Each level column's scores, and below its new order, are its
		// own: the columns are done on every core.
		parallel.Each(nm, func(k int) {
			if m.LevelOrder[k] == nil {
				return
			}
			m.Cuts[k], levelScore[k] = levelCuts(m.LevelOrder[k], freq[k], float64(e.n))
			for i, code := range e.cat[k] {
				scores[k][i] = levelScore[k][code]
			}
		})
		m.Corr = correlation(scores, e.n, centred)
		if round == orderRounds {
			break
		}
		v := principal(m.Corr, nm)
		parallel.Each(nm, func(k int) {
			if m.LevelOrder[k] == nil {
				return
			}
			sum := levelSums(e.cat[k], len(freq[k]), k, v, scores)
			slices.SortStableFunc(m.LevelOrder[k], func(a, b int32) int {
				ma, mb := sum[a]/freq[k][a], sum[b]/freq[k][b]
				switch {
				case ma < mb:
					return -1
				case ma > mb:
					return 1
				}
				return 0
			})
		})
	}
	m.Chol = cholesky(m.Corr, nm)
	m.prepare()
	return m, nil
}

// levelSums returns, per level of column k (codes cat), the sum over its
// rows of the other columns' first-principal-component score: Σ_q≠k
// v[q]·scores[q][i], added in q order. The rows are scored a block at a
// time, column by column, which reads each column in order; every row's
// sum is the same additions in the same order as a row-by-row loop.
func levelSums(cat []int32, levels, k int, v []float64, scores [][]float64) []float64 {
	sum := make([]float64, levels)
	var pc [pcBlock]float64
	for lo := 0; lo < len(cat); lo += pcBlock {
		hi := min(lo+pcBlock, len(cat))
		blk := pc[:hi-lo]
		clear(blk)
		for q, col := range scores {
			if q == k {
				continue
			}
			w, col := v[q], col[lo:hi]
			for i := range blk {
				blk[i] += w * col[i]
			}
		}
		for i, code := range cat[lo:hi] {
			sum[code] += blk[i]
		}
	}
	return sum
}

// pcBlock is the number of rows levelSums scores at a time.
const pcBlock = 2048

// numberMarginal returns the quantile table and missing share of a number
// column and each row's normal score: missing rows form the bottom block,
// and tied values share the mean normal score of their block of ranks.
func numberMarginal(vals []float64) ([]float64, float64, []float64) {
	n := len(vals)
	// The rows are sorted by key (missing lowest) as (key, row) pairs, so
	// that a comparison reads no other memory; the pairs move as the rows'
	// indexes would, comparison for comparison.
	type keyed struct {
		key float64
		i   int
	}
	pairs := make([]keyed, n)
	for i, v := range vals {
		if v != v {
			v = math.Inf(-1)
		}
		pairs[i] = keyed{v, i}
	}
	slices.SortFunc(pairs, func(a, b keyed) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	scores := make([]float64, n)
	var missing int
	for lo := 0; lo < n; {
		hi := lo
		for hi < n && pairs[hi].key == pairs[lo].key {
			hi++
		}
		z := tieScore(lo, hi, n)
		for _, p := range pairs[lo:hi] {
			scores[p.i] = z
		}
		if math.IsInf(pairs[lo].key, -1) {
			missing = hi - lo
		}
		lo = hi
	}
	xs := make([]float64, 0, n-missing)
	for _, p := range pairs[missing:] {
		xs = append(xs, vals[p.i])
	}
	return evenQuantiles(xs), float64(missing) / float64(n), scores
}

// tieScore is the normal score shared by the sorted positions [lo, hi)
// of n: the mean of the standard normal over the quantile interval they
// span, open-ended at either end of the sample. A group spanning the whole
// sample keeps its lower end at phiInv(0) (the upper end's rule wins), as
// the scores always had.
func tieScore(lo, hi, n int) float64 {
	switch {
	case hi == n:
		return intervalMean(phiInv(float64(lo)/float64(n)), math.Inf(1))
	case lo == 0:
		return intervalMean(math.Inf(-1), phiInv(float64(hi)/float64(n)))
	}
	return intervalMean(phiInv(float64(lo)/float64(n)), phiInv(float64(hi)/float64(n)))
}

// evenQuantiles is quantPoints quantiles of the sorted xs, evenly spaced
// from the minimum to the maximum with linear interpolation, or nil when
// xs is empty.
func evenQuantiles(xs []float64) []float64 {
	if len(xs) == 0 {
		return nil
	}
	quant := make([]float64, quantPoints)
	for q := range quant {
		pos := float64(q) / float64(quantPoints-1) * float64(len(xs)-1)
		i := int(pos)
		if i >= len(xs)-1 {
			quant[q] = xs[len(xs)-1]
			continue
		}
		quant[q] = xs[i] + (pos-float64(i))*(xs[i+1]-xs[i])
	}
	return quant
}

// levelCuts maps ordered levels to consecutive intervals of the normal
// scale, as wide as their frequency, and returns the intervals' upper
// bounds (all but the last) and each level's mean normal score.
func levelCuts(order []int32, freq []float64, n float64) ([]float64, []float64) {
	cuts := make([]float64, 0, len(order))
	score := make([]float64, len(freq))
	var acc float64
	lo := math.Inf(-1)
	for i, code := range order {
		acc += freq[code]
		hi := math.Inf(1)
		if i < len(order)-1 {
			hi = phiInv(acc / n)
			cuts = append(cuts, hi)
		}
		score[code] = intervalMean(lo, hi)
		lo = hi
	}
	return cuts, score
}

// correlation is the Pearson correlation matrix of the score columns.
// Each column is centred once, and the rows of the matrix are summed on
// every core; every entry is the same sum, in the same order, on any
// number of cores. centred (one slice per column) is scratch reused
// between calls.
func correlation(scores [][]float64, n int, centred [][]float64) []float64 {
	d := len(scores)
	sd := make([]float64, d)
	parallel.Each(d, func(k int) {
		col := scores[k]
		var s float64
		for _, x := range col {
			s += x
		}
		mean := s / float64(n)
		cc := centred[k]
		if len(cc) < len(col) {
			cc = make([]float64, len(col))
			centred[k] = cc
		}
		cc = cc[:len(col)]
		var q float64
		for i, x := range col {
			cc[i] = x - mean
			q += cc[i] * cc[i]
		}
		centred[k] = cc
		sd[k] = math.Sqrt(q)
	})
	c := make([]float64, d*d)
	parallel.Each(d, func(a int) {
		c[a*d+a] = 1
		ca := centred[a][:n]
		for b := a + 1; b < d; b++ {
			cb := centred[b][:n]
			var s float64
			for i := range ca {
				s += ca[i] * cb[i]
			}
			r := 0.0
			if sd[a] > 0 && sd[b] > 0 {
				r = s / (sd[a] * sd[b])
			}
			c[a*d+b], c[b*d+a] = r, r
		}
	})
	return c
}

// principal is the leading eigenvector of a symmetric matrix (power
// iteration from the all-ones vector).
func principal(a []float64, d int) []float64 {
	v := make([]float64, d)
	for i := range v {
		v[i] = 1 / math.Sqrt(float64(max(d, 1)))
	}
	w := make([]float64, d)
	for range 200 {
		var norm float64
		for i := range d {
			var s float64
			for j := range d {
				s += a[i*d+j] * v[j]
			}
			w[i] = s
			norm += s * s
		}
		norm = math.Sqrt(norm)
		if norm == 0 {
			return v
		}
		for i := range w {
			w[i] /= norm
		}
		v, w = w, v
	}
	return v
}

// Sample implements Model.
func (m *Copula) Sample(ctx context.Context, n int64, shard, shards int, seed uint64, opts SampleOptions, w RowWriter) error {
	d, err := m.newDrawer(opts.Fixed)
	if err != nil {
		return fmt.Errorf("synth.Copula.Sample: %w", err)
	}
	if err := m.Schema.run(ctx, n, shard, shards, seed, opts, w, d); err != nil {
		return fmt.Errorf("synth.Copula.Sample: %w", err)
	}
	return nil
}

// copulaDrawer samples one row of normals (z = L ε, columns in perm order
// so that fixed columns come first) and maps them through the marginals.
type copulaDrawer struct {
	m      *Copula
	perm   []int     // position -> modelled index
	chol   []float64 // Cholesky factor of the permuted correlation
	nFixed int
	lo, hi []float64 // fixed columns' normal-scale intervals, by position
	cells  []string  // fixed columns' cells, by position
	fixVal []float64 // fixed columns' values (level codes for levels), by position
	vals   []float64 // the last row's modelled values, by modelled index
	eps    []float64
	z      []float64
	src    *rand.PCG // the block's source, which rng draws from (see startBlock)
	buf    []byte    // scratch for formatting a cell
}

func (m *Copula) newDrawer(fixed map[string]string) (*copulaDrawer, error) {
	nm := len(m.Schema.Modelled)
	d := &copulaDrawer{m: m, eps: make([]float64, nm), z: make([]float64, nm), vals: make([]float64, nm), chol: m.Chol}
	isFixed := make([]bool, nm)
	var lo, hi []float64
	var cells []string
	names := slices.Sorted(mapKeys(fixed))
	for _, name := range names {
		cell := fixed[name]
		k, err := m.Schema.fixedColumn(name)
		if err != nil {
			return nil, err
		}
		c := &m.Schema.Cols[m.Schema.Modelled[k]]
		a, b, out, err := m.interval(k, c, cell)
		if err != nil {
			return nil, err
		}
		if !(phi(b)-phi(a) > 0) {
			return nil, fmt.Errorf("fixed %s=%q: no training row has this value: %w", name, cell, ErrImpossible)
		}
		isFixed[k] = true
		d.perm = append(d.perm, k)
		lo, hi, cells = append(lo, a), append(hi, b), append(cells, out)
		fv := float64(slices.Index(c.Levels, out))
		if c.isNumber() {
			if fv, err = c.fixedNumber(cell); err != nil {
				return nil, err
			}
		}
		d.fixVal = append(d.fixVal, fv)
	}
	d.nFixed = len(d.perm)
	for k := range nm {
		if !isFixed[k] {
			d.perm = append(d.perm, k)
		}
	}
	d.lo, d.hi, d.cells = lo, hi, cells
	if d.nFixed > 0 {
		pc := make([]float64, nm*nm)
		for a, ka := range d.perm {
			for b, kb := range d.perm {
				pc[a*nm+b] = m.Corr[ka*nm+kb]
			}
		}
		d.chol = cholesky(pc, nm)
	}
	return d, nil
}

func mapKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// interval returns the normal-scale interval a Fixed value occupies and the
// cell to write: a level's interval, or for a number the interval of its
// rounding cell under the marginal.
func (m *Copula) interval(k int, c *Col, cell string) (float64, float64, string, error) {
	if !c.isNumber() {
		code := slices.Index(c.Levels, cell)
		if code < 0 {
			return 0, 0, "", fmt.Errorf("fixed %s=%q: value never seen in training: %w", c.Name, cell, ErrImpossible)
		}
		pos := slices.Index(m.LevelOrder[k], int32(code))
		a, b := math.Inf(-1), math.Inf(1)
		if pos > 0 {
			a = m.Cuts[k][pos-1]
		}
		if pos < len(m.Cuts[k]) {
			b = m.Cuts[k][pos]
		}
		return a, b, cell, nil
	}
	v, err := c.fixedNumber(cell)
	if err != nil {
		return 0, 0, "", err
	}
	pm := m.MissP[k]
	if v != v {
		return math.Inf(-1), phiInv(pm), cell, nil
	}
	half := 0.5
	if c.Kind == profile.Numeric && !c.Integer {
		half = 0.5 / pow10[min(max(c.Decimals, 0), 15)]
	}
	q := m.Quant[k]
	if q == nil {
		return 0, 0, "", fmt.Errorf("fixed %s=%q: column is always missing: %w", c.Name, cell, ErrImpossible)
	}
	qa, qb := quantPos(q, v-half, false), quantPos(q, v+half, true)
	out := string(c.appendNumber(nil, v, m.locs[m.Schema.Modelled[k]]))
	return phiInv(pm + (1-pm)*qa), phiInv(pm + (1-pm)*qb), out, nil
}

// quantPos is the probability at which the quantile table reaches x: the
// first such point (upper false) or the last (upper true) within ties.
func quantPos(q []float64, x float64, upper bool) float64 {
	n := len(q)
	i, _ := slices.BinarySearch(q, x) // first q[i] >= x
	if upper {
		for i < n && q[i] <= x {
			i++
		}
		i-- // last q[i] <= x
		if i < 0 {
			return 0
		}
		if i >= n-1 {
			return 1
		}
		f := (x - q[i]) / (q[i+1] - q[i])
		return (float64(i) + f) / float64(n-1)
	}
	if i == 0 {
		return 0
	}
	if i >= n {
		return 1
	}
	f := (x - q[i-1]) / (q[i] - q[i-1])
	return (float64(i-1) + f) / float64(n-1)
}

// searchCuts returns slices.BinarySearch(cuts, z)'s index (the first cut
// not below z) without the generic comparison's NaN handling on every
// step; a NaN z, or cuts holding a NaN (nan, from a damaged model file),
// take the generic path, so the result is always the same.
func searchCuts(cuts []float64, z float64, nan bool) int {
	if z != z || nan {
		i, _ := slices.BinarySearch(cuts, z)
		return i
	}
	return lowerBound(cuts, z)
}

// startBlock implements drawer: the copula keeps no state between rows.
func (d *copulaDrawer) startBlock(src *rand.PCG) { d.src = src }

func (d *copulaDrawer) values() []float64 { return d.vals }

func (d *copulaDrawer) draw(rng *rand.Rand, a *arena, row []string) bool {
	m := d.m
	nm := len(d.perm)
	weight := 1.0
	eps, z := d.eps[:nm], d.z[:nm]
	for p := range d.nFixed {
		l := d.chol[p*nm : p*nm+p+1]
		var mu float64
		for q, x := range l[:p] {
			mu += x * eps[q]
		}
		sd := l[p]
		pa, pb := phi((d.lo[p]-mu)/sd), phi((d.hi[p]-mu)/sd)
		if p > 0 {
			weight *= pb - pa
		}
		eps[p] = phiInv(pa + rng.Float64()*(pb-pa))
		z[p] = mu + l[p]*eps[p]
	}
	// The free positions' normals depend on nothing drawn after them, so
	// they are drawn first (the stream's order is unchanged) and z = L·eps
	// is then formed four rows at a time: each row's sum is a serial chain
	// of additions, and four independent chains run in parallel where one
	// would wait on each addition. Every row still adds its terms in the
	// same order, so z is bit for bit what row-by-row evaluation gives.
	for p := d.nFixed; p < nm; p++ {
		// normal(d.src), which is rng.NormFloat64() without its interface
		// calls, with the ziggurat's common case inlined (normal is too
		// big for the compiler to inline; TestCopulaDrawNormals checks
		// that the two agree).
		u := d.src.Uint64()
		j, i := int32(u), u>>32&0x7F
		if absInt32(j) < normKn[i] {
			eps[p] = float64(j) * float64(normWn[i])
			continue
		}
		eps[p] = normalFrom(d.src, u)
	}
	p := d.nFixed
	for ; p+4 <= nm; p += 4 {
		l0 := d.chol[p*nm : p*nm+p+1]
		l1 := d.chol[(p+1)*nm : (p+1)*nm+p+2]
		l2 := d.chol[(p+2)*nm : (p+2)*nm+p+3]
		l3 := d.chol[(p+3)*nm : (p+3)*nm+p+4]
		var m0, m1, m2, m3 float64
		for q, e := range eps[:p] {
			m0 += l0[q] * e
			m1 += l1[q] * e
			m2 += l2[q] * e
			m3 += l3[q] * e
		}
		e0, e1, e2, e3 := eps[p], eps[p+1], eps[p+2], eps[p+3]
		m1 += l1[p] * e0
		m2 += l2[p] * e0
		m2 += l2[p+1] * e1
		m3 += l3[p] * e0
		m3 += l3[p+1] * e1
		m3 += l3[p+2] * e2
		z[p] = m0 + l0[p]*e0
		z[p+1] = m1 + l1[p+1]*e1
		z[p+2] = m2 + l2[p+2]*e2
		z[p+3] = m3 + l3[p+3]*e3
	}
	for ; p < nm; p++ {
		l := d.chol[p*nm : p*nm+p+1]
		var mu float64
		for q, x := range l[:p] {
			mu += x * eps[q]
		}
		z[p] = mu + l[p]*eps[p]
	}
	if d.nFixed > 1 && rng.Float64() >= weight {
		return false
	}
	for p, k := range d.perm {
		o := &m.out[k]
		if p < d.nFixed {
			row[o.j], d.vals[k] = d.cells[p], d.fixVal[p]
			continue
		}
		zp := z[p]
		if o.level {
			var i int
			if o.start != nil {
				i = o.cutIndex(zp)
			} else {
				i = searchCuts(o.cuts, zp, o.nan)
			}
			l := &o.levels[i]
			row[o.j], d.vals[k] = l.cell, l.val
			continue
		}
		if zp < m.zMiss[k] {
			row[o.j], d.vals[k] = o.c.Missing, math.NaN()
			continue
		}
		pos := min(max((zp+zRange)*(zGrid/(2*zRange)), 0), zGrid)
		i := min(int(pos), zGrid-1)
		if o.whole != nil {
			if c := o.whole[i]; c >= 0 {
				w := &o.wholeVals[c]
				row[o.j], d.vals[k] = w.cell, w.val
				continue
			}
		}
		tab := m.zTab[k]
		v := tab[i] + (pos-float64(i))*(tab[i+1]-tab[i])
		if o.intRound {
			v = math.Round(min(max(v, o.c.Lo), o.c.Hi)) // o.c.round(v), inlined
		} else {
			v = o.c.round(v)
		}
		d.vals[k] = v
		if cell, ok := o.numberCell(v); ok {
			row[o.j] = cell
			continue
		}
		if o.intFmt {
			d.buf = strconv.AppendInt(d.buf[:0], int64(v), 10)
			row[o.j] = a.bytes(d.buf)
			continue
		}
		row[o.j] = a.number(o.c, v, m.locs[o.j])
	}
	return true
}
