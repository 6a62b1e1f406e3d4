package destinations_test

import (
	"crypto/sha256"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/destinations"
	"synthos.dev/synthos/shared/destinations/destinationstest"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/objects/objectstest"
	"synthos.dev/synthos/shared/state/statetest"
)

// pattern is an endless deterministic byte stream.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte((p.n*31 + p.n>>9) & 0xff)
		p.n++
	}
	return len(b), nil
}

// crossCopy writes size bytes to a file:// bucket and streams them to an
// Azure container (Azurite) through Router.Copy, returning the time taken
// and checking the bytes arrived intact.
func crossCopy(tb testing.TB, size int64) time.Duration {
	tb.Helper()
	ctx := tb.Context()
	src, err := objects.Open(ctx, "file://"+tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	want := sha256.New()
	if err := objects.Put(ctx, src, "big.bin", func(w io.Writer) error {
		_, err := io.Copy(io.MultiWriter(w, want), io.LimitReader(&pattern{}, size))
		return err
	}, &blob.WriterOptions{ContentType: "application/octet-stream"}); err != nil {
		tb.Fatal(err)
	}
	az := objectstest.StartAzurite(tb)
	az.CreateContainer(tb, "copy")
	store, err := destinations.NewStore(statetest.Bolt(tb), destinationstest.NewSealer(tb), destinations.StoreOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	d, err := store.Create(ctx, "t", destinations.Spec{Name: "az", URL: "azblob://copy", Region: "westeurope",
		Credential: destinations.Credential{ConnectionString: az.ConnectionString}})
	if err != nil {
		tb.Fatal(err)
	}
	r := destinations.NewRouter(store, src, destinations.RouterOptions{})
	defer r.Close()
	start := time.Now()
	loc, err := r.Copy(ctx, "t", destinations.Route{Primary: d.ID}, "big.bin", src, "big.bin")
	took := time.Since(start)
	if err != nil {
		tb.Fatal(err)
	}
	b, _ := r.Bucket(ctx, "t", d.ID)
	rd, err := b.NewReader(ctx, loc.Key, nil)
	if err != nil {
		tb.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, rd)
	rd.Close()
	if err != nil || n != size || string(got.Sum(nil)) != string(want.Sum(nil)) {
		tb.Fatalf("copied %d of %d bytes, digest match %v, err %v", n, size, string(got.Sum(nil)) == string(want.Sum(nil)), err)
	}
	return took
}

// BenchmarkCrossProviderCopy streams 64 MiB from the local file store to
// Azure Blob (Azurite); MB/s is the copy's throughput.
func BenchmarkCrossProviderCopy(b *testing.B) {
	const size = 64 << 20
	b.SetBytes(size)
	for b.Loop() {
		crossCopy(b, size)
	}
}

// TestBigCrossProviderCopy copies 1 GiB across providers and reports the
// throughput and this process's peak RSS (SYNTHOS_BIG=1; the bound
// is 100 MB: the copy streams, it never holds the object).
func TestBigCrossProviderCopy(t *testing.T) {
	if os.Getenv("SYNTHOS_BIG") != "1" {
		t.Skip("set SYNTHOS_BIG=1 to copy 1 GiB across providers")
	}
	const size = 1 << 30
	took := crossCopy(t, size)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss := peakRSS(t)
	t.Logf("1 GiB file:// → azblob:// in %s (%.0f MB/s); peak RSS %s; Go heap sys %d MB", took.Round(time.Millisecond),
		float64(size)/1e6/took.Seconds(), rss, ms.HeapSys>>20)
}

func peakRSS(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}
