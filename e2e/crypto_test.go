package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tink-crypto/tink-go/v2/tink"
	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/compliance"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/pipeline"
)

// TestEmbeddedEncryptedJobShredded runs a job for a tenant that encrypts
// its data at rest: the dataset, the training and holdout rows and the
// fitted model are stored encrypted under the tenant's streaming keyset,
// the pipeline reads them through it, and once the tenant's keys are
// destroyed none of them (nor a backup copy) decrypts any more.
func TestEmbeddedEncryptedJobShredded(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := startEmbedded(t, embeddedOptions{})
	kek := e.env.Config.KEK()
	ring := encryptTenant(t, e, "acme")
	var enc bytes.Buffer
	w, err := ring.ObjectWriter(ctx, "acme", &enc)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(adult(t, 2000))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ds := upload(t, e.env, "acme", "ds-enc", "adult.csv", enc.Bytes())
	j := &jobs.Job{ID: "job-enc", Tenant: "acme", Request: jobs.Request{Dataset: ds.ID, Rows: 200, Model: "tree", Seed: 3}}
	submit(t, e.env, j)
	e.drain(t)
	if got := loadJob(t, e.env, j.ID); got.State != jobs.Succeeded && got.Outputs[pipeline.OutputQuarantine] == "" {
		t.Fatalf("job on an encrypted dataset ended %s: %s %v", got.State, got.Error, got.Reasons)
	}
	stored := map[string][]byte{}
	for _, key := range []string{ds.Key, datasets.ModelKey("acme", j.ID), datasets.TrainKey("acme", j.ID), datasets.HoldoutKey("acme", j.ID)} {
		b := readObject(t, e.env.Objects, key)
		if !bytes.HasPrefix(b, []byte(keyring.Magic)) || bytes.Contains(b, []byte("workclass")) {
			t.Fatalf("%s is stored in the clear: %.60q", key, b)
		}
		stored[key] = b
	}
	r, err := ring.ObjectReader(ctx, "acme", bytes.NewReader(stored[datasets.ModelKey("acme", j.ID)]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := model.Load(r); err != nil {
		t.Fatalf("the stored model does not decrypt to a model: %v", err)
	}

	if err := ring.Destroy(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	fresh, err := keyring.NewLazy(e.env.State, func(ctx2 context.Context) (tink.AEAD, error) { return keyring.OpenKEK(ctx2, kek) })
	if err != nil {
		t.Fatal(err)
	}
	for key, b := range stored {
		for _, k := range []*keyring.Keyring{ring, fresh} {
			r, err := k.ObjectReader(ctx, "acme", bytes.NewReader(b))
			if err == nil {
				_, err = io.Copy(io.Discard, r)
			}
			if !errors.Is(err, keyring.ErrDestroyed) {
				t.Fatalf("%s still decrypts after the tenant's keys were destroyed: %v", key, err)
			}
		}
	}
}

// TestEmbeddedIngestEncrypted drops a file in the uploads bucket for a
// tenant that encrypts its data: Ingest stores the dataset encrypted, and
// the job still reads it.
func TestEmbeddedIngestEncrypted(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := startEmbedded(t, embeddedOptions{})
	encryptTenant(t, e, "acme")
	name := "uploads/acme/adult.csv"
	meta := map[string]string{"rows": "300", "seed": "5"}
	if err := objects.Put(ctx, e.env.Objects, name, func(w io.Writer) error {
		_, err := w.Write(adult(t, 1000))
		return err
	}, &blob.WriterOptions{Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	ingestEvent(t, e, "ev-enc", name, "7", meta, 1)
	e.drain(t)
	page, err := jobs.New(e.env.State).List(ctx, "acme", 10, "")
	if err != nil || len(page.Jobs) != 1 {
		t.Fatalf("jobs: %v, %v", page, err)
	}
	j := page.Jobs[0]
	if j.State != jobs.Succeeded && j.Outputs[pipeline.OutputQuarantine] == "" {
		t.Fatalf("job on an ingested encrypted dataset ended %s: %s", j.State, j.Error)
	}
	ds, err := datasets.New(e.env.State).Get(ctx, "acme", j.Request.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Status != datasets.Ready || ds.Rows != 1000 {
		t.Errorf("dataset %s with %d rows, want ready with 1000", ds.Status, ds.Rows)
	}
	if b := readObject(t, e.env.Objects, ds.Key); !bytes.HasPrefix(b, []byte(keyring.Magic)) || bytes.Contains(b, []byte("workclass")) {
		t.Fatalf("the ingested dataset is stored in the clear: %.60q", b)
	}
}

// encryptTenant creates the embedded master keyset and turns encryption at
// rest on for tenant.
func encryptTenant(t *testing.T, e *embedded, tenant string) *keyring.Keyring {
	t.Helper()
	kek := e.env.Config.KEK()
	if !strings.HasPrefix(kek, "file://") {
		t.Fatalf("the embedded KEK is %q, want the master keyset in the secrets directory", kek)
	}
	if _, err := keyring.CreateMasterKeyset(strings.TrimPrefix(kek, "file://")); err != nil {
		t.Fatal(err)
	}
	ring, err := e.env.Keyring(t.Context())
	if err != nil || ring == nil {
		t.Fatalf("Keyring = %v, %v", ring, err)
	}
	if err := ring.SetEncryptData(t.Context(), tenant, true); err != nil {
		t.Fatal(err)
	}
	return ring
}

// TestEmbeddedEncryptedOutputs runs a sharded job for a tenant that
// encrypts its data at rest and one that does not, and reads the outputs
// through the API: the encrypting tenant's synthetic table, reports and
// compliance evidence are ciphertext in the object store (as written on
// disk), the API serves them decrypted (its download link is the
// authenticated streaming endpoint), the other tenant's are stored as
// before; once the encrypting tenant is deleted, a backup copy of its
// outputs no longer decrypts.
func TestEmbeddedEncryptedOutputs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	e := startEmbedded(t, embeddedOptions{shardRows: 1000})
	encryptTenant(t, e, "acme")
	plan := plans.Plan{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 10_000, ConcurrentJobs: 10, ReportRetentionDays: 1}
	dir := strings.TrimPrefix(e.env.Config.ObjectsURL, "file://")
	onDisk := func(key string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(key)))
		if err != nil {
			t.Fatalf("the stored bytes of %s: %v", key, err)
		}
		return b
	}
	tests := []struct {
		tenant string
		sealed bool
	}{{"acme", true}, {"plain", false}}
	for _, tc := range tests {
		ds := upload(t, e.env, tc.tenant, "ds-"+tc.tenant, "adult.csv", adult(t, 1500))
		submit(t, e.env, &jobs.Job{ID: "job-out-" + tc.tenant, Tenant: tc.tenant, Request: jobs.Request{
			Dataset: ds.ID, Rows: 2500, Format: "csv", Model: "tree", Seed: 4, Thresholds: skipGate(t)}})
	}
	e.drain(t) // the Bus takes no more publications from outside after it
	backup := map[string][]byte{}
	for _, tc := range tests {
		call := apiRawClient(t, e, plan, tc.tenant)
		j := &jobs.Job{ID: "job-out-" + tc.tenant}
		got := loadJob(t, e.env, j.ID)
		if got.State != jobs.Succeeded || got.Shards < 2 {
			t.Fatalf("%s: job ended %s in %d shards: %s %v; want succeeded, sharded", tc.tenant, got.State, got.Shards, got.Error, got.Reasons)
		}
		res, body := call("GET", "/v1/jobs/"+j.ID+"/compliance", nil)
		if res.StatusCode != 200 || !json.Valid(body) {
			t.Fatalf("%s: GET compliance: %d %.200s", tc.tenant, res.StatusCode, body)
		}
		got = loadJob(t, e.env, j.ID)
		keys := []string{got.Outputs[jobs.OutputData], got.Outputs[jobs.OutputReportJSON], got.Outputs[jobs.OutputReportHTML],
			compliance.JobKey(tc.tenant, j.ID, "json")}
		for _, key := range keys {
			stored := onDisk(key)
			if sealed := bytes.HasPrefix(stored, []byte(keyring.Magic)) && !bytes.Contains(stored, []byte("workclass")); sealed != tc.sealed {
				t.Errorf("%s: %s stored sealed = %v, want %v (%.60q)", tc.tenant, key, sealed, tc.sealed, stored)
			}
			backup[tc.tenant+" "+key] = stored
		}

		res, body = call("GET", "/v1/jobs/"+j.ID+"/output", nil)
		var dl struct {
			URL           string `json:"url"`
			Authenticated bool   `json:"authenticated"`
		}
		if err := json.Unmarshal(body, &dl); err != nil || res.StatusCode != 200 || !dl.Authenticated || !strings.HasSuffix(dl.URL, "/v1/jobs/"+j.ID+"/output/content") {
			t.Fatalf("%s: GET output: %d %s", tc.tenant, res.StatusCode, body)
		}
		res, body = call("GET", "/v1/jobs/"+j.ID+"/output/content", nil)
		want, err := e.env.Objects.ReadAll(ctx, got.Outputs[jobs.OutputData])
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 || !bytes.Equal(body, want) || res.ContentLength != int64(len(body)) {
			t.Fatalf("%s: GET output/content: %d, %d bytes (Content-Length %d), want the %d bytes of the output", tc.tenant, res.StatusCode, len(body), res.ContentLength, len(want))
		}
		rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err != nil || len(rows) != 2501 || !slices.Contains(rows[0], "workclass") {
			t.Fatalf("%s: the served output is not the 2500-row table: %d rows, %v", tc.tenant, len(rows), err)
		}
		res, body = call("GET", "/v1/jobs/"+j.ID+"/report", nil)
		if res.StatusCode != 200 || !json.Valid(body) || !bytes.Contains(body, []byte("workclass")) {
			t.Fatalf("%s: GET report: %d %.200q", tc.tenant, res.StatusCode, body)
		}
	}

	acme := apiRawClient(t, e, plan, "acme")
	if res, body := acme("DELETE", "/v1/tenant?confirm=acme", nil); res.StatusCode != 200 {
		t.Fatalf("DELETE tenant: %d %s", res.StatusCode, body)
	}
	fresh, err := keyring.NewLazy(e.env.State, func(ctx context.Context) (tink.AEAD, error) { return keyring.OpenKEK(ctx, e.env.Config.KEK()) })
	if err != nil {
		t.Fatal(err)
	}
	for name, stored := range backup {
		if !strings.HasPrefix(name, "acme ") {
			continue
		}
		r, err := fresh.ObjectReader(ctx, "acme", bytes.NewReader(stored))
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if !errors.Is(err, keyring.ErrDestroyed) {
			t.Errorf("a backup of %s still decrypts after the tenant was deleted: %v", name, err)
		}
	}
}
