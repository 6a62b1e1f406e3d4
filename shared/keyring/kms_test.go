package keyring_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/api/option"

	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/state/statetest"
)

const kmsKey = "projects/p/locations/global/keyRings/synthos/cryptoKeys/tenant-keysets"

// fakeKMS speaks Cloud KMS's REST encrypt and decrypt (v1, with the CRC32C
// integrity fields the client checks) for one symmetric key held in
// process.
func fakeKMS(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	crc := func(b []byte) string {
		return strconv.FormatUint(uint64(crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))), 10)
	}
	dec := func(s string) []byte {
		b, err := base64.URLEncoding.DecodeString(s)
		if err != nil {
			b, _ = base64.StdEncoding.DecodeString(s)
		}
		return b
	}
	calls := new(atomic.Int32)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		var req map[string]string
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":{"code":400,"message":"bad json"}}`, 400)
			return
		}
		aad := dec(req["additionalAuthenticatedData"])
		switch r.URL.Path {
		case "/v1/" + kmsKey + ":encrypt":
			plain := dec(req["plaintext"])
			if req["plaintextCrc32c"] != crc(plain) {
				http.Error(w, `{"error":{"code":400,"message":"checksum"}}`, 400)
				return
			}
			nonce := make([]byte, gcm.NonceSize())
			rand.Read(nonce)
			c := gcm.Seal(nonce, nonce, plain, aad)
			json.NewEncoder(w).Encode(map[string]any{"name": kmsKey, "ciphertext": base64.StdEncoding.EncodeToString(c),
				"ciphertextCrc32c": crc(c), "verifiedPlaintextCrc32c": true, "verifiedAdditionalAuthenticatedDataCrc32c": true})
		case "/v1/" + kmsKey + ":decrypt":
			c := dec(req["ciphertext"])
			if len(c) < gcm.NonceSize() {
				http.Error(w, `{"error":{"code":400,"message":"short"}}`, 400)
				return
			}
			plain, err := gcm.Open(nil, c[:gcm.NonceSize()], c[gcm.NonceSize():], aad)
			if err != nil {
				http.Error(w, `{"error":{"code":400,"message":"Decryption failed"}}`, 400)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"plaintext": base64.StdEncoding.EncodeToString(plain), "plaintextCrc32c": crc(plain)})
		default:
			http.Error(w, `{"error":{"code":404,"message":"not found"}}`, 404)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, calls
}

// TestCloudKMSKEK runs the keyring with its keysets wrapped by Cloud KMS
// (the KMS REST API, against the fake): the wrapped
// keysets open only through KMS, once per tenant and cache period.
func TestCloudKMSKEK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, calls := fakeKMS(t)
	kek, err := keyring.OpenKEK(ctx, "gcp-kms://"+kmsKey, option.WithEndpoint(srv.URL), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	st := statetest.Bolt(t)
	k, err := keyring.New(st, kek)
	if err != nil {
		t.Fatal(err)
	}
	c, err := k.Encrypt(ctx, "t1", []byte("provider credential"), []byte("profile-1"))
	if err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 4 { // wrap both keysets, then unwrap both
		t.Fatalf("KMS was called %d times to make and open a tenant's keysets, want 4", n)
	}
	if _, err := k.Decrypt(ctx, "t1", c, []byte("profile-1")); err != nil || calls.Load() != 4 {
		t.Fatalf("a cached tenant called KMS again (%d) or failed: %v", calls.Load(), err)
	}
	// Another instance over the same store unwraps through KMS.
	other, _ := keyring.New(st, kek)
	if p, err := other.Decrypt(ctx, "t1", c, []byte("profile-1")); err != nil || string(p) != "provider credential" {
		t.Fatalf("second instance: %q %v", p, err)
	}
	// With KMS gone, no tenant's keys can be opened.
	srv.Close()
	third, _ := keyring.New(st, kek)
	if _, err := third.Decrypt(ctx, "t1", c, []byte("profile-1")); err == nil || !strings.Contains(err.Error(), "unwrap") {
		t.Fatalf("unwrapping without KMS: %v", err)
	}
}
