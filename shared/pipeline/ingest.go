package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/table"
)

// UploadsPrefix is where uploads that become jobs land:
// uploads/<tenant>/<file name>.
const UploadsPrefix = "uploads/"

// Upload metadata keys (custom object metadata, x-goog-meta-<key> when
// uploading) that set the job's options.
const (
	MetaRows       = "rows"       // rows to generate; default: as many as the upload has
	MetaModel      = "model"      // tree (default), copula or dp
	MetaSeed       = "seed"       // default 1
	MetaFormat     = "format"     // output: csv (default), jsonl or parquet
	MetaTarget     = "target"     // ML-efficacy target column
	MetaEpsilon    = "epsilon"    // dp budget
	MetaDelta      = "delta"      // dp delta
	MetaConditions = "conditions" // JSON object column → value
	MetaRules      = "rules"      // JSON rules file
	MetaThresholds = "thresholds" // JSON gate overrides
)

// Ingest turns an uploaded object into a dataset and a job, and submits the
// job. The object is copied into the data bucket under the tenant's
// DatasetKey rather than referenced in place: every tenant object then lives
// under tenants/<tenant>/ (the isolation invariant of package datasets), the
// pipeline reads one bucket only, and the uploads bucket can expire objects
// after a day. On Cloud Storage the uploads bucket may be another bucket
// than the data bucket; it is opened by name (gs://<bucket>) on first use.
//
// Ids derive from bucket, name and generation, so a redelivered event finds
// the dataset and job it created and only resubmits a job still queued.
// Objects outside uploads/<tenant>/ are ignored. Options that do not parse
// give a job that fails at once with the reason, so the tenant sees why.
func (p *Pipeline) Ingest(ctx context.Context, obj *events.StorageObject) error {
	tenant, name, ok := uploadPath(obj.Name)
	if !ok {
		p.logger().InfoContext(ctx, "object outside uploads/<tenant>/ ignored", "bucket", obj.Bucket, "object", obj.Name)
		return nil
	}
	sum := sha256.Sum256([]byte(obj.Bucket + "\x00" + obj.Name + "\x00" + obj.Generation))
	id := hex.EncodeToString(sum[:12])
	ds := &datasets.Dataset{
		ID: "ds_" + id, Tenant: tenant, Name: name, Size: obj.Size, Status: "ready",
		Key: datasets.DatasetKey(tenant, "ds_"+id, name),
	}
	req, optErr := uploadRequest(obj.Metadata)
	req.Dataset = ds.ID
	if f, err := table.FormatOf(name); err != nil {
		optErr = errors.Join(optErr, err)
	} else {
		ds.Format = f.String()
	}

	if err := p.copyUpload(ctx, obj, ds.Key); notFound(err) {
		// Deleted before it was ingested: no retry brings it back.
		p.logger().WarnContext(ctx, "upload vanished before ingestion", "bucket", obj.Bucket, "object", obj.Name)
		return nil
	} else if err != nil {
		return fmt.Errorf("pipeline.Ingest: %w", err)
	}
	if err := p.datasets.Create(ctx, ds); err != nil && !errors.Is(err, state.ErrAlreadyExists) {
		return fmt.Errorf("pipeline.Ingest: %w", err)
	}
	j, err := p.jobs.Load(ctx, "job_"+id)
	switch {
	case err == nil:
		// A redelivery: the job exists (admitted, or failed with its reason).
		if j.State == jobs.Queued {
			if err := jobs.Submit(ctx, p.env.Events, j); err != nil {
				return fmt.Errorf("pipeline.Ingest: %w", err)
			}
		}
		return nil
	case !errors.Is(err, jobs.ErrNotFound):
		return fmt.Errorf("pipeline.Ingest: %w", err)
	}
	j = &jobs.Job{ID: "job_" + id, Tenant: tenant, Request: req}
	if optErr == nil && req.Rows == 0 {
		// As many rows as the upload has: counted on the copy, so that the
		// job is admitted for the rows it will produce.
		n, err := countRows(ctx, p.env.Objects, ds, p.opts.MaxInputRows)
		switch {
		case Permanent(err):
			optErr = err
		case err != nil:
			return fmt.Errorf("pipeline.Ingest: %w", err)
		case n == 0:
			optErr = errs.Public(errs.InvalidArgument, "the upload has no data rows")
		}
		j.Request.Rows = n
	}
	refused := false
	if optErr == nil {
		admitted, err := p.adm.Admit(ctx, j)
		if err == nil {
			if err := p.ingested(ctx, admitted, ds, obj); err != nil {
				return err
			}
			if err := jobs.Submit(ctx, p.env.Events, admitted); err != nil {
				return fmt.Errorf("pipeline.Ingest: %w", err)
			}
			return nil
		}
		if !Permanent(err) {
			return fmt.Errorf("pipeline.Ingest: %w", err)
		}
		// Refused (the plan, the quota, the privacy budget): the job is
		// recorded failed with the reason, so the tenant sees why.
		optErr = err
		refused = true
	}
	if err := p.jobs.Create(ctx, j); err != nil && !errors.Is(err, state.ErrAlreadyExists) {
		return fmt.Errorf("pipeline.Ingest: %w", err)
	}
	if err := p.ingested(ctx, j, ds, obj); err != nil {
		return err
	}
	code := errs.CodeOf(optErr)
	if code == errs.Unknown {
		code = errs.InvalidArgument
	}
	reason := "upload options: " + errs.Message(optErr)
	if refused {
		reason = "job refused: " + errs.Message(optErr)
	}
	if err := p.fail(ctx, "ingest", "ingest:"+j.ID, j, code, reason, nil, nil); err != nil {
		return fmt.Errorf("pipeline.Ingest: %w", err)
	}
	return wrapIngest(p.settleJob(ctx, j.ID))
}

// ingested records the audit event of a job created from an upload.
func (p *Pipeline) ingested(ctx context.Context, j *jobs.Job, ds *datasets.Dataset, obj *events.StorageObject) error {
	return wrapIngest(audit.Emit(ctx, p.env.Events, audit.Event{
		ID: "job-" + j.ID + "-created", Tenant: j.Tenant, Actor: "system:ingest", Action: "job.created",
		Resource: "jobs/" + j.ID, Outcome: "success",
		Details: map[string]string{"dataset": ds.ID, "upload": "gs://" + obj.Bucket + "/" + obj.Name},
	}))
}

func wrapIngest(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("pipeline.Ingest: %w", err)
}

// uploadPath splits uploads/<tenant>/<name>.
func uploadPath(key string) (tenant, name string, ok bool) {
	rest, ok := strings.CutPrefix(key, UploadsPrefix)
	if !ok {
		return "", "", false
	}
	tenant, name, ok = strings.Cut(rest, "/")
	if !ok || tenant == "" || name == "" || strings.HasSuffix(name, "/") {
		return "", "", false
	}
	for _, r := range tenant {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "", "", false
		}
	}
	return tenant, datasets.SafeName(path.Base(name)), true
}

// uploadRequest reads the job options from object metadata; the request
// holds every option that parsed, and the error says which did not.
func uploadRequest(meta map[string]string) (jobs.Request, error) {
	get := func(k string) string {
		for mk, v := range meta {
			if strings.EqualFold(mk, k) {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	req := jobs.Request{Model: "tree", Seed: 1, Format: "csv"}
	var errs []error
	if v := get(MetaRows); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a positive integer", MetaRows, v))
		}
		req.Rows = n
	}
	if v := get(MetaModel); v != "" {
		req.Model = strings.ToLower(v)
	}
	if v := get(MetaSeed); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not an unsigned integer", MetaSeed, v))
		}
		req.Seed = n
	}
	if v := get(MetaFormat); v != "" {
		req.Format = strings.ToLower(v)
	}
	req.Target = get(MetaTarget)
	for _, f := range []struct {
		key string
		dst *float64
	}{{MetaEpsilon, &req.Epsilon}, {MetaDelta, &req.Delta}} {
		if v := get(f.key); v != "" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || x <= 0 {
				errs = append(errs, fmt.Errorf("%s=%q is not a positive number", f.key, v))
			}
			*f.dst = x
		}
	}
	if v := get(MetaConditions); v != "" {
		if err := json.Unmarshal([]byte(v), &req.Conditions); err != nil {
			errs = append(errs, fmt.Errorf("%s is not a JSON object of strings: %v", MetaConditions, err))
		}
	}
	for _, f := range []struct {
		key string
		dst *json.RawMessage
	}{{MetaRules, &req.Rules}, {MetaThresholds, &req.Thresholds}} {
		if v := get(f.key); v != "" {
			if !json.Valid([]byte(v)) {
				errs = append(errs, fmt.Errorf("%s is not valid JSON", f.key))
				continue
			}
			*f.dst = json.RawMessage(v)
		}
	}
	return req, errors.Join(errs...)
}

// copyUpload copies the upload into the data bucket at key, unless a
// delivery already did.
func (p *Pipeline) copyUpload(ctx context.Context, obj *events.StorageObject, key string) error {
	if ok, err := objects.Exists(ctx, p.env.Objects, key); err != nil || ok {
		return err
	}
	src, err := p.uploads.get(ctx, obj.Bucket)
	if err != nil {
		return fmt.Errorf("open uploads bucket %s: %w", obj.Bucket, err)
	}
	if src == p.env.Objects {
		if err := src.Copy(ctx, key, obj.Name, nil); err != nil {
			return fmt.Errorf("copy %s: %w", obj.Name, err)
		}
		return nil
	}
	return objects.Put(ctx, p.env.Objects, key, func(w io.Writer) error {
		_, err := objects.CopyTo(ctx, src, obj.Name, w)
		return err
	}, &blob.WriterOptions{ContentType: obj.ContentType})
}
