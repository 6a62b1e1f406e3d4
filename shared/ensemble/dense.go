package ensemble

import (
	"math"
	"unsafe"
)

// denseForest is the batch and single-row layout used when every tree is at
// most denseMaxDepth deep: each tree becomes a complete binary tree of its
// own depth D (2^D-1 splits, then 2^D leaf values), so node i's children are
// 2i+1 and 2i+2 and a row takes exactly D steps:
//
//	i = 2*i + 1 + right
//
// with no child index to load. A leaf that XGBoost placed above depth D is
// stretched: its slot becomes a pass-through split that always goes left
// (NaN threshold, empty mask) and its value is copied to every leaf slot
// below it.
//
// A step is one load of the node, one load of the row's cell and
//
//	right = (cell.v >= node.cond) | (node.mask >> cell.code) & 1
//
// with no branch on the data. The work that would need branches is done
// once per row when its cells are made (see denseRow): every feature has
// two cells, one where a missing value reads -Inf (for splits whose missing
// values go left) and one where it reads +Inf (missing goes right), and a
// node's feature index names the right cell. Numeric splits have mask 0;
// categorical ones a NaN threshold (never >=) and a mask of the categories
// 0..61 that go right, bit 63 set when missing goes right. A cell's code is
// its category (0..61), catInvalid for anything else and catMissing for a
// missing value. XGBoost compares in float32, and so do we.
//
// A model is served by this layout only when that is exact for it (see
// newDense); otherwise the flat layout serves it.
type denseForest struct {
	nodes []dnode
	leaf  []float32
	trees []denseTree
	// The batch kernel's copy of nodes (see bnode), padded like nodes,
	// and the category table its categorical splits index.
	bnodes  []bnode
	catBits []uint8
}

// bnode is a split as the batch kernel reads it. The categorical test is a
// byte load from catBits (the split's 64 entries, one per category code,
// 1 when that code goes right) rather than a shift of a 64-bit mask by the
// code: a shift by a variable count ties up CX on amd64 and cost the hot
// loop four more instructions a step. Numeric splits point at the first
// 64 entries, all 0.
type bnode struct {
	cond float32
	off  uint32 // cell*kernelRows: the node's cell of row r is cells[off+r]
	cat  uint32 // first of the split's 64 entries in catBits
	_    uint32 // pads to 16 bytes so a node is found with a shift
}

// dnode is 16 bytes: four fit a cache line.
type dnode struct {
	cond float32 // threshold; NaN for categorical and pass-through nodes
	cell uint32  // index of the cell in a row's cells: 2*feature + missing-goes-right
	mask uint64  // categories that go right; bit catMissing when missing goes right
}

// dcell is one feature of a row as the dense kernel reads it.
type dcell struct {
	v    float32 // the value, or -Inf/+Inf in place of a missing one
	code uint32  // category code 0..61, catInvalid or catMissing
}

type denseTree struct {
	node, leaf int32 // first split and first leaf of the tree
	depth      int32
}

const (
	// denseMaxDepth bounds the depth a tree may have for this layout: a
	// depth-8 tree takes 255 splits (4 KB) and 256 leaves.
	denseMaxDepth = 8
	catInvalid    = 62 // no mask has this bit set: invalid codes go left
	catMissing    = 63
)

// newDense lays out checked trees (see buildTree) of the given depths, or
// returns nil when the layout would not be exact: a tree deeper than
// denseMaxDepth, a category set listing a code >= catInvalid, or a numeric
// threshold that is NaN or -Inf (a missing value reads -Inf, which must
// stay below every threshold).
func newDense(trees [][]xgbNode, depths []int32, cats [][]uint64) *denseForest {
	for _, bits := range cats {
		if len(bits) > 1 || len(bits) == 1 && bits[0]>>catInvalid != 0 {
			return nil
		}
	}
	for ti, t := range trees {
		if depths[ti] > denseMaxDepth {
			return nil
		}
		for _, nd := range t {
			if nd.left >= 0 && nd.cat < 0 && (nd.cond != nd.cond || math.IsInf(float64(nd.cond), -1)) {
				return nil
			}
		}
	}
	d := &denseForest{}
	for ti, t := range trees {
		D := depths[ti]
		dt := denseTree{node: int32(len(d.nodes)), leaf: int32(len(d.leaf)), depth: D}
		d.nodes = append(d.nodes, make([]dnode, 1<<D-1)...)
		d.leaf = append(d.leaf, make([]float32, 1<<D)...)
		d.fill(cats, dt, t, 0, 0, 0)
		d.trees = append(d.trees, dt)
	}
	// Padding so every tree's nodes can be viewed as a *[denseSpan]dnode,
	// which lets the kernel index them with i&(denseSpan-1) and no bounds
	// check; the padding is never reached (i < 2^depth-1).
	d.nodes = append(d.nodes, make([]dnode, denseSpan)...)
	d.batchLayout()
	return d
}

// batchLayout derives bnodes and catBits from nodes, one table row per
// distinct category mask.
func (d *denseForest) batchLayout() {
	d.catBits = make([]uint8, 64)
	rows := map[uint64]uint32{0: 0}
	d.bnodes = make([]bnode, len(d.nodes))
	for i, n := range d.nodes {
		at, ok := rows[n.mask]
		if !ok {
			at = uint32(len(d.catBits))
			rows[n.mask] = at
			for c := 0; c < 64; c++ {
				d.catBits = append(d.catBits, uint8(n.mask>>c&1))
			}
		}
		d.bnodes[i] = bnode{cond: n.cond, off: n.cell * kernelRows, cat: at}
	}
}

// denseSpan is a power of two above the largest split index of a tree.
const denseSpan = 1 << denseMaxDepth

// span returns tree t's nodes as a fixed-size array (see the padding in
// newDense).
func (d *denseForest) span(t denseTree) *[denseSpan]dnode {
	return (*[denseSpan]dnode)(d.nodes[t.node : t.node+denseSpan])
}

// fill places source node src at complete-tree position i of depth level.
func (d *denseForest) fill(cats [][]uint64, dt denseTree, t []xgbNode, src, i, level int32) {
	nd := t[src]
	if level == dt.depth {
		// Only leaves reach the bottom: depths[ti] is the tree's depth.
		d.leaf[dt.leaf+i-(1<<dt.depth-1)] = nd.cond
		return
	}
	if nd.left < 0 {
		d.nodes[dt.node+i] = dnode{cond: float32(math.NaN())}
		d.fill(cats, dt, t, src, 2*i+1, level+1)
		d.fill(cats, dt, t, src, 2*i+2, level+1)
		return
	}
	missRight := nd.def == nd.right
	dn := dnode{cond: nd.cond, cell: 2 * uint32(nd.feat)}
	if missRight {
		dn.cell++
	}
	if nd.cat >= 0 {
		dn.cond = float32(math.NaN())
		if bits := cats[nd.cat]; len(bits) == 1 {
			dn.mask = bits[0]
		}
		if missRight {
			dn.mask |= 1 << catMissing
		}
	}
	d.nodes[dt.node+i] = dn
	d.fill(cats, dt, t, nd.left, 2*i+1, level+1)
	d.fill(cats, dt, t, nd.right, 2*i+2, level+1)
}

// denseRow writes the cells of one row (2 per feature) into cells.
func denseRow(row []float64, cells []dcell) {
	for j, f := range row {
		cells[2*j], cells[2*j+1] = cellPair(f)
	}
}

// cellPair returns a feature value's two cells: missing goes left in lo
// and right in hi.
func cellPair(f float64) (lo, hi dcell) {
	v := float32(f)
	lo, hi = dcell{v: v, code: catInvalid}, dcell{v: v, code: catInvalid}
	switch {
	case v != v:
		lo = dcell{v: float32(math.Inf(-1)), code: catMissing}
		hi = dcell{v: float32(math.Inf(1)), code: catMissing}
	case v >= 0 && v < catInvalid:
		// XGBoost truncates a category value to its integer code.
		lo.code, hi.code = uint32(v), uint32(v)
	}
	return lo, hi
}

// step is 1 when the row with cell c goes right at node n.
func step(n *dnode, c *dcell) uint32 {
	return b2u(c.v >= n.cond) | uint32(n.mask>>(c.code&63))&1
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// walk returns the leaf value the row with the given cells reaches in tree t.
func (d *denseForest) walk(t denseTree, cells []dcell) float32 {
	nodes := d.nodes[t.node : t.node+1<<t.depth-1]
	i := uint32(0)
	for l := int32(0); l < t.depth; l++ {
		n := &nodes[i&(denseSpan-1)]
		i = 2*i + 1 + step(n, &cells[n.cell])
	}
	return d.leaf[t.leaf+int32(i)-(1<<t.depth-1)]
}

// blockCells writes the cells of n rows (row-major in rows, nf values a
// row) feature-major into cells: cell c of row r at c*kernelRows+r. The
// batch kernel then reads a node's cell for consecutive rows from
// consecutive slots, with no per-row offset to load, and a block's cells
// of one feature share cache lines.
func blockCells(rows []float64, nf, n int, cells []dcell) {
	for r := 0; r < n; r++ {
		row := rows[r*nf : (r+1)*nf]
		for j, f := range row {
			cells[2*j*kernelRows+r], cells[(2*j+1)*kernelRows+r] = cellPair(f)
		}
	}
}

// predictBlock walks up to kernelRows rows (their cells feature-major, see
// blockCells) through every tree, one tree at a time so its nodes stay in
// cache, and adds the leaves into sums (groups a row) in tree order,
// exactly as the single-row path does. Within a level the rows' steps are
// independent, so the CPU overlaps their loads.
func (d *denseForest) predictBlock(e *xgbEval, cells []dcell, n int, sums []float32) {
	if len(cells) < 2*e.nf*kernelRows || len(d.catBits)%64 != 0 {
		// descend's unchecked indexing relies on both.
		panic("ensemble: dense block cells too short")
	}
	var idx [kernelRows]uint32
	leafOf := idx[:n]
	groups := e.groups
	for ti, t := range d.trees {
		nodes := (*[denseSpan]bnode)(d.bnodes[t.node : t.node+denseSpan])
		clear(leafOf)
		leaves := d.leaf[t.leaf : t.leaf+1<<t.depth]
		first := uint32(1)<<t.depth - 1
		if groups == 1 && e.weight == nil && t.depth > 0 {
			// The common case: the last level adds the leaves as it
			// reaches them, with no pass of its own.
			for l := int32(1); l < t.depth; l++ {
				descend(nodes, cells, d.catBits, leafOf)
			}
			descendAdd(nodes, cells, d.catBits, leafOf, leaves, sums[:n])
			continue
		}
		for l := int32(0); l < t.depth; l++ {
			descend(nodes, cells, d.catBits, leafOf)
		}
		w := float32(1)
		if e.weight != nil {
			w = e.weight[ti]
		}
		g := sums[e.group[ti]:]
		for r, i := range leafOf {
			v := leaves[(i-first)&(1<<t.depth-1)]
			if e.weight != nil {
				v *= w
			}
			g[r*groups] += v
		}
	}
}

// descend moves every row of idx one level down the tree of nodes: a row
// at split i goes to 2i+1 (left) or 2i+2 (right), with no branch on the
// data. It is a function of its own, kept out of line, so that its loop,
// the hot one, has few enough live values to keep them all in registers,
// and it takes two rows an iteration to halve the loop's own work; the
// rows' steps are independent, so the CPU overlaps their loads.
//
// It indexes cells and catBits without bounds checks (two compares and
// branches of the dozen instructions a step costs), which is safe by
// construction: a node's off is cell*kernelRows with cell < 2*nf and r <
// kernelRows, and cells holds 2*nf*kernelRows cells (predictBlock checks
// it); a cell's code is masked to 0..63 and cat starts one of catBits'
// 64-entry rows (batchLayout). i&(denseSpan-1) keeps nodes in range.
//
//go:noinline
func descend(nodes *[denseSpan]bnode, cells []dcell, catBits []uint8, idx []uint32) {
	cp, bp := unsafe.Pointer(unsafe.SliceData(cells)), unsafe.Pointer(unsafe.SliceData(catBits))
	next := func(i uint32, r int) uint32 {
		nd := &nodes[i&(denseSpan-1)]
		c := (*dcell)(unsafe.Add(cp, uintptr(int(nd.off)+r)*unsafe.Sizeof(dcell{})))
		right := b2u(c.v >= nd.cond) | uint32(*(*uint8)(unsafe.Add(bp, nd.cat+c.code&63)))
		return 2*i + 1 + right
	}
	r := 0
	for ; r+1 < len(idx); r += 2 {
		idx[r], idx[r+1] = next(idx[r], r), next(idx[r+1], r+1)
	}
	if r < len(idx) {
		idx[r] = next(idx[r], r)
	}
}

// descendAdd is descend's last level for a single-output model without
// tree weights: each row's leaf value is added to its sum as the row
// reaches it (leaves holds the tree's 2^depth leaves).
//
//go:noinline
func descendAdd(nodes *[denseSpan]bnode, cells []dcell, catBits []uint8, idx []uint32, leaves, sums []float32) {
	cp, bp := unsafe.Pointer(unsafe.SliceData(cells)), unsafe.Pointer(unsafe.SliceData(catBits))
	last := uint32(len(leaves) - 1) // 2^depth-1: also the index of the first leaf
	sums = sums[:len(idx)]
	for r, i := range idx {
		nd := &nodes[i&(denseSpan-1)]
		c := (*dcell)(unsafe.Add(cp, uintptr(int(nd.off)+r)*unsafe.Sizeof(dcell{})))
		right := b2u(c.v >= nd.cond) | uint32(*(*uint8)(unsafe.Add(bp, nd.cat+c.code&63)))
		sums[r] += leaves[(2*i+1+right-last)&last]
	}
}
