package dp

import (
	"context"
	"fmt"
	"io"

	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// The dp model registers as a driver of package model.
func init() {
	model.Register(model.Driver{
		Kind:    KindDP,
		Fit:     fitDriver,
		Magic:   magic,
		Private: true,
		Save: func(w io.Writer, m model.Model) error {
			d, ok := m.(*Model)
			if !ok {
				return fmt.Errorf("dp.Save: model kind %q: %w", m.Kind(), ErrInvalid)
			}
			return Save(w, d)
		},
		Load: func(r io.Reader) (model.Model, error) {
			m, err := Load(r)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return m, nil
		},
	})
}

// fitDriver maps the model-neutral options: a dp fit needs a budget, and a
// budget already reserved in the ledger (Rho) wins over (ε, δ).
func fitDriver(ctx context.Context, t *table.Table, p *profile.Profile, o model.Options) (model.Model, error) {
	if o.Rho <= 0 && o.Epsilon <= 0 {
		return nil, fmt.Errorf("%w: the dp model needs a privacy budget: set epsilon (e.g. 1)", ErrInvalid)
	}
	opts := Options{Epsilon: o.Epsilon, Delta: o.Delta}
	if o.Rho > 0 {
		// The fit spends exactly what the ledger holds (δ still states the
		// guarantee's conversion).
		opts.Epsilon, opts.Rho = 0, o.Rho
	}
	m, err := Fit(ctx, t, p, opts)
	if err != nil {
		return nil, err
	}
	return m, nil
}
