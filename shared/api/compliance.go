package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/compliance"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/table"
)

// ComplianceKey returns the object key of a job's compliance report in
// format ext (json or html). The report is built on the first request, from
// the job's training rows, holdout and output (released or quarantined), for
// the regimes of the tenant's policy, and stored in both formats; later
// requests read it.
func (s *Service) ComplianceKey(ctx context.Context, p *apikeys.Principal, id, ext string) (string, error) {
	j, err := s.Jobs.Get(ctx, p.Tenant, id)
	if err != nil {
		return "", err
	}
	if j.Request.Design != "" {
		return "", &CodedError{Code: "not_applicable", Kind: ErrConflict, Details: map[string]any{"design_id": j.Request.Design},
			Msg: fmt.Sprintf("job %s sampled the spec %s, not a dataset: it read no real rows, so there is no disclosure to assess", id, j.Request.Design)}
	}
	key := complianceKey(p.Tenant, id, ext)
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
	for _, f := range []struct {
		ext, ctype string
		write      func(io.Writer, *compliance.Report) error
	}{{"json", "application/json", compliance.WriteJSON}, {"html", "text/html; charset=utf-8", compliance.WriteHTML}} {
		if err := objects.Put(ctx, s.Bucket, complianceKey(p.Tenant, id, f.ext), func(w io.Writer) error { return f.write(w, r) },
			&blob.WriterOptions{ContentType: f.ctype}); err != nil {
			return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
	}
	return key, nil
}

func complianceKey(tenant, job, ext string) string {
	return datasets.JobPrefix(tenant, job) + "compliance." + ext
}

// JobCompliance builds the compliance report of job j for regimes (empty:
// all) from its training rows, holdout and output in b, linked to the
// job.created audit record in st. The API serves it; the CLI builds it
// against the local store (synthos compliance --job). reveal opens the
// training and holdout copies of tenants who encrypt their data (nil reads
// plain objects only).
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
	in := compliance.Inputs{Train: train, Holdout: holdout, Output: output, Regimes: regimes,
		Attacks: privacy.AttackOptions{Seed: j.Request.Seed}}
	model := j.Request.Model
	settings := map[string]string{"model": model, "seed": strconv.FormatUint(j.Request.Seed, 10), "rows": strconv.FormatInt(j.Request.Rows, 10)}
	if model == dp.KindDP {
		delta := j.Request.Delta
		if delta == 0 {
			delta = dp.DefaultDelta
		}
		in.DP = &compliance.DPGuarantee{Epsilon: j.Request.Epsilon, Delta: delta,
			Mechanism: "MST-style marginals with Gaussian noise", Accounting: "rho-zCDP converted to (epsilon, delta)"}
		settings["epsilon"] = strconv.FormatFloat(j.Request.Epsilon, 'g', -1, 64)
	}
	in.Record = compliance.Processing{Actor: "tenant " + j.Tenant, Tenant: j.Tenant, Job: j.ID,
		Operation: "synthetic data generation", Dataset: j.Request.Dataset, At: j.CreatedAt, Settings: settings}
	// The job.created audit record names who asked for the job.
	evID := audit.JobCreatedID(j.ID)
	if rec, err := audit.NewLog(st).Get(ctx, evID); err == nil {
		in.Record.Actor = rec.Actor
		in.Record.Audit = &compliance.AuditLink{EventID: rec.ID, Action: rec.Action, Seq: rec.Seq}
	} else if errors.Is(err, state.ErrNotFound) {
		in.Record.Notes = append(in.Record.Notes, "the job's audit record "+evID+" is not stored (yet): the actor is unknown")
	} else {
		return nil, fmt.Errorf("%w: audit record %s: %w", ErrUnavailable, evID, err)
	}
	r, err := compliance.Build(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("compliance report of job %s: %w", j.ID, err)
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
