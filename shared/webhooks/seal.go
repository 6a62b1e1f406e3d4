package webhooks

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// KeySecret names the secret (in the secrets adapter) whose bytes opened
// signing secrets sealed before Tink (format "v1:"). New secrets are sealed
// with the tenant's Tink keyset (Options.Keyring); the key is needed only
// while "v1:" values remain, and only to read them: they are not rewritten
// in place, they go away as endpoints rotate their secrets (POST
// /v1/webhooks/{id}/rotate) or are deleted.
const KeySecret = "webhook-secret-key"

// minKeyBytes is the least legacy key material New accepts.
const minKeyBytes = 32

// Encrypter is envelope encryption under a tenant's keys (shared/keyring's
// Keyring in production).
type Encrypter interface {
	Encrypt(ctx context.Context, tenant string, plain, aad []byte) ([]byte, error)
	Decrypt(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error)
}

// sealer keeps signing secrets encrypted at rest. Signing needs the secret
// itself (an HMAC key cannot be hashed like a password), so it is stored
// encrypted: with Tink AEAD under the endpoint's tenant keyset ("tk1:"),
// whose wrapping key lives in Cloud KMS (or the local master keyset), so a
// copy of the database alone does not let anyone forge webhooks, and
// deleting the tenant's keys shreds them. Secrets sealed by the earlier
// hand-made AES-256-GCM scheme ("v1:") still open with the legacy key.
type sealer struct {
	tink   Encrypter
	legacy cipher.AEAD // nil without the legacy key
}

const (
	sealTink   = "tk1:"
	sealLegacy = "v1:"
)

func newSealer(tink Encrypter, material []byte) (*sealer, error) {
	s := &sealer{tink: tink}
	if material == nil && tink != nil {
		return s, nil
	}
	if len(material) < minKeyBytes {
		return nil, fmt.Errorf("%w: the %s secret must hold at least %d bytes, has %d", ErrInvalid, KeySecret, minKeyBytes, len(material))
	}
	key, err := hkdf.Key(sha256.New, material, nil, "synthos webhooks signing-secret encryption v1", 32)
	if err != nil {
		return nil, fmt.Errorf("webhooks: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("webhooks: cipher: %w", err)
	}
	if s.legacy, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("webhooks: cipher: %w", err)
	}
	return s, nil
}

// aad binds a sealed secret to its endpoint, so that one copied onto
// another endpoint does not open.
func aad(endpoint string) []byte { return []byte("synthos webhook secret\x00" + endpoint) }

// seal encrypts plain for tenant's endpoint.
func (s *sealer) seal(ctx context.Context, tenant, endpoint, plain string) (string, error) {
	if s.tink == nil {
		return s.sealLegacy(plain, endpoint)
	}
	c, err := s.tink.Encrypt(ctx, tenant, []byte(plain), aad(endpoint))
	if err != nil {
		return "", fmt.Errorf("webhooks: seal secret of %s: %w", endpoint, err)
	}
	return sealTink + base64.StdEncoding.EncodeToString(c), nil
}

func (s *sealer) open(ctx context.Context, tenant, endpoint, sealed string) (string, error) {
	if b64, ok := strings.CutPrefix(sealed, sealTink); ok {
		if s.tink == nil {
			return "", fmt.Errorf("%w: secret sealed with Tink but no keyring is configured", ErrCorrupt)
		}
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return "", fmt.Errorf("%w: sealed secret is not valid base64", ErrCorrupt)
		}
		plain, err := s.tink.Decrypt(ctx, tenant, b, aad(endpoint))
		if err != nil {
			return "", fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return string(plain), nil
	}
	return s.openLegacy(sealed, endpoint)
}

// sealLegacy is the v1 format, kept for deployments without a keyring
// (tests, and the window before SYNTHOS_KEK_URI is set up).
func (s *sealer) sealLegacy(plain, aad string) (string, error) {
	nonce := make([]byte, s.legacy.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("webhooks: nonce: %w", err)
	}
	out := s.legacy.Seal(nonce, nonce, []byte(plain), []byte(aad))
	return sealLegacy + base64.StdEncoding.EncodeToString(out), nil
}

func (s *sealer) openLegacy(sealed, aad string) (string, error) {
	b64, ok := strings.CutPrefix(sealed, sealLegacy)
	if !ok {
		return "", fmt.Errorf("%w: sealed secret of unknown version", ErrCorrupt)
	}
	if s.legacy == nil {
		return "", fmt.Errorf("%w: secret sealed before Tink (v1) and the %s secret is not configured to open it; rotate the endpoint's secret", ErrCorrupt, KeySecret)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) < s.legacy.NonceSize() {
		return "", fmt.Errorf("%w: sealed secret is not valid base64", ErrCorrupt)
	}
	n := s.legacy.NonceSize()
	plain, err := s.legacy.Open(nil, b[:n], b[n:], []byte(aad))
	if err != nil {
		return "", fmt.Errorf("%w: sealed secret does not open with %s (wrong key, or moved between endpoints)", ErrCorrupt, KeySecret)
	}
	return string(plain), nil
}
