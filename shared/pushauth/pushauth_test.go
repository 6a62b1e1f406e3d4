package pushauth_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/pushauth"
)

const (
	audience = "https://europe-west1-p.cloudfunctions.net/synthos-generate"
	invoker  = "synthos-pubsub-invoker@p.iam.gserviceaccount.com"
	kid      = "test-key-1"
)

// keySet plays Google's certificate endpoint: every request the validator's
// HTTP client makes is answered with the JWKS of the test key, so nothing
// leaves the process.
type keySet struct {
	key  *rsa.PrivateKey
	mu   sync.Mutex
	urls []string
}

func (k *keySet) RoundTrip(r *http.Request) (*http.Response, error) {
	k.mu.Lock()
	k.urls = append(k.urls, r.URL.String())
	k.mu.Unlock()
	b64 := base64.RawURLEncoding.EncodeToString
	body, _ := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
		"n": b64(k.key.N.Bytes()), "e": b64(big.NewInt(int64(k.key.E)).Bytes()),
	}}})
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(body)), Request: r}, nil
}

func newKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// token signs claims with key as Google signs an ID token (RS256).
func token(t *testing.T, key *rsa.PrivateKey, header map[string]any, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(header) + "." + enc(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func goodClaims() map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": "https://accounts.google.com", "aud": audience, "sub": "1234567890",
		"email": invoker, "email_verified": true,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func TestWrap(t *testing.T) {
	t.Parallel()
	ks := &keySet{key: newKey(t)}
	other := newKey(t)
	var logs bytes.Buffer
	var logMu sync.Mutex
	v, err := pushauth.New(context.Background(), pushauth.Options{
		Audience: audience, ServiceAccounts: []string{invoker},
		Logger:     slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &logMu}, nil)),
		HTTPClient: &http.Client{Transport: ks},
	})
	if err != nil {
		t.Fatal(err)
	}
	rs256 := map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}
	with := func(change func(map[string]any)) map[string]any {
		c := goodClaims()
		change(c)
		return c
	}
	tests := []struct {
		name   string
		auth   string
		status int
	}{
		{"valid", "Bearer " + token(t, ks.key, rs256, goodClaims()), 200},
		{"lower-case scheme", "bearer " + token(t, ks.key, rs256, goodClaims()), 200},
		{"no header", "", 401},
		{"basic auth", "Basic dXNlcjpwYXNz", 401},
		{"empty bearer", "Bearer ", 401},
		{"not a JWT", "Bearer abc.def", 401},
		{"other audience", "Bearer " + token(t, ks.key, rs256, with(func(c map[string]any) { c["aud"] = "https://evil.example" })), 401},
		{"expired", "Bearer " + token(t, ks.key, rs256, with(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() })), 401},
		{"other issuer", "Bearer " + token(t, ks.key, rs256, with(func(c map[string]any) { c["iss"] = "https://issuer.example" })), 401},
		{"signed by another key", "Bearer " + token(t, other, rs256, goodClaims()), 401},
		{"unknown key id", "Bearer " + token(t, ks.key, map[string]any{"alg": "RS256", "kid": "nope"}, goodClaims()), 401},
		{"alg none", "Bearer " + strings.Join(strings.Split(token(t, ks.key, map[string]any{"alg": "none", "kid": kid}, goodClaims()), ".")[:2], ".") + ".", 401},
		{"another service account", "Bearer " + token(t, ks.key, rs256, with(func(c map[string]any) { c["email"] = "attacker@p.iam.gserviceaccount.com" })), 403},
		{"unverified email", "Bearer " + token(t, ks.key, rs256, with(func(c map[string]any) { c["email_verified"] = false })), 403},
		{"no email", "Bearer " + token(t, ks.key, rs256, with(func(c map[string]any) { delete(c, "email") })), 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var reached bool
			h := v.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true }))
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"message":{"data":"eA=="}}`))
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, tc.status)
			}
			if reached != (tc.status == 200) {
				t.Errorf("handler reached = %v with status %d", reached, rec.Code)
			}
			if tc.status != 200 && !strings.Contains(rec.Body.String(), `"error"`) {
				t.Errorf("refusal body %q is not the error envelope", rec.Body)
			}
		})
	}
	logMu.Lock()
	defer logMu.Unlock()
	if n := strings.Count(logs.String(), `"security_event":"`+pushauth.SecurityEvent+`"`); n != len(tests)-2 {
		t.Errorf("%d security events logged, want one per refused request (%d):\n%s", n, len(tests)-2, logs.String())
	}
	if len(ks.urls) == 0 {
		t.Error("the validator never fetched the key set: the valid tokens were not checked against it")
	}
	for _, u := range ks.urls {
		if !strings.HasPrefix(u, "https://www.googleapis.com/") && !strings.HasPrefix(u, "https://www.gstatic.com/") {
			t.Errorf("the validator fetched %s, not Google's keys", u)
		}
	}
}

func TestVerifyCodes(t *testing.T) {
	t.Parallel()
	ks := &keySet{key: newKey(t)}
	v, err := pushauth.New(context.Background(), pushauth.Options{Audience: audience, ServiceAccounts: []string{invoker},
		HTTPClient: &http.Client{Transport: ks}})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, ks.key, map[string]any{"alg": "RS256", "kid": kid}, goodClaims()))
	if email, err := v.Verify(context.Background(), req); err != nil || email != invoker {
		t.Errorf("Verify = %q, %v; want %q", email, err, invoker)
	}
	req.Header.Del("Authorization")
	if _, err := v.Verify(context.Background(), req); errs.CodeOf(err) != errs.Unauthenticated {
		t.Errorf("Verify without a token = %v (code %v), want unauthenticated", err, errs.CodeOf(err))
	}
	for _, opts := range []pushauth.Options{{ServiceAccounts: []string{invoker}}, {Audience: audience}} {
		if _, err := pushauth.New(context.Background(), opts); errs.CodeOf(err) != errs.InvalidArgument {
			t.Errorf("New(%+v) = %v, want invalid_argument", opts, err)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
