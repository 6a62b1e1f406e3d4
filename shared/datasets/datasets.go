// Package datasets records uploaded tables and fixes where every object of a
// tenant lives in the object store. Every key starts with tenants/<tenant>/,
// so a tenant's objects can never be reached through another tenant's ids.
package datasets

import (
	"synthos.dev/synthos/shared/errs"

	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"synthos.dev/synthos/shared/state"
)

// Collection holds one document per dataset.
const Collection = "datasets"

// Errors callers act on.
var (
	ErrNotFound = errs.New(errs.NotFound, "datasets: no such dataset")
	ErrInvalid  = errs.New(errs.InvalidArgument, "datasets: invalid request")
)

// Dataset is an uploaded table.
type Dataset struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Name      string    `json:"name"`   // the file name the client gave
	Key       string    `json:"key"`    // object key of the table
	Format    string    `json:"format"` // csv, tsv, jsonl, parquet
	Size      int64     `json:"size"`
	Status    string    `json:"status"` // "pending" (signed upload not done yet) or "ready"
	CreatedAt time.Time `json:"created_at"`
	Created   int64     `json:"created"` // Unix ns, for ordering
}

// Store is the datasets view of a state store.
type Store struct{ st state.Store }

// New returns a Store over st.
func New(st state.Store) *Store { return &Store{st: st} }

// Create stores d.
func (s *Store) Create(ctx context.Context, d *Dataset) error {
	if d.ID == "" || d.Tenant == "" || d.Key == "" {
		return fmt.Errorf("%w: dataset needs id, tenant and key", ErrInvalid)
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now().UTC()
	}
	d.Created = d.CreatedAt.UnixNano()
	if err := s.st.Create(ctx, Collection, d.ID, d); err != nil {
		return fmt.Errorf("datasets: create %s: %w", d.ID, err)
	}
	return nil
}

// Set replaces d (e.g. to mark a signed upload ready).
func (s *Store) Set(ctx context.Context, d *Dataset) error {
	if err := s.st.Set(ctx, Collection, d.ID, d); err != nil {
		return fmt.Errorf("datasets: update %s: %w", d.ID, err)
	}
	return nil
}

// Get returns the tenant's dataset; another tenant's is ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant, id string) (*Dataset, error) {
	var d Dataset
	if err := s.st.Get(ctx, Collection, id, &d); err != nil {
		if errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrInvalid) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, fmt.Errorf("datasets: get %s: %w", id, err)
	}
	if d.Tenant != tenant {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return &d, nil
}

// List returns the tenant's datasets, newest first.
func (s *Store) List(ctx context.Context, tenant string, limit int) ([]Dataset, error) {
	docs, err := s.st.Query(ctx, Collection, state.Query{
		Where: []state.Eq{{Field: "tenant", Value: tenant}}, OrderBy: "created", Desc: true, Limit: limit,
	})
	if err != nil {
		return nil, fmt.Errorf("datasets: list: %w", err)
	}
	out := make([]Dataset, 0, len(docs))
	for _, doc := range docs {
		var d Dataset
		if err := doc.DataTo(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// Object keys. Every function builds keys through these, never by hand.

// TenantPrefix is the root of a tenant's objects.
func TenantPrefix(tenant string) string { return "tenants/" + tenant + "/" }

// DatasetKey is where an uploaded table lives.
func DatasetKey(tenant, id, name string) string {
	return TenantPrefix(tenant) + "datasets/" + id + "/" + SafeName(name)
}

// JobPrefix is the root of a job's artifacts.
func JobPrefix(tenant, job string) string { return TenantPrefix(tenant) + "jobs/" + job + "/" }

// OutputKey is the job's synthetic table.
func OutputKey(tenant, job, ext string) string { return JobPrefix(tenant, job) + "output." + ext }

// PartKey is shard i's part of the output before composition.
func PartKey(tenant, job string, shard int) string {
	return fmt.Sprintf("%sparts/part-%05d", JobPrefix(tenant, job), shard)
}

// ModelKey is the fitted model artifact.
func ModelKey(tenant, job string) string { return JobPrefix(tenant, job) + "model.bin" }

// HoldoutKey holds the rows set aside before fitting, for the privacy report.
func HoldoutKey(tenant, job string) string { return JobPrefix(tenant, job) + "holdout.csv" }

// TrainKey holds the rows the model was fitted on, for the privacy report.
func TrainKey(tenant, job string) string { return JobPrefix(tenant, job) + "train.csv" }

// ReportKey is the job's report in format ext (json or html).
func ReportKey(tenant, job, ext string) string { return JobPrefix(tenant, job) + "report." + ext }

// QuarantineKey is where an output that failed the release gate is moved.
func QuarantineKey(tenant, job, ext string) string {
	return TenantPrefix(tenant) + "quarantine/" + job + "/output." + ext
}

// SafeName reduces a client-supplied file name to a safe base name.
func SafeName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	var b strings.Builder
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.TrimLeft(b.String(), ".")
	if s == "" {
		return "data"
	}
	if len(s) > 200 {
		s = s[len(s)-200:]
	}
	return s
}
