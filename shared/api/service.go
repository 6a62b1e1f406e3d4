package api

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"synthos.dev/synthos/shared/destinations"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/admission"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/assist"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/guard"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/dp/ledger"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/idempotency"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/models"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
)

// Defaults of Options.
const (
	DefaultMaxUpload = 64 << 20 // direct multipart uploads; larger tables use upload sessions
	// DefaultMaxResumable bounds a table sent through an upload session
	// (config.DefaultMaxUploadBytes, SYNTHOS_MAX_UPLOAD_BYTES).
	DefaultMaxResumable = config.DefaultMaxUploadBytes
	DefaultURLExpiry    = 15 * time.Minute
)

// Service is what the API does, independent of HTTP.
type Service struct {
	State    state.Store
	Jobs     *jobs.Store
	Datasets *datasets.Store
	Keys     *apikeys.Keys
	Bucket   *blob.Bucket
	Pub      events.Publisher
	// Admission admits every job (plan, concurrent jobs, monthly rows and
	// privacy budget, reserved with the job in one transaction) and
	// settles it; Entitlements and Ledger are its meter and budget book,
	// for the usage and privacy-budget endpoints.
	Admission    *admission.Admitter
	Entitlements *entitlements.Entitlements
	Ledger       *ledger.Ledger
	// Webhooks manages the tenant's outbound webhook endpoints and their
	// delivery log (see webhooks.go); nil answers 503 on those routes.
	Webhooks *Webhooks
	// Keyring returns the tenants' keyring (nil: none): datasets of tenants
	// that chose encryption at rest are stored encrypted with it.
	Keyring func(ctx context.Context) (*keyring.Keyring, error)
	// MaxUpload bounds a table uploaded directly (POST /v1/datasets).
	MaxUpload int64
	// MaxResumable bounds a table sent through an upload session
	// (POST /v1/datasets/uploads).
	MaxResumable int64
	// Sessions starts Cloud Storage resumable upload sessions; nil (or a
	// store without sessions) hands out the API's own chunked PUT.
	Sessions SessionStarter
	// ChunkGranularity is what every chunk of a chunked PUT but the last
	// must be a multiple of (0: DefaultChunkGranularity, 256 KiB).
	ChunkGranularity int64
	// URLExpiry is the lifetime of signed upload and download URLs.
	URLExpiry time.Duration
	Now       func() time.Time
	// Regimes returns the compliance regimes of a tenant's policy
	// (config.Config.Regimes); nil assesses every regime.
	Regimes func(tenant string) []string
	// Secrets holds the tenants' anonymisation keyrings; nil answers 503 on
	// POST /v1/datasets/{id}/anonymize.
	Secrets secrets.Source
	// Models is the custom-model registry (built on first use over State
	// and Bucket when nil); PredictObserver is told every prediction
	// request's latency.
	Models          *models.Store
	PredictObserver PredictObserver
	// Vertex deploys models to Vertex AI; nil: deployment is not
	// configured and such models are validated and stored only.
	Vertex ModelDeployer
	// PredictRowsPerSecond bounds each tenant's predicted rows per second
	// in this instance (0: unbounded).
	PredictRowsPerSecond float64
	modelState
	// Destinations registers tenants' own buckets and serves outputs
	// delivered to them; nil answers 503 on /v1/destinations.
	Destinations *destinations.Router
	// Placement is where the platform bucket is, for residency checks of
	// imports (jobs are checked at admission).
	Placement destinations.PlatformPlacer
	// Zones routes tenants' objects to their residency zone's platform
	// bucket; nil: the deployment has one bucket.
	Zones *destinations.PlatformBuckets
	// Assistant is the AI router and its meter (package assist), built on
	// first use; nil answers 503 to design jobs and AI options.
	Assistant func() (*assist.Assistant, error)
	// Designs holds the tenants' saved specs (over State when nil).
	Designs *design.Store
}

// NewService returns a Service over the given adapters, admitting jobs
// through adm (see package admission).
func NewService(st state.Store, bucket *blob.Bucket, pub events.Publisher, keys *apikeys.Keys, adm *admission.Admitter) (*Service, error) {
	if st == nil || bucket == nil || pub == nil || keys == nil || adm == nil {
		return nil, errors.New("api.NewService: state, bucket, publisher, keys and admission are required")
	}
	return &Service{
		State: st, Jobs: jobs.New(st), Datasets: datasets.New(st), Keys: keys, Bucket: bucket, Pub: pub,
		Admission: adm, Entitlements: adm.Entitlements(), Ledger: adm.Ledger(),
		MaxUpload: DefaultMaxUpload, MaxResumable: DefaultMaxResumable, URLExpiry: DefaultURLExpiry, Now: time.Now,
	}, nil
}

// NewID returns a fresh id with prefix ("job_"), or, while a request runs
// under an Idempotency-Key, the id derived from its claim, so a re-executed
// request finds what its first attempt created.
func NewID(ctx context.Context, tenant, kind, prefix string) string {
	if seed, ok := idempotency.SeedFrom(ctx); ok {
		return idempotency.DeriveID(tenant, seed, kind, prefix)
	}
	b := make([]byte, 15)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// emit records an audit event; a failure to publish is logged, not
// returned, because the state change it describes has already happened.
func (s *Service) emit(ctx context.Context, p *apikeys.Principal, action, resource, outcome string, details map[string]string) {
	s.emitID(ctx, p, "", action, resource, outcome, details)
}

// emitID emits with a given event id ("" draws one): the record of a job's
// creation has the id JobCreatedEvent(job), so reports can link to it.
func (s *Service) emitID(ctx context.Context, p *apikeys.Principal, id, action, resource, outcome string, details map[string]string) {
	ev := audit.Event{ID: id, Tenant: p.Tenant, Actor: "key:" + p.KeyID, Action: action, Resource: resource, Outcome: outcome, Details: details}
	if err := audit.Emit(ctx, s.Pub, ev); err != nil {
		obs.Logger(ctx).ErrorContext(ctx, "audit emit", "action", action, "error", err)
	}
}

// EmitDenied records a refused request as a security event.
func (s *Service) EmitDenied(ctx context.Context, p *apikeys.Principal, action, reason string) {
	metrics.Default().SecurityEvent(ctx, "denied")
	s.emit(ctx, p, action, "", "denied", map[string]string{"reason": reason})
}

// ---- jobs ----

// CreateJob checks a validated request against the dataset and the spend
// guard, then admits it (package admission: the plan, concurrent jobs, the
// monthly rows and a dp job's privacy budget are checked and reserved with
// the stored job in one transaction) and publishes its first step. A job
// that cannot be queued is withdrawn and its reservations released.
func (s *Service) CreateJob(ctx context.Context, p *apikeys.Principal, req jobs.Request, seedSet bool) (*jobs.Job, error) {
	if req.Design != "" {
		return s.createDesignJob(ctx, p, req, seedSet)
	}
	d, err := s.Datasets.Get(ctx, p.Tenant, req.Dataset)
	if errors.Is(err, datasets.ErrNotFound) {
		return nil, &CodedError{Code: "not_found", Kind: ErrNotFound, Msg: fmt.Sprintf("dataset %s does not exist", req.Dataset),
			Details: map[string]any{"field": "dataset"}}
	}
	if err != nil {
		return nil, err
	}
	switch d.Status {
	case datasets.Ready:
	case datasets.Invalid:
		msg := fmt.Sprintf("dataset %s is invalid and cannot be used: upload a corrected table", d.ID)
		if d.Problem != nil {
			msg = fmt.Sprintf("dataset %s is invalid and cannot be used (%s): upload a corrected table", d.ID, d.Problem.Message)
		}
		return nil, &CodedError{Code: "dataset_invalid", Kind: ErrConflict, Details: map[string]any{"field": "dataset"}, Msg: msg}
	default:
		return nil, &CodedError{Code: "dataset_not_ready", Kind: ErrConflict, Details: map[string]any{"field": "dataset"},
			Msg: fmt.Sprintf("dataset %s is %s: finish its upload (POST /v1/datasets/%s/complete) first", d.ID, d.Status, d.ID)}
	}
	// The request against the dataset's columns: rules, conditions and
	// target name real columns, before anything is reserved.
	if err := jobspec.CheckDataset(req, d); err != nil {
		return nil, err
	}
	if req.Anonymizing() {
		// An anonymize job reserves the dataset's rows; it writes its
		// training part and commits what it wrote.
		req.Rows = d.Rows
	}
	if req.ModelID != "" {
		if req, err = s.pinModel(ctx, p, req, d); err != nil {
			return nil, err
		}
	}
	if req.Rows <= 0 {
		return nil, fieldErr("rows", "must be positive: a job reserves its rows of the monthly quota when it is created")
	}
	return s.admitJob(ctx, p, req, seedSet, nil)
}

// admitJob admits a checked request (package admission) and publishes its
// first step; ai, when set, is the job's priced AI use.
func (s *Service) admitJob(ctx context.Context, p *apikeys.Principal, req jobs.Request, seedSet bool, ai *jobs.AIUsage) (*jobs.Job, error) {
	id := NewID(ctx, p.Tenant, "job", "job_")
	if j, err := s.Jobs.Get(ctx, p.Tenant, id); err == nil {
		// Re-executed under the same Idempotency-Key after a lost lease: the
		// first attempt stored the job (and its reservations) but may not
		// have published it.
		return s.submit(ctx, p, j)
	}
	if err := guard.Check(ctx, s.State); err != nil {
		return nil, err
	}
	if !seedSet {
		var b [8]byte
		_, _ = rand.Read(b[:])
		req.Seed = binary.BigEndian.Uint64(b[:]) >> 11 // ≤ 2^53, exact in every JSON reader
	}
	j, err := s.Admission.Admit(ctx, &jobs.Job{ID: id, Tenant: p.Tenant, Request: req, AI: ai})
	if err != nil {
		return nil, s.refused(ctx, p, req, err)
	}
	details := map[string]string{"model": req.Model, "dataset": req.Dataset}
	switch {
	case req.Anonymizing():
		details = map[string]string{"kind": req.Kind, "dataset": req.Dataset}
	case req.Design != "":
		details["design"] = fmt.Sprintf("%s@%d", req.Design, req.DesignVersion)
	}
	s.emitID(ctx, p, audit.JobCreatedID(id), "job.created", id, "success", details)
	return s.submit(ctx, p, j)
}

// refused turns an admission refusal into the API's answer: the plan's
// limits (402/429 naming the limit), the privacy budget (409 with what
// remains), a bad epsilon (400); anything else is 503.
func (s *Service) refused(ctx context.Context, p *apikeys.Principal, req jobs.Request, err error) error {
	var le *entitlements.LimitError
	var be *ledger.BudgetError
	switch {
	case errors.As(err, &le):
		qe := &quotaError{le: le}
		s.EmitDenied(ctx, p, "job.create", qe.Error())
		return qe
	case errors.As(err, &be):
		rho, _ := admission.Rho(req)
		ce := &CodedError{Code: "privacy_budget_exhausted", Kind: ErrConflict,
			Msg: fmt.Sprintf("dataset %s has too little privacy budget left for epsilon %g: %.4g epsilon remains (at delta %g); "+
				"ask for a smaller epsilon, or an admin may raise the cap (PUT /v1/datasets/%s/privacy-budget)",
				req.Dataset, req.Epsilon, be.RemainingEpsilon, be.Delta, req.Dataset),
			Details: map[string]any{
				"remaining_epsilon": be.RemainingEpsilon, "remaining_rho": be.RemainingRho, "delta": be.Delta,
				"requested_epsilon": req.Epsilon, "requested_rho": rho,
			}}
		s.EmitDenied(ctx, p, "job.create", ce.Msg)
		return ce
	case errors.Is(err, llm.ErrQuota):
		// The job's priced AI use does not fit the month's AI budget
		// beside what was spent and what running jobs hold.
		return s.aiRefused(ctx, p, err)
	case errs.CodeOf(err) == errs.InvalidArgument:
		return fieldErr("epsilon", "%s", errs.Message(err))
	}
	return fmt.Errorf("%w: admit the job: %w", ErrUnavailable, err)
}

// submit publishes a queued job's first step. A job that cannot be queued
// is withdrawn (deleted while still queued, its reservations released in
// the same transaction), so that nothing stays reserved for a job that
// never runs; a retry of the request creates it afresh.
func (s *Service) submit(ctx context.Context, p *apikeys.Principal, j *jobs.Job) (*jobs.Job, error) {
	if j.State != jobs.Queued {
		return j, nil
	}
	err := jobs.Submit(ctx, s.Pub, j)
	if err == nil {
		return j, nil
	}
	withdrawn, werr := s.Admission.Withdraw(ctx, p.Tenant, j.ID)
	switch {
	case werr != nil:
		// The job is stored with its reservations; a retry publishes it,
		// and the reaper requeues it if nobody does.
		return nil, fmt.Errorf("%w: job %s stored but not queued: %w", ErrUnavailable, j.ID, errors.Join(err, werr))
	case !withdrawn:
		// A step already moved it past queued: the publication did go
		// through after all, and the job runs on its reservations.
		return j, nil
	}
	s.emit(ctx, p, "job.withdrawn", j.ID, "failed", map[string]string{"reason": "could not be queued"})
	return nil, fmt.Errorf("%w: job %s could not be queued and was withdrawn (its reservations are released); retry the request: %w",
		ErrUnavailable, j.ID, err)
}

// CancelJob asks the tenant's job to stop; a finished job is 409.
func (s *Service) CancelJob(ctx context.Context, p *apikeys.Principal, id string) (*jobs.Job, error) {
	if _, err := s.Jobs.Get(ctx, p.Tenant, id); err != nil {
		return nil, err
	}
	j, _, err := s.Jobs.Update(ctx, id, "", jobs.RequestCancel)
	if errors.Is(err, jobs.ErrTerminal) && j != nil {
		return nil, &CodedError{Code: "job_finished", Kind: ErrConflict, Msg: fmt.Sprintf("job %s already finished (%s)", id, j.State),
			Details: map[string]any{"state": string(j.State)}}
	}
	if err != nil {
		return nil, fmt.Errorf("cancel %s: %w", id, err)
	}
	s.emit(ctx, p, "job.cancel_requested", id, "success", nil)
	if j.State == jobs.Cancelled {
		// Cancelled while queued: no step has fitted or sampled anything,
		// so the reservations are released. A failure is only logged: the
		// first step or the reaper, finding the job cancelled, settles it.
		if _, err := s.Admission.Settle(ctx, id, nil); err != nil {
			obs.Logger(ctx).ErrorContext(ctx, "settle cancelled job", "job", id, "error", err)
		}
		if err := jobs.PublishEvent(ctx, s.Pub, j); err != nil {
			obs.Logger(ctx).ErrorContext(ctx, "publish job event", "job", id, "error", err)
		}
	}
	return j, nil
}

// ---- reports and outputs ----

// ReportKey returns the object key of the tenant's job report in format
// ext (json or html), or ErrNotReady while it is not written.
func (s *Service) ReportKey(ctx context.Context, p *apikeys.Principal, id, ext string) (*blob.Bucket, string, error) {
	j, err := s.Jobs.Get(ctx, p.Tenant, id)
	if err != nil {
		return nil, "", err
	}
	name := jobs.OutputReportJSON
	if ext == "html" {
		name = jobs.OutputReportHTML
	}
	if b, key, ok, err := s.delivered(ctx, j, name); ok || err != nil {
		return b, key, err
	}
	key := datasets.ReportKey(p.Tenant, id, ext)
	ok, err := objects.Exists(ctx, s.Bucket, key)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !ok {
		return nil, "", &CodedError{Code: "not_ready", Kind: ErrNotReady, Msg: fmt.Sprintf("the report of job %s is not written yet (job is %s)", id, j.State),
			Details: map[string]any{"state": string(j.State)}}
	}
	return s.Bucket, key, nil
}

// delivered returns where output name of j lives when the job delivered it
// to a storage destination (ok false: it is in the platform bucket).
func (s *Service) delivered(ctx context.Context, j *jobs.Job, name string) (*blob.Bucket, string, bool, error) {
	loc, ok := j.Locations[name]
	if !ok {
		return nil, "", false, nil
	}
	if s.Destinations == nil {
		return nil, "", true, fmt.Errorf("%w: job %s was delivered to a storage destination, and this deployment has no destination router", ErrUnavailable, j.ID)
	}
	b, err := s.Destinations.Bucket(ctx, j.Tenant, loc.Destination)
	if err != nil {
		return nil, "", true, fmt.Errorf("%w: open the storage destination of job %s: %w", ErrUnavailable, j.ID, err)
	}
	return b, loc.Key, true, nil
}

// OutputKey returns the object key of the tenant's job output, or an error
// while the job has not succeeded (a quarantined output is never served).
func (s *Service) OutputKey(ctx context.Context, p *apikeys.Principal, id string) (*jobs.Job, *blob.Bucket, string, error) {
	j, err := s.Jobs.Get(ctx, p.Tenant, id)
	if err != nil {
		return nil, nil, "", err
	}
	if j.State != jobs.Succeeded {
		d := map[string]any{"state": string(j.State)}
		if len(j.Reasons) > 0 {
			d["reasons"] = j.Reasons
		}
		return nil, nil, "", &CodedError{Code: "not_ready", Kind: ErrNotReady, Details: d,
			Msg: fmt.Sprintf("job %s is %s; its output is available once it has succeeded", id, j.State)}
	}
	if b, key, ok, err := s.delivered(ctx, j, jobs.OutputData); ok || err != nil {
		return j, b, key, err
	}
	key := datasets.OutputKey(p.Tenant, id, j.Request.Format)
	ok, err := objects.Exists(ctx, s.Bucket, key)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !ok {
		return nil, nil, "", &CodedError{Code: "not_ready", Kind: ErrNotReady, Details: map[string]any{"state": string(j.State)},
			Msg: fmt.Sprintf("the output of job %s is not in the object store", id)}
	}
	return j, s.Bucket, key, nil
}

// Download is a time-limited link to an output.
type Download struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
	// Authenticated is true when the URL is the API's own endpoint, which
	// needs the API key (the local file driver cannot sign URLs).
	Authenticated bool `json:"authenticated"`
}

// OutputURL returns a signed download URL for the job's output, or
// localURL(id) when the bucket cannot sign.
func (s *Service) OutputURL(ctx context.Context, p *apikeys.Principal, id string, localURL func(id string) string) (*Download, error) {
	_, b, key, err := s.OutputKey(ctx, p, id)
	if err != nil {
		return nil, err
	}
	return s.download(ctx, p, id, b, key, localURL)
}

// download signs a URL of key in b (see OutputURL).
func (s *Service) download(ctx context.Context, p *apikeys.Principal, id string, b *blob.Bucket, key string, localURL func(id string) string) (*Download, error) {
	dl := &Download{ExpiresAt: s.Now().UTC().Add(s.URLExpiry).Truncate(time.Second)}
	// A storage destination signs with its own provider: Cloud Storage V4,
	// an S3 presigned URL or an Azure SAS.
	url, err := b.SignedURL(ctx, key, &blob.SignedURLOptions{Method: http.MethodGet, Expiry: s.URLExpiry, BeforeSign: destinations.V4})
	switch {
	case err == nil:
		dl.URL = url
	case gcerrors.Code(err) == gcerrors.Unimplemented:
		dl.URL, dl.Authenticated = localURL(id), true
	default:
		return nil, fmt.Errorf("%w: sign download URL: %w", ErrUnavailable, err)
	}
	s.emit(ctx, p, "output.download_url", id, "success", nil)
	return dl, nil
}

// ---- keys ----

// CreateKey issues a key of the caller's tenant. Only an admin key may,
// and the bootstrap admin key comes from the CLI.
func (s *Service) CreateKey(ctx context.Context, p *apikeys.Principal, name string, scopes []apikeys.Scope, test bool) (string, *apikeys.Record, error) {
	key, rec, err := s.Keys.Create(ctx, apikeys.CreateOptions{Tenant: p.Tenant, Name: name, Scopes: scopes, Test: test})
	if err != nil {
		return "", nil, err
	}
	s.emit(ctx, p, "key.created", rec.ID, "success", map[string]string{"scopes": scopeList(scopes)})
	return key, rec, nil
}

// RevokeKey revokes a key of the caller's tenant; another tenant's key id
// is not found.
func (s *Service) RevokeKey(ctx context.Context, p *apikeys.Principal, id string) (*apikeys.Record, error) {
	if err := s.Keys.Revoke(ctx, p.Tenant, id); err != nil {
		if errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrInvalid) {
			return nil, fmt.Errorf("%w: key %s", ErrNotFound, id)
		}
		return nil, fmt.Errorf("revoke key %s: %w", id, err)
	}
	s.emit(ctx, p, "key.revoked", id, "success", nil)
	recs, err := s.Keys.List(ctx, p.Tenant)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		if recs[i].ID == id {
			return &recs[i], nil
		}
	}
	return nil, fmt.Errorf("%w: key %s", ErrNotFound, id)
}

func scopeList(sc []apikeys.Scope) string {
	parts := make([]string, len(sc))
	for i, s := range sc {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}
