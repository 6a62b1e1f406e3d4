package console

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func newHandler(t *testing.T) *Handler {
	t.Helper()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func do(h http.Handler, method, path string, hdr map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestServesPageAndAssets(t *testing.T) {
	t.Parallel()
	h := newHandler(t)
	tests := []struct {
		path, ctype, contains string
	}{
		{"/", "text/html; charset=utf-8", `<script type="module" src="/console/app.js">`},
		{"/console/app.js", "text/javascript; charset=utf-8", `from "./api.js"`},
		{"/console/api.js", "text/javascript; charset=utf-8", "sessionStorage"},
		{"/console/data.js", "text/javascript; charset=utf-8", "export function checkRules"},
		{"/console/style.css", "text/css; charset=utf-8", ":focus-visible"},
		{"/console/favicon.svg", "image/svg+xml", "<svg"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			w := do(h, "GET", tt.path, nil)
			if w.Code != 200 {
				t.Fatalf("GET %s = %d", tt.path, w.Code)
			}
			if got := w.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			if got := w.Header().Get("Content-Security-Policy"); got != Policy {
				t.Errorf("CSP = %q", got)
			}
			if w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if w.Header().Get("ETag") == "" || w.Header().Get("Cache-Control") != "no-cache" {
				t.Errorf("cache headers: ETag %q, Cache-Control %q", w.Header().Get("ETag"), w.Header().Get("Cache-Control"))
			}
			if !strings.Contains(w.Body.String(), tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
		})
	}
}

// TestPolicyIsStrict: the policy names every directive the console relies
// on, and never allows inline code, eval or another origin.
func TestPolicyIsStrict(t *testing.T) {
	t.Parallel()
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
		"frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
		if !strings.Contains(Policy, want) {
			t.Errorf("policy lacks %s", want)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*"} {
		if strings.Contains(Policy, bad) {
			t.Errorf("policy allows %s", bad)
		}
	}
}

// TestNoInlineCode: the strict policy would block inline scripts, styles
// and handlers, so none may ship (a browser would only log the violation).
func TestNoInlineCode(t *testing.T) {
	t.Parallel()
	inline := []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with a body
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`(?i)https?://[a-z]`), // nothing from another origin
	}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, _ := static.ReadFile(p)
		for _, re := range inline {
			if loc := re.FindIndex(b); loc != nil {
				t.Errorf("%s: inline or external code at %q", p, b[loc[0]:min(len(b), loc[1]+20)])
			}
		}
		for _, m := range regexp.MustCompile(`<script[^>]*>`).FindAll(b, -1) {
			if !bytes.Contains(m, []byte(`src="/console/`)) {
				t.Errorf("%s: script without a same-origin src: %s", p, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnknownAndMethods(t *testing.T) {
	t.Parallel()
	h := newHandler(t)
	tests := []struct {
		method, path string
		code         int
	}{
		{"GET", "/console/nope.js", 404},
		{"GET", "/console/", 404},
		{"GET", "/console/../index.html", 404},
		{"GET", "/index.html", 404},
		{"HEAD", "/console/app.js", 200},
		{"POST", "/", 405},
		{"DELETE", "/console/app.js", 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			w := do(h, tt.method, tt.path, nil)
			if w.Code != tt.code {
				t.Fatalf("%s %s = %d, want %d", tt.method, tt.path, w.Code, tt.code)
			}
			if tt.code >= 400 && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
				t.Errorf("error Content-Type = %q, want the JSON envelope", w.Header().Get("Content-Type"))
			}
			if tt.method == "HEAD" && w.Body.Len() != 0 {
				t.Errorf("HEAD wrote %d bytes", w.Body.Len())
			}
		})
	}
}

func TestGzipAndETag(t *testing.T) {
	t.Parallel()
	h := newHandler(t)
	plain := do(h, "GET", "/console/app.js", nil)
	if plain.Header().Get("Content-Encoding") != "" {
		t.Fatal("gzip without Accept-Encoding")
	}
	gz := do(h, "GET", "/console/app.js", map[string]string{"Accept-Encoding": "br, gzip"})
	if gz.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(gz.Header().Get("Vary"), "Accept-Encoding") {
		t.Fatalf("headers %v", gz.Header())
	}
	if gz.Body.Len() >= plain.Body.Len() {
		t.Errorf("gzip body %d bytes, plain %d", gz.Body.Len(), plain.Body.Len())
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, plain.Body.Bytes()) {
		t.Fatalf("gunzipped body differs (%v)", err)
	}
	if gz.Header().Get("ETag") == plain.Header().Get("ETag") {
		t.Error("the gzip and plain bodies share an ETag")
	}
	if q0 := do(h, "GET", "/console/app.js", map[string]string{"Accept-Encoding": "gzip;q=0"}); q0.Header().Get("Content-Encoding") != "" {
		t.Error("gzip sent though refused with q=0")
	}
	tests := []struct {
		name, inm, ae string
		code          int
	}{
		{"same etag", plain.Header().Get("ETag"), "", 304},
		{"weak form", "W/" + plain.Header().Get("ETag"), "", 304},
		{"in a list", `"x", ` + gz.Header().Get("ETag"), "gzip", 304},
		{"star", "*", "", 304},
		{"other etag", `"0000"`, "", 200},
		{"plain etag, gzip asked", plain.Header().Get("ETag"), "gzip", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(h, "GET", "/console/app.js", map[string]string{"If-None-Match": tt.inm, "Accept-Encoding": tt.ae})
			if w.Code != tt.code {
				t.Fatalf("code %d, want %d", w.Code, tt.code)
			}
			if tt.code == 304 && w.Body.Len() != 0 {
				t.Error("304 with a body")
			}
		})
	}
}

func TestOwns(t *testing.T) {
	t.Parallel()
	for p, want := range map[string]bool{"/": true, "/console/app.js": true, "/console/": true, "/v1/jobs": false,
		"/healthz": false, "/nope": false, "/consolex": false} {
		if Owns(p) != want {
			t.Errorf("Owns(%q) = %v", p, !want)
		}
	}
}

// TestFirstLoadBudget: the page and every asset it loads, compressed as a
// browser gets them, stay within the 200 KB first-load target (the browser
// test measures the same on the wire, headers included).
func TestFirstLoadBudget(t *testing.T) {
	t.Parallel()
	h := newHandler(t)
	total := 0
	for p := range h.assets {
		w := do(h, "GET", p, map[string]string{"Accept-Encoding": "gzip"})
		total += w.Body.Len()
	}
	t.Logf("every console file, gzipped: %d bytes", total)
	if total > 200_000 {
		t.Errorf("the console's files weigh %d bytes gzipped, over the 200 KB first-load budget", total)
	}
}
