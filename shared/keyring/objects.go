package keyring

import (
	"bufio"
	"bytes"
	"context"
	"io"

	"synthos.dev/synthos/shared/errs"
)

// Encrypted objects (datasets, models) start with Magic, then the Tink
// streaming-AEAD ciphertext. The marker lets readers take encrypted and
// plain objects alike: a tenant may turn encryption on or off at any time,
// and what was stored before stays readable.
const Magic = "SYNTHOS-ENCRYPTED-OBJECT-V1\n"

func objectAD(tenant string) []byte { return []byte("synthos object v1\x00" + tenant) }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// ObjectWriter returns the writer to store an object of tenant through:
// encrypting (after Magic) when the tenant chose to encrypt its data, w
// itself otherwise. Close finishes the ciphertext; it does not close w. A
// nil Keyring never encrypts.
func (k *Keyring) ObjectWriter(ctx context.Context, tenant string, w io.Writer) (io.WriteCloser, error) {
	if k == nil {
		return nopCloser{w}, nil
	}
	on, err := k.EncryptData(ctx, tenant)
	if err != nil {
		return nil, err
	}
	if !on {
		return nopCloser{w}, nil
	}
	if _, err := io.WriteString(w, Magic); err != nil {
		return nil, err
	}
	return k.EncryptingWriter(ctx, tenant, w, objectAD(tenant))
}

// ObjectReader returns the plaintext of an object of tenant read from r:
// decrypted if it starts with Magic, as is otherwise. After Destroy an
// encrypted object fails with ErrDestroyed.
func (k *Keyring) ObjectReader(ctx context.Context, tenant string, r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(len(Magic))
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, err
	}
	if !bytes.Equal(head, []byte(Magic)) {
		return br, nil
	}
	if k == nil {
		return nil, errs.Errorf(errs.FailedPrecondition, "keyring: the object is encrypted but no keyring is configured (SYNTHOS_KEK_URI)")
	}
	if _, err := br.Discard(len(Magic)); err != nil {
		return nil, err
	}
	return k.DecryptingReader(ctx, tenant, br, objectAD(tenant))
}

// Reveal returns ObjectReader bound to tenant, in the shape of
// datasets.Reveal. A nil Keyring reads plain objects and refuses
// encrypted ones.
func (k *Keyring) Reveal(ctx context.Context, tenant string) func(io.Reader) (io.Reader, error) {
	return func(r io.Reader) (io.Reader, error) { return k.ObjectReader(ctx, tenant, r) }
}
