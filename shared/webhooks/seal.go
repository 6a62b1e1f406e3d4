package webhooks

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// KeySecret names the secret (in the secrets adapter) whose bytes encrypt the
// endpoints' signing secrets at rest. It must hold at least 32 random bytes.
const KeySecret = "webhook-secret-key"

// minKeyBytes is the least key material New accepts.
const minKeyBytes = 32

// sealer encrypts signing secrets with AES-256-GCM. Signing needs the secret
// itself (an HMAC key cannot be hashed like a password), so it is stored
// encrypted under a key that lives only in the secrets adapter: a copy of the
// database alone does not let anyone forge webhooks.
type sealer struct{ aead cipher.AEAD }

const sealVersion = "v1:"

func newSealer(material []byte) (*sealer, error) {
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
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("webhooks: cipher: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal encrypts plain, bound to aad (the endpoint id) so that a sealed secret
// copied onto another endpoint does not open.
func (s *sealer) seal(plain, aad string) (string, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("webhooks: nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plain), []byte(aad))
	return sealVersion + base64.StdEncoding.EncodeToString(out), nil
}

func (s *sealer) open(sealed, aad string) (string, error) {
	b64, ok := strings.CutPrefix(sealed, sealVersion)
	if !ok {
		return "", fmt.Errorf("%w: sealed secret of unknown version", ErrCorrupt)
	}
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", fmt.Errorf("%w: sealed secret is not valid base64", ErrCorrupt)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, b[:n], b[n:], []byte(aad))
	if err != nil {
		return "", fmt.Errorf("%w: sealed secret does not open with %s (wrong key, or moved between endpoints)", ErrCorrupt, KeySecret)
	}
	return string(plain), nil
}
