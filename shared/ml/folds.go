package ml

import (
	"fmt"
	"math/rand/v2"
)

// StratifiedFolds assigns each row a fold in 0..k-1 so that every class
// (labels[i] ≥ 0) is spread as evenly as possible across folds, in a random
// order drawn from seed.
func StratifiedFolds(labels []int, k int, seed uint64) ([]int, error) {
	if k < 2 || len(labels) < k {
		return nil, fmt.Errorf("ml.StratifiedFolds: %d rows into %d folds: %w", len(labels), k, ErrInput)
	}
	byClass := map[int][]int{}
	classes := []int{}
	for i, l := range labels {
		if l < 0 {
			return nil, fmt.Errorf("ml.StratifiedFolds: negative label at row %d: %w", i, ErrInput)
		}
		if _, ok := byClass[l]; !ok {
			classes = append(classes, l)
		}
		byClass[l] = append(byClass[l], i)
	}
	rng := rand.New(rand.NewPCG(seed, 0x666f6c64))
	folds := make([]int, len(labels))
	next := 0 // continue the round-robin across classes so fold sizes stay even
	for _, c := range classes {
		rows := byClass[c]
		rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
		for _, r := range rows {
			folds[r] = next
			next = (next + 1) % k
		}
	}
	return folds, nil
}

// Subset returns the rows of x for which keep is true, in order.
func (x *Matrix) Subset(keep func(row int) bool) *Matrix {
	var idx []int
	for i := range x.Rows {
		if keep(i) {
			idx = append(idx, i)
		}
	}
	out := &Matrix{Rows: len(idx), Features: x.Features, Codes: make([][]uint8, len(x.Codes))}
	for f, codes := range x.Codes {
		c := make([]uint8, len(idx))
		for i, r := range idx {
			c[i] = codes[r]
		}
		out.Codes[f] = c
	}
	return out
}
