package pipeline

import (
	"context"
	"fmt"
	"io"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/compliance"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

const actorPrivacy = "privacy"

// Output names in Job.Outputs (their home is package jobs).
const (
	OutputData       = jobs.OutputData
	OutputReportJSON = jobs.OutputReportJSON
	OutputReportHTML = jobs.OutputReportHTML
	OutputModel      = jobs.OutputModel
	OutputQuarantine = jobs.OutputQuarantine
)

// The compliance report's outputs (package compliance).
const (
	OutputComplianceJSON = jobs.OutputComplianceJSON
	OutputComplianceHTML = jobs.OutputComplianceHTML
)

// Evaluate handles one privacy-checks message: it evaluates the job's output
// against its training and holdout rows, stores the report (JSON and HTML)
// and applies the release gate: a pass succeeds the job; a failure moves the
// output to quarantine and fails the job with the gate's reasons.
func (p *Pipeline) Evaluate(ctx context.Context, m *events.Message) error {
	_, j, err := p.task(ctx, m)
	if err != nil {
		return fmt.Errorf("pipeline.Evaluate: %w", err)
	}
	err = p.hold(ctx, actorPrivacy, m.ID, j.ID, "evaluate", func(ctx context.Context) error { return p.evaluate(ctx, m, j) })
	return p.settle(ctx, actorPrivacy, m, j, err)
}

func (p *Pipeline) evaluate(ctx context.Context, m *events.Message, j *jobs.Job) error {
	if err := p.stopIfCancelled(ctx, actorPrivacy, m.ID, j); err != nil {
		return err
	}
	if j.State != jobs.Evaluating {
		return fmt.Errorf("%w: %s is %s, not evaluating", jobs.ErrTransition, j.ID, j.State)
	}
	if j.Request.Design != "" {
		return p.evaluateDesign(ctx, m, j)
	}
	format, ext, err := outputFormat(j.Request)
	if err != nil {
		return err
	}
	th, err := jobspec.Thresholds(j.Request)
	if err != nil {
		return err
	}
	out := datasets.OutputKey(j.Tenant, j.ID, ext)
	quarantine := datasets.QuarantineKey(j.Tenant, j.ID, ext)
	// A delivery that died between quarantining the output and recording
	// the verdict leaves the output in quarantine: evaluate it there.
	src := out
	if ok, err := objects.Exists(ctx, p.env.Objects, out); err != nil {
		return err
	} else if !ok {
		if ok, err := objects.Exists(ctx, p.env.Objects, quarantine); err != nil {
			return err
		} else if !ok {
			return permanent("job %s: the output %s is missing", j.ID, out)
		}
		src = quarantine
	}

	ring, err := p.ring(ctx)
	if err != nil {
		return err
	}
	train, err := readCSV(ctx, p.env.Objects, datasets.TrainKey(j.Tenant, j.ID), ring.Reveal(ctx, j.Tenant))
	if err != nil {
		return p.missingIsPermanent(j, "training table", err)
	}
	holdout, err := readCSV(ctx, p.env.Objects, datasets.HoldoutKey(j.Tenant, j.ID), ring.Reveal(ctx, j.Tenant))
	if err != nil {
		return p.missingIsPermanent(j, "holdout table", err)
	}
	// A dataset larger than the sample budget was fitted on a sample
	// (splitDataset): the report says on how many of its rows.
	var sampling *report.Sampling
	if j.RowsTotal > 0 && j.RowsSeen+int64(len(holdout.Rows)) < j.RowsTotal {
		sampling = &report.Sampling{RowsSeen: j.RowsSeen, RowsTotal: j.RowsTotal}
	}
	if len(holdout.Rows) == 0 {
		holdout = nil
	}
	syn, err := readOutput(ctx, p.env.Objects, src, format, p.opts.EvalRows)
	if err != nil {
		return p.missingIsPermanent(j, "output", err)
	}
	model := j.Request.Model
	switch {
	case j.Request.Anonymizing():
		model = jobs.KindAnonymize // the report's "generator": the anonymiser
	case model == "":
		model = synth.KindTree
	}
	// The report names what the user knows (their dataset's file name and
	// the job), not the pipeline's object names (train.csv, output.csv).
	dsName := j.Request.Dataset
	if ds, err := datasets.New(p.env.State).Get(ctx, j.Tenant, j.Request.Dataset); err == nil && ds.Name != "" {
		dsName = ds.Name
	}
	names := reportNames(dsName, j.ID, ext)
	rep, err := report.Build(ctx, report.Inputs{
		Train: train, Holdout: holdout, Synthetic: syn,
		Target: j.Request.Target, Conditions: j.Request.Conditions, Seed: j.Request.Seed, Thresholds: th,
		TrainName: names.train, HoldoutName: names.holdout, SyntheticName: names.synthetic, Model: model,
		Quality: p.opts.Quality, Privacy: p.opts.Privacy, Sampling: sampling,
	})
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	outputs := map[string]string{}
	if j.Request.ModelID != "" {
		if rep.ModelTest, err = p.modelTest(ctx, j, train, holdout, syn, ext, outputs); err != nil {
			return err
		}
	}
	if j.Request.Narrative {
		if err := p.narrate(ctx, j, rep, train.Columns); err != nil {
			return err
		}
	}
	jsonKey := datasets.ReportKey(j.Tenant, j.ID, "json")
	htmlKey := datasets.ReportKey(j.Tenant, j.ID, "html")
	if err := objects.Put(ctx, p.env.Objects, jsonKey, func(w io.Writer) error { return report.WriteJSON(w, rep) },
		&blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return err
	}
	if err := objects.Put(ctx, p.env.Objects, htmlKey, func(w io.Writer) error { return report.WriteHTML(w, rep) },
		&blob.WriterOptions{ContentType: "text/html; charset=utf-8"}); err != nil {
		return err
	}
	p.crash("evaluated")
	outputs[OutputReportJSON] = jsonKey
	outputs[OutputReportHTML] = htmlKey
	if !j.Request.Anonymizing() {
		outputs[OutputModel] = datasets.ModelKey(j.Tenant, j.ID)
	}
	for name, key := range p.complianceReport(ctx, j, train, holdout, syn) {
		outputs[name] = key
	}
	if j.Request.Labels {
		if ok, err := objects.Exists(ctx, p.env.Objects, labelsKey(j)); err != nil {
			return err
		} else if ok {
			outputs[jobs.OutputLabels] = labelsKey(j)
		}
	}

	if rep.Gate != nil && rep.Gate.Pass {
		outputs[OutputData] = out
		locs, err := p.deliver(ctx, j, outputs)
		if err != nil {
			return err
		}
		_, err = p.advance(ctx, actorPrivacy, m.ID, j.ID, jobs.Succeeded, func(j *jobs.Job) { j.Outputs, j.Locations = outputs, locs })
		p.crash("succeeded") // finished, not settled yet
		return err
	}

	if src == out {
		if err := p.env.Objects.Copy(ctx, quarantine, out, nil); err != nil {
			return fmt.Errorf("quarantine %s: %w", out, err)
		}
		if err := p.env.Objects.Delete(ctx, out); err != nil && !notFound(err) {
			return fmt.Errorf("quarantine %s: delete: %w", out, err)
		}
	}
	outputs[OutputQuarantine] = quarantine
	var reasons []string
	if rep.Gate != nil {
		for _, r := range rep.Gate.Failures() {
			reasons = append(reasons, r.Message)
		}
	}
	return p.fail(ctx, actorPrivacy, m.ID, j, errs.FailedPrecondition, "release gate failed: the output is quarantined", reasons, outputs)
}

// readOutput reads the first limit rows of a job's output as the cells the
// model wrote: CSV outputs are formula-escaped for spreadsheets ("'=x"),
// which the reader undoes, so that they compare with the real values.
func readOutput(ctx context.Context, b *blob.Bucket, key string, format table.Format, limit int) (*table.Table, error) {
	return readTable(ctx, b, key, format, table.Options{MaxCellBytes: -1, MaxColumns: -1, Unescape: true}, limit, nil)
}

// missingIsPermanent classifies a failed read of one of the job's own
// objects: missing means it was removed under the job.
func (p *Pipeline) missingIsPermanent(j *jobs.Job, what string, err error) error {
	if notFound(err) {
		return permanent("job %s: the %s is missing: %w", j.ID, what, err)
	}
	return err
}

// reportTables are the names a report gives its three tables.
type reportTables struct{ train, holdout, synthetic string }

// reportNames names a job's tables after the user's dataset and the job:
// the report's title is the synthetic table's name.
func reportNames(dataset, jobID, ext string) reportTables {
	return reportTables{
		train:     dataset + " (training rows)",
		holdout:   dataset + " (holdout rows)",
		synthetic: fmt.Sprintf("job %s: synthetic %s (%s)", jobID, dataset, ext),
	}
}

// complianceReport builds the job's compliance report (package
// compliance: the GDPR attacks, HIPAA Safe Harbor, CCPA) from the tables the
// evaluation read, for the tenant's regimes, and stores it (JSON and HTML)
// beside the evaluation report; it returns the outputs to record. It is
// built once here rather than on the first GET because the evaluation
// already holds the training rows, the holdout and the output, and the
// attacks cost about what the privacy evaluation does. A failure does not
// fail the job (the evidence is not the release gate): it is logged, and
// GET /v1/jobs/{id}/compliance builds the report on request and reports
// the failure to the caller.
func (p *Pipeline) complianceReport(ctx context.Context, j *jobs.Job, train, holdout, syn *table.Table) map[string]string {
	if holdout == nil || len(holdout.Rows) == 0 {
		return nil // the attacks need a control set; the API says so on request
	}
	var regimes []string
	if p.env.Config != nil {
		regimes = p.env.Config.Regimes(j.Tenant)
	}
	r, err := compliance.ForJob(ctx, p.env.State, j, train, holdout, syn, regimes, p.opts.Attacks)
	if err == nil {
		var keys map[string]string
		if keys, err = compliance.StoreJob(ctx, p.env.Objects, j.Tenant, j.ID, r); err == nil {
			return map[string]string{OutputComplianceJSON: keys["json"], OutputComplianceHTML: keys["html"]}
		}
	}
	p.logger().WarnContext(ctx, "compliance report not built with the evaluation; the API builds it on request", "job", j.ID, "error", err)
	return nil
}
