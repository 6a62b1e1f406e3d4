package anonymize

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	tenantkeys "synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/state/statetest"
)

func tenantRing(t *testing.T, st state.Store) func(context.Context) (*tenantkeys.Keyring, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master-keyset.json")
	if _, err := tenantkeys.CreateMasterKeyset(path); err != nil {
		t.Fatal(err)
	}
	kek, err := tenantkeys.OpenKEK(t.Context(), "file://"+path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tenantkeys.New(st, kek)
	if err != nil {
		t.Fatal(err)
	}
	return func(context.Context) (*tenantkeys.Keyring, error) { return r, nil }
}

// TestKeyStoreRotation: the secrets adapter's keyring serves until the
// first rotation; a rotation builds on it (its keys kept), is stored sealed
// (no key in the clear), and wins from then on; tokens made under every
// version still decrypt while pseudonyms follow the newest key.
func TestKeyStoreRotation(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st := statetest.Bolt(t)
	seed := keyring(t)
	b, err := seed.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{secrets.EnvName(SecretName("acme")): string(b)}
	ks := &KeyStore{State: st, Ring: tenantRing(t, st), Secrets: secrets.Env(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })}

	k1, info, err := ks.Load(ctx, "acme")
	if err != nil || info.Source != "secrets" || info.KeyVersion != seed.KeyVersion() {
		t.Fatalf("Load before rotation = %+v, %v; want the secret's keyring %q", info, err, seed.KeyVersion())
	}
	if _, _, err := ks.Load(ctx, "globex"); !errors.Is(err, ErrNoKeyring) || !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("Load of a tenant without a keyring = %v, want ErrNoKeyring wrapping secrets.ErrNotFound", err)
	}
	tok1 := op(t, Rule{Op: OpToken}, nil, k1)("123-45-6789", "")
	ps1 := op(t, Rule{Op: OpPseudonym}, nil, k1)("alice", "")

	rotated, err := ks.Rotate(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if rotated.HMACVersion != 2 || rotated.Source != "rotated" || len(rotated.TokenKeys) != 2 || rotated.KeyVersion == seed.KeyVersion() {
		t.Fatalf("Rotate = %+v, want version 2 built on the secret's keyring, two token keys", rotated)
	}
	var doc sealedKeyring
	if err := st.Get(ctx, KeyColl, "acme", &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range seed.HMAC {
		if bytes.Contains(doc.Sealed, key) {
			t.Fatal("the stored keyring holds an HMAC key in the clear")
		}
	}
	k2, info, err := ks.Load(ctx, "acme")
	if err != nil || info.Source != "rotated" || info.KeyVersion != rotated.KeyVersion {
		t.Fatalf("Load after rotation = %+v, %v; want the rotated keyring", info, err)
	}
	if got, err := k2.Detokenize(tok1, "synthos"); err != nil || got != "123-45-6789" {
		t.Errorf("a token of version 1 after rotation: %q, %v", got, err)
	}
	tok2 := op(t, Rule{Op: OpToken}, nil, k2)("123-45-6789", "")
	if tok2 == tok1 {
		t.Error("the rotated keyring makes the same token: its primary key did not change")
	}
	if got, err := k2.Detokenize(tok2, "synthos"); err != nil || got != "123-45-6789" {
		t.Errorf("a token of version 2: %q, %v", got, err)
	}
	if ps2 := op(t, Rule{Op: OpPseudonym}, nil, k2)("alice", ""); ps2 == ps1 {
		t.Error("pseudonyms did not change with the key version")
	}

	// Concurrent rotations each add exactly one version.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := ks.Rotate(ctx, "acme"); err != nil {
				t.Errorf("concurrent Rotate: %v", err)
			}
		})
	}
	wg.Wait()
	if _, info, err := ks.Load(ctx, "acme"); err != nil || info.HMACVersion != 6 || len(info.HMACVersions) != 6 {
		t.Errorf("after 4 more rotations: %+v, %v; want version 6 keeping all six", info, err)
	}

	// A tenant with no keyring anywhere gets its first on rotation; without
	// tenant encryption keys there is nowhere to store one.
	if in, err := ks.Rotate(ctx, "globex"); err != nil || in.HMACVersion != 1 {
		t.Errorf("first rotation of a tenant without a keyring = %+v, %v", in, err)
	}
	bare := &KeyStore{State: st}
	if _, err := bare.Rotate(ctx, "acme"); !errors.Is(err, ErrNoSealing) {
		t.Errorf("Rotate without tenant keys = %v, want ErrNoSealing", err)
	}
	if _, _, err := bare.Load(ctx, "acme"); !errors.Is(err, ErrNoSealing) || !strings.Contains(err.Error(), "SYNTHOS_KEK_URI") {
		t.Errorf("Load of a sealed keyring without tenant keys = %v, want ErrNoSealing naming SYNTHOS_KEK_URI", err)
	}
}
