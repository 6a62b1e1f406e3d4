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
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/guard"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/dp/ledger"
	"synthos.dev/synthos/shared/engine"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/idempotency"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/obs"
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
	// Entitlements enforces plans before a job is created (402/429) and
	// meters the rows of each job against the monthly quota (reserved
	// here, committed or released by the pipeline); nil skips both.
	Entitlements *entitlements.Entitlements
	// Ledger is the differential-privacy budget of each dataset: a dp job
	// reserves its rho here before it is created.
	Ledger *ledger.Ledger
	// Webhooks manages the tenant's outbound webhook endpoints and their
	// delivery log (see webhooks.go); nil answers 503 on those routes.
	Webhooks *Webhooks
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
}

// NewService returns a Service over the given adapters, enforcing the
// plans of catalog (nil: plans.Default()), with a privacy budget ledger
// whose default cap is config's default (replace Ledger to change it).
func NewService(st state.Store, bucket *blob.Bucket, pub events.Publisher, keys *apikeys.Keys, catalog *plans.Catalog) (*Service, error) {
	if st == nil || bucket == nil || pub == nil || keys == nil {
		return nil, errors.New("api.NewService: state, bucket, publisher and keys are required")
	}
	ent, err := entitlements.New(st, catalog, nil)
	if err != nil {
		return nil, fmt.Errorf("api.NewService: %w", err)
	}
	led, err := ledger.New(st, ledger.Options{DefaultEpsilon: config.DefaultDPBudgetEpsilon, DefaultDelta: config.DefaultDPBudgetDelta})
	if err != nil {
		return nil, fmt.Errorf("api.NewService: %w", err)
	}
	return &Service{
		State: st, Jobs: jobs.New(st), Datasets: datasets.New(st), Keys: keys, Bucket: bucket, Pub: pub,
		Entitlements: ent, Ledger: led, MaxUpload: DefaultMaxUpload, MaxResumable: DefaultMaxResumable, URLExpiry: DefaultURLExpiry, Now: time.Now,
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
	ev := audit.Event{Tenant: p.Tenant, Actor: "key:" + p.KeyID, Action: action, Resource: resource, Outcome: outcome, Details: details}
	if err := audit.Emit(ctx, s.Pub, ev); err != nil {
		obs.Logger(ctx).ErrorContext(ctx, "audit emit", "action", action, "error", err)
	}
}

// EmitDenied records a refused request as a security event.
func (s *Service) EmitDenied(ctx context.Context, p *apikeys.Principal, action, reason string) {
	s.emit(ctx, p, action, "", "denied", map[string]string{"reason": reason})
}

// ---- jobs ----

// nonTerminal are the states a running job can be in.
var nonTerminal = []jobs.State{jobs.Queued, jobs.Profiling, jobs.Fitting, jobs.Sampling, jobs.Evaluating}

// running counts the tenant's unfinished jobs, for the plan's concurrency
// limit (one equality query per state, each served by an index).
func (s *Service) running(ctx context.Context, tenant string) (int, error) {
	n := 0
	for _, st := range nonTerminal {
		docs, err := s.State.Query(ctx, jobs.Collection, state.Query{Where: []state.Eq{{Field: "tenant", Value: tenant}, {Field: "state", Value: string(st)}}})
		if err != nil {
			return 0, fmt.Errorf("count running jobs: %w", err)
		}
		n += len(docs)
	}
	return n, nil
}

// CreateJob checks a validated request against the dataset, the spend
// guard, the tenant's plan, reserving its rows of the monthly quota (see
// quota.go), and, for the dp model, the dataset's privacy budget (both
// reserved before the job is stored), stores the job and publishes its
// first pipeline step. If the job cannot be stored or queued, its
// reservations are released.
func (s *Service) CreateJob(ctx context.Context, p *apikeys.Principal, req jobs.Request, seedSet bool) (*jobs.Job, error) {
	d, err := s.Datasets.Get(ctx, p.Tenant, req.Dataset)
	if errors.Is(err, datasets.ErrNotFound) {
		return nil, &CodedError{Code: "not_found", Kind: ErrNotFound, Msg: fmt.Sprintf("dataset %s does not exist", req.Dataset),
			Details: map[string]any{"field": "dataset"}}
	}
	if err != nil {
		return nil, err
	}
	if d.Status != "ready" {
		return nil, &CodedError{Code: "dataset_not_ready", Kind: ErrConflict, Details: map[string]any{"field": "dataset"},
			Msg: fmt.Sprintf("dataset %s is %s: finish its upload (POST /v1/datasets/%s/complete) first", d.ID, d.Status, d.ID)}
	}
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
	j := &jobs.Job{ID: id, Tenant: p.Tenant, Request: req}
	if s.Entitlements != nil {
		if req.Rows <= 0 {
			return nil, fieldErr("rows", "must be positive: a job reserves its rows of the monthly quota when it is created")
		}
		n, err := s.running(ctx, p.Tenant)
		if err != nil {
			return nil, err
		}
		if j.QuotaReservation, err = s.reserveQuota(ctx, p, req, id, n); err != nil {
			return nil, err
		}
	}
	if req.Model == engine.KindDP {
		if j.DPReservation, j.DPRho, err = s.reserve(ctx, p, req, id); err != nil {
			if rerr := s.releaseQuota(ctx, j); rerr != nil {
				return nil, errors.Join(err, fmt.Errorf("%w: %w", ErrUnavailable, rerr))
			}
			return nil, err
		}
	}
	if err := s.Jobs.Create(ctx, j); err != nil {
		if errors.Is(err, state.ErrAlreadyExists) {
			// A concurrent attempt of the same request stored it first: free
			// what this attempt holds that the stored job does not.
			cur, gerr := s.Jobs.Get(ctx, p.Tenant, id)
			if gerr != nil {
				return nil, errors.Join(err, gerr)
			}
			extra := &jobs.Job{ID: id}
			if cur.DPReservation != j.DPReservation {
				extra.DPReservation = j.DPReservation
			}
			if !sameQuota(cur.QuotaReservation, j.QuotaReservation) {
				extra.QuotaReservation = j.QuotaReservation
			}
			if rerr := s.releaseAll(ctx, extra); rerr != nil {
				return nil, fmt.Errorf("%w: %w", ErrUnavailable, rerr)
			}
			return s.submit(ctx, p, cur)
		}
		return nil, errors.Join(err, s.releaseAll(ctx, j))
	}
	s.emit(ctx, p, "job.created", id, "success", map[string]string{"model": req.Model, "dataset": req.Dataset})
	return s.submit(ctx, p, j)
}

// releaseAll releases the privacy budget and monthly quota reservations of
// a job that was never run.
func (s *Service) releaseAll(ctx context.Context, j *jobs.Job) error {
	return errors.Join(s.release(ctx, j), s.releaseQuota(ctx, j))
}

// submit publishes a queued job's first step. A job that holds a
// reservation (privacy budget or monthly quota) and cannot be queued is
// withdrawn (deleted while still queued) and its reservations released, so
// that nothing stays reserved for a job that never runs; a retry of the
// request creates it afresh. Other jobs (unmetered) stay stored, and a
// retry with the same Idempotency-Key publishes them.
func (s *Service) submit(ctx context.Context, p *apikeys.Principal, j *jobs.Job) (*jobs.Job, error) {
	if j.State != jobs.Queued {
		return j, nil
	}
	err := jobs.Submit(ctx, s.Pub, j)
	if err == nil {
		return j, nil
	}
	if j.DPReservation == "" && j.QuotaReservation == nil {
		return nil, fmt.Errorf("%w: job %s stored but not queued: %w", ErrUnavailable, j.ID, err)
	}
	withdrawn, werr := s.Jobs.DeleteQueued(ctx, p.Tenant, j.ID)
	switch {
	case werr != nil:
		// The job is stored with its reservations; a retry publishes it.
		return nil, fmt.Errorf("%w: job %s stored but not queued: %w", ErrUnavailable, j.ID, errors.Join(err, werr))
	case !withdrawn:
		// A step already moved it past queued: the publication did go
		// through after all, and the job runs on its reservations.
		return j, nil
	}
	s.emit(ctx, p, "job.withdrawn", j.ID, "failed", map[string]string{"reason": "could not be queued"})
	if rerr := s.releaseAll(ctx, j); rerr != nil {
		err = errors.Join(err, rerr)
	}
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
		// first step, finding the job cancelled, settles them too.
		_ = s.releaseAll(ctx, j)
		if err := jobs.PublishEvent(ctx, s.Pub, j); err != nil {
			obs.Logger(ctx).ErrorContext(ctx, "publish job event", "job", id, "error", err)
		}
	}
	return j, nil
}

// ---- reports and outputs ----

// ReportKey returns the object key of the tenant's job report in format
// ext (json or html), or ErrNotReady while it is not written.
func (s *Service) ReportKey(ctx context.Context, p *apikeys.Principal, id, ext string) (string, error) {
	j, err := s.Jobs.Get(ctx, p.Tenant, id)
	if err != nil {
		return "", err
	}
	key := datasets.ReportKey(p.Tenant, id, ext)
	ok, err := objects.Exists(ctx, s.Bucket, key)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !ok {
		return "", &CodedError{Code: "not_ready", Kind: ErrNotReady, Msg: fmt.Sprintf("the report of job %s is not written yet (job is %s)", id, j.State),
			Details: map[string]any{"state": string(j.State)}}
	}
	return key, nil
}

// OutputKey returns the object key of the tenant's job output, or an error
// while the job has not succeeded (a quarantined output is never served).
func (s *Service) OutputKey(ctx context.Context, p *apikeys.Principal, id string) (*jobs.Job, string, error) {
	j, err := s.Jobs.Get(ctx, p.Tenant, id)
	if err != nil {
		return nil, "", err
	}
	if j.State != jobs.Succeeded {
		d := map[string]any{"state": string(j.State)}
		if len(j.Reasons) > 0 {
			d["reasons"] = j.Reasons
		}
		return nil, "", &CodedError{Code: "not_ready", Kind: ErrNotReady, Details: d,
			Msg: fmt.Sprintf("job %s is %s; its output is available once it has succeeded", id, j.State)}
	}
	key := datasets.OutputKey(p.Tenant, id, j.Request.Format)
	ok, err := objects.Exists(ctx, s.Bucket, key)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !ok {
		return nil, "", &CodedError{Code: "not_ready", Kind: ErrNotReady, Details: map[string]any{"state": string(j.State)},
			Msg: fmt.Sprintf("the output of job %s is not in the object store", id)}
	}
	return j, key, nil
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
	_, key, err := s.OutputKey(ctx, p, id)
	if err != nil {
		return nil, err
	}
	dl := &Download{ExpiresAt: s.Now().UTC().Add(s.URLExpiry).Truncate(time.Second)}
	url, err := s.Bucket.SignedURL(ctx, key, &blob.SignedURLOptions{Method: http.MethodGet, Expiry: s.URLExpiry})
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
