package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/tink-crypto/tink-go/v2/tink"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/model"
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
	if !strings.HasPrefix(kek, "file://") {
		t.Fatalf("the embedded KEK is %q, want the master keyset in the secrets directory", kek)
	}
	if _, err := keyring.CreateMasterKeyset(strings.TrimPrefix(kek, "file://")); err != nil {
		t.Fatal(err)
	}
	ring, err := e.env.Keyring(ctx)
	if err != nil || ring == nil {
		t.Fatalf("Keyring = %v, %v", ring, err)
	}
	if err := ring.SetEncryptData(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}
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
