package ml

import (
	"cmp"
	"fmt"
	"slices"
)

// AUC is the area under the ROC curve of scores for the binary labels, by
// ranks (the Mann–Whitney U statistic): the probability that a random
// positive scores above a random negative, ties counting one half. It fails
// with ErrUndefined unless both classes occur.
func AUC(scores []float64, positive []bool) (float64, error) {
	if len(scores) != len(positive) {
		return 0, fmt.Errorf("ml.AUC: %d scores, %d labels: %w", len(scores), len(positive), ErrInput)
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	var rankSum float64
	var nPos int
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && scores[idx[j]] == scores[idx[i]] {
			j++
		}
		mid := float64(i+j+1) / 2 // mean of 1-based ranks i+1..j
		for _, k := range idx[i:j] {
			if positive[k] {
				rankSum += mid
				nPos++
			}
		}
		i = j
	}
	nNeg := len(scores) - nPos
	if nPos == 0 || nNeg == 0 {
		return 0, fmt.Errorf("ml.AUC: %d positives, %d negatives: %w", nPos, nNeg, ErrUndefined)
	}
	u := rankSum - float64(nPos)*float64(nPos+1)/2
	return u / (float64(nPos) * float64(nNeg)), nil
}

// MacroF1 is the unweighted mean over classes 0..classes-1 of each class's
// F1 score. A class that is neither present nor predicted is left out, as
// scikit-learn does with labels drawn from the data.
func MacroF1(pred, truth []int, classes int) (float64, error) {
	if len(pred) != len(truth) || len(pred) == 0 || classes < 1 {
		return 0, fmt.Errorf("ml.MacroF1: %d predictions, %d labels, %d classes: %w", len(pred), len(truth), classes, ErrInput)
	}
	tp := make([]int, classes)
	np := make([]int, classes) // predicted
	nt := make([]int, classes) // true
	for i := range pred {
		p, t := pred[i], truth[i]
		if p < 0 || p >= classes || t < 0 || t >= classes {
			return 0, fmt.Errorf("ml.MacroF1: class out of range at row %d: %w", i, ErrInput)
		}
		np[p]++
		nt[t]++
		if p == t {
			tp[p]++
		}
	}
	sum, n := 0.0, 0
	for c := range classes {
		if np[c]+nt[c] == 0 {
			continue
		}
		sum += 2 * float64(tp[c]) / float64(np[c]+nt[c])
		n++
	}
	return sum / float64(n), nil
}

// R2 is the coefficient of determination of pred against truth:
// 1 − Σ(y−ŷ)² / Σ(y−ȳ)². It fails with ErrUndefined for a constant truth.
func R2(pred, truth []float64) (float64, error) {
	if len(pred) != len(truth) || len(pred) == 0 {
		return 0, fmt.Errorf("ml.R2: %d predictions, %d values: %w", len(pred), len(truth), ErrInput)
	}
	mean := 0.0
	for _, y := range truth {
		mean += y
	}
	mean /= float64(len(truth))
	var ssRes, ssTot float64
	for i, y := range truth {
		ssRes += (y - pred[i]) * (y - pred[i])
		ssTot += (y - mean) * (y - mean)
	}
	if ssTot == 0 {
		return 0, fmt.Errorf("ml.R2: constant truth: %w", ErrUndefined)
	}
	return 1 - ssRes/ssTot, nil
}
