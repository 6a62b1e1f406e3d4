package ensemble

import "math"

// flatForest is the general prediction layout of XGBoost trees (dense.go
// serves the models it can, see newDense): all nodes of all
// trees in one slice, the two children of a split side by side (right =
// left+1), and leaves pointing at themselves with a NaN threshold, so a row
// walks every tree in exactly that tree's depth steps with no branch on the
// data: next = left + (v >= cond) | (missing & defaultRight). The batch
// kernel walks a block of rows through one tree at a time, which keeps the
// tree in cache and lets the CPU overlap the rows' independent chains.
type flatForest struct {
	nodes []fnode
	leaf  []float32 // leaf value by node index (0 for splits)
	trees []flatTree
	cats  [][]uint64 // category sets, shared with xgbEval.cats
}

type fnode struct {
	cond  float32 // threshold; NaN for leaves (never >=)
	feat  int32
	left  int32 // absolute index of the left child; the leaf itself for leaves
	flags int32 // bit 0: missing goes right; bit 1: categorical; bits 2+: category set
}

const (
	flagMissingRight = 1
	flagCategorical  = 2
)

type flatTree struct{ root, depth int32 }

// add lays out one checked tree (see buildTree) breadth first.
func (f *flatForest) add(t []xgbNode) {
	root := int32(len(f.nodes))
	f.nodes = append(f.nodes, fnode{})
	f.leaf = append(f.leaf, 0)
	type item struct{ src, dst, depth int32 }
	queue := []item{{0, root, 0}}
	depth := int32(0)
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		nd := t[it.src]
		if nd.left < 0 {
			f.nodes[it.dst] = fnode{cond: float32(math.NaN()), left: it.dst}
			f.leaf[it.dst] = nd.cond
			continue
		}
		depth = max(depth, it.depth+1)
		l := int32(len(f.nodes))
		f.nodes = append(f.nodes, fnode{}, fnode{})
		f.leaf = append(f.leaf, 0, 0)
		fn := fnode{cond: nd.cond, feat: nd.feat, left: l}
		if nd.def == nd.right {
			fn.flags |= flagMissingRight
		}
		if nd.cat >= 0 {
			fn.flags |= flagCategorical | nd.cat<<2
		}
		f.nodes[it.dst] = fn
		queue = append(queue, item{nd.left, l, it.depth + 1}, item{nd.right, l + 1, it.depth + 1})
	}
	f.trees = append(f.trees, flatTree{root: root, depth: depth})
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// catStep is the step of a categorical split: listed categories go right;
// other codes, and negative ones, go left; missing follows the default.
// Kept out of the hot loops, which test the flag and call it rarely.
func (f *flatForest) catStep(nd *fnode, v float32) int32 {
	if v != v {
		return nd.flags & flagMissingRight
	}
	return b2i(v >= 0 && hasCat(f.cats[nd.flags>>2], int64(v)))
}

// walk returns the leaf row x reaches in tree t.
func (f *flatForest) walk(t flatTree, x []float32) int32 {
	i := t.root
	for d := int32(0); d < t.depth; d++ {
		nd := &f.nodes[i]
		v := x[nd.feat]
		// Right when v >= cond, or when v is missing and missing goes
		// right; NaN thresholds (leaves) never go right.
		r := b2i(v >= nd.cond) | b2i(v != v)&nd.flags
		if nd.flags&flagCategorical != 0 {
			r = f.catStep(nd, v)
		}
		i = nd.left + r
	}
	return i
}

func (e *xgbEval) predict(row []float64, out []float64) {
	var sbuf [16]float32
	sums := sbuf[:0]
	if e.groups > len(sbuf) {
		sums = make([]float32, 0, e.groups)
	}
	for g := 0; g < e.groups; g++ {
		sums = append(sums, e.base)
	}
	if d := e.dense; d != nil {
		var cbuf [2 * 64]dcell
		cells := cbuf[:]
		if 2*e.nf > len(cbuf) {
			cells = make([]dcell, 2*e.nf)
		}
		denseRow(row, cells)
		for i, t := range d.trees {
			v := d.walk(t, cells)
			if e.weight != nil {
				v *= e.weight[i]
			}
			sums[e.group[i]] += v
		}
		e.transform(sums, out)
		return
	}
	var buf [64]float32
	x := buf[:0]
	if e.nf > len(buf) {
		x = make([]float32, 0, e.nf)
	}
	for _, v := range row {
		x = append(x, float32(v))
	}
	f := &e.flat
	for i, t := range f.trees {
		v := f.leaf[f.walk(t, x)]
		if e.weight != nil {
			v *= e.weight[i]
		}
		sums[e.group[i]] += v
	}
	e.transform(sums, out)
}

// kernelRows is the number of rows the batch kernel walks through a tree
// together: enough independent chains to hide the latency of each step's
// two loads, few enough that their indices stay in L1.
const kernelRows = 64

// predictBlock predicts up to kernelRows rows (row-major in rows) into out.
// Sums accumulate per row in tree order, exactly as predict does, so batch
// and single predictions are bit for bit the same.
func (e *xgbEval) predictBlock(rows []float64, out []float64) {
	n := len(rows) / e.nf
	// Stack buffers for the common shapes keep a batch at zero
	// allocations per block.
	var sbuf [kernelRows * 16]float32
	sums := sbuf[:0]
	if n*e.groups > len(sbuf) {
		sums = make([]float32, 0, n*e.groups)
	}
	for i := 0; i < n*e.groups; i++ {
		sums = append(sums, e.base)
	}
	if e.dense != nil {
		var cbuf [kernelRows * 2 * 32]dcell
		cells := cbuf[:]
		if 2*e.nf*kernelRows > len(cbuf) {
			// Wider models reuse a pooled buffer: no allocation per block.
			p, _ := e.cellPool.Get().(*[]dcell)
			if p == nil {
				p = new([]dcell)
				*p = make([]dcell, 2*e.nf*kernelRows)
			}
			defer e.cellPool.Put(p)
			cells = *p
		}
		blockCells(rows, e.nf, n, cells)
		e.dense.predictBlock(e, cells, n, sums)
	} else {
		var xbuf [kernelRows * 64]float32
		x := xbuf[:0]
		if len(rows) > len(xbuf) {
			x = make([]float32, 0, len(rows))
		}
		for _, v := range rows {
			x = append(x, float32(v))
		}
		e.flatBlock(x, n, sums)
	}
	for r := 0; r < n; r++ {
		e.transform(sums[r*e.groups:(r+1)*e.groups], out[r*e.outputs:(r+1)*e.outputs])
	}
}

// flatBlock is the batch kernel over the flat layout, for models with a
// tree deeper than denseMaxDepth.
func (e *xgbEval) flatBlock(x []float32, n int, sums []float32) {
	var idx [kernelRows]int32
	f := &e.flat
	nf := e.nf
	for ti, t := range f.trees {
		for r := 0; r < n; r++ {
			idx[r] = t.root
		}
		for d := int32(0); d < t.depth; d++ {
			for r := 0; r < n; r++ {
				nd := &f.nodes[idx[r]]
				v := x[r*nf+int(nd.feat)]
				s := b2i(v >= nd.cond) | b2i(v != v)&nd.flags
				if nd.flags&flagCategorical != 0 {
					s = f.catStep(nd, v)
				}
				idx[r] = nd.left + s
			}
		}
		g := int(e.group[ti])
		for r := 0; r < n; r++ {
			v := f.leaf[idx[r]]
			if e.weight != nil {
				v *= e.weight[ti]
			}
			sums[r*e.groups+g] += v
		}
	}
}
