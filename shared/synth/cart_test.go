package synth

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLeafWalks checks that the three ways leaf walks a tree (two levels a
// step on pairs, one on walk, the plain Nodes) reach the same leaf for
// random bins, on adult's trees and on small hand-made ones (a root leaf,
// leaves at odd and even depths on both sides).
func TestLeafWalks(t *testing.T) {
	m := fitAdultKind(t, KindTree).(*Tree)
	nbins := make([]int, len(m.Binnings))
	for k, b := range m.Binnings {
		nbins[k] = b.N
	}
	carts := slices.Clone(m.Carts)
	carts = append(carts,
		CART{Nodes: []Node{{Feat: -1, Child: 0}}, LeafStart: []int32{0, 1}},
		CART{Nodes: []Node{
			{Mask: 0b0101, Feat: 0, Child: 1},
			{Feat: -1, Child: 0},
			{Mask: 0b0011, Feat: 1, Child: 3},
			{Mask: 0b1000, Feat: 2, Child: 5},
			{Feat: -1, Child: 1},
			{Feat: -1, Child: 2},
			{Mask: 0b0110, Feat: 0, Child: 7},
			{Feat: -1, Child: 3},
			{Feat: -1, Child: 4},
		}, LeafStart: []int32{0, 1, 2, 3, 4, 5}},
	)
	rng := rand.New(rand.NewPCG(1, 2))
	bins := make([]uint8, len(nbins))
	for ci := range carts {
		c := &carts[ci]
		c.prepareWalk()
		c.preparePairs()
		if len(c.Nodes) > 1 && c.pairs == nil {
			t.Fatalf("tree %d: no pairs built", ci)
		}
		plain := *c
		plain.walk, plain.pairs = nil, nil
		single := *c
		single.pairs = nil
		leaves := map[int32]bool{}
		for range 20000 {
			for k := range bins {
				bins[k] = uint8(rng.IntN(max(nbins[k], 4)))
			}
			want := plain.leaf(bins)
			if got := c.leaf(bins); got != want {
				t.Fatalf("tree %d, bins %v: pairs reach leaf %d, Nodes %d", ci, bins, got, want)
			}
			if got := single.leaf(bins); got != want {
				t.Fatalf("tree %d, bins %v: walk reaches leaf %d, Nodes %d", ci, bins, got, want)
			}
			leaves[want] = true
		}
		if ci >= len(m.Carts) && len(leaves) != len(c.LeafStart)-1 {
			t.Fatalf("hand-made tree %d: reached %d of %d leaves", ci, len(leaves), len(c.LeafStart)-1)
		}
	}
}
