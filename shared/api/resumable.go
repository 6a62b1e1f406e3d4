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
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/objects"
)

// The resumable upload protocol through the API (the local stand-in for a
// Cloud Storage resumable session) is one piece of code for every resource
// whose bytes arrive that way — datasets and custom models. A resource
// plugs in as a resumableKind: how to read and record its upload state,
// where its chunks live, and how to validate it once every byte is stored.

// session is the upload state of one resource, as the protocol sees it.
type session struct {
	ID, Tenant, Key, ContentType string
	// State is one of the session states below.
	State                 string
	Received, Total, Size int64
	// rec is the resource's own record (*datasets.Dataset, *models.Model),
	// handed back to its kind.
	rec any
}

// Session states.
const (
	sessPending    = "pending"    // bytes are being uploaded
	sessValidating = "validating" // every byte is stored; not validated yet
	sessDone       = "done"       // validated, usable
	sessRefused    = "refused"    // validated, refused (invalid dataset, rejected model)
)

// resumableKind is what the protocol needs of one kind of resource.
type resumableKind struct {
	noun  string // "dataset", "model": in messages
	what  string // "table", "model": in size errors
	limit int64  // most bytes one upload may hold
	get   func(ctx context.Context, tenant, id string) (*session, error)
	// received records that the chunk [start, end] is stored (when the
	// resource still has received == start) and the total when known, in
	// one transaction.
	received func(ctx context.Context, tenant, id string, start, end, total int64) (*session, error)
	// stored records every byte stored (size), validating.
	stored func(ctx context.Context, s *session, size int64) error
	// finish validates a resource whose bytes are all stored; a refused
	// resource is returned with its error (400 invalid_dataset,
	// model_rejected).
	finish      func(ctx context.Context, p *apikeys.Principal, s *session) (*session, error)
	chunkPrefix func(tenant, id string) string
	chunkKey    func(tenant, id string, start, end int64) string
}

// tooLargeFor is the 413 of an upload of kind k over limit.
func (s *Service) tooLargeFor(k *resumableKind, limit int64) error {
	if k.what == "table" {
		return s.tooLarge(limit, "this upload session")
	}
	return &CodedError{Code: "too_large", Kind: ErrTooLarge, Details: map[string]any{"limit_bytes": limit},
		Msg: fmt.Sprintf("the %s is larger than %s, the limit of this upload session", k.what, errs.Size(limit))}
}

// putChunk stores bytes of a pending upload following the protocol: a
// chunk must start at or before the bytes received so far (a retried chunk
// is accepted and its known part skipped), chunks are kept as objects of
// their own, never in memory, and the chunk that completes the total joins
// them into the resource's object (encrypted when the tenant chose it) and
// validates it. A PUT without Content-Range is the whole file.
func (s *Service) putChunk(ctx context.Context, p *apikeys.Principal, k *resumableKind, id string, cr ContentRange, r io.Reader) (*session, error) {
	d, err := k.get(ctx, p.Tenant, id)
	if err != nil {
		return nil, err
	}
	if d.State != sessPending && d.Received == 0 {
		return nil, &CodedError{Code: k.noun + "_complete", Kind: ErrConflict,
			Msg: fmt.Sprintf("%s %s is already %s; upload a new %s instead", k.noun, id, d.State, k.noun)}
	}
	if d.State != sessPending {
		// Every byte is in: a retried last chunk gets the same answer.
		if d.State == sessValidating || d.State == sessRefused {
			return k.finish(ctx, p, d)
		}
		return d, nil
	}
	limit := k.limit
	if cr.Whole {
		if d.Received > 0 {
			return nil, &CodedError{Code: "upload_in_progress", Kind: ErrConflict, Details: map[string]any{"received": d.Received},
				Msg: fmt.Sprintf("%d bytes of this upload are stored: send the rest with Content-Range: bytes %d-END/TOTAL", d.Received, d.Received)}
		}
		if d.Total > 0 {
			limit = min(limit, d.Total)
		}
		size, err := s.putObjectLimit(ctx, d.Tenant, d.Key, r, limit, "this upload session", func() error { return s.tooLargeFor(k, limit) })
		if err != nil {
			return nil, err
		}
		if d.Total > 0 && size != d.Total {
			_ = s.Bucket.Delete(ctx, d.Key)
			return nil, &CodedError{Code: "invalid_request", Kind: ErrInvalid,
				Msg: fmt.Sprintf("the file has %d bytes, but the upload was declared with %d: nothing was kept; send the whole file again", size, d.Total)}
		}
		d.Received, d.Total = size, size
		if err := k.stored(ctx, d, size); err != nil {
			return nil, err
		}
		return k.finish(ctx, p, d)
	}
	if cr.Total > limit || cr.End >= limit || d.Total > 0 && cr.End >= d.Total {
		if d.Total > 0 && d.Total <= limit {
			limit = d.Total
		}
		return nil, s.tooLargeFor(k, limit)
	}
	if g := s.granularity(); !cr.Query && (cr.End+1)%g != 0 && cr.End+1 != cr.Total && (d.Total == 0 || cr.End+1 != d.Total) {
		return nil, &CodedError{Code: "invalid_request", Kind: ErrInvalid, Details: map[string]any{"header": "Content-Range"},
			Msg: fmt.Sprintf("every chunk but the last must end on a multiple of %s (this one ends at byte %d): send chunks of a multiple of %s, e.g. %s, as Cloud Storage requires; state the total (bytes START-END/TOTAL) with the last one",
				errs.Size(g), cr.End, errs.Size(g), errs.Size(DefaultChunkSize))}
	}
	if cr.Total >= 0 && d.Total > 0 && cr.Total != d.Total {
		return nil, &CodedError{Code: "invalid_request", Kind: ErrInvalid, Details: map[string]any{"header": "Content-Range"},
			Msg: fmt.Sprintf("Content-Range says the file has %d bytes, but the upload was declared with %d", cr.Total, d.Total)}
	}
	if cr.Total >= 0 && cr.Total < d.Received {
		return nil, &CodedError{Code: "invalid_request", Kind: ErrInvalid, Details: map[string]any{"header": "Content-Range"},
			Msg: fmt.Sprintf("Content-Range says the file has %d bytes, but %d are stored already", cr.Total, d.Received)}
	}
	if cr.Query {
		if cr.Total >= 0 && cr.Total == d.Received && d.Received > 0 {
			d.Total = cr.Total
			return s.completeSession(ctx, p, k, d)
		}
		return d, nil
	}
	if cr.Start > d.Received {
		return nil, &CodedError{Code: "upload_offset_mismatch", Kind: ErrConflict,
			Details: map[string]any{"received": d.Received, "start": cr.Start},
			Msg: fmt.Sprintf("this chunk starts at byte %d but only %d bytes are stored: chunks must arrive in order; send the one that starts at byte %d (Content-Range: bytes %d-END/TOTAL)",
				cr.Start, d.Received, d.Received, d.Received)}
	}
	route := "this upload session"
	if cr.End < d.Received {
		// A retry of a chunk that is stored already: its bytes are known.
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, s.bodyErr(err, limit, route)
		}
		return s.sessionProgress(ctx, p, k, d)
	}
	// Skip the part of a retried chunk that is stored already, then store
	// the rest as a chunk object of its own.
	start := d.Received
	if skip := start - cr.Start; skip > 0 {
		if n, err := io.CopyN(io.Discard, r, skip); err != nil {
			return nil, s.chunkShort(err, cr.Start+n, cr)
		}
	}
	want := cr.End + 1 - start
	err = objects.Put(ctx, s.Bucket, k.chunkKey(d.Tenant, d.ID, start, cr.End), func(w io.Writer) error {
		n, err := io.Copy(w, io.LimitReader(r, want))
		if err != nil {
			return err
		}
		if n < want {
			return s.chunkShort(io.ErrUnexpectedEOF, start+n, cr)
		}
		// More bytes than the range says: refuse rather than guess.
		var one [1]byte
		if m, _ := r.Read(one[:]); m > 0 {
			return &CodedError{Code: "invalid_request", Kind: ErrInvalid, Details: map[string]any{"header": "Content-Range"},
				Msg: fmt.Sprintf("the chunk has more bytes than Content-Range bytes %d-%d says (%d)", cr.Start, cr.End, cr.End+1-cr.Start)}
		}
		return nil
	}, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		return nil, s.bodyErr(err, limit, route)
	}
	// Record the chunk unless a concurrent retry did.
	if d, err = k.received(ctx, d.Tenant, d.ID, start, cr.End, cr.Total); err != nil {
		return nil, err
	}
	return s.sessionProgress(ctx, p, k, d)
}

// sessionProgress answers a stored chunk: done (joined and validated) once
// the total is received.
func (s *Service) sessionProgress(ctx context.Context, p *apikeys.Principal, k *resumableKind, d *session) (*session, error) {
	if d.State == sessPending && d.Total > 0 && d.Received == d.Total {
		return s.completeSession(ctx, p, k, d)
	}
	if d.State != sessPending {
		return s.putChunk(ctx, p, k, d.ID, ContentRange{Query: true, Total: -1}, nil)
	}
	return d, nil
}

// completeSession joins the chunks of a fully received upload into the
// resource's object (streaming, chunk by chunk), removes them, and
// validates it.
func (s *Service) completeSession(ctx context.Context, p *apikeys.Principal, k *resumableKind, d *session) (*session, error) {
	if err := s.joinChunks(ctx, k, d); err != nil {
		return nil, err
	}
	if err := k.stored(ctx, d, d.Received); err != nil {
		return nil, err
	}
	s.dropChunkObjects(ctx, k.chunkPrefix(d.Tenant, d.ID))
	return k.finish(ctx, p, d)
}

// joinChunks concatenates the chunk objects in byte order into the
// resource's object, through the tenant's encryption when it chose it.
// Chunks that a concurrent retry stored twice overlap; each byte is copied
// once.
func (s *Service) joinChunks(ctx context.Context, k *resumableKind, d *session) error {
	it := s.Bucket.List(&blob.ListOptions{Prefix: k.chunkPrefix(d.Tenant, d.ID)})
	var chunks [][2]int64
	var keys []string
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return unavailable("reading the uploaded chunks failed", err)
		}
		var a, b int64
		base := obj.Key[strings.LastIndexByte(obj.Key, '/')+1:]
		if _, err := fmt.Sscanf(base, "%d-%d", &a, &b); err != nil {
			continue
		}
		chunks, keys = append(chunks, [2]int64{a, b}), append(keys, obj.Key)
	}
	if len(chunks) == 0 && d.Received > 0 {
		// Joined already by an earlier attempt that did not record it.
		if ok, err := objects.Exists(ctx, s.Bucket, d.Key); err == nil && ok {
			return nil
		}
	}
	ring, err := s.ring(ctx)
	if err != nil {
		return err
	}
	err = objects.Put(ctx, s.Bucket, d.Key, func(w io.Writer) error {
		ow, err := ring.ObjectWriter(ctx, d.Tenant, w)
		if err != nil {
			return err
		}
		var pos int64
		for i, c := range chunks {
			if c[1] < pos {
				continue
			}
			if c[0] > pos {
				return fmt.Errorf("upload of %s %s: bytes %d-%d are missing", k.noun, d.ID, pos, c[0]-1)
			}
			r, err := s.Bucket.NewRangeReader(ctx, keys[i], pos-c[0], -1, nil)
			if err != nil {
				return err
			}
			n, err := io.Copy(ow, r)
			r.Close()
			if err != nil {
				return err
			}
			pos += n
		}
		if pos != d.Received {
			return fmt.Errorf("upload of %s %s: joined %d bytes, want %d", k.noun, d.ID, pos, d.Received)
		}
		return ow.Close()
	}, &blob.WriterOptions{ContentType: d.ContentType})
	if err != nil {
		return unavailable("joining the uploaded chunks failed", err)
	}
	return nil
}

// dropChunkObjects deletes the chunk objects of a joined upload; a failure
// only leaves garbage under the resource's prefix, so it is not returned.
func (s *Service) dropChunkObjects(ctx context.Context, prefix string) {
	it := s.Bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if err != nil {
			return
		}
		_ = s.Bucket.Delete(ctx, obj.Key)
	}
}

// putObjectLimit streams r to key through the tenant's encryption,
// refusing more than limit bytes (tooLarge) and an empty file.
func (s *Service) putObjectLimit(ctx context.Context, tenant, key string, r io.Reader, limit int64, route string, tooLarge func() error) (int64, error) {
	ring, err := s.ring(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	err = objects.Put(ctx, s.Bucket, key, func(w io.Writer) error {
		ow, err := ring.ObjectWriter(ctx, tenant, w)
		if err != nil {
			return err
		}
		n, err = io.Copy(ow, io.LimitReader(r, limit+1))
		if err != nil {
			return err
		}
		if n > limit {
			return tooLarge()
		}
		if n == 0 {
			return fieldErr("file", "is empty")
		}
		return ow.Close()
	}, nil)
	if err != nil {
		return 0, s.bodyErr(err, limit, route)
	}
	return n, nil
}

// completeUploadOf validates a resource once all its bytes are stored
// (sent to a Cloud Storage upload session, a signed URL, or through
// putChunk) and marks it done or refused. Completing a done resource
// returns it unchanged; a refused one answers its error again.
func (s *Service) completeUploadOf(ctx context.Context, p *apikeys.Principal, k *resumableKind, id string) (*session, error) {
	d, err := k.get(ctx, p.Tenant, id)
	if err != nil {
		return nil, err
	}
	if d.State != sessPending {
		return k.finish(ctx, p, d)
	}
	switch {
	case d.Received > 0 && d.Total == 0:
		return nil, &CodedError{Code: "upload_incomplete", Kind: ErrConflict, Details: map[string]any{"received": d.Received},
			Msg: fmt.Sprintf("%d bytes of %s %s are stored and its total is not known yet: send the rest (Content-Range: bytes %d-END/TOTAL), or, if that was all, PUT an empty body with Content-Range: bytes */%d",
				d.Received, k.noun, id, d.Received, d.Received)}
	case d.Received > 0 && d.Received < d.Total:
		return nil, &CodedError{Code: "upload_incomplete", Kind: ErrConflict, Details: map[string]any{"received": d.Received},
			Msg: fmt.Sprintf("%d of the %d bytes of %s %s are stored: send the rest (Content-Range: bytes %d-END/%d) first", d.Received, d.Total, k.noun, id, d.Received, d.Total)}
	}
	// Direct uploads land at the staging key (uploadTarget); sessions begun
	// before uploads were staged wrote the resource's key itself.
	src := StagingKey(d.Key)
	attrs, err := s.Bucket.Attributes(ctx, src)
	if gcerrors.Code(err) == gcerrors.NotFound {
		src = d.Key
		attrs, err = s.Bucket.Attributes(ctx, src)
	}
	if gcerrors.Code(err) == gcerrors.NotFound {
		return nil, &CodedError{Code: "upload_missing", Kind: ErrConflict,
			Msg: fmt.Sprintf("nothing was uploaded for %s %s yet: PUT the file to its upload_url first", k.noun, id)}
	}
	if err != nil {
		return nil, unavailable("reading the upload failed", err)
	}
	if attrs.Size > k.limit {
		_ = s.Bucket.Delete(ctx, src)
		return nil, s.tooLargeFor(k, k.limit)
	}
	if attrs.Size == 0 {
		return nil, &CodedError{Code: "upload_missing", Kind: ErrConflict, Msg: fmt.Sprintf("the upload of %s %s is empty", k.noun, id)}
	}
	size, err := s.sealUpload(ctx, d, src, attrs.Size)
	if err != nil {
		return nil, err
	}
	if err := k.stored(ctx, d, size); err != nil {
		return nil, err
	}
	return k.finish(ctx, p, d)
}

// StagingKey is where the bytes of a direct upload to key (a Cloud Storage
// session or a signed PUT, which the API never sees) land: the client's
// plaintext stays there, under the tenant's prefix (so tenant deletion
// removes it), until completion moves it into key through the tenant's
// encryption. Nothing reads or signs a staging key for download.
func StagingKey(key string) string { return key + ".upload" }

// sealUpload moves a directly uploaded object from src into the session's
// key: encrypted when the tenant chose encryption at rest (streaming, so
// memory stays flat), copied as is otherwise, and the staged plaintext is
// deleted. It returns the plaintext size. When src is the key itself (a
// session begun before uploads were staged), a plain object is encrypted
// by way of the staging key; one an earlier completion already sealed is
// left as it is and only measured.
func (s *Service) sealUpload(ctx context.Context, d *session, src string, size int64) (int64, error) {
	ring, err := s.ring(ctx)
	if err != nil {
		return 0, err
	}
	encrypt := false
	if ring != nil {
		if encrypt, err = ring.EncryptData(ctx, d.Tenant); err != nil {
			return 0, unavailable("reading the tenant's encryption option failed", err)
		}
	}
	if src == d.Key {
		sealed, err := s.isSealed(ctx, d.Key)
		if err != nil {
			return 0, unavailable("reading the upload failed", err)
		}
		if sealed {
			r, err := s.Bucket.NewReader(ctx, d.Key, nil)
			if err != nil {
				return 0, unavailable("reading the upload failed", err)
			}
			defer r.Close()
			pr, err := ring.ObjectReader(ctx, d.Tenant, r)
			if err != nil {
				return 0, unavailable("decrypting the upload failed", err)
			}
			n, err := io.Copy(io.Discard, pr)
			if err != nil {
				return 0, unavailable("decrypting the upload failed", err)
			}
			return n, nil
		}
		if !encrypt {
			return size, nil
		}
		src = StagingKey(d.Key)
		if err := s.Bucket.Copy(ctx, src, d.Key, nil); err != nil {
			return 0, unavailable("staging the upload for encryption failed", err)
		}
	}
	if encrypt {
		err = objects.Put(ctx, s.Bucket, d.Key, func(w io.Writer) error {
			ow, err := ring.ObjectWriter(ctx, d.Tenant, w)
			if err != nil {
				return err
			}
			if size, err = objects.CopyTo(ctx, s.Bucket, src, ow); err != nil {
				return err
			}
			return ow.Close()
		}, &blob.WriterOptions{ContentType: d.ContentType})
	} else {
		err = s.Bucket.Copy(ctx, d.Key, src, nil)
	}
	if err != nil {
		return 0, unavailable("storing the upload failed", err)
	}
	// The staged plaintext goes at once; were this to fail, it still goes
	// with the tenant's prefix, and completing again finds the sealed key.
	_ = s.Bucket.Delete(ctx, src)
	return size, nil
}

// isSealed reports whether the object at key starts with keyring.Magic.
func (s *Service) isSealed(ctx context.Context, key string) (bool, error) {
	r, err := s.Bucket.NewRangeReader(ctx, key, 0, int64(len(keyring.Magic)), nil)
	if err != nil {
		return false, err
	}
	defer r.Close()
	head, err := io.ReadAll(r)
	if err != nil {
		return false, err
	}
	return string(head) == keyring.Magic, nil
}

// uploadTarget fills in where the bytes of a pending upload of key go (its
// StagingKey, for the direct targets): a
// Cloud Storage resumable upload session when Sessions is set, a signed
// PUT on stores that sign URLs but have no sessions (S3, Azure), else
// local, the API's own chunked PUT endpoint.
func (s *Service) uploadTarget(ctx context.Context, up *Upload, key string, size int64, contentType, local string) error {
	if s.Sessions != nil {
		url, err := s.Sessions.StartSession(ctx, StagingKey(key), size, contentType)
		switch {
		case err == nil:
			up.URL = url
			up.ExpiresAt = s.Now().UTC().Add(7 * 24 * time.Hour).Truncate(time.Second) // Cloud Storage's session lifetime
			return nil
		case gcerrors.Code(err) != gcerrors.Unimplemented:
			return unavailable("starting the upload session failed", err)
		}
	}
	url, err := s.Bucket.SignedURL(ctx, StagingKey(key), &blob.SignedURLOptions{Method: http.MethodPut, Expiry: s.URLExpiry, EnforceAbsentContentType: true})
	switch {
	case err == nil:
		up.URL, up.Protocol, up.ChunkSize = url, "put", 0
	case gcerrors.Code(err) == gcerrors.Unimplemented:
		up.URL = local
		up.Headers = map[string]string{"Authorization": "Bearer <your API key>"}
	default:
		return unavailable("signing the upload URL failed", err)
	}
	return nil
}
