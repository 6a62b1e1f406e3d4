package reqlimit

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	l := Default
	mk := func(method, target string, hdr map[string]string, length int64) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		r.ContentLength = length
		return r
	}
	tests := []struct {
		name string
		r    *http.Request
		want int
	}{
		{"plain", mk("GET", "/v1/jobs?limit=5", nil, 0), 0},
		{"long url", mk("GET", "/v1/jobs?c="+strings.Repeat("x", 9000), nil, 0), 414},
		{"many headers", func() *http.Request {
			r := mk("GET", "/", nil, 0)
			for i := range 101 {
				r.Header.Add("X-H", string(rune('a'+i%26)))
			}
			return r
		}(), 431},
		{"big header", mk("GET", "/", map[string]string{"X-Big": strings.Repeat("y", 33<<10)}, 0), 431},
		{"control byte in header", mk("GET", "/", map[string]string{"X-Bad": "a\x00b"}, 0), 400},
		{"control byte in path", func() *http.Request { r := mk("GET", "/", nil, 0); r.URL.Path = "/v1/jobs/\x01"; return r }(), 400},
		{"invalid utf-8 path", func() *http.Request { r := mk("GET", "/", nil, 0); r.URL.Path = "/v1/\xff"; return r }(), 400},
		{"big json", mk("POST", "/v1/jobs", nil, 3<<20), 413},
		{"big table upload is not this limit's", mk("POST", "/v1/datasets", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 60<<20), 0},
		{"big chunk", mk("PUT", "/v1/datasets/ds_1/content", nil, 64<<20), 0},
	}
	for _, tt := range tests {
		got := 0
		exempt := tt.r.URL.Path == "/v1/datasets" || strings.HasSuffix(tt.r.URL.Path, "/content")
		if ref := l.Validate(tt.r, exempt); ref != nil {
			got = ref.Status
		}
		if got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// FuzzValidate: the request validator never panics, and whatever it
// admits respects the limits.
func FuzzValidate(f *testing.F) {
	f.Add("GET", "/v1/jobs", "limit=5", "X-A", "b", int64(0))
	f.Add("POST", "/v1/jobs", "", "Content-Type", "application/json", int64(3<<20))
	f.Add("PUT", "/v1/datasets/x/content", "", "Content-Range", "bytes 0-9/10", int64(10))
	f.Add("GET", "/\x00", "a=%zz", "X\x01", "\x7f", int64(-1))
	l := Default
	f.Fuzz(func(t *testing.T, method, path, query, hk, hv string, length int64) {
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{}, ContentLength: length}
		r.Header[hk] = []string{hv}
		ref := l.Validate(r, false)
		if ref != nil {
			if ref.Status < 400 || ref.Status > 499 || ref.Code == "" {
				t.Fatalf("refusal %+v", ref)
			}
			return
		}
		if len(r.URL.RequestURI()) > l.MaxURLBytes || hasControl(path) || hasControl(hv) || length > l.MaxBodyBytes {
			t.Fatalf("admitted a request beyond the limits: %q %q %q", path, hk, hv)
		}
	})
}
