// Package objectstest is the conformance suite every bucket driver used by
// Synthos must pass: reads and writes, listing, deletion, metadata, streaming
// of large objects, and atomic visibility of writes made through objects.Put.
//
// It follows gocloud.dev's blob/drivertest pattern: a driver's test supplies a
// function that opens a fresh, empty bucket, and Run does the rest.
package objectstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/objects"
)

// Option adjusts what Run asserts for a driver.
type Option func(*config)

type config struct {
	inProcess bool
	size      int64
}

// StoresInProcess declares that the backend keeps stored objects in this
// process's heap (memblob, or a fake server running in the test process). The
// heap bound is then not asserted while writing the large object, since the
// stored copy itself counts as heap growth; it is still asserted while reading
// it back.
func StoresInProcess() Option { return func(c *config) { c.inProcess = true } }

// LargeSize sets the size of the streamed object (64 MiB by default).
func LargeSize(n int64) Option { return func(c *config) { c.size = n } }

// Run runs the suite. open must return a new, empty bucket for each call and
// arrange its cleanup with t.Cleanup.
//
// Subtests do not run in parallel: the streaming test measures the live heap,
// which other goroutines would disturb.
func Run(t *testing.T, open func(t *testing.T) *blob.Bucket, opts ...Option) {
	cfg := config{size: 64 << 20}
	for _, o := range opts {
		o(&cfg)
	}
	t.Run("ReadWrite", func(t *testing.T) { testReadWrite(t, open(t)) })
	t.Run("List", func(t *testing.T) { testList(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, open(t)) })
	t.Run("Attributes", func(t *testing.T) { testAttributes(t, open(t)) })
	t.Run("LargeStream", func(t *testing.T) { testLargeStream(t, open(t), cfg) })
	t.Run("AbortByCancel", func(t *testing.T) { testAbortByCancel(t, open(t)) })
	t.Run("PutWriteFails", func(t *testing.T) { testPutWriteFails(t, open(t)) })
	t.Run("PutCloseFails", func(t *testing.T) { testPutCloseFails(t, open(t)) })
}

// put writes data at key through objects.Put.
func put(t *testing.T, b *blob.Bucket, key string, data []byte, opts *blob.WriterOptions) {
	t.Helper()
	err := objects.Put(t.Context(), b, key, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, opts)
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// keys lists the keys under prefix, with directories when delim is set.
func keys(t *testing.T, b *blob.Bucket, prefix, delim string) []string {
	t.Helper()
	var got []string
	it := b.List(&blob.ListOptions{Prefix: prefix, Delimiter: delim})
	for {
		o, err := it.Next(t.Context())
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatalf("List(%q, %q): %v", prefix, delim, err)
		}
		got = append(got, o.Key)
	}
}

// mustAbsent fails unless key is neither readable nor listed.
func mustAbsent(t *testing.T, b *blob.Bucket, key string) {
	t.Helper()
	ok, err := objects.Exists(t.Context(), b, key)
	if err != nil {
		t.Fatalf("Exists(%q): %v", key, err)
	}
	if ok {
		t.Errorf("Exists(%q) = true, want false", key)
	}
	if slices.Contains(keys(t, b, "", ""), key) {
		t.Errorf("List contains %q, want it absent", key)
	}
}

func testReadWrite(t *testing.T, b *blob.Bucket) {
	ctx := t.Context()
	tests := []struct {
		key  string
		data []byte
	}{
		{"plain.txt", []byte("hello, synthos\n")},
		{"tenant/t1/job/j1/out.csv", []byte("a,b\n1,2\n")},
		{"empty", nil},
		{"binary.bin", []byte{0, 1, 2, 0xff, 0xfe, '\n'}},
		{"unicode/ключ é.json", []byte(`{"k":"v"}`)},
	}
	for _, tt := range tests {
		put(t, b, tt.key, tt.data, nil)
		got, err := b.ReadAll(ctx, tt.key)
		if err != nil {
			t.Fatalf("ReadAll(%q): %v", tt.key, err)
		}
		if !bytes.Equal(got, tt.data) {
			t.Errorf("ReadAll(%q) = %s, want %q", tt.key, short(got), tt.data)
		}
		var buf bytes.Buffer
		n, err := objects.CopyTo(ctx, b, tt.key, &buf)
		if err != nil {
			t.Fatalf("CopyTo(%q): %v", tt.key, err)
		}
		if n != int64(len(tt.data)) || !bytes.Equal(buf.Bytes(), tt.data) {
			t.Errorf("CopyTo(%q) = %d bytes %s, want %q", tt.key, n, short(buf.Bytes()), tt.data)
		}
		ok, err := objects.Exists(ctx, b, tt.key)
		if err != nil || !ok {
			t.Errorf("Exists(%q) = %v, %v; want true, nil", tt.key, ok, err)
		}
	}
	ok, err := objects.Exists(ctx, b, "missing")
	if err != nil || ok {
		t.Errorf("Exists(missing) = %v, %v; want false, nil", ok, err)
	}

	// Put over an existing object replaces it.
	put(t, b, "plain.txt", []byte("second"), nil)
	if got, err := b.ReadAll(ctx, "plain.txt"); err != nil || string(got) != "second" {
		t.Errorf("after overwrite ReadAll = %s, %v; want %q", short(got), err, "second")
	}
}

func testList(t *testing.T, b *blob.Bucket) {
	for _, k := range []string{"list/a", "list/b/c", "list/b/d", "list/e", "lister", "other/x"} {
		put(t, b, k, []byte(k), nil)
	}
	tests := []struct {
		name, prefix, delim string
		want                []string
	}{
		{"all", "", "", []string{"list/a", "list/b/c", "list/b/d", "list/e", "lister", "other/x"}},
		{"prefix", "list/", "", []string{"list/a", "list/b/c", "list/b/d", "list/e"}},
		{"partial name", "list", "", []string{"list/a", "list/b/c", "list/b/d", "list/e", "lister"}},
		{"delimiter", "list/", "/", []string{"list/a", "list/b/", "list/e"}},
		{"top level", "", "/", []string{"list/", "lister", "other/"}},
		{"none", "nothing/", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keys(t, b, tt.prefix, tt.delim)
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%q, %q) = %q, want %q", tt.prefix, tt.delim, got, tt.want)
			}
		})
	}
}

func testDelete(t *testing.T, b *blob.Bucket) {
	ctx := t.Context()
	put(t, b, "doomed", []byte("x"), nil)
	put(t, b, "kept", []byte("y"), nil)
	if err := b.Delete(ctx, "doomed"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustAbsent(t, b, "doomed")
	if got := keys(t, b, "", ""); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("List after delete = %q, want [kept]", got)
	}

	notFound := []struct {
		name string
		op   func() error
	}{
		{"Delete", func() error { return b.Delete(ctx, "doomed") }},
		{"ReadAll", func() error { _, err := b.ReadAll(ctx, "doomed"); return err }},
		{"Attributes", func() error { _, err := b.Attributes(ctx, "doomed"); return err }},
		{"CopyTo", func() error { _, err := objects.CopyTo(ctx, b, "doomed", io.Discard); return err }},
	}
	for _, tt := range notFound {
		err := tt.op()
		if code := gcerrors.Code(err); code != gcerrors.NotFound {
			t.Errorf("%s of a deleted object: code %v (err %v), want NotFound", tt.name, code, err)
		}
	}
}

func testAttributes(t *testing.T, b *blob.Bucket) {
	ctx := t.Context()
	data := []byte(`{"rows":3}`)
	before := time.Now()
	put(t, b, "meta.json", data, &blob.WriterOptions{
		ContentType: "application/json",
		Metadata:    map[string]string{"Tenant": "t1", "job-id": "j-42"},
	})
	after := time.Now()

	a, err := b.Attributes(ctx, "meta.json")
	if err != nil {
		t.Fatalf("Attributes: %v", err)
	}
	if a.ContentType != "application/json" {
		t.Errorf("ContentType = %q, want application/json", a.ContentType)
	}
	// gocloud.dev lower-cases metadata keys on write so that drivers agree.
	want := map[string]string{"tenant": "t1", "job-id": "j-42"}
	if !equalMaps(a.Metadata, want) {
		t.Errorf("Metadata = %v, want %v", a.Metadata, want)
	}
	if a.Size != int64(len(data)) {
		t.Errorf("Size = %d, want %d", a.Size, len(data))
	}
	// Services store times at coarser precision than time.Now; allow a second.
	if a.ModTime.Before(before.Add(-time.Second)) || a.ModTime.After(after.Add(time.Second)) {
		t.Errorf("ModTime = %v, want between %v and %v", a.ModTime, before, after)
	}

	r, err := b.NewReader(ctx, "meta.json", nil)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	defer r.Close()
	if r.ContentType() != "application/json" || r.Size() != int64(len(data)) {
		t.Errorf("Reader ContentType, Size = %q, %d; want application/json, %d", r.ContentType(), r.Size(), len(data))
	}

	// Without a ContentType the type is sniffed from the content.
	put(t, b, "sniffed", []byte("plain words, nothing more\n"), nil)
	if a, err := b.Attributes(ctx, "sniffed"); err != nil || a.ContentType != "text/plain; charset=utf-8" {
		t.Errorf("sniffed ContentType = %q (err %v), want text/plain; charset=utf-8", a.ContentType, err)
	}
}

// short quotes at most 32 bytes of p, so that a wrong large object does not
// flood the test log.
func short(p []byte) string {
	if len(p) <= 32 {
		return fmt.Sprintf("%q", p)
	}
	return fmt.Sprintf("%q... (%d bytes)", p[:32], len(p))
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// testLargeStream writes an object produced by a generator through Put and
// reads it back through CopyTo into a hash, checking the SHA-256 and that the
// live heap never grows by more than a quarter of the object: neither side
// may buffer the object whole.
func testLargeStream(t *testing.T, b *blob.Bucket, cfg config) {
	ctx := t.Context()
	const key = "large/stream.bin"
	limit := uint64(cfg.size / 4)

	src := newSource(cfg.size)
	wp := newProbe(cfg.size / 8)
	src.probe = wp
	err := objects.Put(ctx, b, key, func(w io.Writer) error {
		_, err := io.CopyBuffer(w, src, make([]byte, 256<<10))
		return err
	}, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	if src.n != cfg.size {
		t.Fatalf("generator produced %d bytes, want %d", src.n, cfg.size)
	}
	switch {
	case cfg.inProcess:
		t.Log("write: heap growth not asserted, the backend keeps the object in this process")
	case wp.growth() > limit:
		t.Errorf("write: live heap grew %d MiB for a %d MiB object, want under %d MiB (the write buffers the object)",
			wp.growth()>>20, cfg.size>>20, limit>>20)
	}

	a, err := b.Attributes(ctx, key)
	if err != nil {
		t.Fatalf("Attributes: %v", err)
	}
	if a.Size != cfg.size {
		t.Errorf("Size = %d, want %d", a.Size, cfg.size)
	}

	sink := &hashSink{h: sha256.New(), probe: newProbe(cfg.size / 8)}
	n, err := objects.CopyTo(ctx, b, key, sink)
	if err != nil {
		t.Fatalf("CopyTo: %v", err)
	}
	if n != cfg.size {
		t.Errorf("CopyTo read %d bytes, want %d", n, cfg.size)
	}
	if got, want := sink.h.Sum(nil), src.h.Sum(nil); !bytes.Equal(got, want) {
		t.Errorf("SHA-256 read back %x, written %x", got, want)
	}
	t.Logf("live heap growth for a %d MiB object: write %d KiB, read %d KiB", cfg.size>>20, wp.growth()>>10, sink.probe.growth()>>10)
	if g := sink.probe.growth(); g > limit {
		t.Errorf("read: live heap grew %d MiB for a %d MiB object, want under %d MiB (the read buffers the object)",
			g>>20, cfg.size>>20, limit>>20)
	}
}

// source yields a deterministic pseudo-random stream of a given length and
// hashes what it yields.
type source struct {
	rng   *rand.ChaCha8
	h     hash.Hash
	n     int64
	size  int64
	probe *probe
}

func newSource(size int64) *source {
	return &source{rng: rand.NewChaCha8([32]byte{'s', 'y', 'n', 't', 'h', 'o', 's'}), h: sha256.New(), size: size}
}

func (s *source) Read(p []byte) (int, error) {
	left := s.size - s.n
	if left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > left {
		p = p[:left]
	}
	_, _ = s.rng.Read(p) // ChaCha8.Read never fails.
	_, _ = s.h.Write(p)  // hash.Hash.Write never fails.
	s.n += int64(len(p))
	if s.probe != nil {
		s.probe.observe(s.n)
	}
	return len(p), nil
}

// hashSink hashes what is written to it.
type hashSink struct {
	h     hash.Hash
	n     int64
	probe *probe
}

func (s *hashSink) Write(p []byte) (int, error) {
	_, _ = s.h.Write(p) // hash.Hash.Write never fails.
	s.n += int64(len(p))
	s.probe.observe(s.n)
	return len(p), nil
}

// probe samples the live heap (after a collection) every `every` bytes of a
// stream and keeps the largest value, so that growth compares live data rather
// than garbage not yet collected.
type probe struct {
	base, peak uint64
	every      int64
	next       int64
}

func newProbe(every int64) *probe {
	p := &probe{every: every, next: every}
	p.base = liveHeap()
	p.peak = p.base
	return p
}

func (p *probe) observe(done int64) {
	if done < p.next {
		return
	}
	p.next = done + p.every
	p.peak = max(p.peak, liveHeap())
}

func (p *probe) growth() uint64 {
	if p.peak < p.base {
		return 0
	}
	return p.peak - p.base
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// testAbortByCancel writes part of an object, cancels the writer's context and
// closes it: the object must be absent, both during the write and after.
func testAbortByCancel(t *testing.T, b *blob.Bucket) {
	const key = "aborted.bin"
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	w, err := b.NewWriter(ctx, key, &blob.WriterOptions{ContentType: "application/octet-stream"})
	if err != nil {
		t.Fatalf("NewWriter: %v", err)
	}
	if _, err := io.Copy(w, io.LimitReader(newSource(1<<20), 1<<20)); err != nil {
		t.Fatalf("Write: %v", err)
	}
	mustAbsent(t, b, key)
	cancel()
	if err := w.Close(); err == nil {
		t.Errorf("Close after cancel = nil, want an error")
	}
	mustAbsent(t, b, key)
}

var errBoom = errors.New("boom")

// testPutWriteFails checks that a write func failing half way leaves no new
// object and does not disturb an existing one.
func testPutWriteFails(t *testing.T, b *blob.Bucket) {
	put(t, b, "existing", []byte("old content"), nil)
	// 20 MiB is past the chunk a driver uploads before Close (16 MiB for
	// Cloud Storage's resumable uploads, 5 MiB parts for S3 multipart), so
	// the abort must also discard data the service already holds.
	tests := []struct {
		name, key string
		size      int64
		want      []byte // nil: the key must stay absent
	}{
		{"new key", "fresh", 256 << 10, nil},
		{"existing key", "existing", 256 << 10, []byte("old content")},
		{"new key after chunks", "fresh-large", 20 << 20, nil},
		{"existing key after chunks", "existing", 20 << 20, []byte("old content")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := objects.Put(t.Context(), b, tt.key, func(w io.Writer) error {
				if _, err := io.Copy(w, newSource(tt.size)); err != nil {
					return err
				}
				return errBoom
			}, nil)
			if !errors.Is(err, errBoom) {
				t.Fatalf("Put = %v, want %v", err, errBoom)
			}
			if tt.want == nil {
				mustAbsent(t, b, tt.key)
				return
			}
			got, err := b.ReadAll(t.Context(), tt.key)
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Errorf("ReadAll = %s, %v; want %q", short(got), err, tt.want)
			}
		})
	}
	// Failing before writing anything aborts too (nothing was sniffed yet).
	if err := objects.Put(t.Context(), b, "early", func(io.Writer) error { return errBoom }, nil); !errors.Is(err, errBoom) {
		t.Fatalf("Put = %v, want %v", err, errBoom)
	}
	mustAbsent(t, b, "early")
}

// testPutCloseFails makes Close fail (a ContentMD5 that does not match the
// bytes written) and checks the object stays absent.
func testPutCloseFails(t *testing.T, b *blob.Bucket) {
	err := objects.Put(t.Context(), b, "badmd5", func(w io.Writer) error {
		_, err := w.Write([]byte("content"))
		return err
	}, &blob.WriterOptions{ContentMD5: bytes.Repeat([]byte{1}, 16)})
	if code := gcerrors.Code(err); code != gcerrors.FailedPrecondition {
		t.Fatalf("Put with a wrong ContentMD5: code %v (err %v), want FailedPrecondition", code, err)
	}
	mustAbsent(t, b, "badmd5")
}
