package synth

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
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

// TestPickMatchesBisection checks the guide-table search against
// countAtMost on every leaf of adult's trees, at every count boundary and
// at random counts, and the bisection fallback too.
func TestPickMatchesBisection(t *testing.T) {
	m := fitAdultKind(t, KindTree).(*Tree)
	rng := rand.New(rand.NewPCG(3, 4))
	for k := range m.Carts {
		c := &m.Carts[k]
		cum := c.Cum
		if cum == nil {
			cum = c.VCum
		}
		plain := *c
		plain.entries = nil
		for li := range c.leaves {
			l := &c.leaves[li]
			if l.n == 0 {
				continue
			}
			lc := cum[l.lo : l.lo+l.n]
			us := []uint32{0, l.total - 1}
			for _, x := range lc {
				us = append(us, x-1, min(x, l.total-1))
			}
			for range 50 {
				us = append(us, uint32(rng.Uint64N(uint64(l.total))))
			}
			for _, u := range us {
				want := countAtMost(lc, u)
				wantCount := lc[want]
				if want > 0 {
					wantCount -= lc[want-1]
				}
				for _, tr := range []*CART{c, &plain} {
					if d, count := tr.pick(cum, l, u); d != want || count != wantCount {
						t.Fatalf("tree %d leaf %d u %d (guide %v): pick %d (count %d), want %d (%d)", k, li, u, tr.entries != nil, d, count, want, wantCount)
					}
				}
			}
		}
	}
}

// TestDrawFallbacks checks that a tree samples the same rows without the
// tables prepareDraw builds for speed (guide tables with their copies of
// the classes and values, formatted cells, value bins' shortcut), as a
// tree too large for them does.
func TestDrawFallbacks(t *testing.T) {
	m := fitAdultKind(t, KindTree).(*Tree)
	sample := func() string {
		var b strings.Builder
		err := m.Sample(context.Background(), 3*BlockRows+17, 0, 1, 9, SampleOptions{}, rowFunc(func(row []string) error {
			b.WriteString(strings.Join(row, ","))
			b.WriteByte('\n')
			return nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	want := sample()
	for k := range m.Carts {
		c := &m.Carts[k]
		c.entries, c.cells, c.cellOff, c.exactVals = nil, "", nil, false
	}
	if got := sample(); got != want {
		t.Fatal("the fallbacks sample other rows")
	}
}
