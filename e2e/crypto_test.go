package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tink-crypto/tink-go/v2/tink"
	"gocloud.dev/blob"

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
