package synth

import (
	"context"

	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// The tree and copula models register as drivers of package model; both
// are saved in this package's format, so either driver loads either file.
func init() {
	for _, kind := range []string{KindTree, KindCopula} {
		model.Register(model.Driver{
			Kind: kind,
			Fit: func(ctx context.Context, t *table.Table, p *profile.Profile, o model.Options) (model.Model, error) {
				return Fit(ctx, t, p, FitOptions{Kind: kind, Seed: o.Seed})
			},
			Magic: magic,
			Save:  Save,
			Load:  Load,
		})
	}
}
