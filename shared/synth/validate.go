package synth

import (
	"fmt"
	"math"
)

// The validate methods check a decoded model's structure, so that a corrupt
// or hostile model file fails Load with ErrFormat instead of panicking while
// sampling.

func bad(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrFormat)...)
}

func (s *Schema) validate() error {
	if len(s.Cols) == 0 {
		return bad("no columns")
	}
	last := -1
	for _, j := range s.Modelled {
		if j <= last || j >= len(s.Cols) || !isModelled(s.Cols[j].Kind) {
			return bad("bad modelled column index %d", j)
		}
		last = j
	}
	for j := range s.Cols {
		c := &s.Cols[j]
		if isModelled(c.Kind) && !c.isNumber() && len(c.Levels) == 0 {
			return bad("column %q has no levels", c.Name)
		}
		if c.Decimals < 0 || c.Decimals > 15 || c.Lo > c.Hi || !(c.Step >= 0) || math.IsInf(c.Step, 0) || !sortedFinite(c.Grid) {
			return bad("column %q has bad precision or bounds", c.Name)
		}
		g := &c.Gen
		if len(g.Words) != len(g.WordCum) || !increasing(g.WordCum) || !increasing(g.LenCum) {
			return bad("column %q has a bad vocabulary", c.Name)
		}
		if len(g.LenCum) > 0 && g.LenCum[len(g.LenCum)-1] <= 0 {
			return bad("column %q has a bad text length table", c.Name)
		}
		if g.ID.Width < 0 || g.ID.Width > 40 || g.ID.Space > 0 && (g.ID.Mul >= g.ID.Space || g.ID.Add >= g.ID.Space) {
			return bad("column %q has a bad key width", c.Name)
		}
	}
	return nil
}

// increasing says whether cumulative weights never decrease.
func increasing(xs []float64) bool {
	for i := range xs {
		if math.IsNaN(xs[i]) || xs[i] < 0 || i > 0 && xs[i] < xs[i-1] {
			return false
		}
	}
	return true
}

func (m *Tree) validate() error {
	s := &m.Schema
	if err := s.validate(); err != nil {
		return err
	}
	nm := len(s.Modelled)
	if len(m.Order) != nm || len(m.Binnings) != nm || len(m.Carts) != nm {
		return bad("tree has %d orders, %d binnings, %d trees for %d columns", len(m.Order), len(m.Binnings), len(m.Carts), nm)
	}
	if m.Smoothing < 0 || math.IsNaN(m.Smoothing) || math.IsInf(m.Smoothing, 0) {
		return bad("bad smoothing")
	}
	seen := make([]bool, nm)
	for _, k := range m.Order {
		if k < 0 || k >= nm || seen[k] {
			return bad("bad visit order")
		}
		seen[k] = true
	}
	for k, j := range s.Modelled {
		c, b := &s.Cols[j], &m.Binnings[k]
		if b.N < 1 || b.N > maxBins {
			return bad("column %q has %d bins", c.Name, b.N)
		}
		if c.isNumber() {
			if b.Off > 1 || int(b.Off)+len(b.Edges)+1 != b.N {
				return bad("column %q has a bad binning", c.Name)
			}
		} else {
			if len(b.LevelBin) != len(c.Levels) {
				return bad("column %q has a bad level binning", c.Name)
			}
			for _, x := range b.LevelBin {
				if int(x) >= b.N {
					return bad("column %q has a bad level binning", c.Name)
				}
			}
		}
		if err := m.Carts[k].validate(c, m.Binnings); err != nil {
			return bad("column %q: %v", c.Name, err)
		}
	}
	if err := m.validateGeo(); err != nil {
		return bad("%v", err)
	}
	if err := m.validateLinks(); err != nil {
		return bad("%v", err)
	}
	return nil
}

func (t *CART) validate(c *Col, bins []Binning) error {
	leaves := len(t.LeafStart) - 1
	if len(t.Nodes) == 0 || leaves < 1 || t.LeafStart[0] != 0 {
		return fmt.Errorf("empty tree")
	}
	for i, n := range t.Nodes {
		switch {
		case n.Feat < 0:
			if n.Child < 0 || int(n.Child) >= leaves {
				return fmt.Errorf("node %d: bad leaf", i)
			}
		case int(n.Feat) >= len(bins) || n.Child <= int32(i) || int(n.Child)+1 >= len(t.Nodes):
			return fmt.Errorf("node %d: bad split", i)
		}
	}
	for l := range leaves {
		if t.LeafStart[l+1] < t.LeafStart[l] {
			return fmt.Errorf("leaf %d: bad bounds", l)
		}
	}
	end := int(t.LeafStart[leaves])
	if !c.isNumber() {
		if end != len(t.Classes) || end != len(t.Cum) {
			return fmt.Errorf("bad class table")
		}
		for l := range leaves {
			lo, hi := t.LeafStart[l], t.LeafStart[l+1]
			if lo == hi {
				return fmt.Errorf("leaf %d: empty", l)
			}
			var prev uint32
			for e := lo; e < hi; e++ {
				if t.Classes[e] < 0 || int(t.Classes[e]) >= len(c.Levels) || t.Cum[e] <= prev {
					return fmt.Errorf("leaf %d: bad class counts", l)
				}
				prev = t.Cum[e]
			}
		}
		return nil
	}
	if end != len(t.Values) || end != len(t.VCum) || len(t.Missing) != leaves {
		return fmt.Errorf("bad value table")
	}
	for l := range leaves {
		lo, hi := t.LeafStart[l], t.LeafStart[l+1]
		if lo == hi && t.Missing[l] == 0 {
			return fmt.Errorf("leaf %d: empty", l)
		}
		var prev uint32
		for e := lo; e < hi; e++ {
			if t.VCum[e] <= prev || math.IsNaN(t.Values[e]) || e > lo && t.Values[e] <= t.Values[e-1] {
				return fmt.Errorf("leaf %d: bad value counts", l)
			}
			prev = t.VCum[e]
		}
		if uint64(prev)+uint64(t.Missing[l]) > math.MaxUint32 {
			return fmt.Errorf("leaf %d: counts overflow", l)
		}
	}
	return nil
}

func (m *Copula) validate() error {
	s := &m.Schema
	if err := s.validate(); err != nil {
		return err
	}
	nm := len(s.Modelled)
	if len(m.Quant) != nm || len(m.MissP) != nm || len(m.LevelOrder) != nm || len(m.Cuts) != nm ||
		len(m.Corr) != nm*nm || len(m.Chol) != nm*nm {
		return bad("copula tables do not match %d columns", nm)
	}
	for k, j := range s.Modelled {
		c := &s.Cols[j]
		if c.isNumber() {
			if m.Quant[k] != nil && len(m.Quant[k]) < 2 || m.MissP[k] < 0 || m.MissP[k] > 1 {
				return bad("column %q: bad marginal", c.Name)
			}
			continue
		}
		if len(m.LevelOrder[k]) != len(c.Levels) || len(m.Cuts[k]) != len(c.Levels)-1 {
			return bad("column %q: bad level order", c.Name)
		}
		seen := make([]bool, len(c.Levels))
		for _, code := range m.LevelOrder[k] {
			if code < 0 || int(code) >= len(seen) || seen[code] {
				return bad("column %q: bad level order", c.Name)
			}
			seen[code] = true
		}
	}
	return nil
}
