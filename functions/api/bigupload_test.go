package api

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob/fileblob"

	"synthos.dev/synthos/shared/apikeys"
)

// virtualCSV serves bytes [off, end) of a CSV of fixed-width rows computed
// from their index, so a client can send (and resend) any range of a
// gigabyte-sized table without holding it: header, then rows like
// "0000000042,g02,000000297.42,n\n".
type virtualCSV struct {
	off, end int64
	row      [rowLen]byte
}

const (
	csvHeader = "id,group,amount,flag\n"
	rowLen    = 30
)

// virtualSize is the size of a virtual CSV of whole rows closest to, and at
// most, n bytes.
func virtualSize(n int64) int64 {
	return int64(len(csvHeader)) + (n-int64(len(csvHeader)))/rowLen*rowLen
}

func (v *virtualCSV) Read(p []byte) (int, error) {
	if v.off >= v.end {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && v.off < v.end {
		var src []byte
		var o int64
		if h := int64(len(csvHeader)); v.off < h {
			src, o = []byte(csvHeader), v.off
		} else {
			i := (v.off - h) / rowLen
			o = (v.off - h) % rowLen
			v.fill(i)
			src = v.row[:]
		}
		c := copy(p[n:], src[o:min(int64(len(src)), o+v.end-v.off)])
		n += c
		v.off += int64(c)
	}
	return n, nil
}

// fill writes row i into v.row: what fmt's "%010d,g%02d,%09d.%02d,%c\n"
// of i, i%20, i*7919%1e8, i%100 and y (every third row) or n would, without
// fmt's cost, so the client does not dominate the measurement.
func (v *virtualCSV) fill(i int64) {
	digits := func(b []byte, x int64) {
		for k := len(b) - 1; k >= 0; k-- {
			b[k] = byte('0' + x%10)
			x /= 10
		}
	}
	r := v.row[:]
	digits(r[0:10], i)
	r[10], r[11] = ',', 'g'
	digits(r[12:14], i%20)
	r[14] = ','
	digits(r[15:24], i*7919%100_000_000)
	r[24] = '.'
	digits(r[25:27], i%100)
	r[27], r[28], r[29] = ',', 'n', '\n'
	if i%3 == 0 {
		r[28] = 'y'
	}
}

// peakRSS is the process's peak resident set size (VmHWM) in bytes.
func peakRSS(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Skip("no VmHWM in /proc/self/status")
	return 0
}

// TestBigChunkedUploadRSS sends a 1 GiB CSV (35.8 million rows) in 8 MiB
// chunks through the local upload session (HTTP on loopback, a file://
// object store), retrying one chunk, and reports the process's peak RSS,
// which must stay at most 100 MB: chunks stream to their objects, the
// join streams, and validation keeps a bounded sample. It runs only with
// SYNTHOS_BIG=1 (it writes 2 GiB to the temporary directory;
// SYNTHOS_BIG_MB=256 sends less):
//
//	SYNTHOS_BIG=1 go test -count=1 -run TestBigChunkedUploadRSS -v ./functions/api/
func TestBigChunkedUploadRSS(t *testing.T) {
	if os.Getenv("SYNTHOS_BIG") != "1" {
		t.Skip("set SYNTHOS_BIG=1 to upload 1 GiB and measure peak RSS")
	}
	dir := t.TempDir()
	bucket, err := fileblob.OpenBucket(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	f := newFixture(t, fixtureOptions{bucket: bucket})
	key := f.key("acme", apikeys.Read, apikeys.Write)
	size := int64(1 << 30)
	if mb, err := strconv.ParseInt(os.Getenv("SYNTHOS_BIG_MB"), 10, 64); err == nil && mb > 0 {
		size = mb << 20 // a smaller run, e.g. for a profile
	}
	total := virtualSize(size)
	r := f.do(req{method: "POST", path: "/v1/datasets/uploads", key: key, body: map[string]any{"name": "big.csv", "size": total}})
	if r.status != 201 {
		t.Fatalf("begin: %d %s", r.status, r.body)
	}
	url := r.json(t)["upload_url"].(string)
	before := peakRSS(t)

	put := func(a, b int64) (*http.Response, time.Duration) {
		t.Helper()
		rq, err := http.NewRequest(http.MethodPut, url, &virtualCSV{off: a, end: b + 1})
		if err != nil {
			t.Fatal(err)
		}
		rq.ContentLength = b + 1 - a
		rq.Header.Set("Authorization", "Bearer "+key)
		rq.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, total))
		start := time.Now()
		res, err := f.srv.Client().Do(rq)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusPermanentRedirect && res.StatusCode != http.StatusOK {
			t.Fatalf("chunk %d-%d: %s %s", a, b, res.Status, body)
		}
		return res, time.Since(start)
	}
	const chunk = 8 << 20
	var upload, last time.Duration
	for a := int64(0); a < total; a += chunk {
		b := min(a+chunk, total) - 1
		res, d := put(a, b)
		if a == 3*chunk {
			// The answer was "lost": send the chunk again.
			res, d = put(a, b)
		}
		if b == total-1 {
			last = d
			if res.StatusCode != http.StatusOK {
				t.Fatalf("last chunk: %s", res.Status)
			}
		} else {
			upload += d
		}
	}
	peak := peakRSS(t)
	ds := f.do(req{method: "GET", path: "/v1/datasets/" + r.json(t)["dataset"].(map[string]any)["id"].(string), key: key}).json(t)
	wantRows := (total - int64(len(csvHeader))) / rowLen
	if ds["status"] != "ready" || ds["rows"] != float64(wantRows) || ds["size"] != float64(total) {
		t.Fatalf("dataset after the upload: %v", ds)
	}
	mb := func(n int64) float64 { return float64(n) / 1e6 }
	t.Logf("uploaded %d bytes (%d rows) in %d chunks of 8 MiB: chunks %.1f s (%.0f MB/s), last chunk with join and validation %.1f s (%.0f MB/s)",
		total, wantRows, (total+chunk-1)/chunk, upload.Seconds(), mb(total)/upload.Seconds(), last.Seconds(), mb(total)/last.Seconds())
	t.Logf("peak RSS %.1f MB (%.1f MB before the first chunk)", mb(peak), mb(before))
	if peak > 100e6 && size >= 1<<30 {
		t.Errorf("peak RSS %.1f MB, want at most 100 MB", mb(peak))
	}
}

// TestVirtualCSV: the generator serves the same bytes as fmt would, from
// any offset.
func TestVirtualCSV(t *testing.T) {
	t.Parallel()
	var want strings.Builder
	want.WriteString(csvHeader)
	for i := range int64(40) {
		flag := 'n'
		if i%3 == 0 {
			flag = 'y'
		}
		fmt.Fprintf(&want, "%010d,g%02d,%09d.%02d,%c\n", i, i%20, i*7919%100_000_000, i%100, flag)
	}
	total := int64(want.Len())
	if virtualSize(total+rowLen-1) != total {
		t.Fatalf("virtualSize(%d) = %d", total+rowLen-1, virtualSize(total+rowLen-1))
	}
	for _, a := range []int64{0, 5, int64(len(csvHeader)), 47, 333, total - 1} {
		got, err := io.ReadAll(io.LimitReader(&virtualCSV{off: a, end: total}, total))
		if err != nil || string(got) != want.String()[a:] {
			t.Errorf("from %d: %q (%v), want %q", a, got, err, want.String()[a:])
		}
	}
}
