// Package datasets records uploaded tables and fixes where every object of a
// tenant lives in the object store. Every key starts with tenants/<tenant>/,
// so a tenant's objects can never be reached through another tenant's ids.
package datasets

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// Collection holds one document per dataset.
const Collection = "datasets"

// Errors callers act on.
var (
	ErrNotFound = errs.New(errs.NotFound, "datasets: no such dataset")
	ErrInvalid  = errs.New(errs.InvalidArgument, "datasets: invalid request")
)

// Statuses of a dataset. A table is parsed and profiled before it is
// Ready (see Validate); one that cannot be fitted is Invalid, with the
// reason in Problem.
const (
	// Pending: created by POST /v1/datasets/uploads; its bytes are being
	// uploaded (Received counts what has arrived through the API).
	Pending = "pending"
	// Validating: all bytes are stored; the table is being read.
	Validating = "validating"
	// Ready: the table parsed, has at least MinRows rows, and its Rows and
	// Columns are recorded.
	Ready = "ready"
	// Invalid: the table cannot be used; Problem says why and where.
	Invalid = "invalid"
)

// Dataset is an uploaded table.
type Dataset struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Name      string    `json:"name"`   // the file name the client gave
	Key       string    `json:"key"`    // object key of the table
	Format    string    `json:"format"` // csv, tsv, jsonl, parquet
	Size      int64     `json:"size"`
	Status    string    `json:"status"` // Pending, Validating, Ready or Invalid
	CreatedAt time.Time `json:"created_at"`
	Created   int64     `json:"created"` // Unix ns, for ordering

	// Rows and Columns are what validation found: the number of data rows
	// and each column's name and inferred kind (set once Ready).
	Rows    int64    `json:"rows,omitempty"`
	Columns []Column `json:"columns,omitempty"`
	// Problem is why an Invalid dataset cannot be used.
	Problem *Problem `json:"problem,omitempty"`

	// Received is how many bytes of a chunked upload (PUT .../content
	// with Content-Range) are stored; Total is the size the client
	// declared (0 while unknown).
	Received int64 `json:"received,omitempty"`
	Total    int64 `json:"total,omitempty"`
}

// Column is a column of a validated dataset.
type Column struct {
	Name string `json:"name"`
	// Kind is the profile's kind: numeric, categorical, boolean, datetime,
	// id, text or pii.
	Kind string `json:"kind"`
	// PII names the kind of personal data of a pii column.
	PII string `json:"pii,omitempty"`
	// Missing counts the column's cells that hold no value (blank, or a
	// spelling of missing such as NA or null: profile.DefaultMissing),
	// counted over every row when the dataset was validated.
	Missing int64 `json:"missing"`
}

// Problem locates why a dataset is invalid. Row is the 1-based data row (0:
// the file as a whole or its header), Column the column's name when known.
type Problem struct {
	Message string `json:"message"`
	Row     int    `json:"row,omitempty"`
	Column  string `json:"column,omitempty"`
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

// Update applies fn to the tenant's dataset in a transaction and stores
// the result, which it returns. fn may run more than once.
func (s *Store) Update(ctx context.Context, tenant, id string, fn func(d *Dataset) error) (*Dataset, error) {
	var out Dataset
	err := s.st.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var d Dataset
		if err := tx.Get(Collection, id, &d); err != nil {
			return err
		}
		if d.Tenant != tenant {
			return notFound(id)
		}
		if err := fn(&d); err != nil {
			return err
		}
		out = d
		return tx.Set(Collection, id, &d)
	})
	if errors.Is(err, state.ErrNotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("datasets: update %s: %w", id, err)
	}
	return &out, nil
}

// Get returns the tenant's dataset; another tenant's is ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant, id string) (*Dataset, error) {
	var d Dataset
	if err := s.st.Get(ctx, Collection, id, &d); err != nil {
		if errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrInvalid) {
			return nil, notFound(id)
		}
		return nil, fmt.Errorf("datasets: get %s: %w", id, err)
	}
	if d.Tenant != tenant {
		return nil, notFound(id)
	}
	return &d, nil
}

// notFound is ErrNotFound for id, with a message for the user.
func notFound(id string) error {
	return &errs.Error{Code: errs.NotFound, Public: fmt.Sprintf("dataset %s does not exist", id), Err: fmt.Errorf("%w: %s", ErrNotFound, id)}
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

// ModelTestKey is the job's test of its pinned custom model in format ext
// (json or html).
func ModelTestKey(tenant, job, ext string) string {
	return JobPrefix(tenant, job) + "model-test." + ext
}

// QuarantineKey is where an output that failed the release gate is moved.
func QuarantineKey(tenant, job, ext string) string {
	return TenantPrefix(tenant) + "quarantine/" + job + "/output." + ext
}

// ChunkPrefix holds the chunks of a chunked upload until the last one
// arrives and they are joined into the dataset's object.
func ChunkPrefix(tenant, id string) string {
	return TenantPrefix(tenant) + "datasets/" + id + "/.chunks/"
}

// ChunkKey is where the chunk of bytes [start, end] of an upload is kept.
// The zero-padded offsets make the keys list in byte order.
func ChunkKey(tenant, id string, start, end int64) string {
	return fmt.Sprintf("%s%020d-%020d", ChunkPrefix(tenant, id), start, end)
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
