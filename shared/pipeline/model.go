package pipeline

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/rules"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// dpMagic starts a serialized DP model (dp.Save); synth.Save writes its own.
var dpMagic = []byte("SYNTHOS-DP-MODEL\n")

// fit fits the model the job asks for.
func fit(ctx context.Context, req jobs.Request, t *table.Table, p *profile.Profile) (synth.Model, error) {
	switch req.Model {
	case "", synth.KindTree, synth.KindCopula:
		m, err := synth.Fit(ctx, t, p, synth.FitOptions{Kind: req.Model, Seed: req.Seed})
		if err != nil {
			return nil, err
		}
		return m, nil
	case dp.KindDP:
		if req.Epsilon <= 0 {
			return nil, permanent("model dp needs a positive epsilon, got %v", req.Epsilon)
		}
		m, err := dp.Fit(ctx, t, p, dp.Options{Epsilon: req.Epsilon, Delta: req.Delta})
		if err != nil {
			return nil, err
		}
		return m, nil
	default:
		return nil, permanent("unknown model %q: use tree, copula or dp", req.Model)
	}
}

// saveModel writes m in its kind's format.
func saveModel(w io.Writer, m synth.Model) error {
	if d, ok := m.(*dp.Model); ok {
		return dp.Save(w, d)
	}
	return synth.Save(w, m)
}

// loadModel reads the model stored at key, whatever its kind.
func loadModel(ctx context.Context, b *blob.Bucket, key string) (synth.Model, error) {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", key, err)
	}
	defer r.Close()
	br := bufio.NewReader(r)
	head, err := br.Peek(len(dpMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read model %s: %w", key, err)
	}
	if bytes.Equal(head, dpMagic) {
		m, err := dp.Load(br)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", key, err)
		}
		return m, nil
	}
	m, err := synth.Load(br)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", key, err)
	}
	return m, nil
}

// model returns the job's model: the stored one if a delivery already
// persisted it, else a fresh fit written with an if-not-exists
// precondition. Whichever delivery wins that race, every delivery and every
// shard samples the one stored model, so a retry never refits (nor, for the
// DP model, spends privacy budget twice).
func (p *Pipeline) model(ctx context.Context, j *jobs.Job, t *table.Table, prof *profile.Profile) (synth.Model, error) {
	key := datasets.ModelKey(j.Tenant, j.ID)
	m, err := loadModel(ctx, p.env.Objects, key)
	if err == nil || !notFound(err) {
		return m, err
	}
	if m, err = fit(ctx, j.Request, t, prof); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	err = objects.Put(ctx, p.env.Objects, key, func(w io.Writer) error { return saveModel(w, m) },
		&blob.WriterOptions{ContentType: "application/octet-stream", IfNotExist: true})
	switch code := gcerrors.Code(err); {
	case err == nil:
		return m, nil
	case code == gcerrors.FailedPrecondition || code == gcerrors.AlreadyExists:
		return loadModel(ctx, p.env.Objects, key)
	default:
		return nil, fmt.Errorf("store model: %w", err)
	}
}

// sampleOptions compiles the job's rules and conditions against the
// training table and profile.
func sampleOptions(req jobs.Request, t *table.Table, prof *profile.Profile) (synth.SampleOptions, error) {
	opts := synth.SampleOptions{}
	if len(req.Conditions) > 0 {
		opts.Fixed = req.Conditions
	}
	if !hasRules(req) {
		return opts, nil
	}
	f, err := rules.Parse(req.Rules)
	if err != nil {
		return opts, err
	}
	set, err := rules.Compile(f, t, prof)
	if err != nil {
		return opts, fmt.Errorf("rules: %w", err)
	}
	if err := set.Conditions(opts.Fixed); err != nil {
		return opts, fmt.Errorf("rules with conditions: %w", err)
	}
	opts.Accept = set.Accept
	return opts, nil
}

// hasRules reports whether the job carries business rules.
func hasRules(req jobs.Request) bool {
	r := bytes.TrimSpace(req.Rules)
	return len(r) > 0 && !bytes.Equal(r, []byte("null"))
}
