package api

import (
	"strings"
	"testing"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/console"
)

// TestConsoleRoutes: the web console answers / and its assets behind the
// edge (the edge's security headers stay, its frame-ancestors-only policy
// gives way to the console's strict one), while /v1 paths and other
// unknown paths keep their JSON answers.
func TestConsoleRoutes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	admin := f.key("acme", apikeys.Read, apikeys.Write, apikeys.Admin)
	tests := []struct {
		name  string
		rq    req
		code  int
		ctype string
		csp   string // "" when not checked
	}{
		{"page", req{method: "GET", path: "/"}, 200, "text/html; charset=utf-8", console.Policy},
		{"asset", req{method: "GET", path: "/console/app.js"}, 200, "text/javascript; charset=utf-8", console.Policy},
		{"unknown asset", req{method: "GET", path: "/console/nope.js"}, 404, "application/json", console.Policy},
		{"post to the page", req{method: "POST", path: "/"}, 405, "application/json", console.Policy},
		{"unknown root path", req{method: "GET", path: "/nope"}, 404, "application/json", "frame-ancestors 'none'"},
		{"unknown v1 path", req{method: "GET", path: "/v1/nope", key: admin}, 404, "application/json", ""},
		{"v1 route needs a key", req{method: "GET", path: "/v1/jobs"}, 401, "application/json", ""},
		{"v1 route", req{method: "GET", path: "/v1/jobs", key: admin}, 200, "application/json", ""},
		{"openapi", req{method: "GET", path: "/v1/openapi.json"}, 200, "application/json", ""},
		{"healthz", req{method: "GET", path: "/healthz"}, 200, "application/json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.rq)
			if r.status != tt.code {
				t.Fatalf("%s %s = %d, want %d: %s", tt.rq.method, tt.rq.path, r.status, tt.code, r.body)
			}
			if got := r.header.Get("Content-Type"); !strings.HasPrefix(got, tt.ctype) {
				t.Errorf("Content-Type = %q, want %q", got, tt.ctype)
			}
			if tt.csp != "" {
				if got := r.header.Values("Content-Security-Policy"); len(got) != 1 || got[0] != tt.csp {
					t.Errorf("Content-Security-Policy = %q, want only %q", got, tt.csp)
				}
			}
			for _, h := range []string{"Strict-Transport-Security", "X-Frame-Options", "Referrer-Policy"} {
				if r.header.Get(h) == "" {
					t.Errorf("the edge's %s header is missing", h)
				}
			}
			if tt.code >= 400 && tt.ctype == "application/json" && r.errCode(t) == "" {
				t.Errorf("no error code in %s", r.body)
			}
		})
	}
}
