package ensemble

import "math"

// denseForest is the batch and single-row layout used when every tree is at
// most denseMaxDepth deep: each tree becomes a complete binary tree of its
// own depth D (2^D-1 splits, then 2^D leaf values), so node i's children are
// 2i+1 and 2i+2 and a row takes exactly D steps:
//
//	i = 2*i + 1 + right
//
// with no child index to load. A leaf that XGBoost placed above depth D is
// stretched: its slot becomes a pass-through split that always goes left
// (NaN threshold, empty category mask, missing goes left) and its value is
// copied to every leaf slot below it.
//
// Numeric and categorical splits share one branch-free step: a numeric
// split has mask 0 and a real threshold, a categorical one a NaN threshold
// and a 64-bit category mask, so right = (v >= cond) | mask bit of v |
// (v missing & missing-goes-right). XGBoost compares in float32, and so do
// we: thresholds, features and leaves are float32. A category set that
// lists a code >= 64 doesn't fit the mask; such a model keeps the flat
// layout (a rare-path branch and call in the hot loop would make the
// compiler spill the loop's registers on every step).
type denseForest struct {
	nodes []dnode
	leaf  []float32
	trees []denseTree
}

// dnode is 16 bytes: four fit a cache line.
type dnode struct {
	cond float32 // threshold; NaN for categorical and pass-through nodes
	meta uint32  // feature index | denseMissRight
	mask uint64  // categories 0..63 that go right
}

type denseTree struct {
	node, leaf int32 // first split and first leaf of the tree
	depth      int32
}

const (
	denseMissRight = 1 << 31
	denseFeat      = 1<<31 - 1 // feature indices are < 2^20 (buildXGBoost)
	// denseMaxDepth bounds the depth a tree may have for this layout: a
	// depth-8 tree takes 255 splits (4 KB) and 256 leaves.
	denseMaxDepth = 8
)

// newDense lays out checked trees (see buildTree) of the given depths, or
// returns nil when one is deeper than denseMaxDepth or a category set lists
// a code >= 64 (the flat layout then serves the model).
func newDense(trees [][]xgbNode, depths []int32, cats [][]uint64) *denseForest {
	for _, bits := range cats {
		if len(bits) > 1 {
			return nil
		}
	}
	d := &denseForest{}
	for ti, t := range trees {
		D := depths[ti]
		if D > denseMaxDepth {
			return nil
		}
		dt := denseTree{node: int32(len(d.nodes)), leaf: int32(len(d.leaf)), depth: D}
		d.nodes = append(d.nodes, make([]dnode, 1<<D-1)...)
		d.leaf = append(d.leaf, make([]float32, 1<<D)...)
		d.fill(cats, dt, t, 0, 0, 0)
		d.trees = append(d.trees, dt)
	}
	return d
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
	dn := dnode{cond: nd.cond, meta: uint32(nd.feat)}
	if nd.def == nd.right {
		dn.meta |= denseMissRight
	}
	if nd.cat >= 0 {
		dn.cond = float32(math.NaN())
		if bits := cats[nd.cat]; len(bits) == 1 {
			dn.mask = bits[0]
		}
	}
	d.nodes[dt.node+i] = dn
	d.fill(cats, dt, t, nd.left, 2*i+1, level+1)
	d.fill(cats, dt, t, nd.right, 2*i+2, level+1)
}

// step is 1 when value v goes right at node n: v >= threshold (never for
// NaN thresholds), or v is a category code 0..63 in the mask (a shift by
// 64 or more is 0 in Go, which covers NaN, negative and large codes once
// they convert; v >= 0 rules out (-1, 0), which converts to 0), or v is
// missing and missing goes right.
func step(n *dnode, v float32) uint32 {
	return b2u(v >= n.cond) | uint32(n.mask>>uint32(int32(v)))&b2u(v >= 0) | b2u(v != v)&(n.meta>>31)
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// walk returns the leaf value row x reaches in tree t.
func (d *denseForest) walk(t denseTree, x []float32) float32 {
	nodes := d.nodes[t.node : t.node+1<<t.depth-1]
	i := uint32(0)
	for l := int32(0); l < t.depth; l++ {
		n := &nodes[i]
		i = 2*i + 1 + step(n, x[n.meta&denseFeat])
	}
	return d.leaf[t.leaf+int32(i)-(1<<t.depth-1)]
}

// predictBlock walks up to kernelRows rows (float32, row-major, nf a row)
// through every tree, one tree at a time so its nodes stay in cache, and
// adds the leaves into sums (groups a row) in tree order, exactly as the
// single-row path does.
func (d *denseForest) predictBlock(e *xgbEval, x []float32, n int, sums []float32) {
	nf := e.nf
	var idx [kernelRows]uint32
	var off [kernelRows]int
	for r := 0; r < n; r++ {
		off[r] = r * nf
	}
	for ti, t := range d.trees {
		nodes := d.nodes[t.node : t.node+1<<t.depth-1]
		for r := range idx[:n] {
			idx[r] = 0
		}
		for l := int32(0); l < t.depth; l++ {
			for r, i := range idx[:n] {
				nd := &nodes[i]
				v := x[off[r]+int(nd.meta&denseFeat)]
				right := step(nd, v)
				idx[r] = 2*i + 1 + right
			}
		}
		leaves := d.leaf[t.leaf : t.leaf+1<<t.depth]
		first := uint32(1<<t.depth - 1)
		g := int(e.group[ti])
		w := float32(1)
		if e.weight != nil {
			w = e.weight[ti]
		}
		for r := 0; r < n; r++ {
			v := leaves[idx[r]-first]
			if e.weight != nil {
				v *= w
			}
			sums[r*e.groups+g] += v
		}
	}
}
