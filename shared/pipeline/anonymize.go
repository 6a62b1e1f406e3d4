package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// KeyStore returns the store of tenants' anonymisation keyrings over env:
// rotated keyrings sealed in its state, else the secrets adapter's.
func (p *Pipeline) keyStore() *anonymize.KeyStore {
	return &anonymize.KeyStore{State: p.env.State, Ring: p.env.Keyring, Secrets: p.env.Secrets}
}

// anonymizeStep is the first step of an anonymize job: it splits the
// dataset like a synthetic job (the same seed sets the same holdout aside,
// so the two jobs' reports compare the same rows), profiles the training
// part and streams it through the anonymiser (package anonymize) into the
// job's output, then hands the job to the evaluation like a sampled one.
// There is no model: the job goes profiling → sampling → evaluating.
//
// Redelivered, it does it again: the split is seeded and the operators are
// keyed, so the output is the same unless the tenant rotated its keys in
// between, and the result recorded is the one of the output written.
func (p *Pipeline) anonymizeStep(ctx context.Context, m *events.Message, j *jobs.Job) error {
	format, ext, err := outputFormat(j.Request)
	if err != nil {
		return err
	}
	if j.Request.Rows <= 0 || j.QuotaReservation == nil {
		return errs.Public(errs.FailedPrecondition, "job %s was not admitted (no reservation of its %d rows); create jobs through the API", j.ID, j.Request.Rows)
	}
	if j.State == jobs.Queued {
		if j, err = p.advance(ctx, actorGenerate, m.ID, j.ID, jobs.Profiling, nil); err != nil {
			return err
		}
	}
	// Every row is anonymised: no sample.
	train, _, err := p.splitDataset(ctx, j, true) // every row: never sampled, never stream-profiled
	if err != nil {
		return err
	}
	prof, err := profile.Infer(train, profile.Options{})
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	var pol anonymize.Policy
	if j.Request.Policy != nil {
		pol = *j.Request.Policy
	}
	var cols []table.Column
	for _, c := range pol.Kept(train.Columns) {
		cols = append(cols, table.Column{Name: c})
	}
	train = nil // the rows stream from the stored copy from here on
	p.crash("profiled")

	keys, _, err := p.keyStore().Load(ctx, j.Tenant)
	noKeys := errors.Is(err, anonymize.ErrNoKeyring)
	if err != nil && !noKeys {
		return fmt.Errorf("anonymisation keys of %s: %w", j.Tenant, err)
	}
	if j, err = p.advance(ctx, actorGenerate, m.ID, j.ID, jobs.Sampling, nil); err != nil {
		return err
	}
	if j.State != jobs.Sampling {
		return nil // another delivery is further along
	}

	ring, err := p.ring(ctx)
	if err != nil {
		return err
	}
	csv := table.Options{Delimiter: ',', MaxCellBytes: -1, MaxColumns: -1}
	open := func() (table.Reader, io.Closer, error) {
		r, closeObj, err := datasets.OpenObject(ctx, p.env.Objects, datasets.TrainKey(j.Tenant, j.ID), table.CSV, csv, ring.Reveal(ctx, j.Tenant))
		if notFound(err) {
			return nil, nil, permanent("job %s: the training table is missing: %w", j.ID, err)
		}
		if err != nil {
			return nil, nil, err
		}
		return r, closerFunc(closeObj), nil
	}
	start := time.Now()
	var res *anonymize.Result
	err = objects.Put(ctx, p.env.Objects, datasets.OutputKey(j.Tenant, j.ID, ext), func(w io.Writer) error {
		tw, err := table.NewWriter(w, format, cols)
		if err != nil {
			return err
		}
		res, err = anonymize.Run(ctx, open, tw, prof, pol, keys)
		return err
	}, &blob.WriterOptions{ContentType: contentType(format)})
	if errors.Is(err, anonymize.ErrInput) {
		msg := strings.TrimSuffix(err.Error(), ": "+anonymize.ErrInput.Error())
		msg = strings.TrimPrefix(msg, "anonymize.Run: ")
		if noKeys && strings.Contains(msg, "needs a keyring") {
			msg += " (the tenant has no anonymisation keyring: an admin creates one with POST /v1/anonymize/keys/rotate)"
		}
		return errs.Public(errs.InvalidArgument, "the anonymisation policy cannot be applied: %s", msg)
	}
	if err != nil {
		return fmt.Errorf("anonymize: %w", err)
	}
	metrics.Default().Sample(ctx, jobs.KindAnonymize, time.Since(start))
	metrics.Default().Rows(ctx, jobs.KindAnonymize, int64(res.Rows))
	p.crash("anonymized")
	cur, err := p.advance(ctx, actorGenerate, m.ID, j.ID, jobs.Evaluating, func(j *jobs.Job) {
		j.Anonymization, j.Request.Rows = res, int64(res.Rows)
	})
	if err != nil {
		return err
	}
	if cur.State != jobs.Evaluating {
		return nil
	}
	return p.publishEvaluate(ctx, cur)
}

type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }
