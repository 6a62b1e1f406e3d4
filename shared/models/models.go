// Package models is the registry of tenants' custom models: one record per
// uploaded model version (framework, format, declared inputs, the dataset
// it belongs to, its validation state) and its bytes in the object store
// under the tenant's prefix, next to its datasets, encrypted like them when
// the tenant chose encryption at rest (Store.Keys).
//
// A model is Validating from the moment its bytes are stored until
// modelcheck has read it, then Ready or Rejected with the reason. Versions
// count per tenant and model name: uploading "churn.json" again makes
// version 2.
package models

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/ensemble"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/modelcheck"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/vertex"
)

// Collection holds one document per model version.
const Collection = "models"

// Statuses.
const (
	// Pending: created by Begin (POST /v1/models/uploads); its bytes are
	// being uploaded through the resumable protocol.
	Pending    = "pending"
	Validating = "validating"
	Ready      = "ready"
	Rejected   = "rejected"
)

// Model is one uploaded model version.
type Model struct {
	ID        string `json:"id"`
	Tenant    string `json:"tenant"`
	Name      string `json:"name"`
	Version   int    `json:"version"`
	Key       string `json:"key"`
	Size      int64  `json:"size"`
	Status    string `json:"status"`
	Reason    string `json:"reason,omitempty"` // why it was rejected
	Framework string `json:"framework,omitempty"`
	Format    string `json:"format,omitempty"`
	Task      string `json:"task,omitempty"`
	// Servable: predicted in process (tree ensembles); other frameworks
	// are validated and stored only (deployable to Vertex AI).
	Servable bool               `json:"servable"`
	Inputs   []modelcheck.Input `json:"inputs,omitempty"`
	// Dataset the model belongs to, and the column it predicts; Match is
	// how its inputs line up with the dataset's columns.
	Dataset  string                 `json:"dataset,omitempty"`
	Target   string                 `json:"target,omitempty"`
	Match    *modelcheck.InputMatch `json:"match,omitempty"`
	Findings []modelcheck.Finding   `json:"findings,omitempty"`
	// Deployment is where the model runs on Vertex AI, once deployed.
	Deployment *vertex.Deployment `json:"deployment,omitempty"`
	CreatedAt  time.Time          `json:"created_at"`
	Created    int64              `json:"created"`
	// Received is how many bytes of a chunked upload are stored; Total
	// the size the client declared or stated (0: not known yet).
	Received int64 `json:"received,omitempty"`
	Total    int64 `json:"total,omitempty"`
}

// Store is the models view of a state store and object bucket.
type Store struct {
	st     state.Store
	bucket *blob.Bucket
	Limits modelcheck.Limits
	// Keys returns the tenants' keyring: a model's bytes are encrypted at
	// rest as the tenant's datasets are (keyring.ObjectWriter) when the
	// tenant chose encryption, and read through keyring.ObjectReader, so
	// models stored before encryption was turned on stay readable. Nil (or
	// a nil keyring) stores plain bytes and refuses encrypted ones.
	Keys func(ctx context.Context) (*keyring.Keyring, error)
}

func (s *Store) ring(ctx context.Context) (*keyring.Keyring, error) {
	if s.Keys == nil {
		return nil, nil
	}
	k, err := s.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("models: the encryption keys: %w", err)
	}
	return k, nil
}

// open returns a reader of a stored model's plaintext.
func (s *Store) open(ctx context.Context, m *Model) (io.ReadCloser, error) {
	ring, err := s.ring(ctx)
	if err != nil {
		return nil, err
	}
	rd, err := s.bucket.NewReader(ctx, m.Key, nil)
	if err != nil {
		return nil, fmt.Errorf("models: read %s: %w", m.ID, err)
	}
	r, err := ring.ObjectReader(ctx, m.Tenant, rd)
	if err != nil {
		rd.Close()
		return nil, fmt.Errorf("models: read %s: %w", m.ID, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{r, rd}, nil
}

// store writes a model's bytes from r (at most Limits.MaxBytes), through
// the tenant's encryption when it chose it, and returns the plaintext
// (validation reads it whole) and its size.
func (s *Store) store(ctx context.Context, m *Model, r io.Reader) ([]byte, error) {
	ring, err := s.ring(ctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = objects.Put(ctx, s.bucket, m.Key, func(w io.Writer) error {
		ow, err := ring.ObjectWriter(ctx, m.Tenant, w)
		if err != nil {
			return err
		}
		n, err := io.Copy(io.MultiWriter(ow, &buf), io.LimitReader(r, s.Limits.MaxBytes+1))
		if err != nil {
			return err
		}
		if n > s.Limits.MaxBytes {
			return errs.Errorf(errs.TooLarge, "the model is larger than %d bytes", s.Limits.MaxBytes)
		}
		if n == 0 {
			return errs.New(errs.InvalidArgument, "the model file is empty")
		}
		m.Size = n
		return ow.Close()
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("models: store %s: %w", m.ID, err)
	}
	return buf.Bytes(), nil
}

// New returns a Store.
func New(st state.Store, bucket *blob.Bucket) *Store {
	return &Store{st: st, bucket: bucket, Limits: modelcheck.DefaultLimits}
}

// Key is where a model version's bytes live.
func Key(tenant, id, name string) string {
	return datasets.TenantPrefix(tenant) + "models/" + id + "/" + datasets.SafeName(name)
}

func notFound(id string) error {
	return &errs.Error{Code: errs.NotFound, Public: fmt.Sprintf("model %s does not exist", id), Err: errors.New("models: no such model " + id)}
}

// Upload is what a client sends with a model's bytes.
type Upload struct {
	ID      string // chosen by the caller (idempotent retries reuse it)
	Tenant  string
	Name    string // file name; its extension helps format sniffing
	Dataset string // optional
	Target  string // optional, with Dataset
}

// Create stores the bytes from r (at most Limits.MaxBytes), records the
// model Validating, validates it and records Ready or Rejected. A rejected
// model is returned with a nil error: rejection is a state, not a failure.
func (s *Store) Create(ctx context.Context, u Upload, r io.Reader) (*Model, error) {
	if u.ID == "" || u.Tenant == "" || u.Name == "" {
		return nil, errs.Errorf(errs.InvalidArgument, "models: upload needs id, tenant and name")
	}
	var ds *datasets.Dataset
	if u.Dataset != "" {
		var err error
		if ds, err = datasets.New(s.st).Get(ctx, u.Tenant, u.Dataset); err != nil {
			return nil, err
		}
	}
	m, err := s.newVersion(ctx, u, Validating)
	if err != nil {
		return nil, err
	}
	data, err := s.store(ctx, m, r)
	if err != nil {
		return nil, err
	}
	if err := s.st.Create(ctx, Collection, m.ID, m); err != nil {
		return nil, fmt.Errorf("models: create %s: %w", m.ID, err)
	}
	s.validate(m, data, ds)
	if err := s.st.Set(ctx, Collection, m.ID, m); err != nil {
		return nil, fmt.Errorf("models: update %s: %w", m.ID, err)
	}
	return m, nil
}

// newVersion is the record of u's model as the next version of its name.
func (s *Store) newVersion(ctx context.Context, u Upload, status string) (*Model, error) {
	prev, err := s.List(ctx, u.Tenant, 0)
	if err != nil {
		return nil, err
	}
	m := &Model{ID: u.ID, Tenant: u.Tenant, Name: u.Name, Version: 1, Key: Key(u.Tenant, u.ID, u.Name),
		Status: status, Dataset: u.Dataset, Target: u.Target, CreatedAt: time.Now().UTC()}
	for _, p := range prev {
		if p.Name == u.Name && p.Version >= m.Version {
			m.Version = p.Version + 1
		}
	}
	m.Created = m.CreatedAt.UnixNano()
	return m, nil
}

// Begin records a Pending model version whose bytes (total of them, 0:
// not declared) arrive later through the resumable upload protocol; Finish
// validates it once they are stored at its Key.
func (s *Store) Begin(ctx context.Context, u Upload, total int64) (*Model, error) {
	if u.ID == "" || u.Tenant == "" || u.Name == "" {
		return nil, errs.Errorf(errs.InvalidArgument, "models: upload needs id, tenant and name")
	}
	if total > s.Limits.MaxBytes {
		return nil, errs.Errorf(errs.TooLarge, "the model is larger than %d bytes", s.Limits.MaxBytes)
	}
	if u.Dataset != "" {
		if _, err := datasets.New(s.st).Get(ctx, u.Tenant, u.Dataset); err != nil {
			return nil, err
		}
	}
	m, err := s.newVersion(ctx, u, Pending)
	if err != nil {
		return nil, err
	}
	m.Total = total
	if err := s.st.Create(ctx, Collection, m.ID, m); err != nil {
		return nil, fmt.Errorf("models: create %s: %w", m.ID, err)
	}
	return m, nil
}

// Set records m as it is.
func (s *Store) Set(ctx context.Context, m *Model) error {
	if err := s.st.Set(ctx, Collection, m.ID, m); err != nil {
		return fmt.Errorf("models: update %s: %w", m.ID, err)
	}
	return nil
}

// Update changes the tenant's model record in one transaction.
func (s *Store) Update(ctx context.Context, tenant, id string, fn func(m *Model)) (*Model, error) {
	var out Model
	err := s.st.RunTransaction(ctx, func(_ context.Context, tx state.Tx) error {
		var m Model
		if err := tx.Get(Collection, id, &m); err != nil {
			return err
		}
		if m.Tenant != tenant {
			return state.ErrNotFound
		}
		fn(&m)
		out = m
		return tx.Set(Collection, id, &m)
	})
	if errors.Is(err, state.ErrNotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("models: update %s: %w", id, err)
	}
	return &out, nil
}

// Finish validates a model whose bytes are all stored at its Key (Size
// set) and records it Ready or Rejected; a model already validated is
// returned as it is.
func (s *Store) Finish(ctx context.Context, tenant, id string) (*Model, error) {
	m, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	if m.Status == Ready || m.Status == Rejected {
		return m, nil
	}
	var ds *datasets.Dataset
	if m.Dataset != "" {
		if ds, err = datasets.New(s.st).Get(ctx, tenant, m.Dataset); err != nil {
			return nil, err
		}
	}
	rd, err := s.open(ctx, m)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(rd, s.Limits.MaxBytes+1))
	rd.Close()
	if err != nil {
		return nil, fmt.Errorf("models: read %s: %w", id, err)
	}
	if int64(len(data)) > s.Limits.MaxBytes {
		return nil, errs.Errorf(errs.TooLarge, "the model is larger than %d bytes", s.Limits.MaxBytes)
	}
	m.Size = int64(len(data))
	s.validate(m, data, ds)
	if err := s.Set(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// validate fills in what modelcheck finds and the verdict.
func (s *Store) validate(m *Model, data []byte, ds *datasets.Dataset) {
	r := modelcheck.Check(data, m.Name, s.Limits)
	m.Framework, m.Format, m.Task, m.Servable, m.Inputs, m.Findings = r.Framework, r.Format, r.Task, r.Servable, r.Inputs, r.Findings
	m.Status, m.Reason = Ready, ""
	if !r.OK() {
		m.Status, m.Reason = Rejected, r.Reason()
		return
	}
	if ds != nil && len(r.Inputs) > 0 {
		match := modelcheck.MatchInputs(r.Inputs, datasetProfile(ds), m.Target)
		m.Match = &match
		if !match.OK() {
			m.Status, m.Reason = Rejected, "inputs do not match dataset "+ds.ID+": "+match.String()
		}
	}
}

// datasetProfile is the profile of a dataset's validated columns that
// model inputs are matched against. Dataset columns do not record whether
// numbers are integers, so every numeric column may carry category codes.
func datasetProfile(ds *datasets.Dataset) *profile.Profile {
	p := &profile.Profile{}
	for _, c := range ds.Columns {
		p.Columns = append(p.Columns, profile.Column{Name: c.Name, Kind: profile.Kind(c.Kind), Integer: c.Kind == string(profile.Numeric)})
	}
	return p
}

// Pin is what a job asks of the model pinned to it.
type Pin struct {
	ID      string // a model version's id
	Version int    // optional: this version of ID's model name instead
	Target  string // the job's target, used when the model names none
	// Categories lists, per categorical feature, the categories in the
	// model's code order.
	Categories map[string][]string
}

// ForJob resolves the model a job pins and checks it can score the job's
// outputs: it exists, is Ready, is predicted in process (the test scores
// every row), predicts a column of the dataset, and its features match the
// dataset's columns (no missing column, no kind mismatch; a categorical
// feature on a text or boolean column needs its categories). Errors carry
// errs codes (NotFound, FailedPrecondition, InvalidArgument) with a public
// message naming what to fix.
func (s *Store) ForJob(ctx context.Context, tenant string, pin Pin, ds *datasets.Dataset) (*Model, error) {
	m, err := s.Get(ctx, tenant, pin.ID)
	if err != nil {
		return nil, err
	}
	if pin.Version > 0 && pin.Version != m.Version {
		all, err := s.List(ctx, tenant, 0)
		if err != nil {
			return nil, err
		}
		var found *Model
		for i := range all {
			if all[i].Name == m.Name && all[i].Version == pin.Version {
				found = &all[i]
			}
		}
		if found == nil {
			return nil, errs.Public(errs.NotFound, "model %s (%s) has no version %d", pin.ID, m.Name, pin.Version)
		}
		m = found
	}
	switch {
	case m.Status != Ready:
		return nil, errs.Public(errs.FailedPrecondition, "model %s is %s, not ready: %s", m.ID, m.Status, m.Reason)
	case !m.Servable:
		return nil, errs.Public(errs.FailedPrecondition, "model %s is a %s model: a job scores its outputs only with models Synthos predicts in process (XGBoost, LightGBM)", m.ID, m.Framework)
	}
	target := m.Target
	if target == "" {
		target = pin.Target
	}
	if target == "" {
		return nil, errs.Public(errs.InvalidArgument, "model %s names no target column and neither does the job: set target to the column the model predicts", m.ID)
	}
	p := datasetProfile(ds)
	if len(ds.Columns) > 0 && p.Col(target) == nil {
		return nil, errs.Public(errs.InvalidArgument, "model %s predicts %q, which is not a column of dataset %s", m.ID, target, ds.ID)
	}
	if len(ds.Columns) == 0 {
		return m, nil
	}
	match := modelcheck.MatchInputs(m.Inputs, p, target)
	if len(match.Missing) > 0 || len(match.Mismatched) > 0 {
		return nil, errs.Public(errs.InvalidArgument, "model %s does not match dataset %s: %s", m.ID, ds.ID, match.String())
	}
	var need []string
	for _, in := range m.Inputs {
		c := p.Col(in.Name)
		if in.Kind == "categorical" && c.Kind != profile.Numeric && len(pin.Categories[in.Name]) == 0 {
			need = append(need, in.Name)
		}
	}
	if len(need) > 0 {
		return nil, errs.Public(errs.InvalidArgument, "model %s reads %s as category codes but dataset %s holds their names: give model_categories {feature: [categories in code order]} for them",
			m.ID, strings.Join(need, ", "), ds.ID)
	}
	return m, nil
}

// Get returns the tenant's model version; another tenant's is not found.
func (s *Store) Get(ctx context.Context, tenant, id string) (*Model, error) {
	var m Model
	if err := s.st.Get(ctx, Collection, id, &m); err != nil {
		if errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrInvalid) {
			return nil, notFound(id)
		}
		return nil, fmt.Errorf("models: get %s: %w", id, err)
	}
	if m.Tenant != tenant {
		return nil, notFound(id)
	}
	return &m, nil
}

// List returns the tenant's model versions, newest first.
func (s *Store) List(ctx context.Context, tenant string, limit int) ([]Model, error) {
	docs, err := s.st.Query(ctx, Collection, state.Query{
		Where: []state.Eq{{Field: "tenant", Value: tenant}}, OrderBy: "created", Desc: true, Limit: limit,
	})
	if err != nil {
		return nil, fmt.Errorf("models: list: %w", err)
	}
	out := make([]Model, 0, len(docs))
	for _, d := range docs {
		var m Model
		if err := d.DataTo(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// Delete removes the model's bytes and its record.
func (s *Store) Delete(ctx context.Context, tenant, id string) error {
	m, err := s.Get(ctx, tenant, id)
	if err != nil {
		return err
	}
	if err := s.bucket.Delete(ctx, m.Key); err != nil && errs.CodeOf(err) != errs.NotFound && !isBlobNotFound(err) {
		return fmt.Errorf("models: delete %s bytes: %w", id, err)
	}
	if err := s.st.Delete(ctx, Collection, id); err != nil {
		return fmt.Errorf("models: delete %s: %w", id, err)
	}
	return nil
}

// Load reads a Ready, servable model and parses it for prediction.
func (s *Store) Load(ctx context.Context, tenant, id string) (*Model, *ensemble.Model, error) {
	m, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case m.Status != Ready:
		return m, nil, errs.Public(errs.FailedPrecondition, "model %s is %s, not ready: %s", id, m.Status, m.Reason)
	case !m.Servable:
		return m, nil, errs.Public(errs.Unimplemented, "model %s is a %s model: Synthos validates and stores it but predicts in process only with XGBoost and LightGBM models (deploy it to Vertex AI)", id, m.Framework)
	}
	rd, err := s.open(ctx, m)
	if err != nil {
		return m, nil, err
	}
	defer rd.Close()
	em, err := ensemble.Parse(rd, m.Format)
	if err != nil {
		return m, nil, fmt.Errorf("models: parse %s: %w", id, err)
	}
	return m, em, nil
}

func isBlobNotFound(err error) bool { return gcerrors.Code(err) == gcerrors.NotFound }

// Deployer puts a validated model on a serving platform (vertex.Client).
type Deployer interface {
	Deploy(ctx context.Context, name, prefix string, r *modelcheck.Report, files map[string][]byte) (*vertex.Deployment, error)
}

// Deploy deploys a Ready model that is not served in process and records
// where it runs. Deploying twice returns the first deployment.
func (s *Store) Deploy(ctx context.Context, tenant, id string, d Deployer) (*Model, error) {
	m, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	switch {
	case m.Deployment != nil:
		return m, nil
	case m.Status != Ready:
		return nil, errs.Public(errs.FailedPrecondition, "model %s is %s, not ready: %s", id, m.Status, m.Reason)
	case m.Servable:
		return nil, errs.Public(errs.FailedPrecondition, "model %s is served in process (POST /v1/models/%s:predict); it needs no deployment", id, id)
	}
	rd, err := s.open(ctx, m)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(rd)
	rd.Close()
	if err != nil {
		return nil, fmt.Errorf("models: read %s: %w", id, err)
	}
	rep := modelcheck.Check(data, m.Name, s.Limits)
	if !rep.OK() {
		return nil, errs.Errorf(errs.Internal, "models: stored model %s no longer validates: %s", id, rep.Reason())
	}
	files, err := modelcheck.Files(data, m.Name, s.Limits)
	if err != nil {
		return nil, errs.Errorf(errs.Internal, "models: unpack %s: %v", id, err)
	}
	dep, err := d.Deploy(ctx, fmt.Sprintf("%s-v%d", datasets.SafeName(m.Name), m.Version), datasets.TenantPrefix(tenant)+"models/"+id+"/vertex", rep, files)
	if err != nil {
		return nil, err
	}
	m.Deployment = dep
	if err := s.st.Set(ctx, Collection, m.ID, m); err != nil {
		return nil, fmt.Errorf("models: record deployment of %s: %w", id, err)
	}
	return m, nil
}
