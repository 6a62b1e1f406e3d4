// Package engine is the one entry point to every synthesis model: the
// non-private ones of package synth (tree, copula) and the differentially
// private one of package dp. Callers (the CLI, the generate function) fit,
// save and load through it without knowing which package a kind lives in.
package engine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"

	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// KindDP is the differentially private model (MST-style, zCDP).
const KindDP = "dp"

// Kinds lists the model kinds, the default first.
func Kinds() []string { return []string{synth.KindTree, synth.KindCopula, KindDP} }

// ErrKind reports an unknown model kind.
var ErrKind = errs.New(errs.InvalidArgument, "engine: unknown model kind")

// Options select and steer a model.
type Options struct {
	Kind string // tree (default), copula or dp
	Seed uint64
	// Epsilon and Delta are the dp model's (ε, δ) target; Rho, when set,
	// is a budget already reserved in the ledger and wins over them.
	Epsilon, Delta, Rho float64
}

// DefaultDelta is δ when a dp job does not name one.
const DefaultDelta = 1e-9

// Fit fits the model kind o.Kind to t.
func Fit(ctx context.Context, t *table.Table, p *profile.Profile, o Options) (synth.Model, error) {
	switch o.Kind {
	case "", synth.KindTree, synth.KindCopula:
		return synth.Fit(ctx, t, p, synth.FitOptions{Kind: o.Kind, Seed: o.Seed})
	case KindDP:
		if o.Rho <= 0 && o.Epsilon <= 0 {
			return nil, fmt.Errorf("%w: the dp model needs a privacy budget: set epsilon (e.g. 1)", synth.ErrInvalid)
		}
		delta := o.Delta
		if delta == 0 {
			delta = DefaultDelta
		}
		opts := dp.Options{Epsilon: o.Epsilon, Delta: delta}
		if o.Rho > 0 {
			// A reserved budget wins: the fit spends exactly what the
			// ledger holds (δ still states the guarantee's conversion).
			opts.Epsilon, opts.Rho = 0, o.Rho
		}
		m, err := dp.Fit(ctx, t, p, opts)
		if err != nil {
			return nil, err
		}
		return m, nil
	default:
		return nil, fmt.Errorf("%w %q: use %v", ErrKind, o.Kind, Kinds())
	}
}

// Save writes any model in its package's versioned format.
func Save(w io.Writer, m synth.Model) error {
	if d, ok := m.(*dp.Model); ok {
		return dp.Save(w, d)
	}
	return synth.Save(w, m)
}

// dpMagic is the start of a dp model file (see dp.Save).
var dpMagic = []byte("SYNTHOS-DP-MODEL\n")

// Load reads a model written by Save, whatever its kind.
func Load(r io.Reader) (synth.Model, error) {
	br := bufio.NewReader(r)
	head, err := br.Peek(len(dpMagic))
	if err == nil && bytes.Equal(head, dpMagic) {
		m, err := dp.Load(br)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return synth.Load(br)
}
