package webhooks_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"synthos.dev/synthos/shared/webhooks"
)

// TestGuardRefusesAtDial sends through the client directly, bypassing
// CheckURL, so what refuses these requests is the dialer's Control hook.
func TestGuardRefusesAtDial(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()

	guarded := webhooks.NewClient(webhooks.ClientOptions{AllowHTTP: true})
	for _, target := range []string{
		srv.URL,                          // 127.0.0.1 literal
		"http://localhost:" + port + "/", // a name that resolves to loopback
		"http://[::ffff:127.0.0.1]:" + port + "/", // IPv4-mapped loopback
		"http://169.254.169.254/computeMetadata/v1/",
		"http://10.0.0.1/",
		"http://192.168.0.1:8080/",
		"http://100.64.0.1/",
		"http://0.0.0.0:" + port + "/",
		"http://[fd00::1]/",
		"http://[fe80::1]/",
	} {
		t.Run(target, func(t *testing.T) {
			res, err := guarded.Get(target)
			if err == nil {
				res.Body.Close()
				t.Fatalf("GET %s succeeded with status %d; the guard must refuse it", target, res.StatusCode)
			}
			if !errors.Is(err, webhooks.ErrForbidden) {
				t.Fatalf("GET %s: %v; want an error wrapping ErrForbidden from the dialer", target, err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the loopback server was reached %d times through the guard", n)
	}

	// The test option re-opens loopback, and only loopback.
	open := webhooks.NewClient(webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true})
	for _, target := range []string{srv.URL, "http://localhost:" + port + "/"} {
		res, err := open.Get(target)
		if err != nil {
			t.Fatalf("GET %s with AllowLoopbackForTests: %v", target, err)
		}
		res.Body.Close()
	}
	if _, err := open.Get("http://169.254.169.254/"); !errors.Is(err, webhooks.ErrForbidden) {
		t.Fatalf("AllowLoopbackForTests let the metadata address through: %v", err)
	}
}

func TestNoRedirects(t *testing.T) {
	t.Parallel()
	var followed atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { followed.Add(1) }))
	defer target.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	c := webhooks.NewClient(webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true})
	res, err := c.Post(redirector.URL, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTemporaryRedirect || followed.Load() != 0 {
		t.Fatalf("status %d, redirect target hit %d times; want 307 returned as is and no hit", res.StatusCode, followed.Load())
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	prod := webhooks.ClientOptions{}
	test := webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true}
	tests := []struct {
		url string
		o   webhooks.ClientOptions
		ok  bool
	}{
		{"https://hooks.example.com/synthos", prod, true},
		{"https://hooks.example.com:8443/a?b=c", prod, true},
		{"http://hooks.example.com/", prod, false},
		{"http://hooks.example.com/", test, true},
		{"ftp://hooks.example.com/", test, false},
		{"https://user:pw@hooks.example.com/", prod, false},
		{"https:///path", prod, false},
		{"hooks.example.com/path", prod, false},
		{"https://hooks.example.com/#frag", prod, false},
		{"https://169.254.169.254/", prod, false},
		{"https://[::ffff:10.0.0.1]/", prod, false},
		{"https://127.0.0.1/", prod, false},
		{"http://127.0.0.1:8080/", test, true},
		{"https://" + strings.Repeat("a", 3000) + ".com/", prod, false},
		{"%%", prod, false},
	}
	for _, tt := range tests {
		u, err := webhooks.CheckURL(tt.url, tt.o)
		if (err == nil) != tt.ok {
			t.Errorf("CheckURL(%.60q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil && !errors.Is(err, webhooks.ErrInvalid) {
			t.Errorf("CheckURL(%.60q) = %v, not ErrInvalid", tt.url, err)
		}
		if err == nil {
			if _, perr := url.Parse(u.String()); perr != nil {
				t.Errorf("CheckURL(%q) returned an unparseable URL", tt.url)
			}
		}
	}
}
