package anonymize

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/tink-crypto/tink-go/v2/daead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"

	"synthos.dev/synthos/shared/secrets"
)

// SecretName is the secrets-adapter name of a tenant's keyring:
// "anonymize-keys-<tenant>", or "anonymize-keys" for local use without a
// tenant.
func SecretName(tenant string) string {
	if tenant == "" {
		return "anonymize-keys"
	}
	return "anonymize-keys-" + tenant
}

// Keyring holds a tenant's pseudonymisation keys: HMAC-SHA-256 keys by
// version (the newest is used; older ones are kept so a report can say which
// made a table) and a Tink deterministic-AEAD (AES-SIV) keyset, whose
// ciphertexts carry their key id, so tokens made before a rotation still
// decrypt after it.
type Keyring struct {
	Version int               `json:"version"`
	HMAC    map[string][]byte `json:"hmac"`  // version -> 32-byte key
	DAEAD   json.RawMessage   `json:"daead"` // Tink keyset, JSON (cleartext: the secret store protects it)

	siv tink.DeterministicAEAD
}

// NewKeyring returns a keyring with fresh version-1 keys.
func NewKeyring() (*Keyring, error) {
	k := &Keyring{HMAC: map[string][]byte{}}
	h, err := keyset.NewHandle(daead.AESSIVKeyTemplate())
	if err != nil {
		return nil, fmt.Errorf("anonymize.NewKeyring: %w", err)
	}
	if err := k.addHMAC(); err != nil {
		return nil, err
	}
	return k, k.setDAEAD(h)
}

func (k *Keyring) addHMAC() error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("anonymize: key: %w", err)
	}
	k.Version++
	k.HMAC[strconv.Itoa(k.Version)] = b
	return nil
}

func (k *Keyring) setDAEAD(h *keyset.Handle) error {
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return fmt.Errorf("anonymize: write keyset: %w", err)
	}
	k.DAEAD = buf.Bytes()
	siv, err := daead.New(h)
	if err != nil {
		return fmt.Errorf("anonymize: keyset: %w", err)
	}
	k.siv = siv
	return nil
}

// Rotate adds a new HMAC key version and a new primary AES-SIV key; the old
// keys stay, so earlier tokens still decrypt.
func (k *Keyring) Rotate() error {
	h, err := k.handle()
	if err != nil {
		return err
	}
	m := keyset.NewManagerFromHandle(h)
	id, err := m.Add(daead.AESSIVKeyTemplate())
	if err != nil {
		return fmt.Errorf("anonymize.Rotate: %w", err)
	}
	if err := m.SetPrimary(id); err != nil {
		return fmt.Errorf("anonymize.Rotate: %w", err)
	}
	nh, err := m.Handle()
	if err != nil {
		return fmt.Errorf("anonymize.Rotate: %w", err)
	}
	if err := k.addHMAC(); err != nil {
		return err
	}
	return k.setDAEAD(nh)
}

func (k *Keyring) handle() (*keyset.Handle, error) {
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(bytes.NewReader(k.DAEAD)))
	if err != nil {
		return nil, fmt.Errorf("anonymize: read keyset: %w", err)
	}
	return h, nil
}

// Marshal encodes the keyring for the secret store.
func (k *Keyring) Marshal() ([]byte, error) { return json.Marshal(k) }

// ParseKeyring decodes a keyring and checks it.
func ParseKeyring(b []byte) (*Keyring, error) {
	var k Keyring
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("anonymize: keyring is not JSON: %w", err)
	}
	if key := k.HMAC[strconv.Itoa(k.Version)]; len(key) < 32 {
		return nil, fmt.Errorf("anonymize: keyring version %d has no 32-byte HMAC key", k.Version)
	}
	h, err := k.handle()
	if err != nil {
		return nil, err
	}
	if k.siv, err = daead.New(h); err != nil {
		return nil, fmt.Errorf("anonymize: keyset: %w", err)
	}
	return &k, nil
}

// LoadKeyring reads tenant's keyring from the secrets adapter.
func LoadKeyring(ctx context.Context, src secrets.Source, tenant string) (*Keyring, error) {
	b, err := src.Get(ctx, SecretName(tenant))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, fmt.Errorf("anonymize: no keyring: create the secret %s (synthos anonymize --new-keyring writes one): %w", SecretName(tenant), err)
	}
	if err != nil {
		return nil, fmt.Errorf("anonymize: keyring %s: %w", SecretName(tenant), err)
	}
	return ParseKeyring(b)
}

// KeyVersion names the keys in use, for reports: the HMAC version and the
// primary AES-SIV key id.
func (k *Keyring) KeyVersion() string {
	id := ""
	if h, err := k.handle(); err == nil {
		id = strconv.FormatUint(uint64(h.KeysetInfo().GetPrimaryKeyId()), 10)
	}
	return "hmac v" + strconv.Itoa(k.Version) + ", aes-siv key " + id
}

func (k *Keyring) hmacKey() []byte { return k.HMAC[strconv.Itoa(k.Version)] }

// Detokenize reverses a reversible token (authorised re-identification).
func (k *Keyring) Detokenize(token, domain string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(trimPrefix(token))
	if err != nil {
		return "", fmt.Errorf("anonymize: token is not base64url: %w", err)
	}
	pt, err := k.siv.DecryptDeterministically(raw, []byte(domain))
	if err != nil {
		return "", fmt.Errorf("anonymize: token does not decrypt with this keyring: %w", err)
	}
	return string(pt), nil
}

const tokenPrefix = "tk_"

func trimPrefix(t string) string {
	if len(t) > len(tokenPrefix) && t[:len(tokenPrefix)] == tokenPrefix {
		return t[len(tokenPrefix):]
	}
	return t
}
