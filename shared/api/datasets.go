package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/table"
)

// formatOf returns the table format of a client's file name.
func formatOf(name string) (string, error) {
	f, err := table.FormatOf(name)
	if err != nil {
		return "", &CodedError{Code: "unsupported_media_type", Kind: ErrUnsupported,
			Msg:     fmt.Sprintf("cannot tell the table format of %q: name the file .csv, .tsv, .jsonl, .ndjson or .parquet", name),
			Details: map[string]any{"field": "file"}}
	}
	return f.String(), nil
}

// Upload stores a table streamed from r under the tenant and records it
// as a ready dataset.
func (s *Service) Upload(ctx context.Context, p *apikeys.Principal, name string, r io.Reader) (*datasets.Dataset, error) {
	format, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	id := NewID(ctx, p.Tenant, "dataset", "ds_")
	if d, err := s.Datasets.Get(ctx, p.Tenant, id); err == nil {
		return d, nil // re-executed under the same Idempotency-Key
	}
	d := &datasets.Dataset{ID: id, Tenant: p.Tenant, Name: name, Key: datasets.DatasetKey(p.Tenant, id, name),
		Format: format, Status: "ready", CreatedAt: s.Now().UTC()}
	if d.Size, err = s.putObject(ctx, d.Key, r); err != nil {
		return nil, err
	}
	if err := s.Datasets.Create(ctx, d); err != nil {
		return nil, fmt.Errorf("upload %s: %w", id, err)
	}
	s.emit(ctx, p, "dataset.created", id, "success", map[string]string{"format": format, "via": "upload"})
	return d, nil
}

// putObject streams r to key, refusing more than MaxUpload bytes.
func (s *Service) putObject(ctx context.Context, key string, r io.Reader) (int64, error) {
	var n int64
	err := objects.Put(ctx, s.Bucket, key, func(w io.Writer) error {
		var err error
		n, err = io.Copy(w, io.LimitReader(r, s.MaxUpload+1))
		if err != nil {
			return err
		}
		if n > s.MaxUpload {
			return fmt.Errorf("%w: the table is larger than %d bytes; use POST /v1/datasets/uploads for large files", ErrTooLarge, s.MaxUpload)
		}
		if n == 0 {
			return fieldErr("file", "is empty")
		}
		return nil
	}, nil)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return 0, fmt.Errorf("%w: the request is larger than %d bytes", ErrTooLarge, mbe.Limit)
		}
		return 0, fmt.Errorf("store table: %w", err)
	}
	return n, nil
}

// Upload is a pending dataset and where to send its bytes.
type Upload struct {
	Dataset   Dataset           `json:"dataset"`
	URL       string            `json:"upload_url"`
	Method    string            `json:"method"`
	Headers   map[string]string `json:"headers,omitempty"`
	ExpiresAt time.Time         `json:"expires_at"`
}

// BeginUpload records a pending dataset and returns a signed PUT URL for
// its bytes. When the bucket cannot sign URLs (the local file driver), the
// URL is localURL(id): the API's own authenticated PUT endpoint.
func (s *Service) BeginUpload(ctx context.Context, p *apikeys.Principal, name string, localURL func(id string) string) (*Upload, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fieldErr("name", "is required: the table's file name, e.g. adult.csv")
	}
	format, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	id := NewID(ctx, p.Tenant, "dataset", "ds_")
	d, err := s.Datasets.Get(ctx, p.Tenant, id)
	if err != nil {
		d = &datasets.Dataset{ID: id, Tenant: p.Tenant, Name: name, Key: datasets.DatasetKey(p.Tenant, id, name),
			Format: format, Status: "pending", CreatedAt: s.Now().UTC()}
		if err := s.Datasets.Create(ctx, d); err != nil {
			return nil, fmt.Errorf("begin upload %s: %w", id, err)
		}
		s.emit(ctx, p, "dataset.upload_started", id, "success", map[string]string{"format": format})
	}
	up := &Upload{Dataset: DatasetView(d), Method: http.MethodPut, ExpiresAt: s.Now().UTC().Add(s.URLExpiry).Truncate(time.Second)}
	url, err := s.Bucket.SignedURL(ctx, d.Key, &blob.SignedURLOptions{Method: http.MethodPut, Expiry: s.URLExpiry, EnforceAbsentContentType: true})
	switch {
	case err == nil:
		up.URL = url
	case gcerrors.Code(err) == gcerrors.Unimplemented:
		up.URL = localURL(id)
		up.Headers = map[string]string{"Authorization": "Bearer <your API key>"}
	default:
		return nil, fmt.Errorf("%w: sign upload URL: %w", ErrUnavailable, err)
	}
	return up, nil
}

// PutContent stores the bytes of a pending dataset (the local stand-in for
// a signed PUT URL).
func (s *Service) PutContent(ctx context.Context, p *apikeys.Principal, id string, r io.Reader) (*datasets.Dataset, error) {
	d, err := s.Datasets.Get(ctx, p.Tenant, id)
	if err != nil {
		return nil, err
	}
	if d.Status != "pending" {
		return nil, &CodedError{Code: "dataset_complete", Kind: ErrConflict,
			Msg: fmt.Sprintf("dataset %s is already %s; upload a new dataset instead", id, d.Status)}
	}
	if _, err := s.putObject(ctx, d.Key, r); err != nil {
		return nil, err
	}
	return d, nil
}

// CompleteUpload marks a pending dataset ready once its object exists.
// Completing a ready dataset returns it unchanged.
func (s *Service) CompleteUpload(ctx context.Context, p *apikeys.Principal, id string) (*datasets.Dataset, error) {
	d, err := s.Datasets.Get(ctx, p.Tenant, id)
	if err != nil {
		return nil, err
	}
	if d.Status == "ready" {
		return d, nil
	}
	attrs, err := s.Bucket.Attributes(ctx, d.Key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, &CodedError{Code: "upload_missing", Kind: ErrConflict,
			Msg: fmt.Sprintf("nothing was uploaded for dataset %s yet: PUT the file to its upload_url first", id)}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: inspect upload: %w", ErrUnavailable, err)
	}
	if attrs.Size > s.MaxUpload {
		return nil, fmt.Errorf("%w: the table is larger than %d bytes", ErrTooLarge, s.MaxUpload)
	}
	if attrs.Size == 0 {
		return nil, &CodedError{Code: "upload_missing", Kind: ErrConflict, Msg: fmt.Sprintf("the upload of dataset %s is empty", id)}
	}
	d.Size, d.Status = attrs.Size, "ready"
	if err := s.Datasets.Set(ctx, d); err != nil {
		return nil, err
	}
	s.emit(ctx, p, "dataset.created", id, "success", map[string]string{"format": d.Format, "via": "signed_url"})
	return d, nil
}
