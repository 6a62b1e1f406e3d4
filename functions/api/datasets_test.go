package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"gocloud.dev/blob"
	"gocloud.dev/blob/gcsblob"

	"synthos.dev/synthos/internal/testdata"
	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/objects/objectstest"
	"synthos.dev/synthos/shared/table"
)

// leaks are texts no dataset error message may contain: object keys, Go
// names, internal byte bounds.
var leaks = []string{"tenants/", "objects.", "datasets.", "table:", ".go", "6356992", "1048576", "internal error"}

func checkHygiene(t *testing.T, msg string) {
	t.Helper()
	for _, l := range leaks {
		if strings.Contains(msg, l) {
			t.Errorf("message %q leaks %q", msg, l)
		}
	}
}

// errBody returns the error envelope's code, message and details.
func errBody(t *testing.T, r resp) (code, msg string, details map[string]any) {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ = e["code"].(string)
	msg, _ = e["message"].(string)
	details, _ = e["details"].(map[string]any)
	return code, msg, details
}

// TestUploadProbes: each table a new user or a hostile tester sends
// directly answers with the status and message it must give, and a table
// that cannot be used is kept as invalid with the reason GET shows.
func TestUploadProbes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{maxUpload: 4 << 20})
	f.spec = loadSpec(t)
	key := f.key("acme", apikeys.Read, apikeys.Write)
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + strings.Repeat("\xff\x00\xd8\x10", 300)
	var ragged strings.Builder
	ragged.WriteString(sampleCSV)
	ragged.WriteString("40,female\n")
	oversize := sampleCSV + "50,\"" + strings.Repeat("x", table.DefaultMaxCellBytes+10) + "\",1.5\n"
	tests := []struct {
		name, file, content string
		row                 int
		column              string
		msg                 []string
	}{
		{"binary", "photo.csv", png, 0, "", []string{"not UTF-8", "binary"}},
		{"ragged", "ragged.csv", ragged.String(), 11, "charges", []string{"row 11", `column "charges"`, "2 cells, header has 3"}},
		{"header only", "header.csv", "age,sex,charges\n", 0, "", []string{"no data rows", "at least 10"}},
		{"one row", "one.csv", "age,sex,charges\n19,female,16884.9\n", 0, "", []string{"1 data row", "at least 10"}},
		{"oversize cell", "big-cell.csv", oversize, 11, "sex", []string{"row 11", `column "sex"`, "over the 1 MiB limit"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(t, "file", tc.file, tc.content)
			r := f.do(req{method: "POST", path: "/v1/datasets", key: key, body: body, header: map[string]string{"Content-Type": ct}})
			if r.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			code, msg, det := errBody(t, r)
			if code != "invalid_dataset" {
				t.Errorf("code %q, want invalid_dataset", code)
			}
			for _, want := range tc.msg {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
			checkHygiene(t, msg)
			if tc.row > 0 && det["row"] != float64(tc.row) || tc.row == 0 && det["row"] != nil {
				t.Errorf("details.row = %v, want %d", det["row"], tc.row)
			}
			if tc.column != "" && det["column"] != tc.column {
				t.Errorf("details.column = %v, want %s", det["column"], tc.column)
			}
			id, _ := det["dataset"].(string)
			g := f.do(req{method: "GET", path: "/v1/datasets/" + id, key: key})
			ds := g.json(t)
			prob, _ := ds["problem"].(map[string]any)
			if g.status != 200 || ds["status"] != "invalid" || prob == nil || !strings.Contains(msg, prob["message"].(string)) {
				t.Errorf("GET the invalid dataset: %d %s", g.status, g.body)
			}
			if _, ok := ds["rows"]; ok {
				t.Errorf("an invalid dataset shows rows: %s", g.body)
			}
			// A job on it is refused.
			j := f.do(req{method: "POST", path: "/v1/jobs", key: key, body: map[string]any{"dataset": id, "rows": 5}})
			if j.status != http.StatusConflict {
				t.Errorf("job on an invalid dataset: %d %s", j.status, j.body)
			}
		})
	}

	// An unknown dataset is named, without the package that looked.
	r := f.do(req{method: "GET", path: "/v1/datasets/ds_nope", key: key})
	if _, msg, _ := errBody(t, r); r.status != 404 || msg != "dataset ds_nope does not exist" {
		t.Errorf("unknown dataset: %d %q", r.status, msg)
	}

	// A good table is ready with its rows and columns.
	id := f.upload(key)
	ds := f.do(req{method: "GET", path: "/v1/datasets/" + id, key: key}).json(t)
	cols, _ := ds["columns"].([]any)
	if ds["status"] != "ready" || ds["rows"] != float64(datasets.MinRows) || len(cols) != 3 ||
		cols[0].(map[string]any)["name"] != "age" || cols[0].(map[string]any)["kind"] != "numeric" {
		t.Errorf("ready dataset: %v", ds)
	}
}

// TestUploadTruncatedMultipart: a body cut before its closing boundary is
// 400 with a message that says so, never 500.
func TestUploadTruncatedMultipart(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	key := f.key("acme", apikeys.Read, apikeys.Write)
	body, ct := multipartBody(t, "file", "insurance.csv", sampleCSV)
	for _, cut := range []struct {
		name string
		n    int
	}{
		{"inside the file", len(body) / 2},
		{"before the closing boundary", len(body) - 10},
		{"inside the boundary", 40},
		{"inside the part header", bytes.Index(body, []byte("Content-Type"))},
	} {
		r := f.do(req{method: "POST", path: "/v1/datasets", key: key, body: body[:cut.n], header: map[string]string{"Content-Type": ct}})
		code, msg, _ := errBody(t, r)
		if r.status != http.StatusBadRequest || !strings.Contains(msg, "truncated") && !strings.Contains(msg, "ended before") {
			t.Errorf("%s: %d %s %q, want 400 saying the body is truncated", cut.name, r.status, code, msg)
		}
		checkHygiene(t, msg)
	}
	// Nothing was recorded.
	if r := f.do(req{method: "GET", path: "/v1/datasets", key: key}); len(r.json(t)["datasets"].([]any)) != 0 {
		t.Errorf("a truncated upload left a dataset: %s", r.body)
	}
}

// TestUploadTooLarge: the direct upload's 413 names its limit in MiB and
// the upload session; the session's own 413 names its limit, not itself.
func TestUploadTooLarge(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.spec = loadSpec(t)
	key := f.key("acme", apikeys.Read, apikeys.Write)
	r := f.do(req{method: "POST", path: "/v1/datasets", key: key, body: bigMultipart(t), header: map[string]string{"Content-Type": mpType}})
	_, msg, det := errBody(t, r)
	if r.status != 413 || !strings.Contains(msg, "larger than 1 MiB") || !strings.Contains(msg, "POST /v1/datasets/uploads") ||
		!strings.Contains(msg, "up to 5 GiB") || det["limit_bytes"] != float64(1<<20) {
		t.Errorf("direct: %d %q %v", r.status, msg, det)
	}
	checkHygiene(t, msg)
	r = f.do(req{method: "POST", path: "/v1/datasets/uploads", key: key, body: map[string]any{"name": "huge.csv", "size": int64(6) << 30}})
	_, msg, _ = errBody(t, r)
	if r.status != 413 || !strings.Contains(msg, "larger than 5 GiB") || strings.Contains(msg, "/v1/datasets/uploads") {
		t.Errorf("session: %d %q", r.status, msg)
	}
}

// putChunk sends bytes [a, b] of data (or no body when b < a) with the
// given Content-Range.
func (f *fixture) putChunk(key, id, contentRange string, body []byte) resp {
	f.t.Helper()
	return f.do(req{method: "PUT", path: "/v1/datasets/" + id + "/content", key: key, body: body,
		header: map[string]string{"Content-Range": contentRange, "Content-Type": "application/octet-stream"}})
}

// TestChunkedUpload sends adult.csv in 256 KiB chunks through the local
// upload session, retrying one chunk whole and one from an earlier offset,
// sending one out of order and one of the wrong size, and asking where the
// upload stands.
func TestChunkedUpload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.spec = loadSpec(t)
	key := f.key("acme", apikeys.Read, apikeys.Write)
	data, err := os.ReadFile(testdata.Path(t, "adult.csv"))
	if err != nil {
		t.Fatal(err)
	}
	total := int64(len(data)) // 3,518,606 bytes: 13 chunks of 256 KiB and one of 110,734
	const chunk = 256 << 10
	r := f.do(req{method: "POST", path: "/v1/datasets/uploads", key: key, body: map[string]any{"name": "adult.csv", "size": total}})
	up := r.json(t)
	if r.status != 201 || up["protocol"] != "resumable" || up["max_bytes"] != float64(5<<30) || up["chunk_size"] != float64(8<<20) {
		t.Fatalf("begin: %d %s", r.status, r.body)
	}
	id := up["dataset"].(map[string]any)["id"].(string)
	rng := func(a, b int64) string { return fmt.Sprintf("bytes %d-%d/%d", a, b, total) }
	stored := func(n int64) string { return fmt.Sprintf("bytes=0-%d", n-1) }
	expect := func(r resp, status int, rangeHdr string) {
		t.Helper()
		if r.status != status || r.header.Get("Range") != rangeHdr {
			t.Fatalf("status %d Range %q, want %d %q: %s", r.status, r.header.Get("Range"), status, rangeHdr, r.body)
		}
	}

	// Nothing stored yet: 308 without Range.
	expect(f.putChunk(key, id, fmt.Sprintf("bytes */%d", total), nil), 308, "")
	// A chunk that is not a multiple of 256 KiB (and not the last) is refused.
	r = f.putChunk(key, id, rng(0, 999), data[:1000])
	if _, msg, _ := errBody(t, r); r.status != 400 || !strings.Contains(msg, "multiple of 256 KiB") {
		t.Fatalf("odd chunk: %d %s", r.status, r.body)
	}
	expect(f.putChunk(key, id, rng(0, chunk-1), data[:chunk]), 308, stored(chunk))
	// The same chunk again (its answer was lost): accepted, nothing changes.
	expect(f.putChunk(key, id, rng(0, chunk-1), data[:chunk]), 308, stored(chunk))
	// A chunk beyond the stored bytes is refused and changes nothing.
	r = f.putChunk(key, id, rng(2*chunk, 3*chunk-1), data[2*chunk:3*chunk])
	if code, msg, _ := errBody(t, r); r.status != 409 || code != "upload_offset_mismatch" || !strings.Contains(msg, fmt.Sprintf("starts at byte %d", 2*chunk)) {
		t.Fatalf("out of order: %d %s", r.status, r.body)
	}
	// A retry from an earlier offset that runs past the stored bytes: the
	// known half is skipped, the rest stored.
	expect(f.putChunk(key, id, rng(chunk/2, 2*chunk-1), data[chunk/2:2*chunk]), 308, stored(2*chunk))
	// Where does it stand?
	expect(f.putChunk(key, id, "bytes */*", nil), 308, stored(2*chunk))
	g := f.do(req{method: "GET", path: "/v1/datasets/" + id, key: key}).json(t)
	if g["status"] != "pending" || g["received"] != float64(2*chunk) {
		t.Errorf("mid-upload: %v", g)
	}
	// A chunk that ends before its Content-Range says is refused whole.
	r = f.do(req{method: "PUT", path: "/v1/datasets/" + id + "/content", key: key, body: io.LimitReader(bytes.NewReader(data[2*chunk:3*chunk]), 100),
		header: map[string]string{"Content-Range": rng(2*chunk, 3*chunk-1)}})
	if r.status != 400 {
		t.Errorf("short chunk: %d %s", r.status, r.body)
	}
	// The rest in order; the last chunk completes, joins and validates.
	var last resp
	for a := int64(2 * chunk); a < total; a += chunk {
		b := min(a+chunk, total) - 1
		last = f.putChunk(key, id, rng(a, b), data[a:b+1])
		if b < total-1 {
			expect(last, 308, stored(b+1))
		}
	}
	ds := last.json(t)
	wantRows := float64(len(testdata.Table(t, "adult.csv").Rows))
	if last.status != 200 || ds["status"] != "ready" || ds["size"] != float64(total) || ds["rows"] != wantRows || len(ds["columns"].([]any)) != 15 {
		t.Fatalf("last chunk: %d %s", last.status, last.body)
	}
	// Retrying the last chunk answers the same; completing returns it.
	lastStart := total / chunk * chunk
	if r := f.putChunk(key, id, rng(lastStart, total-1), data[lastStart:]); r.status != 200 || r.json(t)["status"] != "ready" {
		t.Errorf("last chunk again: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/datasets/" + id + "/complete", key: key}); r.status != 200 || r.json(t)["rows"] != wantRows {
		t.Errorf("complete: %d %s", r.status, r.body)
	}
	// The stored table is the file, byte for byte, and no chunk is left.
	ctx := context.Background()
	d, err := datasets.New(f.st).Get(ctx, "acme", id)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.bucket.ReadAll(ctx, d.Key)
	if err != nil || !bytes.Equal(got, data) {
		t.Errorf("stored %d bytes (err %v), want the %d of the file", len(got), err, len(data))
	}
	it := f.bucket.List(&blob.ListOptions{Prefix: datasets.ChunkPrefix("acme", id)})
	if obj, err := it.Next(ctx); err != io.EOF {
		t.Errorf("chunks left behind: %v %v", obj, err)
	}
}

// TestChunkedUploadLimits: a session refuses bytes beyond its limit (413
// naming it), a total that disagrees with the declared size, and an
// invalid table at its last chunk (400 invalid_dataset). Chunks are
// multiples of 100 bytes here, to keep the tables small.
func TestChunkedUploadLimits(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{maxResumable: 64 << 10, chunkGranularity: 100})
	key := f.key("acme", apikeys.Read, apikeys.Write)
	begin := func(name string, size int64) string {
		t.Helper()
		body := map[string]any{"name": name}
		if size > 0 {
			body["size"] = size
		}
		r := f.do(req{method: "POST", path: "/v1/datasets/uploads", key: key, body: body})
		if r.status != 201 {
			t.Fatalf("begin: %d %s", r.status, r.body)
		}
		return r.json(t)["dataset"].(map[string]any)["id"].(string)
	}
	id := begin("a.csv", 0)
	for _, cr := range []string{"bytes 0-99/70000", "bytes 65500-65599/*"} {
		r := f.putChunk(key, id, cr, make([]byte, 100))
		_, msg, _ := errBody(t, r)
		if r.status != 413 || !strings.Contains(msg, "larger than 64 KiB") {
			t.Errorf("%s: %d %q", cr, r.status, msg)
		}
		checkHygiene(t, msg)
	}
	// A whole-file PUT over the limit is 413 too.
	if r := f.do(req{method: "PUT", path: "/v1/datasets/" + id + "/content", key: key, body: make([]byte, 70000)}); r.status != 413 {
		t.Errorf("whole file over the limit: %d %s", r.status, r.body)
	}
	// A whole file of another size than declared is refused and not kept.
	id = begin("c.csv", 500)
	if r := f.do(req{method: "PUT", path: "/v1/datasets/" + id + "/content", key: key, body: make([]byte, 400)}); r.status != 400 {
		t.Errorf("whole file shorter than declared: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/datasets/" + id + "/complete", key: key}); r.status != 409 || r.errCode(t) != "upload_missing" {
		t.Errorf("complete after a refused file: %d %s", r.status, r.body)
	}
	// A declared size caps the session.
	id = begin("b.csv", 1000)
	if r := f.putChunk(key, id, "bytes 0-1099/1100", make([]byte, 1100)); r.status != 413 {
		t.Errorf("beyond the declared size: %d %s", r.status, r.body)
	}
	if r := f.putChunk(key, id, "bytes 0-99/*", make([]byte, 100)); r.status != 308 {
		t.Errorf("first chunk: %d %s", r.status, r.body)
	}
	if r := f.putChunk(key, id, "bytes 100-199/900", make([]byte, 100)); r.status != 400 {
		t.Errorf("total other than declared: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"bytes=0-9/10", "bytes 9-0/10", "bytes 0-10/10", "bytes a-b/c", "items 0-1/2"} {
		if r := f.putChunk(key, id, bad, make([]byte, 2)); r.status != 400 || !strings.Contains(string(r.body), "Content-Range") {
			t.Errorf("Content-Range %q: %d %s", bad, r.status, r.body)
		}
	}
	// Complete before the last byte: 409 saying what is missing.
	if r := f.do(req{method: "POST", path: "/v1/datasets/" + id + "/complete", key: key}); r.status != 409 || r.errCode(t) != "upload_incomplete" {
		t.Errorf("complete mid-upload: %d %s", r.status, r.body)
	}

	// A ragged table sent in two chunks is invalid at the last one.
	table := []byte(sampleCSV + "1,2\n")
	id = begin("ragged.csv", int64(len(table)))
	if r := f.putChunk(key, id, fmt.Sprintf("bytes 0-99/%d", len(table)), table[:100]); r.status != 308 {
		t.Fatalf("first chunk: %d %s", r.status, r.body)
	}
	r := f.putChunk(key, id, fmt.Sprintf("bytes 100-%d/%d", len(table)-1, len(table)), table[100:])
	code, msg, det := errBody(t, r)
	if r.status != 400 || code != "invalid_dataset" || det["row"] != float64(11) || !strings.Contains(msg, "row 11") {
		t.Errorf("ragged: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/datasets/" + id + "/complete", key: key}); r.status != 400 || r.errCode(t) != "invalid_dataset" {
		t.Errorf("complete an invalid dataset: %d %s", r.status, r.body)
	}
	if g := f.do(req{method: "GET", path: "/v1/datasets/" + id, key: key}); g.json(t)["status"] != "invalid" {
		t.Errorf("GET: %s", g.body)
	}
}

// TestGCSUploadSession: on Cloud Storage (fake-gcs-server in process,
// through the real client) POST /v1/datasets/uploads starts a resumable
// session server-side; the client sends the table there in chunks without
// an API key, then completes the upload, which validates it.
func TestGCSUploadSession(t *testing.T) {
	t.Parallel()
	srv, client := objectstest.FakeGCS(t)
	if err := client.Bucket("data").Create(t.Context(), "p", nil); err != nil {
		t.Fatal(err)
	}
	bucket, err := gcsblob.OpenBucket(t.Context(), nil, "data", &gcsblob.Options{Client: client})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	f := newFixture(t, fixtureOptions{bucket: bucket, sessions: &api.GCSSessions{Bucket: "data", Endpoint: srv.URL(), Client: srv.HTTPClient()}})
	f.spec = loadSpec(t)
	key := f.key("acme", apikeys.Read, apikeys.Write)
	data, err := os.ReadFile(testdata.Path(t, "insurance.csv"))
	if err != nil {
		t.Fatal(err)
	}
	total := len(data)
	r := f.do(req{method: "POST", path: "/v1/datasets/uploads", key: key, body: map[string]any{"name": "insurance.csv", "size": total}})
	up := r.json(t)
	url, _ := up["upload_url"].(string)
	if r.status != 201 || up["protocol"] != "resumable" || !strings.HasPrefix(url, srv.URL()) || up["headers"] != nil {
		t.Fatalf("begin: %d %s", r.status, r.body)
	}
	id := up["dataset"].(map[string]any)["id"].(string)
	const chunk = 256 << 10 / 8 // the fake accepts any chunk size; Cloud Storage wants multiples of 256 KiB
	for a := 0; a < total; a += chunk {
		b := min(a+chunk, total) - 1
		rq, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(data[a:b+1]))
		if err != nil {
			t.Fatal(err)
		}
		rq.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, total))
		res, err := http.DefaultClient.Do(rq)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		want := http.StatusPermanentRedirect
		if b == total-1 {
			want = http.StatusOK
		}
		if res.StatusCode != want {
			t.Fatalf("chunk %d-%d: %s, want %d", a, b, res.Status, want)
		}
	}
	r = f.do(req{method: "POST", path: "/v1/datasets/" + id + "/complete", key: key})
	ds := r.json(t)
	if r.status != 200 || ds["status"] != "ready" || ds["size"] != float64(total) || ds["rows"] != float64(len(testdata.Table(t, "insurance.csv").Rows)) {
		t.Errorf("complete: %d %s", r.status, r.body)
	}
}
