package synth

import (
	"fmt"
	"math"
	"strings"
	"unicode"

	"synthos.dev/synthos/shared/profile"
)

// Marginal is one modelled column's distribution given directly rather than
// learnt from a table (see NewCopula): for a number or datetime column a
// quantile table at evenly spaced probabilities 0..1 (ascending, at least two
// points) and the missing share; for a categorical or boolean column one
// weight per level of Col.Levels.
type Marginal struct {
	Quant   []float64
	MissP   float64
	Weights []float64
}

// NewCopula builds a Gaussian copula from a schema, one marginal per
// modelled column (in Schema.Modelled order) and the correlation of their
// normal scores (row-major, len(Modelled)², unit diagonal). It lets a
// designed spec be sampled by the same engine, at the same speed and with the
// same sharding contract, as a model fitted to data. Levels keep the order of
// Col.Levels on the normal scale, so a correlation with an ordered category
// (a plan tier, a rating) means "higher levels go with higher values".
// The model is validated as a loaded model file would be.
func NewCopula(s Schema, margins []Marginal, corr []float64) (*Copula, error) {
	nm := len(s.Modelled)
	if len(margins) != nm {
		return nil, fmt.Errorf("synth.NewCopula: %d marginals for %d modelled columns: %w", len(margins), nm, ErrInvalid)
	}
	if corr == nil {
		corr = make([]float64, nm*nm)
		for i := range nm {
			corr[i*nm+i] = 1
		}
	}
	if len(corr) != nm*nm {
		return nil, fmt.Errorf("synth.NewCopula: correlation has %d cells, want %d: %w", len(corr), nm*nm, ErrInvalid)
	}
	for i := range nm {
		for j := range nm {
			v := corr[i*nm+j]
			if math.IsNaN(v) || v < -1 || v > 1 || v != corr[j*nm+i] || i == j && v != 1 {
				return nil, fmt.Errorf("synth.NewCopula: correlation is not a symmetric matrix of values in [-1, 1] with a unit diagonal: %w", ErrInvalid)
			}
		}
	}
	m := &Copula{Schema: s, Quant: make([][]float64, nm), MissP: make([]float64, nm),
		LevelOrder: make([][]int32, nm), Cuts: make([][]float64, nm), Corr: corr}
	for k, j := range s.Modelled {
		if j < 0 || j >= len(s.Cols) {
			return nil, fmt.Errorf("synth.NewCopula: modelled index %d: %w", j, ErrInvalid)
		}
		c := &s.Cols[j]
		mg := margins[k]
		if c.isNumber() {
			if !increasing(mg.Quant) || len(mg.Quant) < 2 || !(mg.MissP >= 0 && mg.MissP < 1) {
				return nil, fmt.Errorf("synth.NewCopula: column %q needs an ascending quantile table of 2+ points and a missing share in [0, 1): %w", c.Name, ErrInvalid)
			}
			m.Quant[k], m.MissP[k] = mg.Quant, mg.MissP
			continue
		}
		if len(mg.Weights) != len(c.Levels) || len(c.Levels) == 0 {
			return nil, fmt.Errorf("synth.NewCopula: column %q has %d levels and %d weights: %w", c.Name, len(c.Levels), len(mg.Weights), ErrInvalid)
		}
		var total float64
		for _, w := range mg.Weights {
			if !(w >= 0) || math.IsInf(w, 0) {
				return nil, fmt.Errorf("synth.NewCopula: column %q has a negative or non-finite weight: %w", c.Name, ErrInvalid)
			}
			total += w
		}
		if total <= 0 {
			return nil, fmt.Errorf("synth.NewCopula: column %q has no positive weight: %w", c.Name, ErrInvalid)
		}
		order := make([]int32, len(c.Levels))
		for i := range order {
			order[i] = int32(i)
		}
		m.LevelOrder[k] = order
		m.Cuts[k], _ = levelCuts(order, mg.Weights, total)
	}
	m.Chol = cholesky(corr, nm)
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("synth.NewCopula: %w", err)
	}
	m.prepare()
	return m, nil
}

// Shape turns a readable pattern into a pattern of package pii (the regex
// subset pii.ParsePattern reads): '#' is a random digit, '@' a random
// upper-case letter, and every other character is literal
// ("+49 ### #######", "DE## #### #### ####").
func Shape(pattern string) string {
	var b strings.Builder
	for _, r := range pattern {
		switch {
		case r == '#':
			b.WriteString("[0-9]")
		case r == '@':
			b.WriteString("[A-Z]")
		case r < 0x20 || r == unicode.ReplacementChar:
			// never control bytes
		case strings.ContainsRune(`()|*+{}?^$.[]\`, r):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// IsModelled says whether the models learn (rather than generate) columns of
// kind k: numeric, datetime, categorical and boolean.
func IsModelled(k profile.Kind) bool { return isModelled(k) }
