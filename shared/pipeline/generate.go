package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"synthos.dev/synthos/shared/fanout"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/sample"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
	"synthos.dev/synthos/shared/topics"
)

const actorGenerate = "generate"

// Generate handles one generate-requests message: the job's first step
// (Task.Shard == -1) or one shard of a fanned-out sample. A message that is
// not a task, or names a job that does not exist (or not the task's
// tenant's), is returned as an error so that it is retried and finally
// dead-lettered.
func (p *Pipeline) Generate(ctx context.Context, m *events.Message) error {
	t, j, err := p.task(ctx, m)
	if err != nil {
		return fmt.Errorf("pipeline.Generate: %w", err)
	}
	if t.Shard < 0 {
		err = p.hold(ctx, actorGenerate, m.ID, j.ID, "generate", func(ctx context.Context) error { return p.firstStep(ctx, m, j) })
	} else {
		err = p.hold(ctx, actorGenerate, m.ID, j.ID, fmt.Sprintf("shard %d", t.Shard), func(ctx context.Context) error { return p.shardStep(ctx, m, t, j) })
	}
	return p.settle(ctx, actorGenerate, m, j, err)
}

// task decodes a pipeline message and loads its job.
func (p *Pipeline) task(ctx context.Context, m *events.Message) (jobs.Task, *jobs.Job, error) {
	t, err := jobs.DecodeTask(m.Data)
	if err != nil {
		return t, nil, fmt.Errorf("message %s: %w", m.ID, err)
	}
	j, err := p.jobs.Load(ctx, t.JobID)
	if err != nil {
		return t, nil, fmt.Errorf("message %s: %w", m.ID, err)
	}
	if j.Tenant != t.Tenant {
		return t, nil, fmt.Errorf("message %s: %w: %s is not tenant %s's", m.ID, jobs.ErrNotFound, t.JobID, t.Tenant)
	}
	return t, j, nil
}

// firstStep loads, splits, profiles, fits and then samples the job or fans
// it out. Redelivered, it redoes what is not recorded as done: every object
// it writes is a deterministic function of the job, and the model is
// written once.
func (p *Pipeline) firstStep(ctx context.Context, m *events.Message, j *jobs.Job) error {
	if err := p.stopIfCancelled(ctx, actorGenerate, m.ID, j); err != nil {
		return err
	}
	switch j.State {
	case jobs.Evaluating:
		// Done, but the privacy task may have been lost with a crash
		// between the transition and its publication; it is idempotent.
		return p.publishEvaluate(ctx, j)
	case jobs.Sampling:
		if j.Shards > 1 {
			return p.fanOut(ctx, j)
		}
	}
	if j.Request.Anonymizing() {
		return p.anonymizeStep(ctx, m, j)
	}
	format, ext, err := outputFormat(j.Request)
	if err != nil {
		return err
	}
	if j.Request.Rows <= 0 || j.QuotaReservation == nil {
		// Every job is admitted (package admission) with its rows resolved.
		return errs.Public(errs.FailedPrecondition, "job %s was not admitted (no reservation of %d rows); create jobs through the API or an upload", j.ID, j.Request.Rows)
	}
	if j.Request.Design != "" {
		return p.designStep(ctx, m, j)
	}
	if j, err = p.advance(ctx, actorGenerate, m.ID, j.ID, jobs.Profiling, nil); err != nil {
		return err
	}

	// A DP fit measures every row: its guarantee does not cover a
	// subsample (package sample).
	train, prof, err := p.splitDataset(ctx, j, j.Request.Model == dp.KindDP)
	if err != nil {
		return err
	}
	rows := j.Request.Rows
	if prof == nil {
		if prof, err = profile.Infer(train, profile.Options{}); err != nil {
			return fmt.Errorf("profile: %w", err)
		}
	}
	if j.Request.Labels {
		if err := p.labelColumns(ctx, j, train, prof); err != nil {
			return err
		}
	}
	// The request is checked against the data with the rows it will have.
	req := j.Request
	req.Rows = rows
	opts, err := sampleOptions(req, train, prof)
	if err != nil {
		return err
	}

	p.crash("profiled")
	if j, err = p.advance(ctx, actorGenerate, m.ID, j.ID, jobs.Fitting, nil); err != nil {
		return err
	}
	model, err := p.model(ctx, j, train, prof)
	if err != nil {
		return err
	}
	p.crash("fitted")

	plan, err := fanout.Choose(fanout.Job{Rows: rows, Columns: len(model.Columns()), Format: format, MaxShardRows: p.opts.ShardRows}, fanout.Generate)
	if err != nil {
		return permanent("job %s: %w", j.ID, err)
	}
	shards := plan.Shards
	if j, err = p.advance(ctx, actorGenerate, m.ID, j.ID, jobs.Sampling, func(j *jobs.Job) {
		j.Request.Rows, j.Shards, j.ShardDone, j.ShardWindow = rows, max(shards, 1), nil, p.opts.ShardWindow
	}); err != nil {
		return err
	}
	if j.State != jobs.Sampling {
		// Another delivery is further along; it finishes the job.
		return nil
	}
	if j.Shards > 1 {
		return p.fanOut(ctx, j)
	}

	out := datasets.OutputKey(j.Tenant, j.ID, ext)
	ok, err := objects.Exists(ctx, p.env.Objects, out)
	if err != nil {
		return err
	}
	if !ok {
		if err := p.sample(ctx, model, j, 0, opts, format, out, false); err != nil {
			return err
		}
	}
	return p.finishSampling(ctx, m.ID, j)
}

// splitDataset reads the job's dataset once, sets the holdout aside
// (seeded by the job, so a synthetic and an anonymize job with one seed
// split a dataset alike) and stores both parts (TrainKey, HoldoutKey) for
// the evaluation; it returns the training part. A dataset larger than the
// sample budget is fitted on a seeded, stratified sample drawn in the same
// pass (package sample), and only the sample and the holdout are stored;
// all (anonymisation, DP fits) keeps every row. The job records how many
// rows the model sees (RowsSeen of RowsTotal). A sampled dataset is also
// profiled in that pass, over every row in bounded memory (profile.Stream),
// and its profile returned; for a dataset used whole the profile is nil and
// the caller profiles the training rows exactly (profile.Infer).
func (p *Pipeline) splitDataset(ctx context.Context, j *jobs.Job, all bool) (*table.Table, *profile.Profile, error) {
	ds, err := p.datasets.Get(ctx, j.Tenant, j.Request.Dataset)
	if err != nil {
		return nil, nil, err
	}
	if ds.Status != "" && ds.Status != "ready" {
		return nil, nil, permanent("dataset %s is %s, not ready", ds.ID, ds.Status)
	}
	dsFormat, err := datasetFormat(ds)
	if err != nil {
		return nil, nil, err
	}
	ring, err := p.ring(ctx)
	if err != nil {
		return nil, nil, err
	}
	budget := p.opts.SampleBudget
	if all || budget < 0 {
		budget = sample.All
	}
	drawn, err := drawTable(ctx, p.env.Objects, ds.Key, dsFormat, table.Options{MaxRows: p.opts.MaxInputRows}, ring.Reveal(ctx, j.Tenant), sample.Options{
		Budget: budget, Seed: j.Request.Seed, HoldoutShare: p.opts.HoldoutShare, HoldoutMax: p.opts.HoldoutMax,
		Split: func(t *table.Table) (*table.Table, *table.Table) {
			return split(t, j.Request.Seed, p.opts.HoldoutShare, p.opts.HoldoutMax)
		},
		Profile: &profile.Options{Seed: j.Request.Seed},
	})
	if notFound(err) {
		return nil, nil, permanent("dataset %s: the object is missing: %w", ds.ID, err)
	}
	if errors.Is(err, sample.ErrEmpty) {
		return nil, nil, errs.Public(errs.InvalidArgument, "dataset %s has no rows", ds.ID)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("dataset %s: %w", ds.ID, err)
	}
	train, holdout := drawn.Train, drawn.Holdout
	if err := writeCSV(ctx, p.env.Objects, datasets.TrainKey(j.Tenant, j.ID), train, ring, j.Tenant); err != nil {
		return nil, nil, err
	}
	if err := writeCSV(ctx, p.env.Objects, datasets.HoldoutKey(j.Tenant, j.ID), holdout, ring, j.Tenant); err != nil {
		return nil, nil, err
	}
	seen, total := drawn.Seen(), drawn.Total
	if _, _, err := p.jobs.Update(ctx, j.ID, "", func(j *jobs.Job) error {
		j.RowsSeen, j.RowsTotal = seen, total
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("record rows seen: %w", err)
	}
	j.RowsSeen, j.RowsTotal = seen, total
	return train, drawn.Profile, nil
}

// fanOut publishes the first window of shards (see window): at most
// ShardWindow shards of a job sample at once, each publishing the next of
// its class when done. Republishing after a crash is harmless: shards are
// idempotent.
func (p *Pipeline) fanOut(ctx context.Context, j *jobs.Job) error {
	for _, i := range window(j) {
		if err := p.publishShard(ctx, j, i); err != nil {
			return err
		}
	}
	return nil
}

// shardStep samples shard t.Shard into its part, records it, and, when it
// completes the set, composes the output.
func (p *Pipeline) shardStep(ctx context.Context, m *events.Message, t jobs.Task, j *jobs.Job) error {
	if err := p.stopIfCancelled(ctx, actorGenerate, m.ID, j); err != nil {
		return err
	}
	switch {
	case j.State == jobs.Evaluating:
		return p.publishEvaluate(ctx, j)
	case j.State != jobs.Sampling:
		return fmt.Errorf("%w: shard %d of %s, which is %s", jobs.ErrTransition, t.Shard, j.ID, j.State)
	case t.Shard >= j.Shards:
		return fmt.Errorf("%w: shard %d of %s, which has %d", jobs.ErrTransition, t.Shard, j.ID, j.Shards)
	}
	if !slices.Contains(j.ShardDone, t.Shard) {
		format, _, err := outputFormat(j.Request)
		if err != nil {
			return err
		}
		model, opts, err := p.shardModel(ctx, j)
		if err != nil {
			return err
		}
		if err := p.sample(ctx, model, j, t.Shard, opts, format, datasets.PartKey(j.Tenant, j.ID, t.Shard), true); err != nil {
			return err
		}
		p.crash(fmt.Sprintf("shard-%d", t.Shard))
	}
	cur, _, err := p.jobs.Update(ctx, j.ID, m.ID, func(j *jobs.Job) error {
		if j.State != jobs.Sampling {
			return fmt.Errorf("%w: %s is %s", jobs.ErrTransition, j.ID, j.State)
		}
		if !slices.Contains(j.ShardDone, t.Shard) {
			j.ShardDone = append(j.ShardDone, t.Shard)
			slices.Sort(j.ShardDone)
			j.Attempts = 0 // progress (see advance)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, jobs.ErrTransition) && cur != nil && cur.State == jobs.Evaluating {
			return p.publishEvaluate(ctx, cur)
		}
		return err
	}
	if err := p.stopIfCancelled(ctx, actorGenerate, m.ID, cur); err != nil {
		return err
	}
	if next := t.Shard + max(cur.ShardWindow, 1); next < cur.Shards {
		// The next shard of this one's class (see window); published again
		// on a redelivery, which is harmless.
		if err := p.publishShard(ctx, cur, next); err != nil {
			return err
		}
	}
	if len(cur.ShardDone) < cur.Shards {
		return nil
	}
	if err := p.compose(ctx, cur); err != nil {
		return err
	}
	return p.finishSampling(ctx, m.ID, cur)
}

// shardModel loads the stored model and rebuilds the sample options; the
// rules need the training table and its profile.
func (p *Pipeline) shardModel(ctx context.Context, j *jobs.Job) (synth.Model, synth.SampleOptions, error) {
	ring, err := p.ring(ctx)
	if err != nil {
		return nil, synth.SampleOptions{}, err
	}
	model, err := loadModel(ctx, p.env.Objects, datasets.ModelKey(j.Tenant, j.ID), ring.Reveal(ctx, j.Tenant))
	if notFound(err) {
		return nil, synth.SampleOptions{}, permanent("job %s: the model artifact is missing: %w", j.ID, err)
	}
	if err != nil {
		return nil, synth.SampleOptions{}, err
	}
	if !jobspec.HasRules(j.Request) {
		opts, err := sampleOptions(j.Request, nil, nil)
		return model, opts, err
	}
	train, err := readCSV(ctx, p.env.Objects, datasets.TrainKey(j.Tenant, j.ID), ring.Reveal(ctx, j.Tenant))
	if notFound(err) {
		return nil, synth.SampleOptions{}, permanent("job %s: the training table is missing: %w", j.ID, err)
	}
	if err != nil {
		return nil, synth.SampleOptions{}, err
	}
	prof, err := profile.Infer(train, profile.Options{})
	if err != nil {
		return nil, synth.SampleOptions{}, fmt.Errorf("profile: %w", err)
	}
	opts, err := sampleOptions(j.Request, train, prof)
	return model, opts, err
}

// sample writes shard `shard` of the job's sample to key, atomically. A
// part (part is true) of a CSV job leaves out the header unless it is the
// first, and a part of a Parquet job is JSON Lines (see convertParts), so
// that parts concatenate into the output.
func (p *Pipeline) sample(ctx context.Context, m synth.Model, j *jobs.Job, shard int, opts synth.SampleOptions, format table.Format, key string, part bool) error {
	if part && format == table.Parquet {
		format = table.JSONL
	}
	var skip int64
	if part && shard > 0 && (format == table.CSV || format == table.TSV) {
		hdr, err := header(format, m.Columns())
		if err != nil {
			return err
		}
		skip = int64(len(hdr))
	}
	start := time.Now()
	var rows *countingWriter
	err := objects.Put(ctx, p.env.Objects, key, func(w io.Writer) error {
		tw, err := table.NewWriter(&skipWriter{w: w, skip: skip}, format, m.Columns())
		if err != nil {
			return err
		}
		rows = &countingWriter{RowWriter: tw}
		if err := synth.SampleParallel(ctx, m, j.Request.Rows, shard, j.Shards, j.Request.Seed, opts, rows, 0); err != nil {
			_ = tw.Abort()
			return err
		}
		return tw.Close()
	}, &blob.WriterOptions{ContentType: contentType(format)})
	if err != nil {
		return fmt.Errorf("sample shard %d of %d: %w", shard, j.Shards, err)
	}
	// Counted once the shard's object is written; a redelivered shard
	// that samples again counts again (it did the work again).
	metrics.Default().Sample(ctx, j.Request.Model, time.Since(start))
	metrics.Default().Rows(ctx, j.Request.Model, rows.n)
	return nil
}

// header returns the bytes a table writer of format emits before the first
// row.
func header(format table.Format, cols []table.Column) ([]byte, error) {
	var buf bytes.Buffer
	tw, err := table.NewWriter(&buf, format, cols)
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// countingWriter counts the rows a model writes (metrics).
type countingWriter struct {
	synth.RowWriter
	n int64
}

func (c *countingWriter) Write(row []string) error {
	if err := c.RowWriter.Write(row); err != nil {
		return err
	}
	c.n++
	return nil
}

// RowEncoder and WriteEncoded pass the table writer's encoding through
// (table.Encoding), so a parallel sample keeps formatting rows on its
// workers instead of on its one ordered writer goroutine.
func (c *countingWriter) RowEncoder() table.RowEncoder {
	if e, ok := c.RowWriter.(table.Encoding); ok {
		return e.RowEncoder()
	}
	return nil
}

func (c *countingWriter) WriteEncoded(b []byte, rows int) error {
	e, ok := c.RowWriter.(table.Encoding)
	if !ok {
		return errors.New("pipeline: the output writer cannot take encoded rows")
	}
	if err := e.WriteEncoded(b, rows); err != nil {
		return err
	}
	c.n += int64(rows)
	return nil
}

// skipWriter drops the first skip bytes written through it.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(b []byte) (int, error) {
	n := len(b)
	if s.skip > 0 {
		d := min(int64(len(b)), s.skip)
		s.skip -= d
		b = b[d:]
	}
	if len(b) == 0 {
		return n, nil
	}
	if _, err := s.w.Write(b); err != nil {
		return 0, err
	}
	return n, nil
}

// compose builds the output from the parts, unless a delivery already did:
// the output is written atomically, so if it exists it is whole.
func (p *Pipeline) compose(ctx context.Context, j *jobs.Job) error {
	format, ext, err := outputFormat(j.Request)
	if err != nil {
		return err
	}
	dst := datasets.OutputKey(j.Tenant, j.ID, ext)
	ok, err := objects.Exists(ctx, p.env.Objects, dst)
	if err != nil || ok {
		return err
	}
	parts := make([]string, j.Shards)
	for i := range parts {
		parts[i] = datasets.PartKey(j.Tenant, j.ID, i)
	}
	// Server-side compose concatenates stored bytes: sealed parts (see
	// keyring.Outputs) must be joined as plaintext through the bucket.
	sealed, err := p.sealsOutputs(ctx, j.Tenant)
	if err != nil {
		return err
	}
	switch {
	case format == table.Parquet:
		ring, err := p.ring(ctx)
		if err != nil {
			return err
		}
		model, err := loadModel(ctx, p.env.Objects, datasets.ModelKey(j.Tenant, j.ID), ring.Reveal(ctx, j.Tenant))
		if err != nil {
			return err
		}
		err = convertParts(ctx, p.env.Objects, dst, parts, format, model.Columns(), contentType(format))
	case p.opts.Composer != nil && !sealed:
		scratch := func(level, i int) string {
			return fmt.Sprintf("%s.compose-%d", datasets.PartKey(j.Tenant, j.ID, i), level)
		}
		err = p.opts.Composer.Compose(ctx, dst, parts, scratch, contentType(format))
	default:
		err = streamCompose(ctx, p.env.Objects, dst, parts, contentType(format))
	}
	if notFound(err) {
		// Parts are deleted only after the job left sampling: a duplicate
		// delivery that composed the output first and moved the job on may
		// have removed them under this one, which then has nothing to do.
		// Otherwise the job's objects were removed under it.
		cur, lerr := p.jobs.Load(ctx, j.ID)
		if lerr != nil {
			return fmt.Errorf("compose job %s: %w (while checking its state: %w)", j.ID, err, lerr)
		}
		if cur.State != jobs.Sampling {
			return fmt.Errorf("%w: %s is %s: another delivery composed its output", jobs.ErrTransition, j.ID, cur.State)
		}
		return permanent("job %s: a shard's part is missing: %w", j.ID, err)
	}
	return err
}

// finishSampling moves the job to evaluating, hands it to privacy and
// removes the shard parts.
func (p *Pipeline) finishSampling(ctx context.Context, msgID string, j *jobs.Job) error {
	cur, err := p.advance(ctx, actorGenerate, msgID, j.ID, jobs.Evaluating, nil)
	if err != nil {
		return err
	}
	if cur.State != jobs.Evaluating {
		return nil
	}
	if err := p.publishEvaluate(ctx, cur); err != nil {
		return err
	}
	if cur.Shards > 1 {
		for i := range cur.Shards {
			key := datasets.PartKey(cur.Tenant, cur.ID, i)
			if err := p.env.Objects.Delete(ctx, key); err != nil && !notFound(err) {
				p.logger().WarnContext(ctx, "delete shard part", "key", key, "error", err)
			}
		}
	}
	return nil
}

// publishEvaluate sends the job to the privacy function.
func (p *Pipeline) publishEvaluate(ctx context.Context, j *jobs.Job) error {
	return jobs.Publish(ctx, p.env.Events, topics.PrivacyChecks, jobs.Task{JobID: j.ID, Tenant: j.Tenant, Shard: -1})
}
