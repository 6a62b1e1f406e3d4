package keyring

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"gocloud.dev/blob"
	"gocloud.dev/blob/driver"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/datasets"
)

// Outputs returns b with tenants' job outputs sealed at rest: objects
// under a job's prefix (datasets.JobPrefix: the synthetic table and its
// shard parts, the design tables, the reports, the compliance evidence)
// and under the tenant's quarantine are written through ObjectWriter —
// encrypted when the tenant chose encryption at rest — and read through
// ObjectReader, so every reader of b sees plaintext and the bytes at rest
// are ciphertext. Memory stays flat: encryption and decryption stream.
//
// The model, training and holdout objects of a job are left alone: their
// writers seal them already (ObjectWriter) and their readers reveal them.
// Everything outside the job prefixes passes through unchanged.
//
// A GET URL of an encrypted object is refused with gcerrors.Unimplemented:
// a signed URL would hand out ciphertext. Callers that fall back to
// streaming through the API when a bucket cannot sign (api.Service's
// downloads) then stream the plaintext to the authenticated caller.
//
// keys returns the keyring; nil (no SYNTHOS_KEK_URI) encrypts nothing.
func Outputs(b *blob.Bucket, keys func(context.Context) (*Keyring, error)) *blob.Bucket {
	return blob.NewBucket(&outputsDriver{b: b, keys: keys})
}

// errSealedURL refuses a signed URL of an encrypted object.
var errSealedURL = errors.New("keyring: the object is encrypted at rest; it is served decrypted by the API, not by a signed URL")

// sealedTenant returns the tenant whose job outputs key is one of, or "".
func sealedTenant(key string) string {
	rest, ok := strings.CutPrefix(key, "tenants/")
	if !ok {
		return ""
	}
	tenant, rest, ok := strings.Cut(rest, "/")
	if !ok || tenant == "" {
		return ""
	}
	if q, ok := strings.CutPrefix(rest, "quarantine/"); ok && q != "" {
		return tenant
	}
	rest, ok = strings.CutPrefix(rest, "jobs/")
	if !ok {
		return ""
	}
	job, name, ok := strings.Cut(rest, "/")
	if !ok || job == "" || name == "" {
		return ""
	}
	switch key {
	case datasets.ModelKey(tenant, job), datasets.TrainKey(tenant, job), datasets.HoldoutKey(tenant, job):
		return "" // sealed by their writers
	}
	return tenant
}

type outputsDriver struct {
	b    *blob.Bucket
	keys func(context.Context) (*Keyring, error)
}

func (d *outputsDriver) ErrorCode(err error) gcerrors.ErrorCode {
	switch {
	case errors.Is(err, errSealedURL):
		return gcerrors.Unimplemented
	case errors.Is(err, ErrDestroyed):
		return gcerrors.FailedPrecondition
	case errors.Is(err, ErrDecrypt):
		return gcerrors.InvalidArgument
	}
	return gcerrors.Code(err)
}

func (d *outputsDriver) As(i any) bool                 { return d.b.As(i) }
func (d *outputsDriver) ErrorAs(err error, i any) bool { return errors.As(err, i) }

// sealed reports whether the stored object at key starts with Magic and,
// if so, its stored size.
func (d *outputsDriver) sealed(ctx context.Context, key string) (bool, int64, error) {
	r, err := d.b.NewRangeReader(ctx, key, 0, int64(len(Magic)), nil)
	if err != nil {
		return false, 0, err
	}
	defer r.Close()
	head, err := io.ReadAll(r)
	if err != nil {
		return false, 0, err
	}
	return string(head) == Magic, r.Size(), nil
}

// Streaming-AEAD layout of the keyring's template
// (AES256GCMHKDF1MBKeyTemplate): a 40-byte header, then 1 MiB ciphertext
// segments (the first one holding the header) each ending in a 16-byte tag.
const (
	segmentSize = 1 << 20
	headerSize  = 1 + 32 + 7
	tagSize     = 16
)

// plainSize is the plaintext size of a sealed object of stored size n,
// from the streaming layout, without decrypting: readers (Content-Length)
// and Attributes report what a reader will get.
func plainSize(n int64) int64 {
	c := n - int64(len(Magic))
	if c <= 0 {
		return 0
	}
	segments := (c + segmentSize - 1) / segmentSize
	return max(c-headerSize-segments*tagSize, 0)
}

func (d *outputsDriver) Attributes(ctx context.Context, key string) (*driver.Attributes, error) {
	a, err := d.b.Attributes(ctx, key)
	if err != nil {
		return nil, err
	}
	size := a.Size
	if sealedTenant(key) != "" && a.Size >= int64(len(Magic)) {
		on, _, err := d.sealed(ctx, key)
		if err != nil {
			return nil, err
		}
		if on {
			size = plainSize(a.Size)
		}
	}
	return &driver.Attributes{
		CacheControl: a.CacheControl, ContentDisposition: a.ContentDisposition, ContentEncoding: a.ContentEncoding,
		ContentLanguage: a.ContentLanguage, ContentType: a.ContentType, Metadata: a.Metadata,
		CreateTime: a.CreateTime, ModTime: a.ModTime, Size: size, MD5: a.MD5, ETag: a.ETag, AsFunc: a.As,
	}, nil
}

func (d *outputsDriver) ListPaged(ctx context.Context, opts *driver.ListOptions) (*driver.ListPage, error) {
	token := opts.PageToken
	if len(token) == 0 {
		token = blob.FirstPageToken
	}
	size := opts.PageSize
	if size <= 0 {
		size = 1000
	}
	objs, next, err := d.b.ListPage(ctx, token, size, &blob.ListOptions{Prefix: opts.Prefix, Delimiter: opts.Delimiter, BeforeList: opts.BeforeList})
	if err != nil {
		return nil, err
	}
	out := make([]*driver.ListObject, len(objs))
	for i, o := range objs {
		// Sizes are the stored ones: a listing does not open every object.
		out[i] = &driver.ListObject{Key: o.Key, ModTime: o.ModTime, Size: o.Size, MD5: o.MD5, IsDir: o.IsDir, AsFunc: o.As}
	}
	return &driver.ListPage{Objects: out, NextPageToken: next}, nil
}

func (d *outputsDriver) NewRangeReader(ctx context.Context, key string, offset, length int64, opts *driver.ReaderOptions) (driver.Reader, error) {
	tenant := sealedTenant(key)
	if tenant != "" && (offset > 0 || length >= 0) {
		// A plain object's range is read as a range, not from its start.
		on, _, err := d.sealed(ctx, key)
		if err != nil {
			return nil, err
		}
		if !on {
			tenant = ""
		}
	}
	if tenant == "" {
		r, err := d.b.NewRangeReader(ctx, key, offset, length, &blob.ReaderOptions{BeforeRead: opts.BeforeRead})
		if err != nil {
			return nil, err
		}
		return &plainReader{r: r, src: r, size: r.Size()}, nil
	}
	// A sealed object is decrypted from its start whatever the range: the
	// streaming AEAD authenticates segment by segment, in order.
	r, err := d.b.NewReader(ctx, key, &blob.ReaderOptions{BeforeRead: opts.BeforeRead})
	if err != nil {
		return nil, err
	}
	ring, err := d.keys(ctx)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("keyring: read %s: %w", key, err)
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(len(Magic))
	size := r.Size()
	if bytes.Equal(head, []byte(Magic)) {
		size = plainSize(size)
	}
	pr, err := ring.ObjectReader(ctx, tenant, br)
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("keyring: read %s: %w", key, err)
	}
	if offset > 0 {
		if _, err := io.CopyN(io.Discard, pr, offset); err != nil && err != io.EOF {
			r.Close()
			return nil, fmt.Errorf("keyring: read %s: %w", key, err)
		}
	}
	size = max(size-offset, 0)
	var rd io.Reader = pr
	if length >= 0 {
		rd = io.LimitReader(pr, length)
		size = min(size, length)
	}
	return &plainReader{r: rd, src: r, size: size}, nil
}

// plainReader is a driver.Reader over what src's object holds in the clear.
type plainReader struct {
	r    io.Reader
	src  *blob.Reader
	size int64
}

func (r *plainReader) Read(p []byte) (int, error) { return r.r.Read(p) }
func (r *plainReader) Close() error               { return r.src.Close() }
func (r *plainReader) As(i any) bool              { return r.src.As(i) }
func (r *plainReader) Attributes() *driver.ReaderAttributes {
	return &driver.ReaderAttributes{ContentType: r.src.ContentType(), ModTime: r.src.ModTime(), Size: r.size}
}

func (d *outputsDriver) NewTypedWriter(ctx context.Context, key, contentType string, opts *driver.WriterOptions) (driver.Writer, error) {
	bo := &blob.WriterOptions{
		BufferSize: opts.BufferSize, MaxConcurrency: opts.MaxConcurrency, CacheControl: opts.CacheControl,
		ContentDisposition: opts.ContentDisposition, ContentEncoding: opts.ContentEncoding,
		ContentLanguage: opts.ContentLanguage, ContentType: contentType, ContentMD5: opts.ContentMD5,
		Metadata: opts.Metadata, BeforeWrite: opts.BeforeWrite, IfNotExist: opts.IfNotExist,
		// The portable layer in front of this driver already detected the
		// content type from the plaintext.
		DisableContentTypeDetection: true,
	}
	tenant := sealedTenant(key)
	if tenant == "" {
		return d.b.NewWriter(ctx, key, bo)
	}
	ring, err := d.keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("keyring: write %s: %w", key, err)
	}
	on := false
	if ring != nil {
		if on, err = ring.EncryptData(ctx, tenant); err != nil {
			return nil, fmt.Errorf("keyring: write %s: %w", key, err)
		}
	}
	if !on {
		return d.b.NewWriter(ctx, key, bo)
	}
	bo.ContentMD5 = nil // the caller's digest is of the plaintext
	w, err := d.b.NewWriter(ctx, key, bo)
	if err != nil {
		return nil, err
	}
	ew, err := ring.ObjectWriter(ctx, tenant, w)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("keyring: write %s: %w", key, err)
	}
	return &sealWriter{enc: ew, w: w}, nil
}

// sealWriter encrypts into w; Close finishes the ciphertext, then the object.
type sealWriter struct {
	enc io.WriteCloser
	w   *blob.Writer
}

func (s *sealWriter) Write(p []byte) (int, error) { return s.enc.Write(p) }
func (s *sealWriter) Close() error {
	err := s.enc.Close()
	if cerr := s.w.Close(); err == nil {
		err = cerr
	}
	return err
}

func (d *outputsDriver) Copy(ctx context.Context, dstKey, srcKey string, opts *driver.CopyOptions) error {
	st, dt := sealedTenant(srcKey), sealedTenant(dstKey)
	if st == dt {
		// Same tenant (the ciphertext is bound to it) or both plain: the
		// stored bytes are what the destination must hold.
		return d.b.Copy(ctx, dstKey, srcKey, &blob.CopyOptions{BeforeCopy: opts.BeforeCopy})
	}
	// Sealing differs: copy the plaintext through this driver so the
	// destination is sealed (or not) by its own rule.
	r, err := d.NewRangeReader(ctx, srcKey, 0, -1, &driver.ReaderOptions{})
	if err != nil {
		return err
	}
	defer r.Close()
	a, err := d.b.Attributes(ctx, srcKey)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := d.NewTypedWriter(ctx, dstKey, a.ContentType, &driver.WriterOptions{Metadata: a.Metadata})
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel() // aborts the write
		w.Close()
		return err
	}
	return w.Close()
}

func (d *outputsDriver) Delete(ctx context.Context, key string, _ *driver.DeleteOptions) error {
	return d.b.Delete(ctx, key)
}

func (d *outputsDriver) SignedURL(ctx context.Context, key string, opts *driver.SignedURLOptions) (string, error) {
	if sealedTenant(key) != "" && (opts.Method == "" || opts.Method == http.MethodGet) {
		on, _, err := d.sealed(ctx, key)
		if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return "", err
		}
		if on {
			return "", errSealedURL
		}
	}
	return d.b.SignedURL(ctx, key, &blob.SignedURLOptions{Expiry: opts.Expiry, Method: opts.Method,
		ContentType: opts.ContentType, EnforceAbsentContentType: opts.EnforceAbsentContentType, BeforeSign: opts.BeforeSign})
}

func (d *outputsDriver) Close() error { return d.b.Close() }
