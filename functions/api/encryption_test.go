package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"gocloud.dev/blob/gcsblob"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/objects/objectstest"
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

// TestDirectUploadEncrypted: a dataset sent straight to a Cloud Storage
// upload session (fake-gcs-server in process, through the real client),
// which the API never sees, lands at a staging key; completing the upload
// moves it into the dataset's key, encrypted when the tenant chose
// encryption at rest, as is otherwise, and deletes the staged plaintext.
// The encrypted dataset validates (it is read through decryption) and is
// shredded with the tenant.
func TestDirectUploadEncrypted(t *testing.T) {
	t.Parallel()
	data := []byte(sampleCSV)
	header := data[:bytes.IndexByte(data, '\n')]
	for _, tc := range []struct {
		name    string
		encrypt bool
	}{
		{"encryption on", true},
		{"encryption off", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			srv, client := objectstest.FakeGCS(t)
			if err := client.Bucket("data").Create(ctx, "p", nil); err != nil {
				t.Fatal(err)
			}
			bucket, err := gcsblob.OpenBucket(ctx, nil, "data", &gcsblob.Options{Client: client})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = bucket.Close() })
			f := newFixture(t, fixtureOptions{keyring: true, authTTL: -1, bucket: bucket,
				sessions: &api.GCSSessions{Bucket: "data", Endpoint: srv.URL(), Client: srv.HTTPClient()}})
			admin := f.key("acme", apikeys.Admin, apikeys.Read, apikeys.Write)
			if r := f.do(req{method: "PUT", path: "/v1/encryption", key: admin, body: map[string]any{"encrypt_data": tc.encrypt}}); r.status != 200 {
				t.Fatalf("set encryption: %d %s", r.status, r.body)
			}
			r := f.do(req{method: "POST", path: "/v1/datasets/uploads", key: admin, body: map[string]any{"name": "sample.csv", "size": len(data)}})
			if r.status != 201 {
				t.Fatalf("begin: %d %s", r.status, r.body)
			}
			up := r.json(t)
			id := up["dataset"].(map[string]any)["id"].(string)
			rq, err := http.NewRequest(http.MethodPut, up["upload_url"].(string), bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			rq.Header.Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(data)-1, len(data)))
			res, err := http.DefaultClient.Do(rq)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("upload: %s", res.Status)
			}
			d, err := datasets.New(f.st).Get(ctx, "acme", id)
			if err != nil {
				t.Fatal(err)
			}
			// Before completion the plaintext is only at the staging key.
			if ok, _ := bucket.Exists(ctx, d.Key); ok {
				t.Fatal("the session wrote the dataset's key before completion")
			}
			if ok, _ := bucket.Exists(ctx, api.StagingKey(d.Key)); !ok {
				t.Fatal("nothing at the staging key after the upload")
			}
			r = f.do(req{method: "POST", path: "/v1/datasets/" + id + "/complete", key: admin})
			if got := r.json(t); r.status != 200 || got["status"] != "ready" || got["size"] != float64(len(data)) || got["rows"] != float64(10) {
				t.Fatalf("complete: %d %s", r.status, r.body)
			}
			if ok, _ := bucket.Exists(ctx, api.StagingKey(d.Key)); ok {
				t.Fatal("the staged plaintext survived completion")
			}
			stored, err := bucket.ReadAll(ctx, d.Key)
			if err != nil {
				t.Fatal(err)
			}
			if sealed := bytes.HasPrefix(stored, []byte(keyring.Magic)); sealed != tc.encrypt || bytes.Contains(stored, header) == tc.encrypt {
				t.Fatalf("stored %.60q with encryption %v", stored, tc.encrypt)
			}
			rd, err := f.ring.ObjectReader(ctx, "acme", bytes.NewReader(stored))
			if err != nil {
				t.Fatal(err)
			}
			if plain, err := io.ReadAll(rd); err != nil || !bytes.Equal(plain, data) {
				t.Fatalf("reads back as %.40q, %v", plain, err)
			}
			// Completing again answers the same dataset.
			if r := f.do(req{method: "POST", path: "/v1/datasets/" + id + "/complete", key: admin}); r.status != 200 || r.json(t)["status"] != "ready" {
				t.Fatalf("complete again: %d %s", r.status, r.body)
			}
			if !tc.encrypt {
				return
			}
			if r := f.do(req{method: "DELETE", path: "/v1/tenant?confirm=acme", key: admin}); r.status != 200 {
				t.Fatalf("delete tenant: %d %s", r.status, r.body)
			}
			if _, err := f.ring.ObjectReader(ctx, "acme", bytes.NewReader(stored)); !errors.Is(err, keyring.ErrDestroyed) {
				t.Fatalf("a copy of the dataset still decrypts after the tenant's deletion: %v", err)
			}
		})
	}
}
