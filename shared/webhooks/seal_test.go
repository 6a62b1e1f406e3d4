package webhooks_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/webhooks"
)

// TestTinkSealing: with a keyring, new secrets are sealed with Tink under
// the tenant's keyset; secrets sealed before (v1, the legacy key) keep
// working until rotated; deleting the tenant's keys shreds them.
func TestTinkSealing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: testClient}) // legacy sealing
	rcv := newReceiver(t)
	old, oldSecret, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.srv.URL + "/old"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "master.json")
	if _, err := keyring.CreateMasterKeyset(path); err != nil {
		t.Fatal(err)
	}
	kek, err := keyring.OpenKEK(ctx, "file://"+path)
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := keyring.New(f.store, kek)
	svc, err := webhooks.New(f.store, testKey, webhooks.Options{Client: testClient, Keyring: ring, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	fresh, freshSecret, err := svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.srv.URL + "/new"})
	if err != nil {
		t.Fatal(err)
	}
	sealedOf := func(id string) string {
		var doc struct {
			Secrets []struct {
				Sealed string `json:"sealed"`
			} `json:"secrets"`
		}
		if err := f.store.Get(ctx, webhooks.CollEndpoints, id, &doc); err != nil {
			t.Fatal(err)
		}
		return doc.Secrets[0].Sealed
	}
	if s := sealedOf(fresh.ID); !strings.HasPrefix(s, "tk1:") || strings.Contains(s, freshSecret) {
		t.Fatalf("new secret sealed as %q", s)
	}
	if s := sealedOf(old.ID); !strings.HasPrefix(s, "v1:") {
		t.Fatalf("legacy secret sealed as %q", s)
	}
	if err := svc.Deliver(ctx, event("m-1", "t1", "job.succeeded")); err != nil {
		t.Fatal(err)
	}
	verified := map[string]bool{}
	for _, r := range rcv.requests() {
		for name, secret := range map[string]string{"/old": oldSecret, "/new": freshSecret} {
			if webhooks.Verify(r.header, r.body, f.clock.Now(), secret) == nil {
				verified[name] = true
			}
		}
	}
	if !verified["/old"] || !verified["/new"] {
		t.Fatalf("signed with the legacy and the Tink-sealed secrets: %v", verified)
	}
	// Rotating a legacy endpoint's secret moves it to Tink.
	if _, err := svc.RotateSecret(ctx, "t1", old.ID, 0); err != nil {
		t.Fatal(err)
	}
	if s := sealedOf(old.ID); !strings.HasPrefix(s, "tk1:") {
		t.Fatalf("rotated secret sealed as %q", s)
	}
	// A copy of the database without the KEK signs nothing.
	noRing, _ := webhooks.New(f.store, testKey, webhooks.Options{Client: testClient})
	if err := noRing.Deliver(ctx, event("m-2", "t1", "job.succeeded")); !errors.Is(err, webhooks.ErrCorrupt) {
		t.Fatalf("Deliver without the keyring = %v, want ErrCorrupt", err)
	}
	// Crypto-shredding: the tenant's keys are destroyed.
	if err := ring.Destroy(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if err := svc.Deliver(ctx, event("m-3", "t1", "job.succeeded")); !errors.Is(err, keyring.ErrDestroyed) {
		t.Fatalf("Deliver after the tenant's keys were destroyed = %v", err)
	}
}
