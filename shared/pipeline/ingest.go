package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
	"synthos.dev/synthos/shared/models"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/table"
)

// UploadsPrefix is where uploads that become jobs land:
// uploads/<tenant>/<file name>.
const UploadsPrefix = "uploads/"

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
		ID: "ds_" + id, Tenant: tenant, Name: name, Size: obj.Size, Status: datasets.Validating,
		Key: datasets.DatasetKey(tenant, "ds_"+id, name),
	}
	req, optErr := jobspec.ParseMetadata(obj.Metadata)
	req.Dataset = ds.ID
	// Without a table format the dataset is invalid (see validateUpload).
	f, err := table.FormatOf(name)
	if err == nil {
		ds.Format = f.String()
	}

	if err := p.copyUpload(ctx, obj, tenant, ds.Key); notFound(err) {
		// Deleted before it was ingested: no retry brings it back.
		p.logger().WarnContext(ctx, "upload vanished before ingestion", "bucket", obj.Bucket, "object", obj.Name)
		return nil
	} else if err != nil {
		return fmt.Errorf("pipeline.Ingest: %w", err)
	}
	if ds, err = p.validateUpload(ctx, ds); err != nil {
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
	prefix := "upload options: "
	switch {
	case ds.Status == datasets.Invalid:
		prefix = "the uploaded table is invalid: "
		optErr = errs.Public(errs.InvalidArgument, "%s", ds.Problem.Message)
	case optErr == nil:
		if req.Rows == 0 {
			// As many rows as the upload has: counted when the copy was
			// validated, so the job is admitted for the rows it will produce.
			j.Request.Rows = ds.Rows
		}
		// Rules, conditions and target against the upload's columns.
		optErr = jobspec.CheckDataset(j.Request, ds)
		if optErr == nil && j.Request.ModelID != "" {
			if optErr, err = p.pinModel(ctx, j, ds); err != nil {
				return fmt.Errorf("pipeline.Ingest: %w", err)
			}
		}
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
	reason := prefix + errs.Message(optErr)
	if refused {
		reason = "job refused: " + errs.Message(optErr)
	}
	if err := p.fail(ctx, "ingest", "ingest:"+j.ID, j, code, reason, nil, nil); err != nil {
		return fmt.Errorf("pipeline.Ingest: %w", err)
	}
	return wrapIngest(p.settleJob(ctx, j.ID))
}

// pinModel checks the custom model an upload's job pins (model_id,
// model_version, model_categories) against the upload's columns as the
// API checks a job's (models.Store.ForJob) and pins the exact version, so
// a later upload of the model's name does not change what the job is
// scored with. A model that does not exist, is not ready or does not fit
// the dataset is the job's failure reason (refusal); other errors (the
// registry could not be read) are returned, so the event is retried.
func (p *Pipeline) pinModel(ctx context.Context, j *jobs.Job, ds *datasets.Dataset) (refusal, err error) {
	store := models.New(p.env.State, p.env.Objects)
	store.Keys = p.env.Keyring
	req := &j.Request
	m, err := store.ForJob(ctx, j.Tenant, models.Pin{ID: req.ModelID, Version: req.ModelVersion, Target: req.Target, Categories: req.ModelCategories}, ds)
	if err != nil {
		switch code := errs.CodeOf(err); code {
		case errs.NotFound, errs.FailedPrecondition, errs.InvalidArgument:
			return errs.Public(code, "%s: %s", jobspec.MetaModelID, errs.Message(err)), nil
		}
		return nil, fmt.Errorf("pin model %s: %w", req.ModelID, err)
	}
	req.ModelID, req.ModelVersion = m.ID, m.Version
	return nil, nil
}

// ingested records the audit event of a job created from an upload.
func (p *Pipeline) ingested(ctx context.Context, j *jobs.Job, ds *datasets.Dataset, obj *events.StorageObject) error {
	return wrapIngest(audit.Emit(ctx, p.env.Events, audit.Event{
		ID: audit.JobCreatedID(j.ID), Tenant: j.Tenant, Actor: "system:ingest", Action: "job.created",
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

// validateUpload records the copied upload as a dataset, validated once:
// ready with its row count and columns, or invalid with the reason. A
// redelivered event finds the dataset recorded and does not read it again;
// one that found it validating (a crash mid-way) validates it again.
func (p *Pipeline) validateUpload(ctx context.Context, ds *datasets.Dataset) (*datasets.Dataset, error) {
	if err := p.datasets.Create(ctx, ds); errors.Is(err, state.ErrAlreadyExists) {
		cur, err := p.datasets.Get(ctx, ds.Tenant, ds.ID)
		if err != nil {
			return nil, err
		}
		if cur.Status != datasets.Validating {
			return cur, nil
		}
	} else if err != nil {
		return nil, err
	}
	if ds.Format == "" {
		ds.Status, ds.Problem = datasets.Invalid, &datasets.Problem{Message: datasets.UnknownFormat(ds.Name)}
		return ds, p.datasets.Set(ctx, ds)
	}
	ring, err := p.ring(ctx)
	if err != nil {
		return nil, err
	}
	sum, err := datasets.ValidateObject(ctx, p.env.Objects, ds.Key, ds.Format, ring.Reveal(ctx, ds.Tenant))
	var ie *datasets.InvalidError
	switch {
	case errors.As(err, &ie):
		ds.Status, ds.Problem = datasets.Invalid, &ie.Problem
	case err != nil:
		return nil, fmt.Errorf("validate %s: %w", ds.ID, err)
	default:
		ds.Status, ds.Rows, ds.Columns = datasets.Ready, sum.Rows, sum.Columns
	}
	return ds, p.datasets.Set(ctx, ds)
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

// copyUpload copies the upload into the data bucket at key, unless a
// delivery already did, encrypting it on the way when tenant has chosen
// encryption at rest (the dropped file itself expires with the uploads
// bucket's lifecycle).
func (p *Pipeline) copyUpload(ctx context.Context, obj *events.StorageObject, tenant, key string) error {
	if ok, err := objects.Exists(ctx, p.env.Objects, key); err != nil || ok {
		return err
	}
	src, err := p.uploads.get(ctx, obj.Bucket)
	if err != nil {
		return fmt.Errorf("open uploads bucket %s: %w", obj.Bucket, err)
	}
	ring, err := p.ring(ctx)
	if err != nil {
		return err
	}
	encrypt := false
	if ring != nil {
		if encrypt, err = ring.EncryptData(ctx, tenant); err != nil {
			return fmt.Errorf("encryption option of %s: %w", tenant, err)
		}
	}
	if src == p.env.Objects && !encrypt {
		if err := src.Copy(ctx, key, obj.Name, nil); err != nil {
			return fmt.Errorf("copy %s: %w", obj.Name, err)
		}
		return nil
	}
	return objects.Put(ctx, p.env.Objects, key, func(w io.Writer) error {
		ow, err := ring.ObjectWriter(ctx, tenant, w)
		if err != nil {
			return err
		}
		if _, err := objects.CopyTo(ctx, src, obj.Name, ow); err != nil {
			return err
		}
		return ow.Close()
	}, &blob.WriterOptions{ContentType: obj.ContentType})
}
