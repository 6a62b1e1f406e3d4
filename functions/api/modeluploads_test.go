package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/models"
)

// TestResumableModelUpload: a model goes through the resumable protocol of
// datasets (POST /v1/models/uploads, PUT …/content in chunks with
// Content-Range, 308 with Range while bytes are missing, a retried chunk
// accepted, a chunk out of order refused), is validated when the last
// chunk lands and, for a tenant that encrypts its data, is stored
// encrypted and still predicts. A malicious pickle sent the same way is
// rejected with the reason.
func TestResumableModelUpload(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, fixtureOptions{keyring: true, chunkGranularity: 1024})
	admin := f.key("acme", apikeys.Admin, apikeys.Read, apikeys.Write)
	if r := f.do(req{method: "PUT", path: "/v1/encryption", key: admin, body: map[string]any{"encrypt_data": true}}); r.status != 200 {
		t.Fatalf("enable encryption: %d %s", r.status, r.body)
	}
	data, err := os.ReadFile(filepath.Join(ensembleData, "xgb_insurance_regression.json"))
	if err != nil {
		t.Fatal(err)
	}
	begin := func(name string, size int) (id, url string) {
		t.Helper()
		r := f.do(req{method: "POST", path: "/v1/models/uploads", key: admin, body: map[string]any{"name": name, "size": size}})
		m := r.json(t)
		if r.status != 201 || m["protocol"] != "resumable" {
			t.Fatalf("begin: %d %s", r.status, r.body)
		}
		model := m["model"].(map[string]any)
		if model["status"] != "pending" {
			t.Fatalf("begin: model %v", model)
		}
		return model["id"].(string), m["upload_url"].(string)
	}
	id, url := begin("charges.json", len(data))
	path := strings.TrimPrefix(url, f.srv.URL)
	if path != "/v1/models/"+id+"/content" {
		t.Fatalf("upload URL %s", url)
	}
	put := func(from, to int) resp {
		t.Helper()
		return f.do(req{method: "PUT", path: path, key: admin, body: data[from : to+1],
			header: map[string]string{"Content-Range": fmt.Sprintf("bytes %d-%d/%d", from, to, len(data)), "Content-Type": "application/octet-stream"}})
	}
	chunk := 4096
	steps := []struct {
		name       string
		from, to   int
		status     int
		wantRange  string
		wantStatus string
	}{
		{"first chunk", 0, chunk - 1, 308, fmt.Sprintf("bytes=0-%d", chunk-1), "pending"},
		{"retry of the first chunk", 0, chunk - 1, 308, fmt.Sprintf("bytes=0-%d", chunk-1), "pending"},
		{"out of order", 2 * chunk, 3*chunk - 1, 409, "", ""},
		{"second chunk", chunk, 2*chunk - 1, 308, fmt.Sprintf("bytes=0-%d", 2*chunk-1), "pending"},
		{"the rest", 2 * chunk, len(data) - 1, 200, "", "ready"},
	}
	for _, s := range steps {
		r := put(s.from, s.to)
		if r.status != s.status || r.header.Get("Range") != s.wantRange {
			t.Fatalf("%s: %d Range %q %s", s.name, r.status, r.header.Get("Range"), r.body)
		}
		if s.wantStatus != "" && r.json(t)["status"] != s.wantStatus {
			t.Fatalf("%s: %s", s.name, r.body)
		}
	}
	m, err := models.New(f.st, f.bucket).Get(ctx, "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Size != int64(len(data)) || m.Framework != "xgboost" || !m.Servable {
		t.Errorf("model %+v", m)
	}
	stored, err := f.bucket.ReadAll(ctx, m.Key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(stored, []byte(keyring.Magic)) || bytes.Contains(stored, []byte("learner")) {
		t.Fatalf("the model is stored in the clear: %.60q", stored)
	}
	rd, err := f.ring.ObjectReader(ctx, "acme", bytes.NewReader(stored))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := io.ReadAll(rd); err != nil || !bytes.Equal(plain, data) {
		t.Fatalf("the stored model decrypts to %d bytes (%v), want the %d uploaded", len(plain), err, len(data))
	}
	if it := f.bucket.List(nil); it != nil {
		for {
			obj, err := it.Next(ctx)
			if err != nil {
				break
			}
			if strings.Contains(obj.Key, "/.chunks/") {
				t.Errorf("chunk %s left behind", obj.Key)
			}
		}
	}
	r := f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: admin,
		body: map[string]any{"rows": []map[string]any{{"age": 30, "sex": 1, "bmi": 25, "children": 0, "smoker": 0, "region": 2}}}})
	if r.status != 200 || !strings.Contains(string(r.body), `"predictions":[[`) {
		t.Fatalf("predict with the encrypted model: %d %s", r.status, r.body)
	}
	if r := put(0, chunk-1); r.status != 200 || r.json(t)["status"] != "ready" {
		t.Errorf("a chunk after completion: %d %s", r.status, r.body)
	}

	// A malicious pickle through the same protocol, whole PUT, then complete.
	evil, err := os.ReadFile(filepath.Join(corpusData, "malicious", "os_system_p4.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	id2, url2 := begin("model.pkl", len(evil))
	r = f.do(req{method: "PUT", path: strings.TrimPrefix(url2, f.srv.URL), key: admin, body: evil, header: map[string]string{"Content-Type": "application/octet-stream"}})
	if r.status != 400 || !strings.Contains(string(r.body), "model_rejected") || !strings.Contains(string(r.body), "system") {
		t.Fatalf("malicious pickle: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/models/" + id2 + "/complete", key: admin}); r.status != 400 {
		t.Errorf("complete a rejected model: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/models/" + id2, key: admin}); r.json(t)["status"] != "rejected" {
		t.Errorf("rejected model: %s", r.body)
	}
	// Declared larger than models may be: refused at once.
	if r := f.do(req{method: "POST", path: "/v1/models/uploads", key: admin, body: map[string]any{"name": "huge.json", "size": 1 << 40}}); r.status != 413 {
		t.Errorf("huge: %d %s", r.status, r.body)
	}
}
