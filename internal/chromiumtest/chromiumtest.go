// Package chromiumtest is the one home of the tests' headless Chromium:
// finding Debian's binary (skipping locally, failing on CI when it is
// missing), loading a page and reading its DOM and console (the report,
// compliance and executive pages), and a chromedp browser for tests that
// click through a page (the web console).
package chromiumtest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Binary returns the Chromium binary, skipping the test when it is absent
// (failing instead under CI=true, where it must be installed).
func Binary(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (/usr/bin/chromium or chromium on PATH); install it: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (/usr/bin/chromium or chromium on PATH); skipping the browser test")
	return ""
}

// flags are the switches of every headless run: no sandbox (tests run as
// root), and none of the background traffic a fresh profile starts.
var flags = []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync"}

// LoadFile opens file in headless Chromium and returns the DOM after scripts
// ran and every console message the page logged. Chromium prints them to
// stderr as ":CONSOLE" lines with --enable-logging=stderr, at INFO level
// whatever their severity, so any message counts: the pages log only on
// failure, and CSP violations are console messages too. Offline sends every
// request to a closed port, so a page that reaches for the network fails.
func LoadFile(t testing.TB, bin, file string, offline bool) (dom string, console []string) {
	t.Helper()
	args := append(append([]string(nil), flags...), "--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0")
	if offline {
		args = append(args, "--proxy-server=127.0.0.1:9")
	}
	args = append(args, "--dump-dom", "file://"+file)
	cmd := exec.CommandContext(t.Context(), bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return stdout.String(), console
}

// Browser starts headless Chromium under chromedp and returns a context of
// its first tab; the browser stops when the test ends.
func Browser(t testing.TB, bin string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(bin), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900)}
	for _, f := range flags {
		opts = append(opts, chromedp.Flag(strings.TrimPrefix(f, "--"), true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
