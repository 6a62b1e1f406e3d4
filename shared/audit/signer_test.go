package audit_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"google.golang.org/api/option"

	"synthos.dev/synthos/shared/audit"
)

const kmsVersion = "projects/p/locations/global/keyRings/audit/cryptoKeys/checkpoints/cryptoKeyVersions/1"

// fakeKMS speaks Cloud KMS's REST API (v1 getPublicKey and
// asymmetricSign) for one Ed25519 key version held in process.
func fakeKMS(t *testing.T, algorithm string) (*httptest.Server, ed25519.PublicKey, *atomic.Int32) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	signs := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/v1/"+kmsVersion+"/publicKey":
			_ = json.NewEncoder(w).Encode(map[string]any{"name": kmsVersion, "algorithm": algorithm,
				"pem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))})
		case r.Method == http.MethodPost && r.URL.Path == "/v1/"+kmsVersion+":asymmetricSign":
			var req struct {
				Data   string          `json:"data"`
				Digest json.RawMessage `json:"digest"`
			}
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Digest != nil {
				http.Error(w, `{"error":{"code":400,"message":"Ed25519 keys sign data, not a digest"}}`, http.StatusBadRequest)
				return
			}
			data, err := base64.StdEncoding.DecodeString(req.Data)
			if err != nil {
				http.Error(w, `{"error":{"code":400,"message":"bad data"}}`, http.StatusBadRequest)
				return
			}
			signs.Add(1)
			_ = json.NewEncoder(w).Encode(map[string]any{"name": kmsVersion,
				"signature": base64.StdEncoding.EncodeToString(ed25519.Sign(priv, data))})
		default:
			http.Error(w, `{"error":{"code":404,"message":"not found"}}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, pub, signs
}

func TestKMSSigner(t *testing.T) {
	t.Parallel()
	srv, pub, signs := fakeKMS(t, "EC_SIGN_ED25519")
	ctx := context.Background()
	s, err := audit.NewKMSSigner(ctx, "synthos-audit", kmsVersion, option.WithEndpoint(srv.URL), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	want, _ := note.NewEd25519VerifierKey("synthos-audit", pub)
	if s.VerifierKey() != want {
		t.Fatalf("verifier key %q, want %q", s.VerifierKey(), want)
	}
	v, err := note.NewVerifier(s.VerifierKey())
	if err != nil || v.KeyHash() != s.KeyHash() {
		t.Fatalf("key hash %08x vs verifier's %08x (%v)", s.KeyHash(), v.KeyHash(), err)
	}
	l, _ := openLog(t)
	for i := range 3 {
		if _, _, err := l.Append(ctx, tev(strings.Repeat("k", i+1), "t1", i)); err != nil {
			t.Fatal(err)
		}
	}
	_, msg, err := l.Checkpoint(ctx, audit.LogID("t1"), s)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := audit.OpenCheckpoint(msg, v)
	if err != nil || cp.Size != 3 {
		t.Fatalf("KMS-signed checkpoint: %+v, %v", cp, err)
	}
	if signs.Load() != 1 {
		t.Fatalf("KMS signed %d times, want 1", signs.Load())
	}
	// The stored checkpoint is served without signing again.
	if _, _, err := l.Checkpoint(ctx, audit.LogID("t1"), s); err != nil || signs.Load() != 1 {
		t.Fatalf("second checkpoint: %v, %d signatures", err, signs.Load())
	}
}

func TestKMSSignerWrongAlgorithm(t *testing.T) {
	t.Parallel()
	srv, _, _ := fakeKMS(t, "EC_SIGN_P256_SHA256")
	_, err := audit.NewKMSSigner(context.Background(), "synthos-audit", kmsVersion, option.WithEndpoint(srv.URL), option.WithoutAuthentication())
	if err == nil || !strings.Contains(err.Error(), "EC_SIGN_ED25519") {
		t.Fatalf("a P-256 key must be refused, naming the algorithm needed: %v", err)
	}
}
