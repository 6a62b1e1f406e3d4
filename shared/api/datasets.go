package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/table"
)

// Datasets arrive three ways: a direct multipart upload (Upload, up to
// MaxUpload), an upload session (BeginUpload, then the bytes to its URL,
// then CompleteUpload; up to MaxResumable), and a file dropped in the
// uploads bucket (pipeline.Ingest). Each is validated (datasets.Validate)
// before it is ready: the dataset is "validating" while its table is read,
// then "ready" with its row count and columns, or "invalid" with the
// reason, the row and the column. Validation runs inside the request that
// stores the last byte; a crash while validating leaves the dataset
// "validating", and completing it again validates it again.

// formatOf returns the table format of a client's file name.
func formatOf(name string) (string, error) {
	f, err := table.FormatOf(name)
	if err != nil {
		return "", &CodedError{Code: "unsupported_media_type", Kind: ErrUnsupported,
			Msg:     datasets.UnknownFormat(name),
			Details: map[string]any{"field": "file"}}
	}
	return f.String(), nil
}

// Upload stores a table streamed from r under the tenant, validates it and
// records it as a ready dataset; a table that cannot be used is recorded
// invalid and answered with an invalid_dataset error.
func (s *Service) Upload(ctx context.Context, p *apikeys.Principal, name string, r io.Reader) (*datasets.Dataset, error) {
	format, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	id := NewID(ctx, p.Tenant, "dataset", "ds_")
	if d, err := s.Datasets.Get(ctx, p.Tenant, id); err == nil {
		// Re-executed under the same Idempotency-Key.
		return s.finish(ctx, p, d, "upload")
	}
	d := &datasets.Dataset{ID: id, Tenant: p.Tenant, Name: name, Key: datasets.DatasetKey(p.Tenant, id, name),
		Format: format, Status: datasets.Validating, CreatedAt: s.Now().UTC()}
	if d.Size, err = s.putObject(ctx, p.Tenant, d.Key, r, s.MaxUpload, "POST /v1/datasets"); err != nil {
		return nil, err
	}
	if err := s.Datasets.Create(ctx, d); err != nil {
		return nil, fmt.Errorf("upload %s: %w", id, err)
	}
	return s.finish(ctx, p, d, "upload")
}

// finish validates a dataset whose bytes are all stored, unless that is
// done: ready is returned as it is, invalid as its invalid_dataset error.
func (s *Service) finish(ctx context.Context, p *apikeys.Principal, d *datasets.Dataset, via string) (*datasets.Dataset, error) {
	switch d.Status {
	case datasets.Ready:
		return d, nil
	case datasets.Invalid:
		return d, InvalidDataset(d)
	}
	if d.Status != datasets.Validating {
		d.Status = datasets.Validating
		if err := s.Datasets.Set(ctx, d); err != nil {
			return nil, err
		}
	}
	ring, err := s.ring(ctx)
	if err != nil {
		return nil, err
	}
	sum, err := datasets.ValidateObject(ctx, s.Bucket, d.Key, d.Format, ring.Reveal(ctx, d.Tenant))
	var ie *datasets.InvalidError
	switch {
	case errors.As(err, &ie):
		d.Status, d.Problem = datasets.Invalid, &ie.Problem
	case err != nil:
		return nil, unavailable("reading the table back to validate it failed", err)
	default:
		d.Status, d.Rows, d.Columns, d.Problem = datasets.Ready, sum.Rows, sum.Columns, nil
	}
	if err := s.Datasets.Set(ctx, d); err != nil {
		return nil, err
	}
	if d.Status == datasets.Invalid {
		s.emit(ctx, p, "dataset.invalid", d.ID, "failed", map[string]string{"format": d.Format, "via": via})
		return d, InvalidDataset(d)
	}
	s.emit(ctx, p, "dataset.created", d.ID, "success", map[string]string{"format": d.Format, "via": via})
	return d, nil
}

// InvalidDataset is the error an invalid dataset is answered with: 400
// invalid_dataset, the problem as the message, its row and column in the
// details.
func InvalidDataset(d *datasets.Dataset) error {
	det := map[string]any{"dataset": d.ID}
	msg := "the table cannot be used"
	if d.Problem != nil {
		msg = d.Problem.Message
		if d.Problem.Row > 0 {
			det["row"] = d.Problem.Row
		}
		if d.Problem.Column != "" {
			det["column"] = d.Problem.Column
		}
	}
	return &CodedError{Code: "invalid_dataset", Kind: ErrInvalid, Msg: fmt.Sprintf("dataset %s is invalid: %s", d.ID, msg), Details: det}
}

// tooLarge is the 413 of a table over limit; large says where larger
// tables go.
func (s *Service) tooLarge(limit int64, route string) error {
	msg := fmt.Sprintf("the table is larger than %s, the limit of %s", errs.Size(limit), route)
	if route == "POST /v1/datasets" && s.MaxResumable > limit {
		msg += fmt.Sprintf("; tables up to %s go through an upload session: POST /v1/datasets/uploads {\"name\":\"table.csv\",\"size\":BYTES}, then send the bytes to its upload_url in chunks (PUT with Content-Range), then POST /v1/datasets/{id}/complete", errs.Size(s.MaxResumable))
	}
	return &CodedError{Code: "too_large", Kind: ErrTooLarge, Msg: msg, Details: map[string]any{"limit_bytes": limit}}
}

// TooLargeUpload is the 413 of a direct upload over MaxUpload.
func (s *Service) TooLargeUpload() error { return s.tooLarge(s.MaxUpload, "POST /v1/datasets") }

// putObject streams r to key, refusing more than limit bytes and an empty
// table; encrypted with the tenant's streaming keyset when the tenant chose
// to encrypt its data (n counts the table's bytes either way).
func (s *Service) putObject(ctx context.Context, tenant, key string, r io.Reader, limit int64, route string) (int64, error) {
	return s.putObjectLimit(ctx, tenant, key, r, limit, route, func() error { return s.tooLarge(limit, route) })
}

// bodyErr classifies a failure to store a request body: a coded or field
// error is returned without the object key the storing wrapped it with, a
// body over the server's limit is 413, a body cut short is 400, others are
// 503.
func (s *Service) bodyErr(err error, limit int64, route string) error {
	var ce *CodedError
	var fe *FieldError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ce):
		return ce
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &mbe):
		return s.tooLarge(limit, route)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, ErrTruncated):
		return truncated()
	case errors.Is(err, context.Canceled):
		return unavailable("the upload was interrupted", err)
	}
	return unavailable("storing the table failed", err)
}

// unavailable is a 503 whose message says what failed, in the user's
// terms, and to retry; the cause (with object keys) stays in the log.
func unavailable(what string, cause error) error {
	return &errs.Error{Code: errs.Unavailable, Public: what + "; retry in a moment",
		Err: fmt.Errorf("%w: %s: %w", ErrUnavailable, what, cause)}
}

// ErrTruncated marks a request body that ended before it said it would.
var ErrTruncated = errors.New("request body truncated")

func truncated() error {
	return &CodedError{Code: "invalid_request", Kind: ErrInvalid,
		Msg: "the request body ended before the end of the upload (connection cut or a truncated multipart body): send the whole file again"}
}

// Upload is a pending dataset and where to send its bytes.
type Upload struct {
	Dataset Dataset `json:"dataset"`
	URL     string  `json:"upload_url"`
	Method  string  `json:"method"`
	// Protocol is "resumable": PUT the bytes to URL in one request or in
	// chunks with Content-Range (bytes START-END/TOTAL); while more are
	// expected the answer is 308 with Range: bytes=0-LAST. On Cloud
	// Storage URL is a resumable upload session that needs no API key and
	// lives a week; locally it is the API's own PUT .../content, which
	// needs it. On stores that sign URLs but have no sessions (S3, Azure)
	// it is "put": one signed PUT of the whole file.
	Protocol string            `json:"protocol"`
	Headers  map[string]string `json:"headers,omitempty"`
	// ChunkSize is a good chunk size; every chunk but the last must be a
	// multiple of 256 KiB on Cloud Storage.
	ChunkSize int64 `json:"chunk_size,omitempty"`
	// MaxBytes is the largest table accepted.
	MaxBytes  int64     `json:"max_bytes"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SessionStarter starts a resumable upload session for an object of size
// bytes (0: not declared) and returns the URL its bytes go to, or an error
// for which gcerrors.Code is Unimplemented when the store has no sessions.
type SessionStarter interface {
	StartSession(ctx context.Context, key string, size int64, contentType string) (url string, err error)
}

// DefaultChunkSize is the chunk size BeginUpload suggests: 32 × 256 KiB.
// DefaultChunkGranularity is what every chunk but the last must be a
// multiple of, as on Cloud Storage, so a client that works locally works
// in the cloud, and an upload has at most size/256 KiB chunks.
const (
	DefaultChunkSize        = 8 << 20
	DefaultChunkGranularity = 256 << 10
)

// BeginUpload records a pending dataset and returns where to send its
// bytes: a Cloud Storage resumable upload session when Sessions is set,
// else localURL(id), the API's own chunked PUT endpoint. A declared size
// over MaxResumable is refused at once.
func (s *Service) BeginUpload(ctx context.Context, p *apikeys.Principal, name string, size int64, localURL func(id string) string) (*Upload, error) {
	if strings.TrimSpace(name) == "" {
		return nil, fieldErr("name", "is required: the table's file name, e.g. adult.csv")
	}
	format, err := formatOf(name)
	if err != nil {
		return nil, err
	}
	if size < 0 {
		return nil, fieldErr("size", "must be the file's size in bytes, or left out")
	}
	if size > s.MaxResumable {
		return nil, s.tooLarge(s.MaxResumable, "an upload session")
	}
	id := NewID(ctx, p.Tenant, "dataset", "ds_")
	d, err := s.Datasets.Get(ctx, p.Tenant, id)
	if err != nil {
		d = &datasets.Dataset{ID: id, Tenant: p.Tenant, Name: name, Key: datasets.DatasetKey(p.Tenant, id, name),
			Format: format, Status: datasets.Pending, Total: size, CreatedAt: s.Now().UTC()}
		if err := s.Datasets.Create(ctx, d); err != nil {
			return nil, fmt.Errorf("begin upload %s: %w", id, err)
		}
		s.emit(ctx, p, "dataset.upload_started", id, "success", map[string]string{"format": format})
	}
	up := &Upload{Dataset: DatasetView(d), Method: http.MethodPut, Protocol: "resumable", ChunkSize: DefaultChunkSize,
		MaxBytes: s.MaxResumable, ExpiresAt: s.Now().UTC().Add(s.URLExpiry).Truncate(time.Second)}
	if err := s.uploadTarget(ctx, up, d.Key, size, contentTypeOf(format), localURL(id)); err != nil {
		return nil, err
	}
	return up, nil
}

// contentTypeOf is the MIME type a table of format (csv, tsv, jsonl,
// parquet) is stored with.
func contentTypeOf(format string) string {
	f, _ := table.FormatOf("data." + format)
	return f.ContentType()
}

// ContentRange is the Content-Range of one PUT of an upload: bytes Start
// to End (inclusive) of Total. Total is -1 while the client does not know
// it yet ("/*"); Query is true for "bytes */TOTAL" or "bytes */*", which
// carry no bytes and ask how far the upload is (and, with a total,
// finish it). Whole is a PUT without Content-Range: the whole file.
type ContentRange struct {
	Start, End, Total int64
	Query, Whole      bool
}

// ParseContentRange reads a Content-Range header as a resumable upload
// sends it; an empty header is a Whole upload.
func ParseContentRange(h string) (ContentRange, error) {
	if strings.TrimSpace(h) == "" {
		return ContentRange{Whole: true, Total: -1}, nil
	}
	bad := &CodedError{Code: "invalid_request", Kind: ErrInvalid, Details: map[string]any{"header": "Content-Range"},
		Msg: fmt.Sprintf("Content-Range %q is not of the form bytes START-END/TOTAL (END inclusive; TOTAL may be * until the last chunk) or bytes */TOTAL", h)}
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes ")
	if !ok {
		return ContentRange{}, bad
	}
	rng, total, ok := strings.Cut(spec, "/")
	if !ok {
		return ContentRange{}, bad
	}
	cr := ContentRange{Total: -1}
	if total != "*" {
		n, err := strconv.ParseInt(total, 10, 64)
		if err != nil || n < 0 {
			return ContentRange{}, bad
		}
		cr.Total = n
	}
	if rng == "*" {
		cr.Query = true
		return cr, nil
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return ContentRange{}, bad
	}
	var err1, err2 error
	cr.Start, err1 = strconv.ParseInt(a, 10, 64)
	cr.End, err2 = strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || cr.Start < 0 || cr.End < cr.Start || (cr.Total >= 0 && cr.End >= cr.Total) {
		return ContentRange{}, bad
	}
	return cr, nil
}

// Progress is the state of an upload after a PUT: Done once every byte is
// stored (and the table validated), else Received bytes are stored.
type Progress struct {
	Dataset  *datasets.Dataset
	Received int64
	Done     bool
}

// datasetUploads plugs datasets into the resumable upload protocol
// (resumable.go).
func (s *Service) datasetUploads() *resumableKind {
	view := func(d *datasets.Dataset) *session {
		st := sessDone
		switch d.Status {
		case datasets.Pending:
			st = sessPending
		case datasets.Validating:
			st = sessValidating
		case datasets.Invalid:
			st = sessRefused
		}
		return &session{ID: d.ID, Tenant: d.Tenant, Key: d.Key, ContentType: contentTypeOf(d.Format), State: st,
			Received: d.Received, Total: d.Total, Size: d.Size, rec: d}
	}
	return &resumableKind{noun: "dataset", what: "table", limit: s.MaxResumable,
		get: func(ctx context.Context, tenant, id string) (*session, error) {
			d, err := s.Datasets.Get(ctx, tenant, id)
			if err != nil {
				return nil, err
			}
			return view(d), nil
		},
		received: func(ctx context.Context, tenant, id string, start, end, total int64) (*session, error) {
			d, err := s.Datasets.Update(ctx, tenant, id, func(d *datasets.Dataset) error {
				if d.Status == datasets.Pending && d.Received == start {
					d.Received = end + 1
				}
				if total >= 0 {
					d.Total = total
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			return view(d), nil
		},
		stored: func(ctx context.Context, ss *session, size int64) error {
			d := ss.rec.(*datasets.Dataset)
			d.Received, d.Total, d.Size, d.Status = ss.Received, ss.Total, size, datasets.Validating
			return s.Datasets.Set(ctx, d)
		},
		finish: func(ctx context.Context, p *apikeys.Principal, ss *session) (*session, error) {
			d, err := s.finish(ctx, p, ss.rec.(*datasets.Dataset), "session")
			if d == nil {
				return nil, err
			}
			return view(d), err
		},
		chunkPrefix: datasets.ChunkPrefix, chunkKey: datasets.ChunkKey,
	}
}

// PutContent stores bytes of a pending dataset through the API (the local
// stand-in for a Cloud Storage resumable session; see putChunk). A PUT
// without Content-Range is the whole file.
func (s *Service) PutContent(ctx context.Context, p *apikeys.Principal, id string, cr ContentRange, r io.Reader) (*Progress, error) {
	k := s.datasetUploads()
	ss, err := s.putChunk(ctx, p, k, id, cr, r)
	if err != nil {
		return nil, err
	}
	d := ss.rec.(*datasets.Dataset)
	if ss.State == sessPending {
		return &Progress{Dataset: d, Received: ss.Received}, nil
	}
	return &Progress{Dataset: d, Received: d.Size, Done: true}, nil
}

// granularity is ChunkGranularity or its default.
func (s *Service) granularity() int64 {
	if s.ChunkGranularity > 0 {
		return s.ChunkGranularity
	}
	return DefaultChunkGranularity
}

// chunkShort is the error of a chunk whose body ended at byte at, before
// its Content-Range's end.
func (s *Service) chunkShort(err error, at int64, cr ContentRange) error {
	if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	return &CodedError{Code: "invalid_request", Kind: ErrInvalid, Details: map[string]any{"header": "Content-Range"},
		Msg: fmt.Sprintf("the chunk ended at byte %d, before the end of Content-Range bytes %d-%d: nothing of it was kept; send it again", at, cr.Start, cr.End)}
}

// CompleteUpload validates a dataset once all its bytes are stored (sent to
// an upload session or through PutContent) and marks it ready or invalid.
// Completing a ready dataset returns it unchanged; an invalid one answers
// its invalid_dataset error again.
func (s *Service) CompleteUpload(ctx context.Context, p *apikeys.Principal, id string) (*datasets.Dataset, error) {
	ss, err := s.completeUploadOf(ctx, p, s.datasetUploads(), id)
	if ss == nil {
		return nil, err
	}
	return ss.rec.(*datasets.Dataset), err
}

// ring returns the tenants' keyring, nil when none is configured.
func (s *Service) ring(ctx context.Context) (*keyring.Keyring, error) {
	if s.Keyring == nil {
		return nil, nil
	}
	k, err := s.Keyring(ctx)
	if err != nil {
		return nil, unavailable("the encryption keys are unavailable", err)
	}
	return k, nil
}
