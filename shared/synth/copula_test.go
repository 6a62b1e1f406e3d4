package synth

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"synthos.dev/synthos/shared/profile"
)

// TestCutIndexMatchesSearch checks that the grid lookup draw uses for level
// columns returns searchCuts' index for every z: normal draws, the cuts
// themselves and their neighbours, the grid's cell edges, values outside
// the grid, infinities and NaN, over cut sets with ties, clamped ends and
// many cuts in one grid cell.
func TestCutIndexMatchesSearch(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	sets := [][]float64{
		{},
		{0},
		{-8, 8},
		{-8, -8, -1, 0, 0, 0.5, 8, 8},
		{-0.01, -0.005, 0, 0.001, 0.002, 0.003, 0.0301, 0.03125, 0.0625},
	}
	for range 20 {
		n := 1 + rng.IntN(60)
		cuts := make([]float64, n)
		for i := range cuts {
			cuts[i] = min(max(rng.NormFloat64()*2, -8), 8)
		}
		slices.Sort(cuts)
		sets = append(sets, cuts)
	}
	for si, cuts := range sets {
		o := copulaOut{cuts: cuts, start: cutStarts(cuts)}
		var zs []float64
		for range 20000 {
			zs = append(zs, rng.NormFloat64()*3)
		}
		for _, c := range cuts {
			zs = append(zs, c, math.Nextafter(c, math.Inf(-1)), math.Nextafter(c, math.Inf(1)))
		}
		for g := range cutGrid + 1 {
			e := -cutRange + float64(g)*(2*cutRange/cutGrid)
			zs = append(zs, e, math.Nextafter(e, math.Inf(-1)), math.Nextafter(e, math.Inf(1)))
		}
		zs = append(zs, -8.5, 8.5, -1e300, 1e300, math.Inf(-1), math.Inf(1), math.NaN(), math.Copysign(0, -1))
		for _, z := range zs {
			if got, want := o.cutIndex(z), searchCuts(cuts, z, false); got != want {
				t.Fatalf("set %d (%v): z=%v: cutIndex %d, searchCuts %d", si, cuts, z, got, want)
			}
		}
	}
}

// TestNumberCellMatchesFormat checks that a number column's preformatted
// cells are exactly what formatting the value gives, for integers and
// decimals, trimmed or not, negative ranges and -0, and that values off
// the table's grid or range are refused rather than misformatted.
func TestNumberCellMatchesFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	cols := []Col{
		{Kind: profile.Numeric, Integer: true, Lo: -50, Hi: 50},
		{Kind: profile.Numeric, Integer: true, Decimals: 2, Lo: -50, Hi: 50},
		{Kind: profile.Numeric, Decimals: 2, Lo: -3, Hi: 7},
		{Kind: profile.Numeric, Decimals: 2, Trim: true, Lo: -3, Hi: 7},
		{Kind: profile.Numeric, Decimals: 1, Lo: 0, Hi: 100},
		{Kind: profile.Numeric, Decimals: 3, Lo: 0, Hi: 1e6}, // too many values: no table
	}
	for ci := range cols {
		c := &cols[ci]
		tab := make([]float64, 65)
		for g := range tab {
			tab[g] = c.Lo + (c.Hi-c.Lo)*float64(g)/float64(len(tab)-1)
		}
		var o copulaOut
		o.cell, o.cellLo, o.scale = numberCells(c, tab, time.UTC)
		if ci == len(cols)-1 {
			if o.cell != nil {
				t.Fatalf("col %d: %d cells, want none", ci, len(o.cell))
			}
			continue
		}
		vs := []float64{c.Lo, c.Hi, 0, math.Copysign(0, -1), c.round(-0.001), c.Lo - 1, c.Hi + 1, 0.1 + 0.2, 1e300, math.Inf(1)}
		for range 20000 {
			vs = append(vs, c.round(c.Lo+(c.Hi-c.Lo)*rng.Float64()))
		}
		hits := 0
		for _, v := range vs {
			want := string(c.appendNumber(nil, v, time.UTC))
			got, ok := o.numberCell(v)
			if ok && got != want {
				t.Fatalf("col %d: v=%v: cell %q, want %q", ci, v, got, want)
			}
			if ok {
				hits++
			}
		}
		if hits < 19000 { // -0 and the out-of-range values are refused
			t.Fatalf("col %d: only %d of %d in-range values had a cell", ci, hits, len(vs))
		}
	}
}

// TestWholeCellsExact checks that where wholeCells names one value for an
// interval of an integer column's table, interpolating anywhere in that
// interval and rounding as draw does gives that value bit for bit (-0
// included), over tables with plateaus, steps, ends near .5 and negative
// values, and that plateaus away from .5 do get a value.
func TestWholeCellsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, bounds := range [][2]float64{{-20, 20}, {0, 30}, {0.3, 30}, {math.Copysign(0, -1), 30}, {-5, 5}} {
		c := &Col{Kind: profile.Numeric, Integer: true, Lo: bounds[0], Hi: bounds[1]}
		tab := make([]float64, 2049)
		x := bounds[0] - 3
		for g := range tab {
			switch rng.IntN(4) {
			case 0: // plateau
			case 1:
				x = math.Round(x) + 0.5 + (rng.Float64()-0.5)*1e-12 // near a rounding boundary
			default:
				x += rng.Float64() * 0.05
			}
			tab[g] = x
		}
		whole, vals := wholeCells(c, tab, time.UTC)
		for _, v := range vals {
			if want := string(c.appendNumber(nil, v.val, time.UTC)); v.cell != want {
				t.Fatalf("bounds %v: value %v has cell %q, want %q", bounds, v.val, v.cell, want)
			}
		}
		named := 0
		for i, w := range whole {
			if w < 0 {
				continue
			}
			named++
			for _, f := range []float64{0, 1, math.Nextafter(1, 0), math.Nextafter(0, 1), rng.Float64(), rng.Float64()} {
				v := math.Round(min(max(tab[i]+f*(tab[i+1]-tab[i]), c.Lo), c.Hi))
				if want := vals[w].val; math.Float64bits(v) != math.Float64bits(want) {
					t.Fatalf("bounds %v interval %d [%v, %v] f=%v: rounds to %v, whole names %v", bounds, i, tab[i], tab[i+1], f, v, want)
				}
			}
		}
		if named < len(whole)/4 {
			t.Fatalf("bounds %v: only %d of %d intervals named a value", bounds, named, len(whole))
		}
	}
}

// TestIntFmtMatchesFormat checks that where prepareOut lets draw format an
// integer column with strconv.AppendInt, that is what the column's own
// formatting writes, -0, huge values and every decimals setting included.
func TestIntFmtMatchesFormat(t *testing.T) {
	vs := []float64{0, math.Copysign(0, -1), 1, -1, 17, 1484705, -99999, 1e15, -1e18}
	formatted := 0
	for _, dec := range []int{-1, 0, 2, 20} {
		for _, trim := range []bool{false, true} {
			c := Col{Name: "x", Kind: profile.Numeric, Integer: true, Decimals: dec, Trim: trim, Lo: -1e300, Hi: 1e300}
			m := &Copula{Schema: Schema{Cols: []Col{c}, Modelled: []int{0}}, Quant: [][]float64{{-5, 5}}, MissP: []float64{0},
				LevelOrder: make([][]int32, 1), Cuts: make([][]float64, 1), Corr: []float64{1}, Chol: []float64{1}}
			m.prepare()
			if !m.out[0].intFmt {
				continue
			}
			formatted++
			for _, v := range vs {
				if got, want := string(strconv.AppendInt(nil, int64(v), 10)), string(c.appendNumber(nil, v, time.UTC)); got != want {
					t.Fatalf("decimals %d trim %v: v=%v: AppendInt %q, column writes %q", dec, trim, v, got, want)
				}
			}
		}
	}
	if formatted != 6 { // decimals -1 and 0 always, 2 and 20 when trimmed
		t.Fatalf("%d settings took AppendInt, want 6", formatted)
	}
}

// TestCopulaDrawNormals checks that the normals draw takes from the block's
// source, through its inlined ziggurat, are bit for bit normal's (which
// TestNormalMatchesRand ties to rand.Rand.NormFloat64), over enough rows to
// reach the ziggurat's rare paths.
func TestCopulaDrawNormals(t *testing.T) {
	m := fitAdultKind(t, KindCopula).(*Copula)
	d, err := m.newDrawer(nil)
	if err != nil {
		t.Fatal(err)
	}
	src, ref := rand.NewPCG(11, 12), rand.NewPCG(11, 12)
	d.startBlock(src)
	rng := rand.New(src)
	row := make([]string, len(m.Schema.Cols))
	a := &arena{}
	for r := range 100_000 {
		if !d.draw(rng, a, row) {
			t.Fatalf("row %d rejected without fixed columns", r)
		}
		for p, e := range d.eps {
			if want := normal(ref); math.Float64bits(e) != math.Float64bits(want) {
				t.Fatalf("row %d normal %d: %v, want %v", r, p, e, want)
			}
		}
	}
}
