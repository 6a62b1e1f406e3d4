package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/keyring"
)

// TestCryptoShredding: a tenant turns encryption on, uploads a dataset
// (stored encrypted, validated through decryption), rotates its keys
// (the dataset stays readable), then deletes itself. A copy of the stored
// object taken before (a backup) can no longer be decrypted, by this
// keyring or any other over the same KEK and store.
func TestCryptoShredding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, fixtureOptions{keyring: true, authTTL: -1})
	admin := f.key("acme", apikeys.Admin, apikeys.Read, apikeys.Write)
	if r := f.do(req{method: "PUT", path: "/v1/encryption", key: admin, body: map[string]any{"encrypt_data": true}}); r.status != 200 || r.json(t)["encrypt_data"] != true {
		t.Fatalf("enable encryption: %d %s", r.status, r.body)
	}
	ds := f.upload(admin)
	if r := f.do(req{method: "GET", path: "/v1/datasets/" + ds, key: admin}); r.json(t)["status"] != "ready" {
		t.Fatalf("the encrypted dataset did not validate: %s", r.body)
	}
	d, err := datasets.New(f.st).Get(ctx, "acme", ds)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.bucket.ReadAll(ctx, d.Key)
	if err != nil {
		t.Fatal(err)
	}
	header := sampleCSV[:bytes.IndexByte([]byte(sampleCSV), '\n')]
	if !bytes.HasPrefix(stored, []byte(keyring.Magic)) || bytes.Contains(stored, []byte(header)) {
		t.Fatalf("the dataset is stored in the clear: %.80q", stored)
	}
	if r := f.do(req{method: "POST", path: "/v1/encryption/rotate", key: admin}); r.status != 200 || r.json(t)["keys"] != float64(2) {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	rd, err := f.ring.ObjectReader(ctx, "acme", bytes.NewReader(stored))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := io.ReadAll(rd); err != nil || string(plain) != sampleCSV {
		t.Fatalf("after rotation the dataset reads back as %.40q, %v", plain, err)
	}
	backup := bytes.Clone(stored)

	r := f.do(req{method: "DELETE", path: "/v1/tenant?confirm=acme", key: admin})
	if r.status != 200 || r.json(t)["keys_destroyed"] != true || r.json(t)["objects_deleted"].(float64) < 1 {
		t.Fatalf("delete tenant: %d %s", r.status, r.body)
	}
	if ok, _ := f.bucket.Exists(ctx, d.Key); ok {
		t.Fatal("the dataset object survived the deletion")
	}
	fresh, err := keyring.New(f.st, f.kek)
	if err != nil {
		t.Fatal(err)
	}
	for _, ring := range []*keyring.Keyring{f.ring, fresh} {
		if _, err := ring.ObjectReader(ctx, "acme", bytes.NewReader(backup)); !errors.Is(err, keyring.ErrDestroyed) {
			t.Fatalf("the backup of the dataset still decrypts: %v", err)
		}
	}
	if r := f.do(req{method: "GET", path: "/v1/datasets", key: admin}); r.status != http.StatusUnauthorized {
		t.Fatalf("the deleted tenant's key still works: %d", r.status)
	}
}
