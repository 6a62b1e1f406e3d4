package synth

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"synthos.dev/synthos/internal/parallel"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Tree is the sequential tree model (synthpop's CART method): modelled
// columns are visited in Order; the first is drawn from its marginal and
// each later one from the leaf, reached through a tree fitted on the earlier
// columns, of its own tree. Level columns take the leaf's class
// distribution; number columns a smoothed draw among the leaf's training
// values (see drawNumber), so no number is copied beyond chance; a final
// guard redraws any row whose modelled cells equal a training row's. The
// draws at each leaf are stratified within a block of rows (see
// treeDrawer.uniform), which keeps the sample's marginals and pair tables
// close to the model's on small samples. Fields are exported for
// serialization.
type Tree struct {
	Schema    Schema
	Order     []int // modelled-column indexes in visit order
	Smoothing float64
	Binnings  []Binning // per modelled column
	Carts     []CART    // per modelled column
	// Links holds per modelled column its tree's leaf lines and groups
	// (see LeafLinks); empty for most columns.
	Links []LeafLinks
	// Geo holds the derived great-circle distances leaf lines may follow
	// (see geo.go).
	Geo []GeoFeature

	locs   []*time.Location
	linked []bool // per modelled column: Links[k].on(), built by prepare
}

// Kind implements Model.
func (m *Tree) Kind() string { return KindTree }

// Columns implements Model.
func (m *Tree) Columns() []table.Column { return m.Schema.tableColumns() }

func fitTree(ctx context.Context, s *Schema, t *table.Table, p *profile.Profile, opts FitOptions) (*Tree, error) {
	minLeaf, depth, smooth, stat := opts.MinLeaf, opts.MaxDepth, opts.Smoothing, opts.MinSplitStat
	if minLeaf <= 0 {
		minLeaf = defaultMinLeaf(len(t.Rows))
	}
	if stat < 0 || math.IsNaN(stat) || math.IsInf(stat, 0) {
		return nil, fmt.Errorf("min split statistic %v: %w", stat, ErrInvalid)
	}
	if stat == 0 {
		stat = DefaultMinSplitStat
	}
	if depth <= 0 {
		depth = DefaultMaxDepth
	}
	if smooth < 0 || math.IsNaN(smooth) || math.IsInf(smooth, 0) {
		return nil, fmt.Errorf("smoothing %v: %w", smooth, ErrInvalid)
	}
	if smooth == 0 && !opts.NoSmoothing {
		smooth = DefaultSmoothing
	}
	e := s.encode(t, p)
	m := &Tree{Schema: *s, Smoothing: smooth}
	order, err := treeOrder(s, opts.Order)
	if err != nil {
		return nil, err
	}
	m.Order = order
	nm := len(s.Modelled)
	bins := make([][]uint8, nm)
	nbins := make([]int, nm)
	levelFeat := make([]bool, nm)
	m.Binnings = make([]Binning, nm)
	// Each column's binning is its own: the columns are binned on every core.
	parallel.Each(nm, func(k int) {
		j := s.Modelled[k]
		col := make([]uint8, e.n)
		if s.Cols[j].isNumber() {
			b := fitNumBinning(e.num[k])
			for i, v := range e.num[k] {
				col[i] = b.numBin(v)
			}
			m.Binnings[k] = b
		} else {
			b := fitLevelBinning(e.cat[k], len(s.Cols[j].Levels))
			for i, c := range e.cat[k] {
				col[i] = b.LevelBin[c]
			}
			m.Binnings[k] = b
			levelFeat[k] = true
		}
		bins[k], nbins[k] = col, m.Binnings[k].N
	})
	m.Carts = make([]CART, nm)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for pos, k := range order {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			f := &cartFitter{bins: bins, nbins: nbins, feats: order[:pos], levelFeat: levelFeat, minLeaf: minLeaf, depth: depth, minStat: stat}
			f.idx = make([]int32, e.n)
			for i := range f.idx {
				f.idx[i] = int32(i)
			}
			if levelFeat[k] {
				f.ycat, f.k = e.cat[k], len(s.Cols[s.Modelled[k]].Levels)
			} else {
				f.ynum = e.num[k]
			}
			m.Carts[k] = f.grow()
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.Geo = geoFeatures(s, p)
	addGeo(e, m.Geo)
	m.fitLeafLinks(e, bins)
	m.prepare()
	return m, nil
}

// defaultMinLeaf is the MinLeaf used when the option is 0: DefaultMinLeaf,
// or one row in minLeafShare of a smaller table but at least
// DefaultMinLeafSmall, so that a table of a thousand rows still grows trees
// of more than a handful of leaves.
func defaultMinLeaf(rows int) int {
	return min(DefaultMinLeaf, max(DefaultMinLeafSmall, rows/minLeafShare))
}

// minLeafShare: below DefaultMinLeaf*minLeafShare rows the default MinLeaf
// is rows/minLeafShare.
const minLeafShare = 16

// treeOrder returns the visit order: the named columns first, then the rest
// in source order. Source order is synthpop's default and measured well on
// adult (see the fidelity test).
func treeOrder(s *Schema, names []string) ([]int, error) {
	var order []int
	used := make([]bool, len(s.Modelled))
	for _, name := range names {
		k := slices.IndexFunc(s.Modelled, func(j int) bool { return s.Cols[j].Name == name })
		if k < 0 {
			return nil, fmt.Errorf("order names %q, not a modelled column: %w", name, ErrInvalid)
		}
		if used[k] {
			return nil, fmt.Errorf("order names %q twice: %w", name, ErrInvalid)
		}
		used[k] = true
		order = append(order, k)
	}
	for k := range s.Modelled {
		if !used[k] {
			order = append(order, k)
		}
	}
	return order, nil
}

// prepare rebuilds what sampling derives from the serialized fields.
func (m *Tree) prepare() {
	if m.Links == nil { // a file written before leaf links
		m.Links = make([]LeafLinks, len(m.Carts))
	}
	m.linked = make([]bool, len(m.Links))
	for k := range m.Links {
		m.linked[k] = m.Links[k].on()
	}
	m.locs = m.Schema.locations()
	m.Schema.Guard.prepare(&m.Schema)
	m.Schema.rows = m.Schema.rowSet()
	for k := range m.Carts {
		m.Carts[k].prepareWalk()
		m.Carts[k].preparePairs()
		j := m.Schema.Modelled[k]
		m.Carts[k].prepareDraw(&m.Schema.Cols[j], &m.Binnings[k], m.locs[j], m.Smoothing)
		// A leaf group's values are drawn like a leaf's (drawLinked).
		if g := &m.Links[k].Groups; len(g.LeafStart) > 1 {
			g.prepareDraw(&m.Schema.Cols[j], &m.Binnings[k], m.locs[j], m.Smoothing)
		}
	}
}

// Sample implements Model.
func (m *Tree) Sample(ctx context.Context, n int64, shard, shards int, seed uint64, opts SampleOptions, w RowWriter) error {
	d, err := m.newDrawer(opts.Fixed)
	if err != nil {
		return fmt.Errorf("synth.Tree.Sample: %w", err)
	}
	if err := m.Schema.run(ctx, n, shard, shards, seed, opts, w, d); err != nil {
		return fmt.Errorf("synth.Tree.Sample: %w", err)
	}
	return nil
}

// fixedCond is a Fixed condition on one modelled column, resolved for
// sampling: the cell to write, its code or value and bin, and per leaf of
// the column's tree the probability of accepting a candidate that reaches
// it (the leaf's probability of the fixed value over the largest such).
type fixedCond struct {
	on     bool
	cell   string
	code   int32
	value  float64
	bin    uint8
	accept []float64
}

type treeDrawer struct {
	m     *Tree
	vals  []float64 // the last row's modelled values (level codes for levels)
	bins  []uint8
	fixed []fixedCond
	src   *rand.PCG // the block's source (see startBlock)

	// Stratified draws (see uniform): leafBase[k] numbers column k's first
	// leaf among all leaves, decks holds each leaf's deck.
	leafBase []int32
	decks    []leafDeck
	epoch    uint32

	// plan holds, in visit order, what draw reads per column, gathered
	// from the model's scattered fields once per drawer.
	plan []drawStep
}

// drawStep is one modelled column of draw's loop.
type drawStep struct {
	k, j     int   // modelled and table index
	num      bool  // a number column
	fixed    bool  // a Fixed condition holds it
	leafBase int32 // see treeDrawer.leafBase
	cart     *CART
	col      *Col
	levels   []string
	levelBin []uint8
	binning  *Binning
}

// leafDeck is one leaf's stratified-draw state: deck holds a permutation
// of the strata, pos the next position in it and epoch the block the deck
// belongs to (a deck of an earlier block restarts). One struct per leaf
// keeps a draw's state in one cache line.
type leafDeck struct {
	deck  [strata]uint8
	epoch uint32
	pos   uint8
}

// strata is the number of equal slices of [0, 1) the uniforms drawn at one
// leaf are stratified over.
const strata = 16

func (m *Tree) newDrawer(fixed map[string]string) (*treeDrawer, error) {
	d := &treeDrawer{m: m, vals: make([]float64, len(m.Schema.Modelled)), bins: make([]uint8, len(m.Schema.Modelled)), fixed: make([]fixedCond, len(m.Schema.Modelled))}
	d.leafBase = make([]int32, len(m.Carts))
	var leaves int32
	for k := range m.Carts {
		d.leafBase[k] = leaves
		leaves += int32(len(m.Carts[k].LeafStart) - 1)
	}
	d.decks = make([]leafDeck, leaves)
	for name, cell := range fixed {
		k, err := m.Schema.fixedColumn(name)
		if err != nil {
			return nil, err
		}
		c := &m.Schema.Cols[m.Schema.Modelled[k]]
		fc := fixedCond{on: true, cell: cell}
		cart := &m.Carts[k]
		leaves := len(cart.LeafStart) - 1
		prob := make([]float64, leaves)
		if c.isNumber() {
			v, err := c.fixedNumber(cell)
			if err != nil {
				return nil, err
			}
			fc.value, fc.bin = v, m.Binnings[k].numBin(v)
			if v == v {
				fc.cell = string(c.appendNumber(nil, v, m.locs[m.Schema.Modelled[k]]))
			}
			for l := range leaves {
				lo, hi := cart.LeafStart[l], cart.LeafStart[l+1]
				total, hit := float64(cart.Missing[l]), float64(cart.Missing[l])
				if v == v {
					hit = 0
				}
				var prev uint32
				for e := lo; e < hi; e++ {
					cnt := float64(cart.VCum[e] - prev)
					prev = cart.VCum[e]
					total += cnt
					if v == v && m.Binnings[k].numBin(cart.Values[e]) == fc.bin {
						hit += cnt
					}
				}
				prob[l] = hit / total
			}
		} else {
			code := slices.Index(c.Levels, cell)
			if code < 0 {
				return nil, fmt.Errorf("fixed %s=%q: value never seen in training: %w", name, cell, ErrImpossible)
			}
			fc.code, fc.bin = int32(code), m.Binnings[k].LevelBin[code]
			for l := range leaves {
				lo, hi := cart.LeafStart[l], cart.LeafStart[l+1]
				var prev uint32
				for e := lo; e < hi; e++ {
					if cart.Classes[e] == int32(code) {
						prob[l] = float64(cart.Cum[e]-prev) / float64(cart.Cum[hi-1])
					}
					prev = cart.Cum[e]
				}
			}
		}
		top := slices.Max(prob)
		if top == 0 {
			return nil, fmt.Errorf("fixed %s=%q: no training row has this value: %w", name, cell, ErrImpossible)
		}
		for l := range prob {
			prob[l] /= top
		}
		fc.accept = prob
		d.fixed[k] = fc
	}
	for _, k := range m.Order {
		j := m.Schema.Modelled[k]
		c := &m.Schema.Cols[j]
		d.plan = append(d.plan, drawStep{k: k, j: j, num: c.isNumber(), fixed: d.fixed[k].on, leafBase: d.leafBase[k],
			cart: &m.Carts[k], col: c, levels: c.Levels, levelBin: m.Binnings[k].LevelBin, binning: &m.Binnings[k]})
	}
	return d, nil
}

// fixedColumn returns the modelled index of a column named in Fixed.
func (s *Schema) fixedColumn(name string) (int, error) {
	k := slices.IndexFunc(s.Modelled, func(j int) bool { return s.Cols[j].Name == name })
	if k < 0 {
		if slices.ContainsFunc(s.Cols, func(c Col) bool { return c.Name == name }) {
			return 0, fmt.Errorf("fixed %s: only numeric, datetime, categorical and boolean columns can be fixed: %w", name, ErrInvalid)
		}
		return 0, fmt.Errorf("fixed %s: no such column: %w", name, ErrInvalid)
	}
	return k, nil
}

// fixedNumber reads a Fixed value of a number column: the missing token
// gives NaN; a value outside the training bounds is impossible.
func (c *Col) fixedNumber(cell string) (float64, error) {
	if cell == c.Missing {
		return math.NaN(), nil
	}
	v, ok := c.parse(cell, nil)
	if !ok {
		return 0, fmt.Errorf("fixed %s=%q: not a %s value: %w", c.Name, cell, c.Kind, ErrImpossible)
	}
	if v < c.Lo || v > c.Hi {
		return 0, fmt.Errorf("fixed %s=%q: outside the training range [%s, %s]: %w", c.Name, cell,
			strconv.FormatFloat(c.Lo, 'g', -1, 64), strconv.FormatFloat(c.Hi, 'g', -1, 64), ErrImpossible)
	}
	return c.round(v), nil
}

// startBlock implements drawer: every leaf's deck restarts.
func (d *treeDrawer) values() []float64 { return d.vals }

func (d *treeDrawer) startBlock(src *rand.PCG) {
	d.src = src
	d.epoch++
	if d.epoch == 0 { // wrapped: no deck may look current
		for i := range d.decks {
			d.decks[i].epoch = 0
		}
		d.epoch = 1
	}
}

// uniform returns the uniform in [0, 1) that the next draw at leaf g (a
// global leaf number, see leafBase) is made with. Successive draws at a leaf
// within a block take the strata of [0, 1) in a random order without
// repeating one until all have been taken, each at a uniform position inside
// its stratum: every draw is still uniform, but the rows a leaf hands out
// follow its distribution far more closely than independent draws would
// (stratified sampling), so the sample's marginals and pair tables carry
// less sampling noise. Decks are shuffled independently per leaf, so no
// dependence between columns is added.
func (d *treeDrawer) uniform(g int32) float64 {
	s := &d.decks[g]
	p := int(s.pos)
	if s.epoch != d.epoch {
		s.epoch, p = d.epoch, 0
	}
	if p == 0 {
		s.deck = identityDeck
	}
	// One 64-bit draw: the high half picks among the strata left (an
	// incremental Fisher-Yates step), the low half places the value inside.
	x := d.src.Uint64()
	j := p + int((x>>32)*uint64(strata-p)>>32)
	stratum := s.deck[j%strata]
	s.deck[j%strata] = s.deck[p%strata]
	s.deck[p%strata] = stratum
	s.pos = uint8((p + 1) % strata)
	// (stratum + low/2³²) / strata, exactly: a 36-bit integer over 2³⁶.
	return float64(uint64(stratum)<<32|uint64(uint32(x))) * (1.0 / (strata << 32))
}

// identityDeck is a deck in stratum order, the start of every shuffle.
var identityDeck = func() (d [strata]uint8) {
	for i := range d {
		d[i] = uint8(i)
	}
	return d
}()

func (d *treeDrawer) draw(rng *rand.Rand, a *arena, row []string) bool {
	m := d.m
	for si := range d.plan {
		st := &d.plan[si]
		k, j, c, cart := st.k, st.j, st.col, st.cart
		leaf := cart.leaf(d.bins)
		if st.fixed {
			fc := &d.fixed[k]
			if p := fc.accept[leaf]; p < 1 && rng.Float64() >= p {
				return false
			}
			row[j], d.bins[k] = fc.cell, fc.bin
			if st.num {
				d.vals[k] = fc.value
			} else {
				d.vals[k] = float64(fc.code)
			}
			continue
		}
		if !st.num {
			code := cart.drawClass(leaf, d.uniform(st.leafBase+leaf))
			row[j], d.bins[k] = st.levels[code], st.levelBin[code]
			d.vals[k] = float64(code)
			continue
		}
		// A leaf line's value is the row's own (see leaflink.go): it has
		// no index among the leaf's values, so it takes the general path.
		linked := m.linked[k]
		var v float64
		var e int
		var exact bool
		if linked {
			v = m.drawLinked(k, leaf, d.uniform(st.leafBase+leaf), d.src, d.vals)
		} else {
			v, e, exact = cart.drawNumber(leaf, d.uniform(st.leafBase+leaf), d.src, m.Smoothing)
		}
		if v != v {
			row[j], d.bins[k] = c.Missing, 0
			d.vals[k] = v
			continue
		}
		var bin uint8
		var cell string
		switch {
		case linked:
			v = c.round(v)
			bin = st.binning.numBin(v)
		case exact && cart.exactVals: // Values[e] is its own rounding
			bin, cell = cart.vBin[e], cart.cell(e)
		case exact:
			v = c.round(v)
			bin = st.binning.numBin(v)
		default:
			// Between Values[e] and Values[e+1]: when both lie in one bin,
			// so does v (bins are ranges).
			v = c.round(v)
			if cart.vBin[e] == cart.vBin[e+1] && v >= cart.value(e) && v <= cart.value(e+1) {
				bin = cart.vBin[e]
			} else {
				bin = st.binning.numBin(v)
			}
		}
		if cell == "" {
			cell = a.number(c, v, m.locs[j])
		}
		d.vals[k] = v
		row[j], d.bins[k] = cell, bin
	}
	return true
}

// drawClass draws a level code from a leaf's class counts (Cum restarts
// from zero in every leaf) with the uniform u in [0, 1).
func (t *CART) drawClass(leaf int32, u01 float64) int32 {
	l := &t.leaves[leaf]
	u := scaleUniform(u01, l.total)
	if t.entries == nil {
		d, _ := bisect(t.Cum[l.lo:l.lo+l.n], u)
		return t.Classes[int(l.lo)+d]
	}
	es := t.entries[l.lo : l.lo+l.n] // pick, inlined
	d := int(es[uint64(u)*l.mul>>32].guide)
	for es[d].cum <= u {
		d++
	}
	return int32(es[d].val)
}

// drawNumber draws from a leaf: a training value of the leaf drawn by its
// count, kept exactly when the leaf holds it more than once (a spike such as
// a run of zeros or a common round number, which identifies nobody), and
// otherwise moved by up to `smooth` positions towards its neighbouring
// distinct values by linear interpolation, so that a value held by one
// training row is not reproduced beyond chance. The uniform u in [0, 1)
// picks the training value; src moves it (as rand.New(src).Float64 would). NaN is missing.
// e is the index in Values of the value drawn when exact, otherwise of the
// value the result lies above (and below Values[e+1]).
func (t *CART) drawNumber(leaf int32, u01 float64, src *rand.PCG, smooth float64) (v float64, e int, exact bool) {
	l := &t.leaves[leaf]
	lo, hi := int(l.lo), int(l.lo+l.n)
	nv := l.total
	u := scaleUniform(u01, nv+l.missing)
	if u >= nv {
		return math.NaN(), -1, false
	}
	d, count := t.pick(t.VCum, l, u)
	n := hi - lo
	if smooth == 0 || count > 1 || n == 1 {
		return t.value(lo + d), lo + d, true
	}
	p := float64(d) + smooth*(2*uniform53(src)-1)
	p = min(max(p, 0), float64(n-1))
	i := int(p)
	if i >= n-1 {
		return t.value(hi - 1), hi - 1, true
	}
	return t.value(lo+i) + (p-float64(i))*(t.value(lo+i+1)-t.value(lo+i)), lo + i, false
}

// scaleUniform maps u in [0, 1) to an integer in [0, n).
func scaleUniform(u float64, n uint32) uint32 {
	return min(uint32(u*float64(n)), n-1)
}
