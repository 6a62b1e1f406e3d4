// Package console is the Synthos web console: plain HTML, CSS and native
// JavaScript modules embedded in the binary and served by the API function
// at / (the page) and /console/… (its assets). There is no framework and no
// build step: the files under static/ are what the browser runs, so a
// change is a reload away and nothing is fetched from a CDN.
//
// The console only calls the JSON API of the same origin with the API key
// the user signs in with (kept in sessionStorage), so its policy can be
// strict: scripts, styles, images and connections from this origin only, no
// inline script or style, no framing.
package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/web"
)

//go:embed static
var static embed.FS

// Prefix is the path the assets are served under; the page itself is /.
const Prefix = "/console/"

// Policy is the Content-Security-Policy of every console response. It
// replaces the edge's frame-ancestors-only default, which exists for the
// self-contained HTML reports.
const Policy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
	"frame-ancestors 'none'"

// asset is one embedded file ready to serve.
type asset struct {
	ctype string
	body  []byte
	gz    []byte // nil when gzip does not make it smaller
	etag  string
}

// types are the content types of the files the console ships; a file of
// another extension is a packaging mistake that New reports.
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// Handler serves the console.
type Handler struct {
	assets map[string]*asset // by request path: "/" and "/console/…"
}

// New reads the embedded files once: content types, ETags and gzip bodies
// are computed at start, so a request costs a map lookup.
func New() (*Handler, error) {
	h := &Handler{assets: map[string]*asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		ctype, ok := types[path.Ext(p)]
		if !ok {
			return fmt.Errorf("console: %s has no known content type", p)
		}
		sum := sha256.Sum256(body)
		a := &asset{ctype: ctype, body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // the level is valid
		if _, err := zw.Write(body); err != nil {
			return fmt.Errorf("console: gzip %s: %w", p, err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("console: gzip %s: %w", p, err)
		}
		if buf.Len() < len(body) {
			a.gz = buf.Bytes()
		}
		// static/index.html is the page at /; the rest is under
		// static/console/, served at /console/….
		rel := strings.TrimPrefix(p, "static")
		if rel == "/index.html" {
			rel = "/"
		} else if !strings.HasPrefix(rel, Prefix) {
			return fmt.Errorf("console: %s is outside static/console/", p)
		}
		h.assets[rel] = a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	if h.assets["/"] == nil {
		return nil, fmt.Errorf("console: static/index.html is missing")
	}
	return h, nil
}

// Owns reports whether the console answers path p (the page or an asset
// path, known or not); the API's JSON 404 answers everything else.
func Owns(p string) bool { return p == "/" || strings.HasPrefix(p, Prefix) }

// ServeHTTP answers GET and HEAD of the page and its assets.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Security-Policy", Policy)
	hdr.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		web.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed on "+r.URL.Path,
			map[string]any{"allow": []string{"GET", "HEAD"}})
		return
	}
	a := h.assets[r.URL.Path]
	if a == nil {
		web.WriteError(w, http.StatusNotFound, "not_found", "no console file at "+r.URL.Path, nil)
		return
	}
	body, etag := a.body, a.etag
	hdr.Add("Vary", "Accept-Encoding")
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		// The compressed body is another representation: its own ETag.
		body, etag = a.gz, strings.TrimSuffix(a.etag, `"`)+`-gz"`
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("Content-Type", a.ctype)
	hdr.Set("ETag", etag)
	// Revalidate every time: the asset paths carry no version, so a deploy
	// must be seen at once; the ETag turns a repeat visit into 304s.
	hdr.Set("Cache-Control", "no-cache")
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		hdr.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = w.Write(body) // a client that went away is not an error here
	}
}

// acceptsGzip reads Accept-Encoding: gzip listed without q=0.
func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// etagMatch reads If-None-Match: "*" or a list holding etag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
