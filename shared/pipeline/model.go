package pipeline

import (
	"context"
	"fmt"
	"io"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// fitOptions are the model options of the job's model. A dp job fits
// with the rho reserved in the privacy budget ledger, never more.
func fitOptions(j *jobs.Job) (model.Options, error) {
	o := model.Options{Kind: j.Request.Model, Seed: j.Request.Seed, Epsilon: j.Request.Epsilon, Delta: j.Request.Delta}
	if o.Kind == dp.KindDP {
		if j.DPReservation == "" || !(j.DPRho > 0) {
			return o, permanent("job %s: the dp model has no privacy budget reservation", j.ID)
		}
		// The reserved rho is the whole budget: dp.Fit takes one of
		// epsilon and rho, and the rho already accounts for the request's
		// (epsilon, delta). Delta stays, for the model's own report.
		o.Rho, o.Epsilon = j.DPRho, 0
	}
	return o, nil
}

// loadModel reads the model stored at key, whatever its kind, decrypting
// it (reveal) if the tenant's models are encrypted at rest.
func loadModel(ctx context.Context, b *blob.Bucket, key string, reveal datasets.Reveal) (synth.Model, error) {
	br, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, fmt.Errorf("read model %s: %w", key, err)
	}
	defer br.Close()
	var r io.Reader = br
	if reveal != nil {
		if r, err = reveal(br); err != nil {
			return nil, fmt.Errorf("read model %s: %w", key, err)
		}
	}
	m, err := model.Load(r)
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
	ring, err := p.ring(ctx)
	if err != nil {
		return nil, err
	}
	reveal := ring.Reveal(ctx, j.Tenant)
	m, err := loadModel(ctx, p.env.Objects, key, reveal)
	if err == nil || !notFound(err) {
		return m, err
	}
	o, err := fitOptions(j)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if m, err = model.Fit(ctx, t, prof, o); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	metrics.Default().Fit(ctx, j.Request.Model, time.Since(start))
	err = objects.Put(ctx, p.env.Objects, key, func(ow io.Writer) error {
		w, err := ring.ObjectWriter(ctx, j.Tenant, ow)
		if err != nil {
			return err
		}
		if err := model.Save(w, m); err != nil {
			return err
		}
		return w.Close()
	},
		&blob.WriterOptions{ContentType: "application/octet-stream", IfNotExist: true})
	switch code := gcerrors.Code(err); {
	case err == nil:
		return m, nil
	case code == gcerrors.FailedPrecondition || code == gcerrors.AlreadyExists:
		return loadModel(ctx, p.env.Objects, key, reveal)
	default:
		return nil, fmt.Errorf("store model: %w", err)
	}
}

// sampleOptions checks the job's request against the training table and
// its profile and compiles its rules (jobspec.Prepare); without a profile
// (a shard of a job without rules) it only carries the conditions.
func sampleOptions(req jobs.Request, t *table.Table, prof *profile.Profile) (synth.SampleOptions, error) {
	opts := synth.SampleOptions{}
	if len(req.Conditions) > 0 {
		opts.Fixed = req.Conditions
	}
	if prof == nil {
		return opts, nil
	}
	set, err := jobspec.Prepare(req, prof, t)
	if err != nil {
		return opts, err
	}
	if set != nil {
		opts.Accept = set.Accept
	}
	return opts, nil
}
