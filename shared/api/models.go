package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/ensemble"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/modelcheck"
	"synthos.dev/synthos/shared/modeleval"
	"synthos.dev/synthos/shared/modeleval/modeltest"
	"synthos.dev/synthos/shared/models"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/table"
	"synthos.dev/synthos/shared/vertex"
)

// Model is a model version as the API shows it.
type Model struct {
	ID        string                 `json:"id"`
	Name      string                 `json:"name"`
	Version   int                    `json:"version"`
	Size      int64                  `json:"size"`
	Status    string                 `json:"status"`
	Reason    string                 `json:"reason,omitempty"`
	Framework string                 `json:"framework,omitempty"`
	Format    string                 `json:"format,omitempty"`
	Task      string                 `json:"task,omitempty"`
	Serving   string                 `json:"serving"`
	Inputs    []modelcheck.Input     `json:"inputs,omitempty"`
	Dataset   string                 `json:"dataset,omitempty"`
	Target    string                 `json:"target,omitempty"`
	Match     *modelcheck.InputMatch `json:"match,omitempty"`
	Findings  []modelcheck.Finding   `json:"findings,omitempty"`
	// Deployment is where the model runs on Vertex AI (serving vertex_ai).
	Deployment *vertex.Deployment `json:"deployment,omitempty"`
	// Received is how many bytes of a pending upload the API has stored.
	Received  int64     `json:"received,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Serving modes a Model reports.
const (
	ServingInProcess = "in_process"         // POST /v1/models/{id}:predict
	ServingStoreOnly = "validate_and_store" // other frameworks: stored, not served locally
	ServingVertex    = "vertex_ai"          // deployed: POST /v1/models/{id}:predict proxies to Vertex AI
)

// ModelDeployer deploys models to Vertex AI and predicts with them
// (vertex.Client).
type ModelDeployer interface {
	models.Deployer
	Predict(ctx context.Context, d *vertex.Deployment, instances []any) ([]any, error)
}

// ModelView is the API's view of m.
func ModelView(m *models.Model) Model {
	v := Model{ID: m.ID, Name: m.Name, Version: m.Version, Size: m.Size, Status: m.Status, Reason: m.Reason,
		Framework: m.Framework, Format: m.Format, Task: m.Task, Inputs: m.Inputs, Dataset: m.Dataset,
		Target: m.Target, Match: m.Match, Findings: m.Findings, CreatedAt: m.CreatedAt, Serving: ServingStoreOnly}
	if m.Status == models.Pending {
		v.Received = m.Received
	}
	switch {
	case m.Servable:
		v.Serving = ServingInProcess
	case m.Deployment != nil:
		v.Serving, v.Deployment = ServingVertex, m.Deployment
	}
	return v
}

// modelErr maps the registry's coded errors to the API's sentinels.
func modelErr(err error) error {
	if err == nil {
		return nil
	}
	msg := errs.Message(err)
	switch errs.CodeOf(err) {
	case errs.NotFound:
		return &CodedError{Code: "not_found", Kind: ErrNotFound, Msg: msg}
	case errs.InvalidArgument:
		return &CodedError{Code: "invalid_request", Kind: ErrInvalid, Msg: msg}
	case errs.TooLarge:
		return &CodedError{Code: "too_large", Kind: ErrTooLarge, Msg: msg}
	case errs.FailedPrecondition:
		return &CodedError{Code: "model_not_ready", Kind: ErrConflict, Msg: msg}
	case errs.Unimplemented:
		return &CodedError{Code: "not_served", Kind: ErrConflict, Msg: msg}
	case errs.PermissionDenied:
		return unavailable("Vertex AI refused the request (check the functions' service account)", err)
	}
	return unavailable("the model registry failed", err)
}

func (s *Service) models() *models.Store {
	s.modelsOnce.Do(func() {
		if s.Models == nil {
			s.Models = models.New(s.State, s.Bucket)
		}
		if s.Models.Keys == nil {
			// Models are encrypted at rest like the tenant's datasets.
			s.Models.Keys = s.Keyring
		}
	})
	return s.Models
}

// UploadModel stores and validates a model version. A model that fails
// validation is kept (rejected, for GET to show) and answered with a 400
// model_rejected error carrying the reason.
func (s *Service) UploadModel(ctx context.Context, p *apikeys.Principal, name, dataset, target string, r io.Reader) (*models.Model, error) {
	id := NewID(ctx, p.Tenant, "model", "mdl_")
	if m, err := s.models().Get(ctx, p.Tenant, id); err == nil {
		return m, rejected(m) // re-executed under the same Idempotency-Key
	}
	m, err := s.models().Create(ctx, models.Upload{ID: id, Tenant: p.Tenant, Name: name, Dataset: dataset, Target: target}, r)
	if err != nil {
		if errs.CodeOf(err) == errs.Unknown {
			// The body failed (cut short, over the server's limit) or the
			// store did.
			return nil, s.bodyErr(err, s.models().Limits.MaxBytes, "POST /v1/models")
		}
		return nil, modelErr(err)
	}
	outcome, action := "success", "model.created"
	if m.Status == models.Rejected {
		outcome, action = "failed", "model.rejected"
	}
	s.emit(ctx, p, action, m.ID, outcome, map[string]string{"framework": m.Framework, "format": m.Format})
	return m, rejected(m)
}

func rejected(m *models.Model) error {
	if m.Status != models.Rejected {
		return nil
	}
	return &CodedError{Code: "model_rejected", Kind: ErrInvalid, Msg: fmt.Sprintf("model %s was rejected: %s", m.ID, m.Reason),
		Details: map[string]any{"model": m.ID}}
}

// ListModels lists the tenant's model versions, newest first.
func (s *Service) ListModels(ctx context.Context, p *apikeys.Principal) ([]models.Model, error) {
	ms, err := s.models().List(ctx, p.Tenant, 1000)
	return ms, modelErr(err)
}

// GetModel returns one of the tenant's model versions.
func (s *Service) GetModel(ctx context.Context, p *apikeys.Principal, id string) (*models.Model, error) {
	m, err := s.models().Get(ctx, p.Tenant, id)
	return m, modelErr(err)
}

// DeleteModel removes a model version and its bytes.
func (s *Service) DeleteModel(ctx context.Context, p *apikeys.Principal, id string) error {
	if err := s.models().Delete(ctx, p.Tenant, id); err != nil {
		return modelErr(err)
	}
	s.cache.Delete(id)
	s.emit(ctx, p, "model.deleted", id, "success", nil)
	return nil
}

// loadModel returns the parsed model, parsing it once per instance: a Ready
// version's bytes never change.
func (s *Service) loadModel(ctx context.Context, p *apikeys.Principal, id string) (*ensemble.Model, error) {
	if v, ok := s.cache.Load(id); ok {
		c := v.(cachedModel)
		if c.tenant == p.Tenant {
			return c.m, nil
		}
	}
	_, em, err := s.models().Load(ctx, p.Tenant, id)
	if err != nil {
		return nil, modelErr(err)
	}
	s.cache.Store(id, cachedModel{p.Tenant, em})
	return em, nil
}

type cachedModel struct {
	tenant string
	m      *ensemble.Model
}

// PredictObserver, when set, is told the latency of every prediction
// request (the metrics hook).
type PredictObserver func(tenant, model string, rows int, d time.Duration)

// MaxPredictRows bounds the rows of one JSON prediction request; batches
// go as a CSV/JSON Lines/Parquet body, which streams.
const MaxPredictRows = 10000

// PredictRows predicts JSON rows (objects keyed by feature name; numbers,
// strings for categories as codes, null for missing). Each answer row is
// the outputs named by the model's OutputNames.
func (s *Service) PredictRows(ctx context.Context, p *apikeys.Principal, id string, rows []map[string]any) (names []string, out [][]float64, err error) {
	start, framework := time.Now(), ""
	defer func() { s.observe(ctx, p, id, framework, "json", len(rows), start, err) }()
	m, err := s.loadModel(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	framework = m.Framework
	if len(rows) == 0 || len(rows) > MaxPredictRows {
		return nil, nil, fieldErr("rows", "must hold 1 to %d rows (send larger batches as a CSV, JSON Lines or Parquet body)", MaxPredictRows)
	}
	if err := s.limitRows(p.Tenant, len(rows)); err != nil {
		return nil, nil, err
	}
	nf := len(m.Features)
	x := make([]float64, len(rows)*nf)
	for i, r := range rows {
		for j, f := range m.Features {
			v, ok := r[f.Name]
			switch n := v.(type) {
			case float64:
				x[i*nf+j] = n
			case nil:
				x[i*nf+j] = math.NaN()
			case string:
				if x[i*nf+j], err = strconv.ParseFloat(n, 64); err != nil {
					return nil, nil, fieldErr(fmt.Sprintf("rows[%d].%s", i, f.Name), "must be a number (categories as integer codes)")
				}
			default:
				return nil, nil, fieldErr(fmt.Sprintf("rows[%d].%s", i, f.Name), "must be a number or null")
			}
			if !ok {
				return nil, nil, fieldErr(fmt.Sprintf("rows[%d].%s", i, f.Name), "is missing (use null for a missing value)")
			}
		}
	}
	flat := make([]float64, len(rows)*m.Outputs)
	if err := m.PredictBatch(x, flat); err != nil {
		return nil, nil, fieldErr("rows", "%v", err)
	}
	out = make([][]float64, len(rows))
	for i := range out {
		out[i] = flat[i*m.Outputs : (i+1)*m.Outputs]
	}
	return m.OutputNames(), out, nil
}

// observe records one prediction request in the metrics
// (metrics.Recorder.Prediction: latency by framework, mode and outcome,
// never the tenant or the model) and tells PredictObserver of a success.
func (s *Service) observe(ctx context.Context, p *apikeys.Principal, id, framework, mode string, rows int, start time.Time, err error) {
	d := time.Since(start)
	outcome := "ok"
	var fe *FieldError
	var ce *CodedError
	switch {
	case err == nil:
	case RetryAfter(err) > 0:
		outcome = "rate_limited"
	case errors.As(err, &fe), errors.As(err, &ce) && (errors.Is(ce.Kind, ErrInvalid) || errors.Is(ce.Kind, ErrNotFound) || errors.Is(ce.Kind, ErrConflict)):
		outcome = "invalid"
	default:
		outcome = "error"
	}
	if framework == "" {
		framework = "unknown"
	}
	metrics.Default().Prediction(ctx, framework, mode, outcome, rows, d)
	if err == nil && s.PredictObserver != nil {
		s.PredictObserver(p.Tenant, id, rows, d)
	}
}

// PredictTable streams a table body (CSV, JSON Lines or Parquet) through the
// model into w in the same format: the input columns, then the outputs,
// the prediction last. Rows go through in batches; a failure after the
// first batch is written ends the response early, so the caller sees a
// truncated table only together with an error.
func (s *Service) PredictTable(ctx context.Context, p *apikeys.Principal, id string, format table.Format, body io.Reader, w io.Writer, started func()) (rows int, err error) {
	start, framework := time.Now(), ""
	defer func() { s.observe(ctx, p, id, framework, "table", rows, start, err) }()
	m, err := s.loadModel(ctx, p, id)
	if err != nil {
		return 0, err
	}
	framework = m.Framework
	in, err := table.OpenReader(body, format, table.Options{})
	if err != nil {
		return 0, fieldErr("body", "cannot read the table: %v", err)
	}
	bind, err := m.Bind(in.Columns(), nil)
	if err != nil {
		return 0, fieldErr("body", "%s", errs.Message(err))
	}
	cols := m.OutputColumns(in.Columns())
	const batch = 1024
	sc := m.NewScorer(bind, batch)
	var tw table.Writer
	flush := func() error {
		if sc.Len() == 0 {
			return nil
		}
		// Over the rate: refuse before the answer starts, pace after.
		for {
			err := s.limitRows(p.Tenant, sc.Len())
			if err == nil {
				break
			}
			if tw == nil {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(RetryAfter(err)) * time.Second):
			}
		}
		if tw == nil {
			started()
			if tw, err = table.NewWriter(w, format, cols); err != nil {
				return err
			}
		}
		if err := sc.Flush(tw.Write); err != nil {
			return err
		}
		return ctx.Err()
	}
	for {
		cells, err := in.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return rows, fieldErr("body", "row %d: %v", rows+1, err)
		}
		rows++
		if err := sc.Add(cells, rows); err != nil {
			return rows, fieldErr("body", "%s", errs.Message(err))
		}
		if sc.Full() {
			if err := flush(); err != nil {
				return rows, err
			}
		}
	}
	if err := flush(); err != nil {
		return rows, err
	}
	if tw == nil {
		started()
		if tw, err = table.NewWriter(w, format, cols); err != nil {
			return rows, err
		}
	}
	if err := tw.Close(); err != nil {
		return rows, err
	}
	return rows, nil
}

// modelState is the lazily built registry, the parsed-model cache and the
// prediction rate limiter.
type modelState struct {
	modelsOnce  sync.Once
	cache       sync.Map // model id -> cachedModel
	limiterOnce sync.Once
	limiter     *rowLimiter
}

// DeployModel deploys a ready model that Synthos does not serve in process
// to Vertex AI (SYNTHOS_VERTEX_REGION), waiting for the deployment.
func (s *Service) DeployModel(ctx context.Context, p *apikeys.Principal, id string) (*models.Model, error) {
	if s.Vertex == nil {
		if _, err := s.models().Get(ctx, p.Tenant, id); err != nil {
			return nil, modelErr(err)
		}
		return nil, &CodedError{Code: "deployment_not_configured", Kind: ErrConflict,
			Msg: "deployment to Vertex AI is not configured here (SYNTHOS_VERTEX_REGION): this model is validated and stored only"}
	}
	m, err := s.models().Deploy(ctx, p.Tenant, id, s.Vertex)
	if err != nil {
		return nil, modelErr(err)
	}
	s.emit(ctx, p, "model.deployed", id, "success", map[string]string{"endpoint": m.Deployment.Endpoint})
	return m, nil
}

// PredictInstances proxies instances (in the deployed container's input
// format, e.g. arrays of feature values) to a model deployed on Vertex AI.
func (s *Service) PredictInstances(ctx context.Context, p *apikeys.Principal, id string, instances []any) (out []any, err error) {
	start, framework := time.Now(), ""
	defer func() { s.observe(ctx, p, id, framework, "vertex", len(instances), start, err) }()
	m, err := s.models().Get(ctx, p.Tenant, id)
	if err != nil {
		return nil, modelErr(err)
	}
	framework = m.Framework
	if m.Deployment == nil || s.Vertex == nil {
		return nil, &CodedError{Code: "not_served", Kind: ErrConflict,
			Msg: fmt.Sprintf("model %s is not deployed: POST /v1/models/%s:deploy first (XGBoost and LightGBM models take \"rows\" and run in process)", id, id)}
	}
	if len(instances) == 0 || len(instances) > MaxPredictRows {
		return nil, fieldErr("instances", "must hold 1 to %d instances", MaxPredictRows)
	}
	if err := s.limitRows(p.Tenant, len(instances)); err != nil {
		return nil, err
	}
	out, err = s.Vertex.Predict(ctx, m.Deployment, instances)
	if err != nil {
		return nil, modelErr(err)
	}
	return out, nil
}

// ModelTestRequest is the body of POST /v1/models/{id}:test.
type ModelTestRequest struct {
	Job        string              `json:"job"`
	Target     string              `json:"target,omitempty"`     // default: the model's, then the job's
	Categories map[string][]string `json:"categories,omitempty"` // per column, categories in code order
}

// TestModel scores an in-process model on a finished job's real holdout
// and synthetic output (and TSTR vs TRTR on its training rows), stores the
// report as JSON and HTML beside the model, and returns it.
func (s *Service) TestModel(ctx context.Context, p *apikeys.Principal, id string, req ModelTestRequest) (*modeleval.Report, error) {
	rec, err := s.models().Get(ctx, p.Tenant, id)
	if err != nil {
		return nil, modelErr(err)
	}
	m, err := s.loadModel(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if req.Job == "" {
		return nil, fieldErr("job", "is required: the job whose output to test the model on")
	}
	j, err := s.Jobs.Get(ctx, p.Tenant, req.Job)
	if err != nil {
		return nil, err
	}
	if j.State != jobs.Succeeded {
		return nil, &CodedError{Code: "job_not_finished", Kind: ErrConflict, Msg: fmt.Sprintf("job %s is %s: a model is tested on a succeeded job's output", j.ID, j.State)}
	}
	target := modeltest.Target(req.Target, rec.Target, j.Request.Target)
	if target == "" {
		return nil, fieldErr("target", "is required: the column the model predicts (neither the model nor the job names one)")
	}
	ext := j.Request.Format
	if ext == "" {
		ext = "csv"
	}
	format, err := table.FormatOf("output." + ext)
	if err != nil {
		return nil, err
	}
	ring, err := s.ring(ctx)
	if err != nil {
		return nil, err
	}
	// The training and holdout tables are encrypted when the tenant chose
	// encryption (the pipeline writes them through the keyring); outputs
	// are stored plain.
	read := func(key string, f table.Format, reveal datasets.Reveal) (*table.Table, error) {
		// Outputs are formula-escaped for spreadsheets, which Unescape
		// undoes; the job's own CSVs are not.
		tr, closeObj, err := datasets.OpenObject(ctx, s.Bucket, key, f, table.Options{MaxCellBytes: -1, MaxColumns: -1, Unescape: reveal == nil}, reveal)
		if err != nil {
			return nil, unavailable("reading the job's tables failed", err)
		}
		defer closeObj()
		return table.ReadAll(tr)
	}
	reveal := ring.Reveal(ctx, p.Tenant)
	stored := func(name, key string, f table.Format, reveal datasets.Reveal) modeltest.Table {
		return modeltest.Table{Name: name, Read: func() (*table.Table, error) { return read(key, f, reveal) }}
	}
	rep, err := modeltest.Run(ctx,
		modeleval.Inputs{Model: m, ModelName: rec.Name, Target: target, Categories: req.Categories, Seed: j.Request.Seed},
		modeltest.Tables{
			Holdout:   stored("holdout.csv", datasets.HoldoutKey(p.Tenant, j.ID), table.CSV, reveal),
			Synthetic: stored("output."+ext, datasets.OutputKey(p.Tenant, j.ID, ext), format, nil),
			// Without the training rows TSTR vs TRTR is left out, and the
			// report says so.
			Train: stored("train.csv", datasets.TrainKey(p.Tenant, j.ID), table.CSV, reveal), TrainOptional: true,
		})
	if err != nil {
		if errs.CodeOf(err) == errs.InvalidArgument {
			return nil, &CodedError{Code: "invalid_request", Kind: ErrInvalid, Msg: errs.Message(err)}
		}
		return nil, err
	}
	prefix := datasets.TenantPrefix(p.Tenant) + "models/" + id + "/tests/" + j.ID
	if err := modeltest.Store(ctx, s.Bucket, prefix+".json", prefix+".html", rep); err != nil {
		return nil, unavailable("storing the model test failed", err)
	}
	s.emit(ctx, p, "model.tested", id, "success", map[string]string{"job": j.ID, "verdict": rep.Verdict.Level})
	return rep, nil
}

// pinModel checks the custom model a job request pins against the dataset
// (models.Store.ForJob) and pins the exact version: model_id becomes the
// version's id and model_version its number, so a later upload of the
// same name does not change what the job is scored with.
func (s *Service) pinModel(ctx context.Context, p *apikeys.Principal, req jobs.Request, d *datasets.Dataset) (jobs.Request, error) {
	m, err := s.models().ForJob(ctx, p.Tenant, models.Pin{ID: req.ModelID, Version: req.ModelVersion, Target: req.Target, Categories: req.ModelCategories}, d)
	if err != nil {
		msg := errs.Message(err)
		switch errs.CodeOf(err) {
		case errs.NotFound:
			return req, &CodedError{Code: "not_found", Kind: ErrNotFound, Msg: msg, Details: map[string]any{"field": "model_id"}}
		case errs.FailedPrecondition:
			return req, &CodedError{Code: "model_not_ready", Kind: ErrConflict, Msg: msg, Details: map[string]any{"field": "model_id"}}
		case errs.InvalidArgument:
			return req, fieldErr("model_id", "%s", msg)
		}
		return req, unavailable("the model registry failed", err)
	}
	req.ModelID, req.ModelVersion = m.ID, m.Version
	return req, nil
}

// ModelTestKey returns where the test of the model pinned to a job is
// stored in format ext (json or html): not_found for a job without a
// pinned model, not_ready until the evaluation wrote it (or, when the
// test could not run, the reason from the job's evaluation report).
func (s *Service) ModelTestKey(ctx context.Context, p *apikeys.Principal, id, ext string) (*blob.Bucket, string, error) {
	j, err := s.Jobs.Get(ctx, p.Tenant, id)
	if err != nil {
		return nil, "", err
	}
	if j.Request.ModelID == "" {
		return nil, "", &CodedError{Code: "not_found", Kind: ErrNotFound,
			Msg: fmt.Sprintf("job %s has no pinned model: create the job with model_id to have its output scored by your model", id)}
	}
	name := jobs.OutputModelTestJSON
	if ext == "html" {
		name = jobs.OutputModelTestHTML
	}
	if b, key, ok, err := s.delivered(ctx, j, name); ok || err != nil {
		return b, key, err
	}
	key := datasets.ModelTestKey(p.Tenant, id, ext)
	ok, err := objects.Exists(ctx, s.Bucket, key)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !ok {
		msg := fmt.Sprintf("the model test of job %s is not written yet (job is %s)", id, j.State)
		if j.Outputs[jobs.OutputReportJSON] != "" {
			msg = fmt.Sprintf("job %s has no model test: its evaluation report (GET /v1/jobs/%s/report, model_test.error) says why", id, id)
		}
		return nil, "", &CodedError{Code: "not_ready", Kind: ErrNotReady, Msg: msg, Details: map[string]any{"state": string(j.State)}}
	}
	return s.Bucket, key, nil
}

// modelUploads plugs custom models into the resumable upload protocol
// (resumable.go), the one datasets use.
func (s *Service) modelUploads() *resumableKind {
	view := func(m *models.Model) *session {
		st := sessDone
		switch m.Status {
		case models.Pending:
			st = sessPending
		case models.Validating:
			st = sessValidating
		case models.Rejected:
			st = sessRefused
		}
		return &session{ID: m.ID, Tenant: m.Tenant, Key: m.Key, ContentType: "application/octet-stream", State: st,
			Received: m.Received, Total: m.Total, Size: m.Size, rec: m}
	}
	return &resumableKind{noun: "model", what: "model", limit: s.models().Limits.MaxBytes,
		get: func(ctx context.Context, tenant, id string) (*session, error) {
			m, err := s.models().Get(ctx, tenant, id)
			if err != nil {
				return nil, modelErr(err)
			}
			return view(m), nil
		},
		received: func(ctx context.Context, tenant, id string, start, end, total int64) (*session, error) {
			m, err := s.models().Update(ctx, tenant, id, func(m *models.Model) {
				if m.Status == models.Pending && m.Received == start {
					m.Received = end + 1
				}
				if total >= 0 {
					m.Total = total
				}
			})
			if err != nil {
				return nil, modelErr(err)
			}
			return view(m), nil
		},
		stored: func(ctx context.Context, ss *session, size int64) error {
			m := ss.rec.(*models.Model)
			m.Received, m.Total, m.Size, m.Status = ss.Received, ss.Total, size, models.Validating
			return modelErr(s.models().Set(ctx, m))
		},
		finish: func(ctx context.Context, p *apikeys.Principal, ss *session) (*session, error) {
			m, err := s.models().Finish(ctx, p.Tenant, ss.ID)
			if err != nil {
				return nil, modelErr(err)
			}
			if ss.State != sessDone {
				outcome, action := "success", "model.created"
				if m.Status == models.Rejected {
					outcome, action = "failed", "model.rejected"
				}
				s.emit(ctx, p, action, m.ID, outcome, map[string]string{"framework": m.Framework, "format": m.Format, "via": "session"})
			}
			return view(m), rejected(m)
		},
		chunkPrefix: func(tenant, id string) string { return datasets.TenantPrefix(tenant) + "models/" + id + "/.chunks/" },
		chunkKey: func(tenant, id string, start, end int64) string {
			return fmt.Sprintf("%smodels/%s/.chunks/%020d-%020d", datasets.TenantPrefix(tenant), id, start, end)
		},
	}
}

// ModelUpload is a pending model version and where to send its bytes.
type ModelUpload struct {
	Model Model `json:"model"`
	// URL, Method, Protocol, Headers, ChunkSize, MaxBytes and ExpiresAt
	// are those of a dataset's upload session (Upload).
	URL       string            `json:"upload_url"`
	Method    string            `json:"method"`
	Protocol  string            `json:"protocol"`
	Headers   map[string]string `json:"headers,omitempty"`
	ChunkSize int64             `json:"chunk_size,omitempty"`
	MaxBytes  int64             `json:"max_bytes"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// BeginModelUpload records a pending model version (validated once its
// bytes are in) and returns where to send them, as BeginUpload does for
// datasets: PUT in chunks with Content-Range, then (unless the last chunk
// completed it) POST /v1/models/{id}/complete.
func (s *Service) BeginModelUpload(ctx context.Context, p *apikeys.Principal, name, dataset, target string, size int64, localURL func(id string) string) (*ModelUpload, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fieldErr("name", "is required: the model's file name, e.g. churn.json")
	}
	if size < 0 {
		return nil, fieldErr("size", "must be the file's size in bytes, or left out")
	}
	k := s.modelUploads()
	if size > k.limit {
		return nil, s.tooLargeFor(k, k.limit)
	}
	id := NewID(ctx, p.Tenant, "model", "mdl_")
	m, err := s.models().Get(ctx, p.Tenant, id)
	if err != nil {
		if m, err = s.models().Begin(ctx, models.Upload{ID: id, Tenant: p.Tenant, Name: name, Dataset: dataset, Target: target}, size); err != nil {
			return nil, modelErr(err)
		}
		s.emit(ctx, p, "model.upload_started", id, "success", nil)
	}
	up := &Upload{Method: http.MethodPut, Protocol: "resumable", ChunkSize: DefaultChunkSize, MaxBytes: k.limit,
		ExpiresAt: s.Now().UTC().Add(s.URLExpiry).Truncate(time.Second)}
	if err := s.uploadTarget(ctx, up, m.Key, size, "application/octet-stream", localURL(id)); err != nil {
		return nil, err
	}
	return &ModelUpload{Model: ModelView(m), URL: up.URL, Method: up.Method, Protocol: up.Protocol, Headers: up.Headers,
		ChunkSize: up.ChunkSize, MaxBytes: up.MaxBytes, ExpiresAt: up.ExpiresAt}, nil
}

// PutModelContent stores bytes of a pending model version (putChunk);
// done is true once every byte is in and the model validated (m is then
// Ready, or Rejected with its model_rejected error).
func (s *Service) PutModelContent(ctx context.Context, p *apikeys.Principal, id string, cr ContentRange, r io.Reader) (m *models.Model, received int64, done bool, err error) {
	ss, err := s.putChunk(ctx, p, s.modelUploads(), id, cr, r)
	if ss == nil {
		return nil, 0, false, err
	}
	m = ss.rec.(*models.Model)
	if ss.State == sessPending {
		return m, ss.Received, false, err
	}
	return m, m.Size, true, err
}

// CompleteModelUpload validates a model version once all its bytes are
// stored (sent to an upload session, a signed URL or PutModelContent).
func (s *Service) CompleteModelUpload(ctx context.Context, p *apikeys.Principal, id string) (*models.Model, error) {
	ss, err := s.completeUploadOf(ctx, p, s.modelUploads(), id)
	if ss == nil {
		return nil, err
	}
	return ss.rec.(*models.Model), err
}
