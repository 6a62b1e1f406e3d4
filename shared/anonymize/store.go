package anonymize

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"synthos.dev/synthos/shared/errs"
	tenantkeys "synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
)

// KeyColl holds, per tenant, the keyring a rotation through the API made,
// sealed with the tenant's own AEAD keyset (package keyring): the secrets
// adapter is read-only (Secret Manager versions are added with its own
// tools, env:// cannot be written at all), so rotation stores the new
// keyring beside the tenant's other keys. Deleting the tenant destroys that
// keyset, and with it every way to re-identify its tokens.
const KeyColl = "anonymize_keyrings"

// Errors callers act on.
var (
	// ErrNoKeyring: the tenant has no keyring, neither rotated in nor in
	// the secrets adapter. It also wraps secrets.ErrNotFound when the
	// adapter was asked.
	ErrNoKeyring = errs.New(errs.FailedPrecondition, "anonymize: the tenant has no keyring")
	// ErrNoSealing: rotation needs the tenant's encryption keys, and the
	// deployment has none (SYNTHOS_KEK_URI).
	ErrNoSealing = errs.New(errs.FailedPrecondition, "anonymize: no tenant encryption keys to store a rotated keyring with")
)

// sealedKeyring is the document KeyColl/<tenant>.
type sealedKeyring struct {
	Tenant     string    `json:"tenant"`
	Version    int       `json:"version"` // the keyring's HMAC version, for optimistic concurrency
	KeyVersion string    `json:"key_version"`
	Sealed     []byte    `json:"sealed"` // Keyring.Marshal, encrypted with the tenant's AEAD keyset
	RotatedAt  time.Time `json:"rotated_at"`
}

// sealAD binds a sealed keyring to its tenant and use.
func sealAD(tenant string) []byte { return []byte("synthos anonymize keyring v1\x00" + tenant) }

// KeyStore finds and rotates tenants' keyrings: a keyring rotated through
// the API (KeyColl, sealed) wins; otherwise the one in the secrets adapter
// (SecretName), which is how keyrings made by `synthos anonymize
// --rotate-key` or by an operator reach the platform.
type KeyStore struct {
	State   state.Store
	Ring    func(ctx context.Context) (*tenantkeys.Keyring, error) // the tenants' encryption keys; nil or nil result: none
	Secrets secrets.Source                                         // nil: none
	Now     func() time.Time
}

// KeyInfo describes a tenant's keyring without key material.
type KeyInfo struct {
	// KeyVersion names the keys new pseudonyms and tokens use (as reports
	// and job results state it).
	KeyVersion string `json:"key_version"`
	// HMACVersion is the pseudonym/surrogate/date-shift key version;
	// HMACVersions every version kept.
	HMACVersion  int   `json:"hmac_version"`
	HMACVersions []int `json:"hmac_versions"`
	// TokenKeys are the AES-SIV key ids of the token keyset; tokens made
	// under any of them decrypt. TokenPrimary encrypts new tokens.
	TokenKeys    []uint32 `json:"token_keys"`
	TokenPrimary uint32   `json:"token_primary"`
	// Source is where the keyring was read: "rotated" (the state store,
	// sealed) or "secrets" (the secrets adapter).
	Source    string    `json:"source"`
	RotatedAt time.Time `json:"rotated_at,omitzero"`
}

// Info describes k.
func (k *Keyring) Info() KeyInfo {
	in := KeyInfo{KeyVersion: k.KeyVersion(), HMACVersion: k.Version}
	for v := range k.HMAC {
		if n, err := strconv.Atoi(v); err == nil {
			in.HMACVersions = append(in.HMACVersions, n)
		}
	}
	slices.Sort(in.HMACVersions)
	if h, err := k.handle(); err == nil {
		info := h.KeysetInfo()
		in.TokenPrimary = info.GetPrimaryKeyId()
		for _, ki := range info.GetKeyInfo() {
			in.TokenKeys = append(in.TokenKeys, ki.GetKeyId())
		}
	}
	return in
}

func (s *KeyStore) ring(ctx context.Context) (*tenantkeys.Keyring, error) {
	if s.Ring == nil {
		return nil, nil
	}
	r, err := s.Ring(ctx)
	if err != nil {
		return nil, fmt.Errorf("anonymize: encryption keys: %w", err)
	}
	return r, nil
}

// Load returns the tenant's keyring and where it came from.
func (s *KeyStore) Load(ctx context.Context, tenant string) (*Keyring, KeyInfo, error) {
	var doc sealedKeyring
	err := s.State.Get(ctx, KeyColl, tenant, &doc)
	switch {
	case err == nil:
		k, err := s.unseal(ctx, tenant, doc)
		if err != nil {
			return nil, KeyInfo{}, err
		}
		in := k.Info()
		in.Source, in.RotatedAt = "rotated", doc.RotatedAt
		return k, in, nil
	case !errors.Is(err, state.ErrNotFound):
		return nil, KeyInfo{}, fmt.Errorf("anonymize: read the keyring of %s: %w", tenant, err)
	}
	if s.Secrets == nil {
		return nil, KeyInfo{}, fmt.Errorf("%w: nothing rotated in and no secrets adapter", ErrNoKeyring)
	}
	k, err := LoadKeyring(ctx, s.Secrets, tenant)
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, KeyInfo{}, fmt.Errorf("%w: %w", ErrNoKeyring, err)
	}
	if err != nil {
		return nil, KeyInfo{}, err
	}
	in := k.Info()
	in.Source = "secrets"
	return k, in, nil
}

func (s *KeyStore) unseal(ctx context.Context, tenant string, doc sealedKeyring) (*Keyring, error) {
	ring, err := s.ring(ctx)
	if err != nil {
		return nil, err
	}
	if ring == nil {
		return nil, fmt.Errorf("%w: the tenant's rotated keyring is sealed with its encryption keys (SYNTHOS_KEK_URI)", ErrNoSealing)
	}
	b, err := ring.Decrypt(ctx, tenant, doc.Sealed, sealAD(tenant))
	if err != nil {
		return nil, fmt.Errorf("anonymize: unseal the keyring of %s: %w", tenant, err)
	}
	return ParseKeyring(b)
}

// errRaced reports a rotation that another one overtook; Rotate retries.
var errRaced = errors.New("anonymize: keyring rotated concurrently")

// Rotate adds a key version to the tenant's keyring — a new HMAC key for
// pseudonyms, surrogates and date shifts, and a new primary AES-SIV key for
// tokens, the old keys kept so earlier tokens still decrypt — and stores it
// sealed (KeyColl). A tenant without a keyring gets its first one. It
// returns the new keyring's description.
func (s *KeyStore) Rotate(ctx context.Context, tenant string) (KeyInfo, error) {
	ring, err := s.ring(ctx)
	if err != nil {
		return KeyInfo{}, err
	}
	if ring == nil {
		return KeyInfo{}, fmt.Errorf("%w: configure SYNTHOS_KEK_URI (synthos serve makes a local master keyset)", ErrNoSealing)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	for range 10 { // optimistic: a rotation that another overtook starts again
		k, _, err := s.Load(ctx, tenant)
		prev := 0 // the stored document's version this rotation builds on (0: none stored)
		switch {
		case errors.Is(err, ErrNoKeyring):
			if k, err = NewKeyring(); err != nil {
				return KeyInfo{}, err
			}
		case err != nil:
			return KeyInfo{}, err
		default:
			var doc sealedKeyring
			if gerr := s.State.Get(ctx, KeyColl, tenant, &doc); gerr == nil {
				prev = doc.Version
				if prev != k.Version {
					// Another rotation committed between Load and this
					// read: building on the loaded keyring would store a
					// version that overwrites that rotation's.
					continue
				}
			} else if !errors.Is(gerr, state.ErrNotFound) {
				return KeyInfo{}, fmt.Errorf("anonymize: read the keyring of %s: %w", tenant, gerr)
			}
			if err := k.Rotate(); err != nil {
				return KeyInfo{}, err
			}
		}
		b, err := k.Marshal()
		if err != nil {
			return KeyInfo{}, fmt.Errorf("anonymize: encode keyring: %w", err)
		}
		sealed, err := ring.Encrypt(ctx, tenant, b, sealAD(tenant))
		if err != nil {
			return KeyInfo{}, fmt.Errorf("anonymize: seal the keyring of %s: %w", tenant, err)
		}
		doc := sealedKeyring{Tenant: tenant, Version: k.Version, KeyVersion: k.KeyVersion(), Sealed: sealed, RotatedAt: now().UTC()}
		err = s.State.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
			var cur sealedKeyring
			switch err := tx.Get(KeyColl, tenant, &cur); {
			case errors.Is(err, state.ErrNotFound):
				if prev != 0 {
					return errRaced
				}
			case err != nil:
				return err
			case cur.Version != prev:
				return errRaced
			}
			return tx.Set(KeyColl, tenant, &doc)
		})
		if errors.Is(err, errRaced) {
			continue
		}
		if err != nil {
			return KeyInfo{}, fmt.Errorf("anonymize: store the keyring of %s: %w", tenant, err)
		}
		in := k.Info()
		in.Source, in.RotatedAt = "rotated", doc.RotatedAt
		return in, nil
	}
	return KeyInfo{}, errs.Errorf(errs.Unavailable, "anonymize: the keyring of %s kept being rotated concurrently; try again", tenant)
}
