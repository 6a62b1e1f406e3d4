package synth

import (
	"math"
	"testing"
)

func TestLattice(t *testing.T) {
	for _, tc := range []struct {
		name    string
		integer bool
		dec     int
		vals    []float64
		want    float64
	}{
		{"quarter hPa", false, 2, []float64{1013.25, 1013.5, 1014, 1009.75}, 0.25},
		{"5 ppm", true, 0, []float64{400, 405, 420, 1000}, 5},
		{"negative tenths in steps of 0.5", false, 1, []float64{-2.5, 0, 1.5, 3}, 0.5},
		{"whole numbers", true, 0, []float64{1, 2, 3}, 0},
		{"two values", true, 0, []float64{10, 20, 20}, 0},
		{"cents", false, 2, []float64{1.23, 4.5, 7}, 0},
		{"off the written unit", false, 1, []float64{0.25, 0.5, 1}, 0},
	} {
		c := &Col{Integer: tc.integer, Decimals: tc.dec}
		if got := c.lattice(tc.vals); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("%s: lattice %v, want %v", tc.name, got, tc.want)
		}
	}
	c := &Col{Decimals: 2, Step: 0.25, Lo: 1000.1, Hi: 1010}
	for v, want := range map[float64]float64{1003.1: 1003, 1003.13: 1003.25, 1000: 1000.25, 1010.2: 1010} {
		if got := c.onLattice(v); got != want {
			t.Errorf("onLattice(%v) = %v, want %v", v, got, want)
		}
	}
}

func TestValueGrid(t *testing.T) {
	// A 12-bit converter's volts written with four decimals: about ten
	// written units apart, each held by many rows; one value held once.
	var volts []float64
	for i := range 4000 {
		code := 3000 + i%100
		volts = append(volts, math.Round(float64(code)*3.3*1.2/4095*1e4)/1e4)
	}
	volts = append(volts, 2.2222)
	c := &Col{Decimals: 4, Lo: 2.2222, Hi: 3.6}
	g := c.valueGrid(volts)
	if len(g) != 100 {
		t.Fatalf("converter grid has %d values, want the 100 held more than once", len(g))
	}
	c.Grid = g
	if v := c.onGrid(2.2222); v != g[0] {
		t.Errorf("a value held once maps to %v, want the nearest held twice, %v", v, g[0])
	}
	if v := c.onGrid(g[5] + 0.0001); v != g[5] {
		t.Errorf("onGrid moved %v to %v, want %v", g[5]+0.0001, v, g[5])
	}
	// Every tenth used in the body and a sparse tail of spikes: no grid.
	var pm []float64
	for i := range 4000 {
		pm = append(pm, float64(i%150)/10)
	}
	pm = append(pm, 80.3, 95.1, 120.7, 150.2)
	if g := (&Col{Decimals: 1, Lo: 0, Hi: 150.2}).valueGrid(pm); g != nil {
		t.Errorf("a column using every tenth got a grid of %d values", len(g))
	}
	// Few rows per distinct value: no grid.
	if g := (&Col{Decimals: 4, Lo: 2.2222, Hi: 3.6}).valueGrid(volts[:1000]); g != nil {
		t.Errorf("a grid of %d values from 1,000 rows", len(g))
	}
}
