package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"sort"
	"strings"

	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/web"
)

// HTTPOptions configure Middleware.
type HTTPOptions struct {
	// Tenant returns the authenticated tenant of a request; the middleware
	// must run after authentication.
	Tenant func(r *http.Request) string
	// MaxBody bounds a JSON (non-multipart) body that is read to be
	// fingerprinted; larger bodies answer 413.
	MaxBody int64
	// MaxUpload bounds a multipart body, which is spooled to a temporary
	// file to be fingerprinted and then handed on; larger ones answer 413.
	MaxUpload int64
}

type ctxKey struct{}

// WithSeed returns ctx executing under the claim seed (what Middleware
// does for a request with an Idempotency-Key), so DeriveID-based ids repeat.
func WithSeed(ctx context.Context, seed string) context.Context {
	return context.WithValue(ctx, ctxKey{}, seed)
}

// SeedFrom returns the seed of the claim the request executes under, for
// DeriveID.
func SeedFrom(ctx context.Context) (string, bool) {
	k, ok := ctx.Value(ctxKey{}).(string)
	return k, ok
}

// Middleware executes a POST carrying Idempotency-Key at most once per
// (tenant, key): the first executes, replays get the stored answer with
// Idempotent-Replayed: true, a concurrent duplicate gets 409
// idempotency_in_progress (with Retry-After), and the key reused with a
// different request gets 422 idempotency_mismatch. Requests without the
// header, and other methods, pass through untouched.
func (s *Store) Middleware(o HTTPOptions, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(Header)
		if r.Method != http.MethodPost || key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if err := CheckKey(key); err != nil {
			web.WriteError(w, http.StatusBadRequest, "invalid_idempotency_key", err.Error(), map[string]any{"header": Header})
			return
		}
		canon, cleanup, status, err := readForFingerprint(r, o)
		if cleanup != nil {
			defer cleanup()
		}
		if err != nil {
			code := "invalid_request"
			if status == http.StatusRequestEntityTooLarge {
				code = "too_large"
			}
			web.WriteError(w, status, code, err.Error(), nil)
			return
		}
		ctx := r.Context()
		tenant := o.Tenant(r)
		claim, err := s.Begin(ctx, tenant, key, Fingerprint(r.Method, r.URL.Path, canon))
		switch {
		case errors.Is(err, ErrMismatch):
			web.WriteError(w, http.StatusUnprocessableEntity, "idempotency_mismatch",
				"this Idempotency-Key was already used with a different request; use a new key for a new request", map[string]any{"header": Header})
			return
		case errors.Is(err, ErrInProgress):
			w.Header().Set("Retry-After", "1")
			web.WriteError(w, http.StatusConflict, "idempotency_in_progress",
				"a request with this Idempotency-Key is still being processed; retry shortly to get its answer", map[string]any{"header": Header})
			return
		case err != nil:
			obs.Logger(ctx).ErrorContext(ctx, "idempotency begin", "error", err)
			web.WriteError(w, http.StatusServiceUnavailable, "unavailable", "could not record the Idempotency-Key; retry", nil)
			return
		}
		if claim.Replay != nil {
			writeStored(w, claim.Replay)
			return
		}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		// The claim must be settled even if the client goes away mid-request.
		settle := context.WithoutCancel(ctx)
		next.ServeHTTP(rec, r.WithContext(context.WithValue(ctx, ctxKey{}, claim.Seed)))
		if !IsStorable(rec.status) {
			if err := s.Abandon(settle, claim); err != nil {
				obs.Logger(ctx).ErrorContext(ctx, "idempotency abandon", "error", err)
			}
			return
		}
		resp := Response{Status: rec.status, ContentType: rec.Header().Get("Content-Type"),
			Location: rec.Header().Get("Location"), Body: rec.body.Bytes()}
		if err := s.Complete(settle, claim, resp); err != nil {
			obs.Logger(ctx).ErrorContext(ctx, "idempotency complete", "error", err)
		}
	})
}

func writeStored(w http.ResponseWriter, resp *Response) {
	if resp.ContentType != "" {
		w.Header().Set("Content-Type", resp.ContentType)
	}
	if resp.Location != "" {
		w.Header().Set("Location", resp.Location)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set(ReplayedHeader, "true")
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// recorder passes the response through and keeps a copy of it.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
	body   bytes.Buffer
}

// maxStored bounds the copy kept of a response; API answers are small.
const maxStored = 1 << 20

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	if r.body.Len()+len(b) <= maxStored {
		r.body.Write(b)
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// readForFingerprint reads the body to fingerprint it and replaces r.Body
// with an equivalent reader. It returns the canonical body, a cleanup for a
// spool file, and on error the status to answer.
func readForFingerprint(r *http.Request, o HTTPOptions) ([]byte, func(), int, error) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" && params["boundary"] != "" {
		return spoolMultipart(r, params["boundary"], o.MaxUpload)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, o.MaxBody+1))
	if err != nil {
		return nil, nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	if int64(len(b)) > o.MaxBody {
		return nil, nil, http.StatusRequestEntityTooLarge, fmt.Errorf("the body is larger than %d bytes", o.MaxBody)
	}
	r.Body = io.NopCloser(bytes.NewReader(b))
	return CanonicalJSON(b), nil, 0, nil
}

// spoolMultipart copies a multipart body to a temporary file and
// fingerprints its parts (name, file name, SHA-256 of the content, in name
// order), which unlike the raw bytes do not depend on the boundary a client
// happened to pick.
func spoolMultipart(r *http.Request, boundary string, limit int64) ([]byte, func(), int, error) {
	f, err := os.CreateTemp("", "synthos-upload-*")
	if err != nil {
		return nil, nil, http.StatusInternalServerError, fmt.Errorf("spool upload: %w", err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, cleanup, http.StatusBadRequest, fmt.Errorf("read upload: %w", err)
	}
	if n > limit {
		return nil, cleanup, http.StatusRequestEntityTooLarge, fmt.Errorf("the upload is larger than %d bytes", limit)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, cleanup, http.StatusInternalServerError, fmt.Errorf("spool upload: %w", err)
	}
	var parts []string
	mr := multipart.NewReader(f, boundary)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, cleanup, http.StatusBadRequest, fmt.Errorf("malformed multipart body: %w", err)
		}
		h := sha256.New()
		if _, err := io.Copy(h, p); err != nil {
			return nil, cleanup, http.StatusBadRequest, fmt.Errorf("malformed multipart body: %w", err)
		}
		parts = append(parts, fmt.Sprintf("%q %q %x", p.FormName(), p.FileName(), h.Sum(nil)))
	}
	sort.Strings(parts)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, cleanup, http.StatusInternalServerError, fmt.Errorf("spool upload: %w", err)
	}
	r.Body = io.NopCloser(f)
	r.ContentLength = n
	return []byte("multipart\n" + strings.Join(parts, "\n")), cleanup, 0, nil
}
