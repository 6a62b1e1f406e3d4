// Package reqlimit is the request validator of the security edge: size
// limits on the URL, the headers and the body, and no control bytes. It has
// no dependencies beyond the standard library, so its fuzz target builds
// fast.
package reqlimit

import (
	"fmt"
	"net/http"
	"unicode/utf8"
)

// Limits bound what a request may carry.
type Limits struct {
	MaxURLBytes    int   // path and query
	MaxHeaderBytes int   // names and values of all headers
	MaxHeaders     int   // header lines
	MaxBodyBytes   int64 // bodies other than table uploads and billing webhooks
}

// Default fits every request of the API with room to spare: JSON
// bodies are at most 1 MiB (handlers enforce that exactly).
var Default = Limits{MaxURLBytes: 8 << 10, MaxHeaderBytes: 32 << 10, MaxHeaders: 100, MaxBodyBytes: 2 << 20}

// Refusal is a request the edge answers itself.
type Refusal struct {
	Status  int
	Code    string
	Message string
}

func (r *Refusal) Error() string { return r.Message }

// Validate is the request validator: limits on the URL, the headers and a
// declared body length (unless exemptBody: table uploads and billing
// webhooks have limits of their own), and no control bytes in the path or
// header values.
func (l Limits) Validate(r *http.Request, exemptBody bool) *Refusal {
	uri := r.URL.RequestURI()
	if l.MaxURLBytes > 0 && len(uri) > l.MaxURLBytes {
		return &Refusal{Status: http.StatusRequestURITooLong, Code: "uri_too_long", Message: fmt.Sprintf("the URL is %d bytes, at most %d are accepted", len(uri), l.MaxURLBytes)}
	}
	if !utf8.ValidString(r.URL.Path) || hasControl(r.URL.Path) {
		return &Refusal{Status: http.StatusBadRequest, Code: "invalid_request", Message: "the path has control bytes or is not UTF-8"}
	}
	n, size := 0, 0
	for k, vs := range r.Header {
		for _, v := range vs {
			n++
			size += len(k) + len(v) + 4
			if hasControl(v) {
				return &Refusal{Status: http.StatusBadRequest, Code: "invalid_request", Message: "header " + k + " has control bytes"}
			}
		}
	}
	if l.MaxHeaders > 0 && n > l.MaxHeaders {
		return &Refusal{Status: http.StatusRequestHeaderFieldsTooLarge, Code: "headers_too_large", Message: fmt.Sprintf("%d header lines, at most %d are accepted", n, l.MaxHeaders)}
	}
	if l.MaxHeaderBytes > 0 && size > l.MaxHeaderBytes {
		return &Refusal{Status: http.StatusRequestHeaderFieldsTooLarge, Code: "headers_too_large", Message: fmt.Sprintf("the headers are %d bytes, at most %d are accepted", size, l.MaxHeaderBytes)}
	}
	if l.MaxBodyBytes > 0 && r.ContentLength > l.MaxBodyBytes && !exemptBody {
		return &Refusal{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: fmt.Sprintf("the body is %d bytes, at most %d are accepted here (tables go to POST /v1/datasets or an upload session)", r.ContentLength, l.MaxBodyBytes)}
	}
	return nil
}

// hasControl reports ASCII control bytes other than tab.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	return false
}
