package api

import (
	"context"
	"fmt"
	"io"
	"slices"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/compliance"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/table"
)

// ComplianceKey returns the object key of a job's compliance report in
// format ext (json or html). The pipeline builds it when it evaluates the
// job (compliance.ForJob); for a job evaluated before it did, or whose
// build there failed, it is built on the first request, from the job's
// training rows, holdout and output (released or quarantined), for the
// regimes of the tenant's policy, and stored in both formats.
func (s *Service) ComplianceKey(ctx context.Context, p *apikeys.Principal, id, ext string) (string, error) {
	j, err := s.Jobs.Get(ctx, p.Tenant, id)
	if err != nil {
		return "", err
	}
	if j.Request.Design != "" {
		return "", &CodedError{Code: "not_applicable", Kind: ErrConflict, Details: map[string]any{"design_id": j.Request.Design},
			Msg: fmt.Sprintf("job %s sampled the spec %s, not a dataset: it read no real rows, so there is no disclosure to assess", id, j.Request.Design)}
	}
	key := compliance.JobKey(p.Tenant, id, ext)
	if ok, err := objects.Exists(ctx, s.Bucket, key); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	} else if ok {
		return key, nil
	}
	var regimes []string
	if s.Regimes != nil {
		regimes = s.Regimes(j.Tenant)
	}
	ring, err := s.ring(ctx)
	if err != nil {
		return "", err
	}
	r, err := JobCompliance(ctx, s.State, s.Bucket, ring.Reveal(ctx, j.Tenant), j, regimes)
	if err != nil {
		return "", err
	}
	if _, err := compliance.StoreJob(ctx, s.Bucket, p.Tenant, id, r); err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return key, nil
}

// JobCompliance builds the compliance report of job j for regimes (empty:
// all) from its training rows, holdout and output in b (compliance.ForJob).
// The API serves it; the CLI builds it against the local store (synthos
// compliance --job). reveal opens the training and holdout copies of
// tenants who encrypt their data (nil reads plain objects only).
func JobCompliance(ctx context.Context, st state.Store, b *blob.Bucket, reveal datasets.Reveal, j *jobs.Job, regimes []string) (*compliance.Report, error) {
	outKey := j.Outputs["data"]
	if outKey == "" {
		outKey = j.Outputs["quarantine"]
	}
	if outKey == "" || (j.State != jobs.Succeeded && j.State != jobs.Failed) {
		return nil, &CodedError{Code: "not_ready", Kind: ErrNotReady,
			Msg:     fmt.Sprintf("the compliance report of job %s needs its evaluated output (job is %s)", j.ID, j.State),
			Details: map[string]any{"state": string(j.State)}}
	}
	csv := table.Options{Delimiter: ',', MaxCellBytes: -1, MaxColumns: -1}
	// The training and holdout copies are encrypted for tenants who chose
	// it; outputs are stored as written.
	train, err := readObject(ctx, b, datasets.TrainKey(j.Tenant, j.ID), table.CSV, csv, reveal)
	if err != nil {
		return nil, err
	}
	holdout, err := readObject(ctx, b, datasets.HoldoutKey(j.Tenant, j.ID), table.CSV, csv, reveal)
	if err != nil {
		return nil, err
	}
	if len(holdout.Rows) == 0 {
		return nil, &CodedError{Code: "failed_precondition", Kind: ErrConflict,
			Msg: fmt.Sprintf("job %s set no holdout aside (its table is too small): the attacks need one as their control set", j.ID)}
	}
	format, err := table.FormatOf(outKey)
	if err != nil {
		return nil, fmt.Errorf("%w: output %s: %w", ErrUnavailable, outKey, err)
	}
	oopts := csv
	oopts.Unescape = true
	output, err := readObject(ctx, b, outKey, format, oopts, nil)
	if err != nil {
		return nil, err
	}
	r, err := compliance.ForJob(ctx, st, j, train, holdout, output, regimes, privacy.AttackOptions{})
	if err != nil {
		if errs.CodeOf(err) == errs.Unknown {
			return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		return nil, err
	}
	return r, nil
}

// readObject reads a whole stored table.
func readObject(ctx context.Context, b *blob.Bucket, key string, f table.Format, opts table.Options, reveal datasets.Reveal) (*table.Table, error) {
	tr, closeObj, err := datasets.OpenObject(ctx, b, key, f, opts, reveal)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer closeObj()
	t := &table.Table{Columns: slices.Clone(tr.Columns())}
	for {
		row, err := tr.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: read %s: %w", ErrUnavailable, key, err)
		}
		t.Rows = append(t.Rows, slices.Clone(row))
	}
}
