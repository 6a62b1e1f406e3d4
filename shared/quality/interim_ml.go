package quality

import (
	"context"
	"fmt"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

func discriminate(ctx context.Context, real, synth *table.Table, p *profile.Profile, opts Options) (*Discriminator, error) {
	return nil, fmt.Errorf("discriminator: %w", ErrInput)
}

func efficacy(ctx context.Context, real, synth, holdout *table.Table, p *profile.Profile, opts Options) (*Efficacy, error) {
	return nil, fmt.Errorf("efficacy: %w", ErrInput)
}
