package pipeline

import (
	"context"
	"fmt"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/modeleval"
	"synthos.dev/synthos/shared/modeleval/modeltest"
	"synthos.dev/synthos/shared/models"
	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/table"
)

// modelTest scores the job's output with the custom model pinned to it
// (Request.ModelID, checked at admission): the model on the real holdout
// vs the synthetic rows, feature drift, prediction distributions and, with
// the training rows, TSTR vs TRTR (shared/modeleval). The report is stored
// beside the job's evaluation report (JSON and HTML) and its keys added to
// outputs; the returned link goes into the evaluation report.
//
// A test that cannot run for a reason no retry fixes (the model was
// deleted since admission, its features do not bind, too few rows) is
// reported in the link's Error and does not fail the job: the output is
// judged by the release gate, the model test informs. Other failures
// (storage) are returned, so the step is retried.
func (p *Pipeline) modelTest(ctx context.Context, j *jobs.Job, train, holdout, syn *table.Table, ext string, outputs map[string]string) (*report.ModelTestLink, error) {
	base := "/v1/jobs/" + j.ID + "/model-test"
	link := &report.ModelTestLink{Model: j.Request.ModelID, Version: j.Request.ModelVersion}
	store := models.New(p.env.State, p.env.Objects)
	store.Keys = p.env.Keyring
	rec, m, err := store.Load(ctx, j.Tenant, j.Request.ModelID)
	if rec != nil {
		link.Name, link.Version = rec.Name, rec.Version
	}
	if err != nil {
		if userFacing(err) {
			link.Error = errs.Message(err)
			return link, nil
		}
		return nil, fmt.Errorf("model test: %w", err)
	}
	if holdout == nil {
		link.Error = "the job has no holdout rows to score the model on (the dataset is too small to set any aside)"
		return link, nil
	}
	target := modeltest.Target(rec.Target, j.Request.Target)
	rep, err := modeleval.Run(ctx, modeleval.Inputs{
		Model: m, ModelName: rec.Name, Target: target, Categories: j.Request.ModelCategories, Seed: j.Request.Seed,
		Holdout: holdout, Synthetic: syn, Train: train,
		HoldoutName: "holdout.csv", SyntheticName: "output." + ext,
	})
	if err != nil {
		if userFacing(err) {
			link.Error = errs.Message(err)
			return link, nil
		}
		return nil, fmt.Errorf("model test: %w", err)
	}
	jsonKey := datasets.ModelTestKey(j.Tenant, j.ID, "json")
	htmlKey := datasets.ModelTestKey(j.Tenant, j.ID, "html")
	if err := modeltest.Store(ctx, p.env.Objects, jsonKey, htmlKey, rep); err != nil {
		return nil, err
	}
	outputs[jobs.OutputModelTestJSON], outputs[jobs.OutputModelTestHTML] = jsonKey, htmlKey
	link.Faithful, link.Level, link.Title = rep.Verdict.Faithful, rep.Verdict.Level, rep.Verdict.Title
	link.JSON, link.HTML = base, base+"?format=html"
	return link, nil
}

// userFacing reports whether err is about the model or the data (a state
// no retry changes) rather than a failure of the platform.
func userFacing(err error) bool {
	switch errs.CodeOf(err) {
	case errs.NotFound, errs.InvalidArgument, errs.FailedPrecondition, errs.Unimplemented:
		return true
	}
	return false
}
