// Package keyring is envelope encryption with Tink (tink-go/v2): every
// tenant has its own keysets — an AEAD keyset (AES-256-GCM) for small
// secrets such as webhook signing secrets and provider credentials, and a
// streaming-AEAD keyset (AES-256-GCM-HKDF, 1 MiB segments) for datasets,
// fitted models and job outputs (objects.go, bucket.go) — stored in the state store only in wrapped form, encrypted
// by a key-encryption key (KEK) that never is: a Cloud KMS key in the cloud
// (through the KMS REST API, kms.go), a local master keyset file in embedded mode.
//
// Rotation adds a new primary key to a tenant's keysets and keeps the old
// ones, so everything encrypted before still decrypts. Destroy deletes the
// tenant's wrapped keysets and leaves a tombstone: whatever was encrypted
// for the tenant — in the bucket, in the database, in any backup of either
// — can no longer be decrypted by anyone (crypto-shredding), and no new
// keyset is silently made for that tenant.
//
// The wrapped keyset is bound to its tenant (the tenant id is the wrapping's
// associated data), so copying one tenant's keyset document onto another
// does not give the second tenant the first one's keys.
package keyring

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"github.com/tink-crypto/tink-go/v2/tink"
	"google.golang.org/api/option"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// Coll holds one Doc per tenant.
const Coll = "tenant_keysets"

// Errors callers act on.
var (
	// ErrDestroyed: the tenant's keys were destroyed (the tenant was
	// deleted); its encrypted data is gone for good.
	ErrDestroyed = errs.New(errs.FailedPrecondition, "keyring: the tenant's keys were destroyed")
	// ErrDecrypt: a ciphertext does not open (altered, or not the tenant's).
	ErrDecrypt = errs.New(errs.InvalidArgument, "keyring: ciphertext does not decrypt")
)

// Doc is a tenant's wrapped keysets as stored.
type Doc struct {
	Tenant    string    `json:"tenant"`
	AEAD      []byte    `json:"aead,omitempty"`      // the AEAD keyset, encrypted by the KEK
	Streaming []byte    `json:"streaming,omitempty"` // the streaming-AEAD keyset, encrypted by the KEK
	Keys      int       `json:"keys"`                // keys in each keyset (1 + rotations)
	CreatedAt time.Time `json:"created_at"`
	RotatedAt time.Time `json:"rotated_at,omitzero"`
	// EncryptData is the tenant's option to encrypt uploaded datasets,
	// fitted models and job outputs at rest.
	EncryptData bool `json:"encrypt_data"`
	// DestroyedAt marks a tombstone: the keysets were erased.
	DestroyedAt time.Time `json:"destroyed_at,omitzero"`
}

// Keyring hands out tenants' primitives.
type Keyring struct {
	store   state.Store
	openKEK func(ctx context.Context) (tink.AEAD, error)
	kekMu   sync.Mutex
	kek     tink.AEAD
	now     func() time.Time
	ttl     time.Duration

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	aead      tink.AEAD
	streaming tink.StreamingAEAD
	doc       Doc
	at        time.Time
}

// CacheTTL bounds how long an instance keeps a tenant's unwrapped keysets:
// after Destroy or Rotate elsewhere, other instances follow within it.
const CacheTTL = 30 * time.Second

// New returns a Keyring over store whose keysets are wrapped by kek.
func New(store state.Store, kek tink.AEAD) (*Keyring, error) {
	if store == nil || kek == nil {
		return nil, errors.New("keyring.New: needs a store and a KEK")
	}
	return &Keyring{store: store, kek: kek, now: time.Now, ttl: CacheTTL, cache: map[string]entry{}}, nil
}

// NewLazy returns a Keyring that opens its KEK on the first operation that
// needs key material (a failure is retried on the next). Tenants that never
// encrypt anything never need it: reading a plain object or a tenant's
// option does not.
func NewLazy(store state.Store, open func(ctx context.Context) (tink.AEAD, error)) (*Keyring, error) {
	if store == nil || open == nil {
		return nil, errors.New("keyring.NewLazy: needs a store and a KEK opener")
	}
	return &Keyring{store: store, openKEK: open, now: time.Now, ttl: CacheTTL, cache: map[string]entry{}}, nil
}

// keyEncryption returns the KEK, opening it if needed.
func (k *Keyring) keyEncryption(ctx context.Context) (tink.AEAD, error) {
	k.kekMu.Lock()
	defer k.kekMu.Unlock()
	if k.kek != nil {
		return k.kek, nil
	}
	kek, err := k.openKEK(ctx)
	if err != nil {
		return nil, err
	}
	k.kek = kek
	return kek, nil
}

// OpenKEK returns the key-encryption key named by uri (SYNTHOS_KEK_URI):
// gcp-kms://projects/P/locations/L/keyRings/R/cryptoKeys/K, or file://PATH
// of a cleartext Tink JSON keyset (embedded mode; see CreateMasterKeyset).
// opts reach the KMS client (an endpoint in tests).
func OpenKEK(ctx context.Context, uri string, opts ...option.ClientOption) (tink.AEAD, error) {
	switch {
	case strings.HasPrefix(uri, "gcp-kms://"):
		name := strings.TrimPrefix(uri, "gcp-kms://")
		if !strings.HasPrefix(name, "projects/") || strings.Count(name, "/") != 7 {
			return nil, errs.Errorf(errs.InvalidArgument, "keyring: KMS key %s: want gcp-kms://projects/P/locations/L/keyRings/R/cryptoKeys/K", uri)
		}
		a, err := newKMSAEAD(ctx, name, opts...)
		if err != nil {
			return nil, errs.Errorf(errs.Unavailable, "keyring: KMS client for %s: %w", uri, err)
		}
		return a, nil
	case strings.HasPrefix(uri, "file://"):
		path := strings.TrimPrefix(uri, "file://")
		f, err := os.Open(path)
		if err != nil {
			return nil, errs.Errorf(errs.FailedPrecondition, "keyring: open the master keyset %s (SYNTHOS_KEK_URI; `synthos serve` creates it): %w", path, err)
		}
		defer f.Close()
		h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(f))
		if err != nil {
			return nil, errs.Errorf(errs.InvalidArgument, "keyring: the master keyset %s is not a Tink JSON keyset: %w", path, err)
		}
		a, err := aead.New(h)
		if err != nil {
			return nil, errs.Errorf(errs.InvalidArgument, "keyring: the master keyset %s is not an AEAD keyset: %w", path, err)
		}
		return a, nil
	}
	return nil, errs.Errorf(errs.InvalidArgument, "keyring: KEK URI %q: use gcp-kms://... or file://PATH", uri)
}

// CreateMasterKeyset writes a new AES-256-GCM master keyset (cleartext Tink
// JSON, mode 0600) at path unless a file is there; it reports whether it
// wrote one. The file is the embedded mode's KEK: losing it loses every
// tenant's data, as losing the KMS key would in the cloud.
func CreateMasterKeyset(path string) (bool, error) {
	if _, err := os.Stat(path); err == nil {
		return false, nil
	}
	h, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return false, fmt.Errorf("keyring: new master keyset: %w", err)
	}
	var buf bytes.Buffer
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(&buf)); err != nil {
		return false, fmt.Errorf("keyring: encode master keyset: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return false, fmt.Errorf("keyring: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return false, nil // another process made it first
	}
	if err != nil {
		return false, fmt.Errorf("keyring: create %s: %w", path, err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		os.Remove(path)
		return false, fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return false, fmt.Errorf("keyring: write %s: %w", path, err)
	}
	return true, f.Close()
}

func validTenant(t string) error {
	if t == "" || strings.Contains(t, "/") || len(t) > 256 {
		return errs.Errorf(errs.InvalidArgument, "keyring: tenant %.64q is not a tenant id", t)
	}
	return nil
}

// ad is the associated data binding a wrapped keyset to its tenant and use.
func ad(tenant, use string) []byte { return []byte("synthos keyring v1\x00" + use + "\x00" + tenant) }

func (k *Keyring) wrap(ctx context.Context, h *keyset.Handle, tenant, use string) ([]byte, error) {
	kek, err := k.keyEncryption(ctx)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := h.WriteWithAssociatedData(keyset.NewBinaryWriter(&buf), kek, ad(tenant, use)); err != nil {
		return nil, errs.Errorf(errs.Unavailable, "keyring: wrap %s keyset of %s: %w", use, tenant, err)
	}
	return buf.Bytes(), nil
}

func (k *Keyring) unwrap(ctx context.Context, b []byte, tenant, use string) (*keyset.Handle, error) {
	kek, err := k.keyEncryption(ctx)
	if err != nil {
		return nil, err
	}
	h, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(b)), kek, ad(tenant, use))
	if err != nil {
		return nil, errs.Errorf(errs.Internal, "keyring: unwrap the %s keyset of %s (a different KEK, or a keyset of another tenant): %w", use, tenant, err)
	}
	return h, nil
}

// newDoc makes fresh keysets for tenant.
func (k *Keyring) newDoc(ctx context.Context, tenant string) (Doc, error) {
	ah, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return Doc{}, fmt.Errorf("keyring: %w", err)
	}
	sh, err := keyset.NewHandle(streamingaead.AES256GCMHKDF1MBKeyTemplate())
	if err != nil {
		return Doc{}, fmt.Errorf("keyring: %w", err)
	}
	d := Doc{Tenant: tenant, Keys: 1, CreatedAt: k.now().UTC()}
	if d.AEAD, err = k.wrap(ctx, ah, tenant, "aead"); err != nil {
		return Doc{}, err
	}
	if d.Streaming, err = k.wrap(ctx, sh, tenant, "streaming"); err != nil {
		return Doc{}, err
	}
	return d, nil
}

// load returns tenant's primitives, making its keysets on first use.
func (k *Keyring) load(ctx context.Context, tenant string) (entry, error) {
	if err := validTenant(tenant); err != nil {
		return entry{}, err
	}
	k.mu.Lock()
	e, ok := k.cache[tenant]
	k.mu.Unlock()
	if ok && k.now().Sub(e.at) < k.ttl {
		return e, nil
	}
	var d Doc
	err := k.store.Get(ctx, Coll, tenant, &d)
	if errors.Is(err, state.ErrNotFound) {
		// Wrapping happens before the transaction: a KMS call must not run
		// inside a retried transaction. A lost race wastes one keyset.
		fresh, nerr := k.newDoc(ctx, tenant)
		if nerr != nil {
			return entry{}, nerr
		}
		if cerr := k.store.Create(ctx, Coll, tenant, fresh); cerr != nil && !errors.Is(cerr, state.ErrAlreadyExists) {
			return entry{}, fmt.Errorf("keyring: store keysets of %s: %w", tenant, cerr)
		}
		err = k.store.Get(ctx, Coll, tenant, &d)
	}
	if err != nil {
		return entry{}, fmt.Errorf("keyring: keysets of %s: %w", tenant, err)
	}
	if !d.DestroyedAt.IsZero() {
		return entry{}, fmt.Errorf("%w: tenant %s, at %s", ErrDestroyed, tenant, d.DestroyedAt.Format(time.RFC3339))
	}
	e, err = k.primitives(ctx, d)
	if err != nil {
		return entry{}, err
	}
	k.mu.Lock()
	k.cache[tenant] = e
	k.mu.Unlock()
	return e, nil
}

func (k *Keyring) primitives(ctx context.Context, d Doc) (entry, error) {
	ah, err := k.unwrap(ctx, d.AEAD, d.Tenant, "aead")
	if err != nil {
		return entry{}, err
	}
	sh, err := k.unwrap(ctx, d.Streaming, d.Tenant, "streaming")
	if err != nil {
		return entry{}, err
	}
	a, err := aead.New(ah)
	if err != nil {
		return entry{}, fmt.Errorf("keyring: %w", err)
	}
	s, err := streamingaead.New(sh)
	if err != nil {
		return entry{}, fmt.Errorf("keyring: %w", err)
	}
	return entry{aead: a, streaming: s, doc: d, at: k.now()}, nil
}

// Encrypt seals plain for tenant, bound to aad (e.g. the record it belongs
// to, so a ciphertext moved to another record does not open).
func (k *Keyring) Encrypt(ctx context.Context, tenant string, plain, aad []byte) ([]byte, error) {
	e, err := k.load(ctx, tenant)
	if err != nil {
		return nil, err
	}
	c, err := e.aead.Encrypt(plain, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: encrypt for %s: %w", tenant, err)
	}
	return c, nil
}

// Decrypt opens what Encrypt sealed for tenant with the same aad, under
// any of the tenant's keys (current or rotated out).
func (k *Keyring) Decrypt(ctx context.Context, tenant string, ciphertext, aad []byte) ([]byte, error) {
	e, err := k.load(ctx, tenant)
	if err != nil {
		return nil, err
	}
	p, err := e.aead.Decrypt(ciphertext, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: tenant %s: %w", ErrDecrypt, tenant, err)
	}
	return p, nil
}

// EncryptingWriter returns a writer that encrypts what is written to it
// for tenant into w, segment by segment (memory stays at about one 1 MiB
// segment whatever the size). Close must be called to write the last
// segment; it does not close w.
func (k *Keyring) EncryptingWriter(ctx context.Context, tenant string, w io.Writer, aad []byte) (io.WriteCloser, error) {
	e, err := k.load(ctx, tenant)
	if err != nil {
		return nil, err
	}
	ew, err := e.streaming.NewEncryptingWriter(w, aad)
	if err != nil {
		return nil, fmt.Errorf("keyring: encrypt stream for %s: %w", tenant, err)
	}
	return ew, nil
}

// DecryptingReader returns a reader of what EncryptingWriter wrote for
// tenant with the same aad; a segment that was altered, cut or reordered
// fails the read with ErrDecrypt.
func (k *Keyring) DecryptingReader(ctx context.Context, tenant string, r io.Reader, aad []byte) (io.Reader, error) {
	e, err := k.load(ctx, tenant)
	if err != nil {
		return nil, err
	}
	dr, err := e.streaming.NewDecryptingReader(r, aad)
	if err != nil {
		return nil, fmt.Errorf("%w: tenant %s: %w", ErrDecrypt, tenant, err)
	}
	return decryptErrReader{dr, tenant}, nil
}

type decryptErrReader struct {
	r      io.Reader
	tenant string
}

func (d decryptErrReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: tenant %s: %w", ErrDecrypt, d.tenant, err)
	}
	return n, err
}

// Rotate adds a new primary key to each of tenant's keysets; data
// encrypted under the old keys still decrypts. It returns the key count.
func (k *Keyring) Rotate(ctx context.Context, tenant string) (int, error) {
	if _, err := k.load(ctx, tenant); err != nil { // creates or refuses a tombstone
		return 0, err
	}
	var d Doc
	if err := k.store.Get(ctx, Coll, tenant, &d); err != nil {
		return 0, fmt.Errorf("keyring.Rotate %s: %w", tenant, err)
	}
	next := d
	for _, ks := range []struct {
		use string
		b   *[]byte
	}{{"aead", &next.AEAD}, {"streaming", &next.Streaming}} {
		h, err := k.unwrap(ctx, *ks.b, tenant, ks.use)
		if err != nil {
			return 0, err
		}
		m := keyset.NewManagerFromHandle(h)
		tpl := aead.AES256GCMKeyTemplate()
		if ks.use == "streaming" {
			tpl = streamingaead.AES256GCMHKDF1MBKeyTemplate()
		}
		id, err := m.Add(tpl)
		if err != nil {
			return 0, fmt.Errorf("keyring.Rotate %s: %w", tenant, err)
		}
		if err := m.SetPrimary(id); err != nil {
			return 0, fmt.Errorf("keyring.Rotate %s: %w", tenant, err)
		}
		nh, err := m.Handle()
		if err != nil {
			return 0, fmt.Errorf("keyring.Rotate %s: %w", tenant, err)
		}
		if *ks.b, err = k.wrap(ctx, nh, tenant, ks.use); err != nil {
			return 0, err
		}
	}
	next.Keys, next.RotatedAt = d.Keys+1, k.now().UTC()
	err := k.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var cur Doc
		if err := tx.Get(Coll, tenant, &cur); err != nil {
			return err
		}
		if !cur.DestroyedAt.IsZero() {
			return ErrDestroyed
		}
		if cur.Keys != d.Keys {
			return errs.Errorf(errs.Unavailable, "keyring.Rotate %s: rotated concurrently; retry", tenant)
		}
		next.EncryptData = cur.EncryptData
		return tx.Set(Coll, tenant, next)
	})
	if err != nil {
		return 0, fmt.Errorf("keyring.Rotate %s: %w", tenant, err)
	}
	k.forget(tenant)
	return next.Keys, nil
}

// Destroy erases tenant's keysets, leaving a tombstone. Irreversible: all
// the tenant's encrypted data becomes unreadable everywhere.
func (k *Keyring) Destroy(ctx context.Context, tenant string) error {
	if err := validTenant(tenant); err != nil {
		return err
	}
	err := k.store.Set(ctx, Coll, tenant, Doc{Tenant: tenant, DestroyedAt: k.now().UTC()})
	if err != nil {
		return fmt.Errorf("keyring.Destroy %s: %w", tenant, err)
	}
	k.forget(tenant)
	return nil
}

func (k *Keyring) forget(tenant string) {
	k.mu.Lock()
	delete(k.cache, tenant)
	k.mu.Unlock()
}

// SetEncryptData sets tenant's option to encrypt uploaded datasets and
// fitted models from now on (what is stored stays as it is).
func (k *Keyring) SetEncryptData(ctx context.Context, tenant string, on bool) error {
	if _, err := k.load(ctx, tenant); err != nil {
		return err
	}
	err := k.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var d Doc
		if err := tx.Get(Coll, tenant, &d); err != nil {
			return err
		}
		if !d.DestroyedAt.IsZero() {
			return ErrDestroyed
		}
		d.EncryptData = on
		return tx.Set(Coll, tenant, d)
	})
	if err != nil {
		return fmt.Errorf("keyring.SetEncryptData %s: %w", tenant, err)
	}
	k.forget(tenant)
	return nil
}

// Status is a tenant's encryption state, without key material.
type Status struct {
	Tenant      string    `json:"tenant"`
	EncryptData bool      `json:"encrypt_data"`
	Keys        int       `json:"keys"`
	CreatedAt   time.Time `json:"created_at"`
	RotatedAt   time.Time `json:"rotated_at,omitzero"`
}

// Status returns tenant's encryption state (making its keysets on first use).
func (k *Keyring) Status(ctx context.Context, tenant string) (Status, error) {
	e, err := k.load(ctx, tenant)
	if err != nil {
		return Status{}, err
	}
	d := e.doc
	return Status{Tenant: tenant, EncryptData: d.EncryptData, Keys: d.Keys, CreatedAt: d.CreatedAt, RotatedAt: d.RotatedAt}, nil
}

// EncryptData reports tenant's option, without key material: a tenant
// without keysets has not chosen encryption. A destroyed tenant is
// ErrDestroyed.
func (k *Keyring) EncryptData(ctx context.Context, tenant string) (bool, error) {
	if err := validTenant(tenant); err != nil {
		return false, err
	}
	var d Doc
	err := k.store.Get(ctx, Coll, tenant, &d)
	if errors.Is(err, state.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("keyring: option of %s: %w", tenant, err)
	}
	if !d.DestroyedAt.IsZero() {
		return false, fmt.Errorf("%w: tenant %s", ErrDestroyed, tenant)
	}
	return d.EncryptData, nil
}
