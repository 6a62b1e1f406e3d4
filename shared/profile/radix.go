package profile

import (
	"math"
	"slices"
)

// radixMin is the shortest batch sortFloats radix-sorts: below it
// slices.Sort's insertion sort costs less than the byte counts.
const radixMin = 256

// sortFloats sorts xs ascending, as slices.Sort does, with an LSD radix
// sort of the values' bits: a batch of numbers for a digest is sorted in
// a few linear passes instead of n·log n comparisons, and passes over a
// byte all values share (the zero low mantissa bytes of integral numbers,
// the exponent of numbers of one magnitude) are skipped. keys is scratch
// space, returned grown for the next call.
//
// The order is slices.Sort's for every value but NaN (batches holding one
// are left to slices.Sort) and zero, -0 going before +0: equal values as
// far as the digest's callers are concerned.
func sortFloats(xs []float64, keys []uint64) []uint64 {
	n := len(xs)
	if n < radixMin {
		slices.Sort(xs)
		return keys
	}
	keys = slices.Grow(keys[:0], 2*n)[:2*n]
	a, b := keys[:n], keys[n:]
	and, or := ^uint64(0), uint64(0)
	for i, x := range xs {
		if x != x {
			slices.Sort(xs)
			return keys
		}
		k := math.Float64bits(x)
		// Flipped so the bits order as the numbers do: negative numbers
		// reversed below the positive ones.
		if k>>63 != 0 {
			k = ^k
		} else {
			k |= 1 << 63
		}
		a[i] = k
		and, or = and&k, or|k
	}
	varying := and ^ or
	for shift := uint(0); shift < 64; shift += 8 {
		if byte(varying>>shift) == 0 {
			continue // every key has this byte
		}
		var c [256]int
		for _, k := range a {
			c[byte(k>>shift)]++
		}
		at := 0
		for v := range c {
			at, c[v] = at+c[v], at
		}
		for _, k := range a {
			v := byte(k >> shift)
			b[c[v]] = k
			c[v]++
		}
		a, b = b, a
	}
	for i, k := range a {
		if k>>63 != 0 {
			k &^= 1 << 63
		} else {
			k = ^k
		}
		xs[i] = math.Float64frombits(k)
	}
	return keys
}
