package compliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/table"
)

// JobKey is the object key of job's compliance report in format ext (json
// or html), beside its evaluation report.
func JobKey(tenant, job, ext string) string {
	return datasets.JobPrefix(tenant, job) + "compliance." + ext
}

// ForJob builds the compliance report of job j for regimes (empty: all)
// from its training rows, holdout and output, with the processing record
// the job gives (its settings; for an anonymize job the policy's effect and
// the key version) linked to the job.created audit record in st. The
// pipeline calls it when it evaluates a job; the API, for jobs evaluated
// before that, on the first request.
func ForJob(ctx context.Context, st state.Store, j *jobs.Job, train, holdout, output *table.Table, regimes []string, attacks privacy.AttackOptions) (*Report, error) {
	in := Inputs{Train: train, Holdout: holdout, Output: output, Regimes: regimes, Attacks: attacks}
	in.Attacks.Seed = j.Request.Seed
	settings := map[string]string{"seed": strconv.FormatUint(j.Request.Seed, 10), "rows": strconv.FormatInt(j.Request.Rows, 10)}
	operation := "synthetic data generation"
	if j.Request.Anonymizing() {
		operation = "de-identification of real data (anonymize job)"
		settings["kind"] = jobs.KindAnonymize
		if a := j.Anonymization; a != nil {
			in.Record.KeyInfo = a.KeyVersion
			var ops []string
			for _, act := range a.Actions {
				if act.Op != "keep" {
					ops = append(ops, act.Column+": "+act.Op)
				}
			}
			settings["operators"] = strings.Join(ops, "; ")
			if ka := a.KAnonymity; ka != nil {
				settings["k"], settings["l"] = strconv.Itoa(ka.K), strconv.Itoa(ka.L)
				settings["quasi_identifiers"] = strings.Join(ka.Quasi, ",")
				settings["suppressed_rows"] = strconv.Itoa(ka.SuppressedRows)
				settings["information_loss_gil"] = strconv.FormatFloat(ka.GIL, 'f', 4, 64)
			}
		}
	} else {
		settings["model"] = j.Request.Model
	}
	if j.Request.Model == dp.KindDP {
		delta := j.Request.Delta
		if delta == 0 {
			delta = dp.DefaultDelta
		}
		in.DP = &DPGuarantee{Epsilon: j.Request.Epsilon, Delta: delta,
			Mechanism: "MST-style marginals with Gaussian noise", Accounting: "rho-zCDP converted to (epsilon, delta)"}
		settings["epsilon"] = strconv.FormatFloat(j.Request.Epsilon, 'g', -1, 64)
	}
	in.Record = Processing{Actor: "tenant " + j.Tenant, Tenant: j.Tenant, Job: j.ID, KeyInfo: in.Record.KeyInfo,
		Operation: operation, Dataset: j.Request.Dataset, At: j.CreatedAt, Settings: settings}
	// The job.created audit record names who asked for the job.
	evID := audit.JobCreatedID(j.ID)
	if rec, err := audit.NewLog(st).Get(ctx, evID); err == nil {
		in.Record.Actor = rec.Actor
		in.Record.Audit = &AuditLink{EventID: rec.ID, Action: rec.Action, Seq: rec.Seq}
	} else if errors.Is(err, state.ErrNotFound) {
		in.Record.Notes = append(in.Record.Notes, "the job's audit record "+evID+" is not stored (yet): the actor is unknown")
	} else {
		return nil, fmt.Errorf("compliance.ForJob: audit record %s: %w", evID, err)
	}
	r, err := Build(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("compliance report of job %s: %w", j.ID, err)
	}
	return r, nil
}

// StoreJob writes job's report r as JSON and HTML at JobKey and returns
// the keys by format.
func StoreJob(ctx context.Context, b *blob.Bucket, tenant, job string, r *Report) (map[string]string, error) {
	keys := map[string]string{}
	for _, f := range []struct {
		ext, ctype string
		write      func(io.Writer, *Report) error
	}{{"json", "application/json", WriteJSON}, {"html", "text/html; charset=utf-8", WriteHTML}} {
		key := JobKey(tenant, job, f.ext)
		if err := objects.Put(ctx, b, key, func(w io.Writer) error { return f.write(w, r) },
			&blob.WriterOptions{ContentType: f.ctype}); err != nil {
			return nil, fmt.Errorf("store the compliance report of job %s: %w", job, err)
		}
		keys[f.ext] = key
	}
	return keys, nil
}
