// Package objects opens object storage buckets by URL and writes objects
// atomically.
//
// Buckets are gocloud.dev/blob buckets, so the same code runs on Cloud Storage
// in production (gs://), on the local filesystem under `make run` (file://),
// and in memory in tests (mem://); s3:// and azblob:// are available as
// options. Callers write through Put so that a failed or half-done write never
// leaves a visible object.
package objects

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob:// URLs
	"gocloud.dev/blob/fileblob"
	_ "gocloud.dev/blob/gcsblob" // gs:// URLs
	_ "gocloud.dev/blob/memblob" // mem:// URLs
	_ "gocloud.dev/blob/s3blob"  // s3:// URLs
)

// ErrScheme reports a bucket URL whose scheme Open does not accept.
var ErrScheme = errors.New("unsupported bucket URL scheme")

// accepted names the schemes Open accepts, for error messages.
const accepted = "gs://, s3://, azblob://, file://, mem://"

// Open opens the bucket named by rawURL: gs://BUCKET, s3://BUCKET,
// azblob://CONTAINER, file:///DIR or mem://. Query parameters are those of the
// gocloud.dev driver for the scheme.
//
// For file:// the directory is created when missing (fileblob's create_dir),
// unless the URL sets create_dir itself. Object metadata (content type, user
// metadata) is kept in fileblob's ".attrs" sidecar files, which listings hide;
// add metadata=skip to the URL to drop it. Writes go to a temporary file that
// is renamed into place on success, so TMPDIR must be on the same filesystem as
// DIR (or set no_tmp_dir=1, which puts the temporary file beside the object,
// visible to listings while it is written).
func Open(ctx context.Context, rawURL string) (*blob.Bucket, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("objects.Open %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "gs", "s3", "azblob", "mem":
	case "file":
		if u.Path == "" || (u.Path == "/" && u.Host == "") {
			return nil, fmt.Errorf("objects.Open %q: file URL needs a directory, e.g. file:///var/synthos/objects", rawURL)
		}
		if u.Host != "" {
			// file://rel/dir names a directory relative to the working
			// directory, as the bolt state URL and the secrets URL read it;
			// fileblob alone would take only the path ("/dir") and write
			// at the filesystem root.
			abs, err := filepath.Abs(filepath.Join(u.Host, u.Path))
			if err != nil {
				return nil, fmt.Errorf("objects.Open %q: %w", rawURL, err)
			}
			u.Host, u.Path = "", filepath.ToSlash(abs)
		}
		q := u.Query()
		if !q.Has("create_dir") {
			q.Set("create_dir", "true")
			u.RawQuery = q.Encode()
		}
		b, err := (&fileblob.URLOpener{}).OpenBucketURL(ctx, u)
		if err != nil {
			return nil, fmt.Errorf("objects.Open %q: %w", rawURL, err)
		}
		return b, nil
	default:
		return nil, fmt.Errorf("objects.Open %q: %w %q (accepted: %s)", rawURL, ErrScheme, u.Scheme, accepted)
	}
	b, err := blob.OpenBucket(ctx, rawURL)
	if err != nil {
		return nil, fmt.Errorf("objects.Open %q: %w", rawURL, err)
	}
	return b, nil
}

// Put writes the object at key with the bytes write produces, atomically: the
// object becomes visible, or replaces the previous one, only if write and the
// writer's Close both succeed. Otherwise the writer's context is cancelled
// before Close, which gocloud.dev documents as aborting the write, so no
// partial object is left and an existing object keeps its old content.
//
// write must not retain w after it returns. opts may be nil; without a
// ContentType the driver sniffs one from the first 512 bytes.
func Put(ctx context.Context, b *blob.Bucket, key string, write func(w io.Writer) error, opts *blob.WriterOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := b.NewWriter(ctx, key, opts)
	if err != nil {
		return fmt.Errorf("objects.Put %q: %w", key, err)
	}
	if err := write(w); err != nil {
		cancel()
		// Close after cancel aborts the upload; its error only restates the cancel.
		_ = w.Close()
		return fmt.Errorf("objects.Put %q: %w", key, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("objects.Put %q: close: %w", key, err)
	}
	return nil
}

// Exists reports whether an object is stored at key. A missing object is
// (false, nil); any other failure is returned.
func Exists(ctx context.Context, b *blob.Bucket, key string) (bool, error) {
	ok, err := b.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("objects.Exists %q: %w", key, err)
	}
	return ok, nil
}

// CopyTo streams the object at key into w and returns the number of bytes
// copied. The object is never held in memory whole. A missing object is an
// error for which gcerrors.Code returns gcerrors.NotFound.
func CopyTo(ctx context.Context, b *blob.Bucket, key string, w io.Writer) (int64, error) {
	r, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return 0, fmt.Errorf("objects.CopyTo %q: %w", key, err)
	}
	n, err := io.Copy(w, r)
	if cerr := r.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("objects.CopyTo %q: %w", key, err)
	}
	return n, nil
}
