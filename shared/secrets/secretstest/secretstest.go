// Package secretstest is the conformance suite every secrets driver must
// pass: values found, missing secrets reported as secrets.ErrNotFound, names
// that could escape their namespace refused, references resolved, and the
// cache serving what the driver returned.
package secretstest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"synthos.dev/synthos/shared/secrets"
)

// Seed is the set of secrets Run asks a driver's backend to hold. Values have
// no trailing newline, and every name is valid for every driver.
func Seed() map[string]string {
	return map[string]string{
		"webhook-pepper": "pepper-\u00e9-value",
		"db_password":    "p@ss w0rd with spaces",
		"multi-line":     "-----BEGIN KEY-----\nAAAA\n-----END KEY-----",
		"UPPER-case_09":  "x",
	}
}

// Run runs the suite. open must return a Source whose backend holds exactly
// the secrets in seed (see Seed), and arrange cleanup with t.Cleanup; Run
// closes the Source itself.
func Run(t *testing.T, open func(t *testing.T, seed map[string]string) secrets.Source) {
	seed := Seed()
	src := open(t, seed)
	t.Cleanup(func() {
		if err := src.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Run("Found", func(t *testing.T) { testFound(t, src, seed) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, src) })
	t.Run("InvalidName", func(t *testing.T) { testInvalidName(t, src) })
	t.Run("Resolve", func(t *testing.T) { testResolve(t, src, seed) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, src, seed) })
	t.Run("Cached", func(t *testing.T) { testCached(t, src, seed) })
}

func testFound(t *testing.T, src secrets.Source, seed map[string]string) {
	for name, want := range seed {
		got, err := src.Get(t.Context(), name)
		if err != nil {
			t.Errorf("Get(%q): %v", name, err)
			continue
		}
		if string(got) != want {
			t.Errorf("Get(%q) = %q, want %q", name, got, want)
		}
	}
}

func testNotFound(t *testing.T, src secrets.Source) {
	for _, name := range []string{"missing", "webhook-pepper-2", "WEBHOOK_PEPPER_X"} {
		got, err := src.Get(t.Context(), name)
		if !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("Get(%q) = %q, %v; want ErrNotFound", name, got, err)
		}
	}
}

func testInvalidName(t *testing.T, src secrets.Source) {
	tests := []string{
		"",
		"../webhook-pepper",
		"..",
		"a/b",
		"/etc/passwd",
		`..\webhook-pepper`,
		".hidden",
		"with space",
		"nul\x00byte",
		string(bytes.Repeat([]byte("a"), 256)),
	}
	for _, name := range tests {
		got, err := src.Get(t.Context(), name)
		if !errors.Is(err, secrets.ErrInvalidName) {
			t.Errorf("Get(%q) = %q, %v; want ErrInvalidName", name, got, err)
		}
	}
}

func testResolve(t *testing.T, src secrets.Source, seed map[string]string) {
	tests := []struct {
		value, want string
		err         error
	}{
		{"secret://webhook-pepper", seed["webhook-pepper"], nil},
		{"secret://multi-line", seed["multi-line"], nil},
		{"plain value", "plain value", nil},
		{"", "", nil},
		{"https://example.com/secret://x", "https://example.com/secret://x", nil},
		{"secret://missing", "", secrets.ErrNotFound},
		{"secret://", "", secrets.ErrInvalidName},
		{"secret://../x", "", secrets.ErrInvalidName},
	}
	for _, tt := range tests {
		got, err := secrets.Resolve(t.Context(), src, tt.value)
		if !errors.Is(err, tt.err) || got != tt.want {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tt.value, got, err, tt.want, tt.err)
		}
	}
}

func testConcurrent(t *testing.T, src secrets.Source, seed map[string]string) {
	var wg sync.WaitGroup
	errs := make(chan error, 8*len(seed))
	for range 8 {
		for name, want := range seed {
			wg.Go(func() {
				got, err := src.Get(t.Context(), name)
				if err != nil || string(got) != want {
					errs <- fmt.Errorf("Get(%q) = %q, %v; want %q", name, got, err, want)
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// counter counts the Gets that reach the wrapped Source.
type counter struct {
	secrets.Source
	n atomic.Int64
}

func (c *counter) Get(ctx context.Context, name string) ([]byte, error) {
	c.n.Add(1)
	return c.Source.Get(ctx, name)
}

// Close leaves the driver open: Run closes it.
func (c *counter) Close() error { return nil }

func testCached(t *testing.T, src secrets.Source, seed map[string]string) {
	ctx := t.Context()
	under := &counter{Source: src}
	c := secrets.Cached(under, 0)
	defer c.Close()

	want := seed["webhook-pepper"]
	for i := range 3 {
		got, err := c.Get(ctx, "webhook-pepper")
		if err != nil || string(got) != want {
			t.Fatalf("Get #%d = %q, %v; want %q", i, got, err, want)
		}
		// Scribbling on the returned bytes must not reach the cache.
		clear(got)
	}
	if n := under.n.Load(); n != 1 {
		t.Errorf("driver Gets for 3 cached reads = %d, want 1", n)
	}

	for range 2 {
		if _, err := c.Get(ctx, "missing"); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("cached Get(missing) = %v, want ErrNotFound", err)
		}
	}
	if n := under.n.Load(); n != 3 {
		t.Errorf("driver Gets after 2 misses = %d, want 3 (misses are not cached)", n)
	}

	got, err := secrets.Resolve(ctx, c, "secret://webhook-pepper")
	if err != nil || got != want {
		t.Errorf("Resolve through the cache = %q, %v; want %q", got, err, want)
	}
}
