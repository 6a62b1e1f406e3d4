package ml

import (
	"cmp"
	"math/rand/v2"
	"slices"
)

// node is one node of a tree. A leaf has feature −1.
type node struct {
	feature     int32
	left        int32 // index of the left child; the right child follows it
	nominal     bool
	missingLeft bool   // ordinal: whether bin 0 (missing) goes left
	threshold   uint8  // ordinal: bins 1..threshold go left
	set         uint64 // nominal: bin b goes left when bit b is set
	value       float64
}

type tree struct{ nodes []node }

// goesLeft reports whether bin b follows the left branch of n.
func (n *node) goesLeft(b uint8) bool {
	switch {
	case n.nominal:
		return n.set>>b&1 == 1
	case b == 0:
		return n.missingLeft
	}
	return b <= n.threshold
}

// predict returns the leaf value row i of x reaches.
func (t *tree) predict(x *Matrix, i int) float64 {
	n := &t.nodes[0]
	for n.feature >= 0 {
		if n.goesLeft(x.Codes[n.feature][i]) {
			n = &t.nodes[n.left]
		} else {
			n = &t.nodes[n.left+1]
		}
	}
	return n.value
}

// bin accumulates the gradient statistics of one histogram bin.
type bin struct {
	g, h float64
	n    int32
}

// grower grows trees on gradient histograms, reusing its buffers.
type grower struct {
	x      *Matrix
	p      Params
	drawn  []int32   // this round's rows
	gs, hs []float64 // gradients of the rows of the node being built
	pool   [][]bin   // one histogram per depth
	order  []int     // nominal split scratch
}

func newGrower(x *Matrix, p Params) *grower {
	g := &grower{x: x, p: p, drawn: make([]int32, 0, x.Rows), gs: make([]float64, x.Rows), hs: make([]float64, x.Rows)}
	g.pool = make([][]bin, p.MaxDepth+1)
	for i := range g.pool {
		g.pool[i] = make([]bin, len(x.Features)*MaxBins)
	}
	return g
}

// sample draws this round's rows: all of them, or each with probability
// Subsample.
func (g *grower) sample(rng *rand.Rand) []int32 {
	g.drawn = g.drawn[:0]
	for i := range g.x.Rows {
		if g.p.Subsample >= 1 || rng.Float64() < g.p.Subsample {
			g.drawn = append(g.drawn, int32(i))
		}
	}
	if len(g.drawn) == 0 {
		g.drawn = append(g.drawn, int32(rng.IntN(g.x.Rows)))
	}
	return g.drawn
}

// grow fits one tree to the gradients of rows (whose order it changes).
func (g *grower) grow(rows []int32, grad, hess []float64) tree {
	t := tree{nodes: []node{{feature: -1}}}
	hist := g.pool[0]
	g.histogram(rows, grad, hess, hist)
	var G, H float64
	for _, r := range rows {
		G += grad[r]
		H += hess[r]
	}
	g.split(&t, 0, rows, grad, hess, hist, G, H, 0)
	return t
}

// histogram fills hist with the statistics of rows.
func (g *grower) histogram(rows []int32, grad, hess []float64, hist []bin) {
	clear(hist)
	gs, hs := g.gs[:len(rows)], g.hs[:len(rows)]
	for i, r := range rows {
		gs[i], hs[i] = grad[r], hess[r]
	}
	for f, codes := range g.x.Codes {
		h := hist[f*MaxBins : (f+1)*MaxBins]
		for i, r := range rows {
			b := &h[codes[r]]
			b.g += gs[i]
			b.h += hs[i]
			b.n++
		}
	}
}

// candidate is a split under consideration.
type candidate struct {
	gain float64
	node node // split fields only
}

// split turns node id (holding rows, with histogram hist and sums G, H)
// into a split with two children, or a leaf.
func (g *grower) split(t *tree, id int32, rows []int32, grad, hess []float64, hist []bin, G, H float64, depth int) {
	lambda := g.p.Lambda
	leaf := func() { t.nodes[id] = node{feature: -1, value: -g.p.LearningRate * G / (H + lambda)} }
	if depth >= g.p.MaxDepth || len(rows) < 2*g.p.MinLeaf {
		leaf()
		return
	}
	best := candidate{gain: 1e-9, node: node{feature: -1}}
	for f := range g.x.Features {
		g.bestSplit(f, hist[f*MaxBins:(f+1)*MaxBins], G, H, &best)
	}
	if best.node.feature < 0 || best.gain <= 1e-9 {
		leaf()
		return
	}
	// Partition rows in place: left children first.
	codes := g.x.Codes[best.node.feature]
	i, j := 0, len(rows)-1
	for i <= j {
		if best.node.goesLeft(codes[rows[i]]) {
			i++
		} else {
			rows[i], rows[j] = rows[j], rows[i]
			j--
		}
	}
	left, right := rows[:i], rows[i:]
	if len(left) == 0 || len(right) == 0 {
		leaf()
		return
	}
	n := best.node
	n.left = int32(len(t.nodes))
	t.nodes[id] = n
	t.nodes = append(t.nodes, node{feature: -1}, node{feature: -1})

	// Histogram of the smaller child from its rows, the larger one by
	// subtraction from the parent's (in place).
	small, large, smallID, largeID := left, right, n.left, n.left+1
	if len(right) < len(left) {
		small, large, smallID, largeID = right, left, n.left+1, n.left
	}
	sh := g.pool[depth+1]
	g.histogram(small, grad, hess, sh)
	var sG, sH float64
	for _, b := range sh[:MaxBins] { // every feature sums to the same totals
		sG += b.g
		sH += b.h
	}
	for k := range hist {
		hist[k].g -= sh[k].g
		hist[k].h -= sh[k].h
		hist[k].n -= sh[k].n
	}
	g.split(t, smallID, small, grad, hess, sh, sG, sH, depth+1)
	g.split(t, largeID, large, grad, hess, hist, G-sG, H-sH, depth+1)
}

// bestSplit updates best with feature f's best split, if better.
func (g *grower) bestSplit(f int, h []bin, G, H float64, best *candidate) {
	lambda, minLeaf := g.p.Lambda, int32(g.p.MinLeaf)
	var N int32
	for _, b := range h {
		N += b.n
	}
	parent := G * G / (H + lambda)
	gain := func(gl, hl float64) float64 {
		gr, hr := G-gl, H-hl
		return gl*gl/(hl+lambda) + gr*gr/(hr+lambda) - parent
	}
	feat := g.x.Features[f]
	bins := feat.Bins
	if feat.Kind == Ordinal {
		miss := h[0]
		var gl, hl float64
		var nl int32
		for t := 1; t < bins-1; t++ {
			gl, hl, nl = gl+h[t].g, hl+h[t].h, nl+h[t].n
			// Missing to the right.
			if nl >= minLeaf && N-nl >= minLeaf {
				if v := gain(gl, hl); v > best.gain {
					*best = candidate{gain: v, node: node{feature: int32(f), threshold: uint8(t)}}
				}
			}
			// Missing to the left.
			if miss.n > 0 && nl+miss.n >= minLeaf && N-nl-miss.n >= minLeaf {
				if v := gain(gl+miss.g, hl+miss.h); v > best.gain {
					*best = candidate{gain: v, node: node{feature: int32(f), threshold: uint8(t), missingLeft: true}}
				}
			}
		}
		// Missing alone against everything else.
		if miss.n >= minLeaf && N-miss.n >= minLeaf {
			if v := gain(miss.g, miss.h); v > best.gain {
				*best = candidate{gain: v, node: node{feature: int32(f), threshold: 0, missingLeft: true}}
			}
		}
		return
	}
	// Nominal: order the categories by gradient ratio and split the order.
	g.order = g.order[:0]
	for b := range bins {
		if h[b].n > 0 {
			g.order = append(g.order, b)
		}
	}
	ratio := func(b int) float64 { return h[b].g / (h[b].h + lambda) }
	slices.SortFunc(g.order, func(a, b int) int { return cmp.Compare(ratio(a), ratio(b)) })
	var gl, hl float64
	var nl int32
	var set uint64
	for _, b := range g.order[:max(0, len(g.order)-1)] {
		gl, hl, nl = gl+h[b].g, hl+h[b].h, nl+h[b].n
		set |= 1 << uint(b)
		if nl >= minLeaf && N-nl >= minLeaf {
			if v := gain(gl, hl); v > best.gain {
				*best = candidate{gain: v, node: node{feature: int32(f), nominal: true, set: set}}
			}
		}
	}
}
