package keyring_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/url"
	"strings"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/internal/cputime"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/state/statetest"
)

// signingBucket is a file bucket that signs URLs, as Cloud Storage does.
func signingBucket(t *testing.T) *blob.Bucket {
	t.Helper()
	base, _ := url.Parse("https://objects.example/")
	b, err := fileblob.OpenBucket(t.TempDir(), &fileblob.Options{URLSigner: fileblob.NewURLSignerHMAC(base, []byte("test-secret"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func put(t *testing.T, b *blob.Bucket, key string, data []byte) {
	t.Helper()
	if err := objects.Put(t.Context(), b, key, func(w io.Writer) error { _, err := w.Write(data); return err },
		&blob.WriterOptions{ContentType: "text/csv"}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

// TestOutputsSealJobOutputs writes through keyring.Outputs for a tenant
// that encrypts and one that does not, and checks what is stored, what is
// read back, the sizes readers see, ranges, and signed URLs.
func TestOutputsSealJobOutputs(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	raw := signingBucket(t)
	ring := newRing(t, statetest.Bolt(t))
	if err := ring.SetEncryptData(ctx, "enc", true); err != nil {
		t.Fatal(err)
	}
	b := keyring.Outputs(raw, func(context.Context) (*keyring.Keyring, error) { return ring, nil })

	plain := []byte(strings.Repeat("id,name\n1,alice\n", 5000))
	tests := []struct {
		name, key string
		sealed    bool // stored as ciphertext
		signs     bool // a GET URL is signed
	}{
		{"output of an encrypting tenant", datasets.OutputKey("enc", "j1", "csv"), true, false},
		{"report", datasets.ReportKey("enc", "j1", "html"), true, false},
		{"shard part", datasets.PartKey("enc", "j1", 3), true, false},
		{"design table", datasets.JobPrefix("enc", "j1") + "output-orders.csv", true, false},
		{"quarantined output", datasets.QuarantineKey("enc", "j1", "csv"), true, false},
		{"output of a plain tenant", datasets.OutputKey("plain", "j1", "csv"), false, true},
		{"report of a plain tenant", datasets.ReportKey("plain", "j1", "json"), false, true},
		{"dataset (its writer seals it)", datasets.DatasetKey("enc", "d1", "a.csv"), false, true},
		{"model (its writer seals it)", datasets.ModelKey("enc", "j1"), false, true},
		{"training rows (their writer seals them)", datasets.TrainKey("enc", "j1"), false, true},
		{"not a tenant's object", "healthz/probe", false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			put(t, b, tc.key, plain)
			stored, err := raw.ReadAll(ctx, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if got := bytes.HasPrefix(stored, []byte(keyring.Magic)) && !bytes.Contains(stored, []byte("alice")); got != tc.sealed {
				t.Fatalf("stored sealed = %v, want %v (%.40q)", got, tc.sealed, stored)
			}
			if !tc.sealed && !bytes.Equal(stored, plain) {
				t.Fatal("a plain object was altered")
			}
			r, err := b.NewReader(ctx, tc.key, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(r)
			r.Close()
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("read back %d bytes, %v; want the %d plaintext bytes", len(got), err, len(plain))
			}
			if r.Size() != int64(len(plain)) {
				t.Errorf("reader Size = %d, want %d", r.Size(), len(plain))
			}
			if a, err := b.Attributes(ctx, tc.key); err != nil || a.Size != int64(len(plain)) || a.ContentType != "text/csv" {
				t.Errorf("Attributes = %+v, %v; want size %d, text/csv", a, err, len(plain))
			}
			rr, err := b.NewRangeReader(ctx, tc.key, 100, 50, nil)
			if err != nil {
				t.Fatal(err)
			}
			part, err := io.ReadAll(rr)
			rr.Close()
			if err != nil || !bytes.Equal(part, plain[100:150]) {
				t.Errorf("range [100,150) = %q, %v; want %q", part, err, plain[100:150])
			}
			u, err := b.SignedURL(ctx, tc.key, &blob.SignedURLOptions{Method: "GET"})
			switch {
			case tc.signs && (err != nil || u == ""):
				t.Errorf("SignedURL = %q, %v; want a signed URL", u, err)
			case !tc.signs && gcerrors.Code(err) != gcerrors.Unimplemented:
				t.Errorf("SignedURL of a sealed object = %q, %v; want Unimplemented so the API streams it", u, err)
			}
		})
	}
}

// TestOutputsSizes checks the plaintext size a sealed object reports
// against the bytes it decrypts to, around the streaming segment bounds.
func TestOutputsSizes(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ring := newRing(t, statetest.Bolt(t))
	if err := ring.SetEncryptData(ctx, "enc", true); err != nil {
		t.Fatal(err)
	}
	b := keyring.Outputs(signingBucket(t), func(context.Context) (*keyring.Keyring, error) { return ring, nil })
	const seg = 1 << 20
	first := seg - 40 - 16 // plaintext of the first segment (it holds the header)
	for _, n := range []int{0, 1, 1000, first - 1, first, first + 1, first + seg - 16, first + seg - 15, 3*seg + 7} {
		data := make([]byte, n)
		rand.Read(data)
		key := datasets.OutputKey("enc", "sizes", "bin")
		put(t, b, key, data)
		a, err := b.Attributes(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.ReadAll(ctx, key)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%d bytes: read back %d, %v", n, len(got), err)
		}
		if a.Size != int64(n) {
			t.Errorf("%d bytes: Attributes.Size = %d", n, a.Size)
		}
	}
}

// TestOutputsCopyAndShred copies a sealed output to the quarantine (the
// ciphertext is copied as is) and to a dataset key (outside the sealed
// prefixes: plaintext), then destroys the tenant's keys: the sealed
// objects no longer decrypt.
func TestOutputsCopyAndShred(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	raw := signingBucket(t)
	ring := newRing(t, statetest.Bolt(t))
	if err := ring.SetEncryptData(ctx, "enc", true); err != nil {
		t.Fatal(err)
	}
	b := keyring.Outputs(raw, func(context.Context) (*keyring.Keyring, error) { return ring, nil })
	plain := []byte("id,name\n1,alice\n")
	out := datasets.OutputKey("enc", "j1", "csv")
	put(t, b, out, plain)
	tests := []struct {
		name, dst string
		sealed    bool
	}{
		{"to the quarantine", datasets.QuarantineKey("enc", "j1", "csv"), true},
		{"outside the job prefixes", "exports/enc/j1.csv", false},
	}
	for _, tc := range tests {
		if err := b.Copy(ctx, tc.dst, out, nil); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		stored, err := raw.ReadAll(ctx, tc.dst)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.HasPrefix(stored, []byte(keyring.Magic)); got != tc.sealed {
			t.Errorf("%s: stored sealed = %v, want %v", tc.name, got, tc.sealed)
		}
		if got, err := b.ReadAll(ctx, tc.dst); err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: read back %q, %v", tc.name, got, err)
		}
	}

	if err := ring.Destroy(ctx, "enc"); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{out, datasets.QuarantineKey("enc", "j1", "csv")} {
		got, err := b.ReadAll(ctx, key)
		if !errors.Is(err, keyring.ErrDestroyed) || gcerrors.Code(err) != gcerrors.FailedPrecondition {
			t.Errorf("%s after the tenant's keys were destroyed: %q, %v; want ErrDestroyed", key, got, err)
		}
	}
	// Writing a new output for the destroyed tenant is refused, not stored
	// in the clear.
	err := objects.Put(ctx, b, datasets.OutputKey("enc", "j2", "csv"), func(w io.Writer) error { _, err := w.Write(plain); return err }, nil)
	if !errors.Is(err, keyring.ErrDestroyed) {
		t.Errorf("write for a destroyed tenant: %v, want ErrDestroyed", err)
	}
}

// TestOutputsWithoutKeyring: no keyring configured seals nothing.
func TestOutputsWithoutKeyring(t *testing.T) {
	t.Parallel()
	raw := signingBucket(t)
	b := keyring.Outputs(raw, func(context.Context) (*keyring.Keyring, error) { return nil, nil })
	key := datasets.OutputKey("t", "j", "csv")
	put(t, b, key, []byte("a\n1\n"))
	if got, err := raw.ReadAll(t.Context(), key); err != nil || string(got) != "a\n1\n" {
		t.Fatalf("stored %q, %v", got, err)
	}
	if u, err := b.SignedURL(t.Context(), key, nil); err != nil || u == "" {
		t.Fatalf("SignedURL = %q, %v", u, err)
	}
}

// BenchmarkOutputs writes and reads back an 8 MiB output through
// keyring.Outputs on a file bucket, sealed and plain.
func BenchmarkOutputs(b *testing.B) {
	for _, encrypt := range []bool{false, true} {
		b.Run(map[bool]string{false: "plain", true: "sealed"}[encrypt], func(b *testing.B) {
			ctx := context.Background()
			ring := newRing(b, statetest.Bolt(b))
			if err := ring.SetEncryptData(ctx, "t", encrypt); err != nil {
				b.Fatal(err)
			}
			raw, err := fileblob.OpenBucket(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			bk := keyring.Outputs(raw, func(context.Context) (*keyring.Keyring, error) { return ring, nil })
			data := make([]byte, 8<<20)
			rand.Read(data)
			key := datasets.OutputKey("t", "j", "csv")
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			cpu0, iters := cputime.Process(), 0
			for b.Loop() {
				iters++
				if err := bk.WriteAll(ctx, key, data, nil); err != nil {
					b.Fatal(err)
				}
				r, err := bk.NewReader(ctx, key, nil)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, r)
				r.Close()
				if err != nil || n != int64(len(data)) {
					b.Fatalf("read %d, %v", n, err)
				}
			}
			if cpu := cputime.Process() - cpu0; cpu > 0 && iters > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(iters), "cpu-ns/op")
			}
		})
	}
}
