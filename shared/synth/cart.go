package synth

import (
	"math"
	"slices"
	"time"
	"unsafe"
)

// maxBins is the number of histogram bins a feature can have: a split is a
// 64-bit mask of the bins that go left, so a node test is one shift.
const maxBins = 64

// Binning maps a modelled column's values to at most maxBins histogram bins,
// the form a column takes as a tree feature.
type Binning struct {
	// Numbers: bin 0 holds missing values when Off is 1; bin Off+k holds
	// values v <= Edges[k] (and above Edges[k-1]); the last bin holds values
	// above every edge.
	Edges []float64
	Off   uint8
	// Levels: the bin of each level code. With more than maxBins levels the
	// commonest maxBins-1 get a bin each and the rest share the last one.
	LevelBin []uint8
	N        int // number of bins
}

// numBin returns the bin of a number (NaN is missing).
func (b *Binning) numBin(v float64) uint8 {
	if v != v {
		return 0
	}
	return b.Off + uint8(lowerBound(b.Edges, v))
}

// lowerBound returns the number of xs (sorted, without NaN) below v (not
// NaN): the first index whose value is not below v. The halving step is a
// conditional move rather than a branch, since which way a sampled value
// goes is unpredictable and a mispredicted branch per step costs more than
// the whole search.
func lowerBound(xs []float64, v float64) int {
	n := len(xs)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n >> 1
		var below int // a flag set without a branch (SETcc)
		if xs[base+half] < v {
			below = 1
		}
		base += half & -below
		n -= half
	}
	if xs[base] < v {
		base++
	}
	return base
}

// countAtMost returns the number of cum (sorted) at most u: the first
// index whose value is above u. Branch-free like lowerBound: a leaf's
// values are drawn in random order, so the search's branches would be
// mispredicted about every other step.
func countAtMost(cum []uint32, u uint32) int {
	n := len(cum)
	if n == 0 {
		return 0
	}
	base := 0
	for n > 1 {
		half := n >> 1
		var le int // a flag set without a branch (SETcc)
		if cum[base+half] <= u {
			le = 1
		}
		base += half & -le
		n -= half
	}
	if cum[base] <= u {
		base++
	}
	return base
}

// fitNumBinning cuts sorted-by-quantile bins at distinct values.
func fitNumBinning(vals []float64) Binning {
	var b Binning
	var xs []float64
	for _, v := range vals {
		if v == v {
			xs = append(xs, v)
		}
	}
	if len(xs) < len(vals) {
		b.Off = 1
	}
	slices.Sort(xs)
	nb := maxBins - 1 - int(b.Off) // value bins
	for i := 0; i < len(xs); {
		k := i
		for k < len(xs) && xs[k] == xs[i] {
			k++
		}
		// cut after this distinct value once its share of rows is reached
		if k < len(xs) && float64(k) >= float64(len(b.Edges)+1)*float64(len(xs))/float64(nb) && len(b.Edges) < nb-1 {
			b.Edges = append(b.Edges, xs[i])
		}
		i = k
	}
	b.N = int(b.Off) + len(b.Edges) + 1
	return b
}

// fitLevelBinning gives each level a bin, pooling the rarest beyond maxBins.
func fitLevelBinning(codes []int32, levels int) Binning {
	b := Binning{LevelBin: make([]uint8, levels)}
	if levels <= maxBins {
		for i := range b.LevelBin {
			b.LevelBin[i] = uint8(i)
		}
		b.N = max(levels, 1)
		return b
	}
	counts := make([]int, levels)
	for _, c := range codes {
		counts[c]++
	}
	byCount := make([]int, levels)
	for i := range byCount {
		byCount[i] = i
	}
	slices.SortStableFunc(byCount, func(x, y int) int { return counts[y] - counts[x] })
	for rank, l := range byCount {
		b.LevelBin[l] = uint8(min(rank, maxBins-1))
	}
	b.N = maxBins
	return b
}

// Node is a tree node. An inner node sends a row to Child when bit
// (feature bin) of Mask is set and to Child+1 otherwise; a leaf has Feat -1
// and Child is its leaf index.
type Node struct {
	Mask  uint64
	Feat  int32
	Child int32
}

// CART is one column's tree and its leaf distributions.
type CART struct {
	Nodes []Node
	// LeafStart[l]:LeafStart[l+1] indexes leaf l's entries in Classes and
	// Cum (level targets) or Values (number targets).
	LeafStart []int32
	Classes   []int32
	Cum       []uint32  // cumulative class counts within a leaf
	Values    []float64 // number targets: a leaf's distinct non-missing values, sorted
	VCum      []uint32  // cumulative counts of Values within a leaf
	Missing   []uint32  // number targets: missing count per leaf

	walk     []walkNode // built by prepareWalk
	rootFeat int32
	pairs    []pairNode // built by preparePairs
	pairRoot pairRef

	// Built by prepareDraw: per leaf what a draw reads first (leaves), and
	// the counts with their guide table (entries, indexed like Cum or VCum;
	// nil beyond maxDrawEntries, when pick searches Cum or VCum); vBin[e]
	// is the bin of Values[e], exactVals says every value is its own
	// rounding.
	leaves    []leafDraw
	entries   []drawEntry
	vBin      []uint8
	exactVals bool
	// cells[cellOff[e]:cellOff[e+1]] is Values[e] as the column writes it,
	// for the values a draw can return unsmoothed (empty for the others,
	// and cellOff nil when there are more than maxCachedCells of them).
	cells   string
	cellOff []uint32
}

// maxCachedCells bounds the formatted values a tree keeps per column.
const maxCachedCells = 1 << 17

// leafDraw is a leaf's place in the leaf tables and its counts, in one
// load: entries lo:lo+n, total the last cumulative count (of Cum, or of
// VCum: 0 when the leaf holds only missing values), missing its missing
// count, mul its guide table's bucket scale (see pick).
type leafDraw struct {
	lo, n   int32
	total   uint32
	missing uint32
	mul     uint64
}

// drawEntry is one leaf-table entry: its cumulative count (Cum or VCum),
// as the b-th entry of its leaf the guide of bucket b (see pick), and what
// the entry draws (its class code, or its value: Classes[e] or Values[e]),
// so that a draw finds its result in the cache line it searched.
type drawEntry struct {
	cum   uint32
	guide int32
	val   float64
}

// maxDrawEntries bounds the entries of a tree's guide table (16 bytes
// each); a larger tree's draws search by bisection.
const maxDrawEntries = 1 << 22

// leaf returns the leaf a row with the given feature bins falls in.
//
// The walk is a chain of dependent loads, one step per level, which is most
// of a tree sample's cost. On Nodes a step loads the node, then the bin of
// its feature, then the next node; on walk (see prepareWalk) a node also
// holds its children's features, so a step loads the next node and its bin
// at once. The loads skip bounds checks, which fitting and validate make
// unnecessary: every inner node's Child+1 is a node and its Feat a modelled
// column, and bins holds one bin per modelled column.
//
// On pairs (see preparePairs) a step goes down two levels: it loads a node
// and, at once, the bins of its feature and of its two children's
// features, picks the way out among four and loads where it leads, so
// the chain of dependent loads is half as long.
func (t *CART) leaf(bins []uint8) int32 {
	bp := unsafe.Pointer(unsafe.SliceData(bins))
	if t.pairs != nil {
		base := unsafe.Pointer(unsafe.SliceData(t.pairs))
		ref := t.pairRoot
		for ref.F >= 0 {
			p := (*pairNode)(unsafe.Add(base, uintptr(ref.Idx)*unsafe.Sizeof(pairNode{})))
			bv := *(*uint8)(unsafe.Add(bp, ref.F))
			ba := *(*uint8)(unsafe.Add(bp, ref.FA))
			bb := *(*uint8)(unsafe.Add(bp, ref.FB))
			rv := p.Mask >> (bv & 63) & 1 // 1: child a, 0: child b
			ra := p.MaskA >> (ba & 63) & 1
			rb := p.MaskB >> (bb & 63) & 1
			rc := rb ^ (ra^rb)&-rv // the bit of the child taken, without a branch
			ref = p.Next[(3-2*rv-rc)&3]
		}
		return int32(ref.Idx)
	}
	if t.walk != nil {
		base := unsafe.Pointer(unsafe.SliceData(t.walk))
		var i int32
		for f := t.rootFeat; f >= 0; {
			n := (*walkNode)(unsafe.Add(base, uintptr(i)*unsafe.Sizeof(walkNode{})))
			b := *(*uint8)(unsafe.Add(bp, f))
			r := n.Mask >> b & 1 // 1: Child, 0: Child+1
			i = n.Child + 1 - int32(r)
			f = int32(int16(n.Feats >> (16 - 16*r)))
		}
		return (*walkNode)(unsafe.Add(base, uintptr(i)*unsafe.Sizeof(walkNode{}))).Child
	}
	base := unsafe.Pointer(unsafe.SliceData(t.Nodes))
	n := (*Node)(base)
	for n.Feat >= 0 {
		// branch-free: Child when the bin's bit is set, Child+1 otherwise
		b := *(*uint8)(unsafe.Add(bp, n.Feat))
		i := n.Child + 1 - int32(n.Mask>>b&1)
		n = (*Node)(unsafe.Add(base, uintptr(i)*unsafe.Sizeof(Node{})))
	}
	return n.Child
}

// prepareDraw builds the guide tables that pick searches with, and for a
// number target the bins of its values; c is the target column and b its
// binning.
func (t *CART) prepareDraw(c *Col, b *Binning, loc *time.Location, smooth float64) {
	cum := t.Cum
	if c.isNumber() {
		cum = t.VCum
		t.vBin = make([]uint8, len(t.Values))
		t.exactVals = true
		for e, v := range t.Values {
			t.vBin[e] = b.numBin(v)
			if r := c.round(v); math.Float64bits(r) != math.Float64bits(v) {
				t.exactVals = false
			}
		}
		t.prepareCells(c, loc, smooth)
	}
	t.leaves = make([]leafDraw, len(t.LeafStart)-1)
	t.entries = nil
	if len(cum) <= maxDrawEntries {
		t.entries = make([]drawEntry, len(cum))
	}
	for l := range t.leaves {
		lo, hi := int(t.LeafStart[l]), int(t.LeafStart[l+1])
		ld := leafDraw{lo: int32(lo), n: int32(hi - lo)}
		if t.Missing != nil {
			ld.missing = t.Missing[l]
		}
		if lo < hi {
			ld.total = cum[hi-1]
			n, total := uint64(hi-lo), uint64(ld.total)
			ld.mul = n << 32 / total // n ≤ total: at least 1, at most 1<<32
			for b := range n {
				if t.entries == nil {
					break
				}
				// The smallest count whose bucket is b or later.
				u := (b<<32 + ld.mul - 1) / ld.mul
				e := &t.entries[lo+int(b)]
				e.cum = cum[lo+int(b)]
				e.guide = int32(min(countAtMost(cum[lo:hi], uint32(min(u, total))), hi-lo-1))
				if c.isNumber() {
					e.val = t.Values[lo+int(b)]
				} else {
					e.val = float64(t.Classes[lo+int(b)])
				}
			}
		}
		t.leaves[l] = ld
	}
}

// prepareCells formats the values drawNumber can return unsmoothed: those
// held more than once in their leaf, a leaf's only or last value, and all
// of them without smoothing.
func (t *CART) prepareCells(c *Col, loc *time.Location, smooth float64) {
	t.cells, t.cellOff = "", nil
	if !t.exactVals {
		return
	}
	keep := make([]bool, len(t.Values))
	n := 0
	for l := range len(t.LeafStart) - 1 {
		lo, hi := int(t.LeafStart[l]), int(t.LeafStart[l+1])
		var prev uint32
		for e := lo; e < hi; e++ {
			keep[e] = smooth == 0 || t.VCum[e]-prev > 1 || e == hi-1
			prev = t.VCum[e]
			if keep[e] {
				n++
			}
		}
	}
	if n > maxCachedCells {
		return
	}
	var buf []byte
	t.cellOff = make([]uint32, len(t.Values)+1)
	for e, v := range t.Values {
		if keep[e] {
			buf = c.appendNumber(buf, v, loc)
		}
		t.cellOff[e+1] = uint32(len(buf))
	}
	t.cells = string(buf)
}

// cell returns Values[e] as the column writes it, or "" when it is not
// kept.
func (t *CART) cell(e int) string {
	if t.cellOff == nil {
		return ""
	}
	return t.cells[t.cellOff[e]:t.cellOff[e+1]]
}

// pick returns the index d, within leaf l's entries of cum (Cum or VCum),
// of the first cumulative count above u (u below l.total), and d's own
// count: what countAtMost(cum[lo:lo+n], u) returns, found by a guide table
// (Chen and Asau's method). The leaf's counts are cut into as many buckets
// as it has entries; guide holds, per bucket, the answer for the bucket's
// smallest count, so the search scans forward from there, about one step
// on average whatever the leaf's size, where a binary search over a leaf of
// a thousand values takes ten dependent steps. Counts and guides share
// one array, so that a search touches one or two cache lines.
func (t *CART) pick(cum []uint32, l *leafDraw, u uint32) (d int, count uint32) {
	if t.entries == nil {
		return bisect(cum[l.lo:l.lo+l.n], u)
	}
	es := t.entries[l.lo : l.lo+l.n]
	d = int(es[uint64(u)*l.mul>>32].guide)
	for es[d].cum <= u {
		d++
	}
	if d == 0 {
		return 0, es[0].cum
	}
	return d, es[d].cum - es[d-1].cum
}

// value returns Values[e], from entries when they are built.
func (t *CART) value(e int) float64 {
	if t.entries != nil {
		return t.entries[e].val
	}
	return t.Values[e]
}

// bisect is pick without a guide table.
func bisect(cum []uint32, u uint32) (d int, count uint32) {
	d = countAtMost(cum, u)
	if d == 0 {
		return 0, cum[0]
	}
	return d, cum[d] - cum[d-1]
}

// walkNode is a Node for sampling: Feats holds the features of Child (low
// 16 bits) and Child+1 (high 16 bits), -1 for a leaf.
type walkNode struct {
	Mask  uint64
	Child int32
	Feats uint32
}

// pairNode is two levels of a tree for sampling: an inner node v (Mask)
// and its children a = v.Child and b = v.Child+1 (MaskA and MaskB, 0 for a
// leaf). Next holds the four ways out: Next[0] and Next[1] below a (its
// bin's bit set, clear), Next[2] and Next[3] below b; both ways out of a
// leaf child name the leaf.
type pairNode struct {
	Mask, MaskA, MaskB uint64
	Next               [4]pairRef
	_                  uint64 // 64 bytes: a node is one cache line
}

// pairRef is where a two-level step lands: a leaf (F < 0, Idx its leaf
// index) or pairs[Idx], whose node splits on feature F and whose children
// on FA and FB (0, any valid bin index, for a leaf child), so that the step
// loads the three bins while it loads the node.
type pairRef struct {
	Idx       uint16
	F, FA, FB int16
}

// preparePairs builds pairs from Nodes (skipped when an index does not fit
// 16 bits: leaf then walks walk or Nodes).
func (t *CART) preparePairs() {
	t.pairs, t.pairRoot = nil, pairRef{}
	if len(t.Nodes) == 0 || len(t.LeafStart)-1 > math.MaxUint16+1 {
		return
	}
	var pairs []pairNode
	ok := true
	feat := func(i int32) int16 { return int16(max(t.Nodes[i].Feat, 0)) }
	var ref func(i int32) pairRef
	ref = func(i int32) pairRef {
		n := t.Nodes[i]
		if n.Feat < 0 {
			return pairRef{Idx: uint16(n.Child), F: -1}
		}
		at := len(pairs)
		if n.Feat > math.MaxInt16 || at > math.MaxUint16 {
			ok = false
			return pairRef{F: -1}
		}
		pairs = append(pairs, pairNode{})
		p := pairNode{Mask: n.Mask}
		for side, c := range [2]int32{n.Child, n.Child + 1} {
			cn := t.Nodes[c]
			if cn.Feat < 0 {
				p.Next[2*side] = ref(c)
				p.Next[2*side+1] = p.Next[2*side]
				continue
			}
			if side == 0 {
				p.MaskA = cn.Mask
			} else {
				p.MaskB = cn.Mask
			}
			p.Next[2*side] = ref(cn.Child)
			p.Next[2*side+1] = ref(cn.Child + 1)
		}
		pairs[at] = p
		return pairRef{Idx: uint16(at), F: int16(n.Feat), FA: feat(n.Child), FB: feat(n.Child + 1)}
	}
	root := ref(0)
	if ok && len(pairs) > 0 {
		// A copy of its own size, whose start the allocator aligns to
		// 64 bytes in practice (large spans are page-aligned, and the
		// small size classes of whole cache lines keep the alignment).
		t.pairs, t.pairRoot = append(make([]pairNode, 0, len(pairs)), pairs...), root
	}
}

// prepareWalk builds walk from Nodes (skipped when a feature index does
// not fit 16 bits: leaf then walks Nodes).
func (t *CART) prepareWalk() {
	t.walk, t.rootFeat = nil, -1
	feat := func(i int32) uint32 { return uint32(uint16(int16(t.Nodes[i].Feat))) }
	w := make([]walkNode, len(t.Nodes))
	for i, n := range t.Nodes {
		if n.Feat > math.MaxInt16 {
			return
		}
		w[i] = walkNode{Mask: n.Mask, Child: n.Child}
		if n.Feat >= 0 {
			w[i].Feats = feat(n.Child) | feat(n.Child+1)<<16
		}
	}
	if len(t.Nodes) > 0 {
		t.walk, t.rootFeat = w, t.Nodes[0].Feat
	}
}

// cartFitter grows one tree. Features are modelled-column indexes into
// bins; the target is ycat (K levels) or ynum (NaN missing).
type cartFitter struct {
	bins  [][]uint8
	nbins []int
	feats []int
	// levelFeat says, per modelled column, whether its bins are levels
	// (unordered) rather than number ranges.
	levelFeat []bool
	ycat      []int32
	k         int
	ynum      []float64
	minLeaf   int
	depth     int
	minGain   float64
	// minStat is the smallest split statistic a split needs: the impurity
	// decrease over the node's impurity per row (see FitOptions.MinSplitStat).
	minStat float64
	idx     []int32
	out     CART
	hist    []float64
	order   []int
	keys    []float64
	left    []float64
	right   []float64
	parent  []float64
}

// split is the best split found at a node.
type split struct {
	gain float64
	feat int
	mask uint64
}

func (f *cartFitter) grow() CART {
	n := len(f.idx)
	f.hist = make([]float64, maxBins*max(f.k, 4))
	f.order, f.keys = make([]int, 0, maxBins), make([]float64, maxBins)
	f.left, f.right, f.parent = make([]float64, max(f.k, 4)), make([]float64, max(f.k, 4)), make([]float64, max(f.k, 4))
	f.out.Nodes = append(f.out.Nodes, Node{})
	f.out.LeafStart = append(f.out.LeafStart, 0)
	root := f.impurity(0, n)
	f.minGain = max(root*minRelGain, 1e-12)
	f.build(0, 0, n, 0)
	return f.out
}

// minRelGain is the smallest impurity decrease, relative to the root's,
// worth a split (rpart's cp).
const minRelGain = 1e-6

// impurity is the Gini impurity times n (levels) or the sum of squared
// deviations (numbers) of rows idx[lo:hi].
func (f *cartFitter) impurity(lo, hi int) float64 {
	if f.ycat != nil {
		clear(f.parent[:f.k])
		for _, i := range f.idx[lo:hi] {
			f.parent[f.ycat[i]]++
		}
		return gini(f.parent[:f.k], float64(hi-lo))
	}
	var c, s, q float64
	for _, i := range f.idx[lo:hi] {
		if y := f.ynum[i]; y == y {
			c++
			s += y
			q += y * y
		}
	}
	return sse(c, s, q)
}

func gini(counts []float64, n float64) float64 {
	if n == 0 {
		return 0
	}
	var s2 float64
	for _, c := range counts {
		s2 += c * c
	}
	return n - s2/n
}

func sse(c, s, q float64) float64 {
	if c == 0 {
		return 0
	}
	return max(q-s*s/c, 0)
}

func (f *cartFitter) build(node, lo, hi, depth int) {
	n := hi - lo
	if n >= 2*f.minLeaf && depth < f.depth {
		if imp := f.impurity(lo, hi); imp > 0 {
			if best := f.bestSplit(lo, hi, imp); best.feat >= 0 {
				mid := f.partition(lo, hi, best)
				child := int32(len(f.out.Nodes))
				f.out.Nodes = append(f.out.Nodes, Node{}, Node{})
				f.out.Nodes[node] = Node{Mask: best.mask, Feat: int32(best.feat), Child: child}
				f.build(int(child), lo, mid, depth+1)
				f.build(int(child)+1, mid, hi, depth+1)
				return
			}
		}
	}
	f.makeLeaf(node, lo, hi)
}

func (f *cartFitter) partition(lo, hi int, s split) int {
	col := f.bins[s.feat]
	i, j := lo, hi-1
	for i <= j {
		if s.mask>>col[f.idx[i]]&1 == 1 {
			i++
		} else {
			f.idx[i], f.idx[j] = f.idx[j], f.idx[i]
			j--
		}
	}
	return i
}

func (f *cartFitter) makeLeaf(node, lo, hi int) {
	leaf := int32(len(f.out.LeafStart) - 1)
	f.out.Nodes[node] = Node{Feat: -1, Child: leaf}
	if f.ycat != nil {
		clear(f.parent[:f.k])
		for _, i := range f.idx[lo:hi] {
			f.parent[f.ycat[i]]++
		}
		var acc uint32
		for c, cnt := range f.parent[:f.k] {
			if cnt > 0 {
				acc += uint32(cnt)
				f.out.Classes = append(f.out.Classes, int32(c))
				f.out.Cum = append(f.out.Cum, acc)
			}
		}
		f.out.LeafStart = append(f.out.LeafStart, int32(len(f.out.Cum)))
		return
	}
	vals := f.keys[:0] // scratch
	var miss uint32
	for _, i := range f.idx[lo:hi] {
		if y := f.ynum[i]; y == y {
			vals = append(vals, y)
		} else {
			miss++
		}
	}
	slices.Sort(vals)
	var acc uint32
	for i, v := range vals {
		acc++
		if i+1 == len(vals) || vals[i+1] != v {
			f.out.Values = append(f.out.Values, v)
			f.out.VCum = append(f.out.VCum, acc)
		}
	}
	f.keys = vals[:0]
	f.out.Missing = append(f.out.Missing, miss)
	f.out.LeafStart = append(f.out.LeafStart, int32(len(f.out.Values)))
}

// bestSplit searches every feature's bin histogram for the split of largest
// impurity decrease that beats both minGain and the significance floor
// minStat * parentImp / n.
func (f *cartFitter) bestSplit(lo, hi int, parentImp float64) split {
	best := split{feat: -1, gain: max(f.minGain, f.minStat*parentImp/float64(hi-lo))}
	for _, feat := range f.feats {
		nb := f.nbins[feat]
		if nb < 2 {
			continue
		}
		if f.ycat != nil {
			f.splitLevels(feat, nb, lo, hi, parentImp, &best)
		} else {
			f.splitNumber(feat, nb, lo, hi, parentImp, &best)
		}
	}
	return best
}

// splitLevels finds the best prefix split of feat's bins for a level
// target. Number features keep bin order; level features try orders by the
// share of each of the node's three commonest classes (exact for two
// classes, a cheap approximation of the best subset otherwise).
func (f *cartFitter) splitLevels(feat, nb, lo, hi int, parentImp float64, best *split) {
	k := f.k
	h := f.hist[:nb*k]
	clear(h)
	col := f.bins[feat]
	for _, i := range f.idx[lo:hi] {
		h[int(col[i])*k+int(f.ycat[i])]++
	}
	n := float64(hi - lo)
	isLevel := f.binsAreLevels(feat)
	tries := 1
	var top [3]int
	if isLevel {
		tries = min(3, k)
		if k == 2 {
			tries = 1
		}
		top = topClasses(f.parent[:k])
	}
	for t := 0; t < tries; t++ {
		order := f.order[:0]
		for b := 0; b < nb; b++ {
			order = append(order, b)
		}
		if isLevel {
			keys := f.keys[:nb]
			c := top[t]
			for b := 0; b < nb; b++ {
				var tot float64
				for _, x := range h[b*k : b*k+k] {
					tot += x
				}
				keys[b] = -1
				if tot > 0 {
					keys[b] = h[b*k+c] / tot
				}
			}
			slices.SortStableFunc(order, func(x, y int) int {
				switch {
				case keys[x] < keys[y]:
					return -1
				case keys[x] > keys[y]:
					return 1
				}
				return 0
			})
		}
		clear(f.left[:k])
		var nl float64
		var mask uint64
		for p, b := range order[:nb-1] {
			row := h[b*k : b*k+k]
			var add float64
			for c, x := range row {
				f.left[c] += x
				add += x
			}
			mask |= 1 << uint(b)
			nl += add
			if add == 0 && p+1 < nb-1 {
				continue
			}
			if nl < float64(f.minLeaf) {
				continue
			}
			nr := n - nl
			if nr < float64(f.minLeaf) {
				break
			}
			for c := range k {
				f.right[c] = f.parent[c] - f.left[c]
			}
			gain := parentImp - gini(f.left[:k], nl) - gini(f.right[:k], nr)
			if gain > best.gain {
				*best = split{gain: gain, feat: feat, mask: mask}
			}
		}
	}
}

// topClasses returns the three commonest classes of counts.
func topClasses(counts []float64) [3]int {
	top := [3]int{}
	for i := range top {
		bestC, bestN := 0, -1.0
		for c, x := range counts {
			taken := false
			for _, t := range top[:i] {
				taken = taken || t == c
			}
			if !taken && x > bestN {
				bestC, bestN = c, x
			}
		}
		top[i] = bestC
	}
	return top
}

// splitNumber finds the best prefix split of feat's bins for a number
// target (level features ordered by the target's mean in each bin).
func (f *cartFitter) splitNumber(feat, nb, lo, hi int, parentImp float64, best *split) {
	h := f.hist[:nb*4]
	clear(h)
	col := f.bins[feat]
	for _, i := range f.idx[lo:hi] {
		b := int(col[i]) * 4
		h[b]++
		if y := f.ynum[i]; y == y {
			h[b+1]++
			h[b+2] += y
			h[b+3] += y * y
		}
	}
	order := f.order[:0]
	for b := 0; b < nb; b++ {
		order = append(order, b)
	}
	if f.binsAreLevels(feat) {
		keys := f.keys[:nb]
		for b := 0; b < nb; b++ {
			keys[b] = math.Inf(1)
			if h[b*4+1] > 0 {
				keys[b] = h[b*4+2] / h[b*4+1]
			}
		}
		slices.SortStableFunc(order, func(x, y int) int {
			switch {
			case keys[x] < keys[y]:
				return -1
			case keys[x] > keys[y]:
				return 1
			}
			return 0
		})
	}
	var tn, tc, ts, tq float64
	for b := 0; b < nb; b++ {
		tn += h[b*4]
		tc += h[b*4+1]
		ts += h[b*4+2]
		tq += h[b*4+3]
	}
	var ln, lc, ls, lq float64
	var mask uint64
	for _, b := range order[:nb-1] {
		ln += h[b*4]
		lc += h[b*4+1]
		ls += h[b*4+2]
		lq += h[b*4+3]
		mask |= 1 << uint(b)
		if h[b*4] == 0 || ln < float64(f.minLeaf) {
			continue
		}
		if tn-ln < float64(f.minLeaf) {
			break
		}
		gain := parentImp - sse(lc, ls, lq) - sse(tc-lc, ts-ls, tq-lq)
		if gain > best.gain {
			*best = split{gain: gain, feat: feat, mask: mask}
		}
	}
}

func (f *cartFitter) binsAreLevels(feat int) bool { return f.levelFeat[feat] }
