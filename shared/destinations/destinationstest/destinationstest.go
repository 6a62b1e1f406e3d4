// Package destinationstest holds test helpers for storage destinations: a
// sealer standing in for the keyring, and an S3 fake that can go down.
package destinationstest

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Sealer is AES-GCM under a random key, bound to the tenant and the
// additional data like the keyring's: enough to check that credentials are
// stored sealed and open only on their own destination.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer with a fresh key.
func NewSealer(t testing.TB) *Sealer {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return &Sealer{aead}
}

// Encrypt seals plain for tenant.
func (s *Sealer) Encrypt(_ context.Context, tenant string, plain, aad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, append([]byte(tenant+"\x00"), aad...)), nil
}

// Decrypt opens what Encrypt sealed for tenant with the same aad.
func (s *Sealer) Decrypt(_ context.Context, tenant string, b, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(b) < n {
		return nil, errors.New("destinationstest: ciphertext too short")
	}
	return s.aead.Open(nil, b[:n], b[n:], append([]byte(tenant+"\x00"), aad...))
}

// S3 is gofakes3 behind switches that make it answer like a store in an
// outage (Down: 503 to everything) or a credential without write access
// (DenyWrites: 403 AccessDenied to PUTs).
type S3 struct {
	URL        string
	Down       atomic.Bool
	DenyWrites atomic.Bool
	Hits       atomic.Int64
}

// NewS3 starts the fake with the given buckets; it stops when the test ends.
func NewS3(t testing.TB, buckets ...string) *S3 {
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	f := &S3{}
	h := gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.Hits.Add(1)
		switch {
		case f.Down.Load():
			s3Error(w, http.StatusServiceUnavailable, "ServiceUnavailable", "Service is unable to handle request.")
		case f.DenyWrites.Load() && (r.Method == http.MethodPut || r.Method == http.MethodPost):
			s3Error(w, http.StatusForbidden, "AccessDenied", "Access Denied")
		default:
			h.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+code+`</Code><Message>`+msg+`</Message></Error>`)
}
