package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tink-crypto/tink-go/v2/tink"

	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/state/statetest"
)

func localKEK(t testing.TB) (tink.AEAD, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "master-keyset.json")
	if made, err := keyring.CreateMasterKeyset(path); err != nil || !made {
		t.Fatalf("CreateMasterKeyset = %v, %v", made, err)
	}
	if made, err := keyring.CreateMasterKeyset(path); err != nil || made {
		t.Fatalf("a second CreateMasterKeyset must keep the first: %v, %v", made, err)
	}
	kek, err := keyring.OpenKEK(context.Background(), "file://"+path)
	if err != nil {
		t.Fatal(err)
	}
	return kek, path
}

func newRing(t testing.TB, st state.Store) *keyring.Keyring {
	t.Helper()
	kek, _ := localKEK(t)
	k, err := keyring.New(st, kek)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAEADRoundTripAndBinding(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := newRing(t, statetest.Bolt(t))
	c, err := k.Encrypt(ctx, "t1", []byte("whsec_abc"), []byte("ep_1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(c, []byte("whsec_abc")) {
		t.Fatal("ciphertext holds the plaintext")
	}
	if p, err := k.Decrypt(ctx, "t1", c, []byte("ep_1")); err != nil || string(p) != "whsec_abc" {
		t.Fatalf("Decrypt = %q, %v", p, err)
	}
	if _, err := k.Decrypt(ctx, "t1", c, []byte("ep_2")); !errors.Is(err, keyring.ErrDecrypt) {
		t.Fatalf("another record's associated data: %v", err)
	}
	if _, err := k.Decrypt(ctx, "t2", c, []byte("ep_1")); !errors.Is(err, keyring.ErrDecrypt) {
		t.Fatalf("another tenant's keys opened it: %v", err)
	}
	if _, err := k.Encrypt(ctx, "a/b", nil, nil); err == nil {
		t.Fatal("a tenant id with a slash was accepted")
	}
}

// TestWrappedKeysetBoundToTenant copies tenant t1's wrapped keysets onto
// t2: they must not unwrap as t2's.
func TestWrappedKeysetBoundToTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := statetest.Bolt(t)
	k := newRing(t, st)
	if _, err := k.Encrypt(ctx, "t1", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	var d keyring.Doc
	if err := st.Get(ctx, keyring.Coll, "t1", &d); err != nil {
		t.Fatal(err)
	}
	d.Tenant = "t2"
	if err := st.Set(ctx, keyring.Coll, "t2", d); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Encrypt(ctx, "t2", []byte("x"), nil); err == nil {
		t.Fatal("t1's keyset unwrapped as t2's")
	}
	// Another KEK cannot unwrap t1's keysets either.
	other := newRing(t, st)
	if _, err := other.Encrypt(ctx, "t1", []byte("x"), nil); err == nil {
		t.Fatal("a keyset unwrapped under another master key")
	}
}

func TestRotationKeepsOldDataReadable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			k := newRing(t, st)
			tenant := "rot-" + rand.Text()[:10]
			old, err := k.Encrypt(ctx, tenant, []byte("before"), nil)
			if err != nil {
				t.Fatal(err)
			}
			var oldStream bytes.Buffer
			w, err := k.EncryptingWriter(ctx, tenant, &oldStream, []byte("ds"))
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, "rows before rotation")
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			n, err := k.Rotate(ctx, tenant)
			if err != nil || n != 2 {
				t.Fatalf("Rotate = %d, %v", n, err)
			}
			fresh, err := k.Encrypt(ctx, tenant, []byte("after"), nil)
			if err != nil {
				t.Fatal(err)
			}
			// Tink prefixes a ciphertext with its key's id: the new one is
			// made under the new primary key.
			if bytes.Equal(old[:5], fresh[:5]) {
				t.Fatal("after Rotate, encryption still uses the old key")
			}
			for _, c := range []struct{ c, want string }{{string(old), "before"}, {string(fresh), "after"}} {
				if p, err := k.Decrypt(ctx, tenant, []byte(c.c), nil); err != nil || string(p) != c.want {
					t.Fatalf("Decrypt after rotation = %q, %v", p, err)
				}
			}
			r, err := k.DecryptingReader(ctx, tenant, &oldStream, []byte("ds"))
			if err != nil {
				t.Fatal(err)
			}
			if b, err := io.ReadAll(r); err != nil || string(b) != "rows before rotation" {
				t.Fatalf("stream from before rotation = %q, %v", b, err)
			}
			if s, err := k.Status(ctx, tenant); err != nil || s.Keys != 2 || s.RotatedAt.IsZero() {
				t.Fatalf("Status = %+v, %v", s, err)
			}
		})
	}
}

// TestStreamLarge encrypts 24 MiB through the streaming writer, checks
// memory stayed near one segment, and that altering, truncating or
// reordering the ciphertext is refused.
func TestStreamLarge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := newRing(t, statetest.Bolt(t))
	const size = 24 << 20
	src := io.LimitReader(rand.Reader, size)
	plainHash := sha256.New()
	var ct bytes.Buffer
	w, err := k.EncryptingWriter(ctx, "t1", &ct, []byte("ds_1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.MultiWriter(w, plainHash), src); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ciphertext := ct.Bytes()
	r, err := k.DecryptingReader(ctx, "t1", bytes.NewReader(ciphertext), []byte("ds_1"))
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	if n, err := io.Copy(got, r); err != nil || n != size || !bytes.Equal(got.Sum(nil), plainHash.Sum(nil)) {
		t.Fatalf("decrypted %d bytes (%v), hash match %v", n, err, bytes.Equal(got.Sum(nil), plainHash.Sum(nil)))
	}
	tampered := map[string][]byte{
		"a flipped bit": func() []byte { b := bytes.Clone(ciphertext); b[len(b)/2] ^= 1; return b }(),
		"cut short":     ciphertext[:len(ciphertext)-(1<<20)],
		"segments swapped": func() []byte {
			b := bytes.Clone(ciphertext)
			seg := 1 << 20
			copy(b[2*seg:3*seg], ciphertext[3*seg:4*seg])
			copy(b[3*seg:4*seg], ciphertext[2*seg:3*seg])
			return b
		}(),
	}
	for name, c := range tampered {
		r, err := k.DecryptingReader(ctx, "t1", bytes.NewReader(c), []byte("ds_1"))
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if !errors.Is(err, keyring.ErrDecrypt) {
			t.Errorf("%s: read %v, want ErrDecrypt", name, err)
		}
	}
}

// TestDestroyShreds is crypto-shredding: after Destroy, data encrypted for
// the tenant does not decrypt, with this Keyring or a fresh one (another
// instance, or a restore of the database from before: the tombstone is
// what a restore must keep, see README).
func TestDestroyShreds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := statetest.Bolt(t)
	kek, _ := localKEK(t)
	k, _ := keyring.New(st, kek)
	if err := k.SetEncryptData(ctx, "t1", true); err != nil {
		t.Fatal(err)
	}
	var obj bytes.Buffer
	w, err := k.ObjectWriter(ctx, "t1", &obj)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "age,income\n31,52000\n")
	w.Close()
	if !bytes.HasPrefix(obj.Bytes(), []byte(keyring.Magic)) || bytes.Contains(obj.Bytes(), []byte("income")) {
		t.Fatal("the object was not encrypted")
	}
	secret, _ := k.Encrypt(ctx, "t1", []byte("whsec"), nil)
	if err := k.Destroy(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	fresh, _ := keyring.New(st, kek)
	for _, ring := range []*keyring.Keyring{k, fresh} {
		if _, err := ring.Decrypt(ctx, "t1", secret, nil); !errors.Is(err, keyring.ErrDestroyed) {
			t.Fatalf("secret after Destroy: %v", err)
		}
		if _, err := ring.ObjectReader(ctx, "t1", bytes.NewReader(obj.Bytes())); !errors.Is(err, keyring.ErrDestroyed) {
			t.Fatalf("object after Destroy: %v", err)
		}
		if _, err := ring.Encrypt(ctx, "t1", []byte("x"), nil); !errors.Is(err, keyring.ErrDestroyed) {
			t.Fatalf("a destroyed tenant got new keys: %v", err)
		}
	}
	var d keyring.Doc
	if err := st.Get(ctx, keyring.Coll, "t1", &d); err != nil || len(d.AEAD) != 0 || len(d.Streaming) != 0 || d.DestroyedAt.IsZero() {
		t.Fatalf("the stored tombstone still holds key material: %+v, %v", d, err)
	}
	// Other tenants are untouched.
	if _, err := k.Encrypt(ctx, "t2", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
}

func TestObjectPlainPassThrough(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	k := newRing(t, statetest.Bolt(t))
	var obj bytes.Buffer
	w, err := k.ObjectWriter(ctx, "t1", &obj) // encryption off by default
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "a,b\n1,2\n")
	w.Close()
	if obj.String() != "a,b\n1,2\n" {
		t.Fatalf("plain object = %q", obj.String())
	}
	r, err := k.ObjectReader(ctx, "t1", bytes.NewReader(obj.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r); string(b) != "a,b\n1,2\n" {
		t.Fatalf("read back %q", b)
	}
	var nilRing *keyring.Keyring
	r, err = nilRing.ObjectReader(ctx, "t1", bytes.NewReader([]byte("x")))
	if b, _ := io.ReadAll(r); err != nil || string(b) != "x" {
		t.Fatalf("nil keyring on a short plain object: %q %v", b, err)
	}
}

func TestOpenKEKErrors(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte("{}"), 0o600)
	for _, uri := range []string{"file:///nonexistent/master.json", "file://" + bad, "vault://x"} {
		if _, err := keyring.OpenKEK(context.Background(), uri); err == nil {
			t.Errorf("OpenKEK(%q) succeeded", uri)
		}
	}
}

// BenchmarkStream measures streaming encryption and decryption of 32 MiB
// to and from streams that keep nothing: B/op is what the streams hold, a
// few segments whatever the size (memory stays flat).
func BenchmarkStream(b *testing.B) {
	ctx := context.Background()
	k := newRing(b, statetest.Bolt(b))
	const size = 32 << 20
	var ct bytes.Buffer
	w, err := k.EncryptingWriter(ctx, "t1", &ct, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(w, io.LimitReader(rand.Reader, size)); err != nil {
		b.Fatal(err)
	}
	w.Close()
	ciphertext := ct.Bytes()
	plain := make([]byte, 1<<20)
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		w, err := k.EncryptingWriter(ctx, "t1", io.Discard, nil)
		if err != nil {
			b.Fatal(err)
		}
		for range size / len(plain) {
			if _, err := w.Write(plain); err != nil {
				b.Fatal(err)
			}
		}
		w.Close()
		r, err := k.DecryptingReader(ctx, "t1", bytes.NewReader(ciphertext), nil)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, r); err != nil || n != size {
			b.Fatal(n, err)
		}
	}
}
