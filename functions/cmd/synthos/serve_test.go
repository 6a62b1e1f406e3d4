package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"synthos.dev/synthos/functions/registry"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/state"
)

// startLocal runs the local platform on embedded drivers in a temp dir and
// returns its base URL, its Env and a stop function that returns serve's error.
func startLocal(t *testing.T) (string, *platform.Env, func() error, *syncBuffer) {
	t.Helper()
	return startLocalWith(t, nil)
}

// startLocalWith is startLocal with extra configuration variables.
func startLocalWith(t *testing.T, extra map[string]string) (string, *platform.Env, func() error, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	vars := map[string]string{
		"SYNTHOS_STATE_URL":   "bolt://" + filepath.Join(dir, "state.db"),
		"SYNTHOS_OBJECTS_URL": "file://" + filepath.Join(dir, "objects"),
		"SYNTHOS_SECRETS_URL": "file://" + filepath.Join(dir, "secrets"),
	}
	for k, v := range extra {
		vars[k] = v
	}
	cfg, err := config.LoadMap(context.Background(), vars)
	if err != nil {
		t.Fatal(err)
	}
	if err := makeLocalDirs(cfg); err != nil {
		t.Fatal(err)
	}
	env, err := platform.Open(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	out := &syncBuffer{}
	out.ended = make(chan struct{})
	go func() {
		err := serve(ctx, env, ln, out)
		close(out.ended)
		done <- err
	}()
	var stopped bool
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + ln.Addr().String(), env, stop, out
}

func getJSON(t *testing.T, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v", url, err)
	}
	return resp.StatusCode, body
}

func TestServeHealthAndReadiness(t *testing.T) {
	base, _, _, _ := startLocal(t)

	if code, body := getJSON(t, base+"/healthz"); code != 200 || body["status"] != "ok" {
		t.Errorf("/healthz = %d %v", code, body)
	}
	code, body := getJSON(t, base+"/readyz")
	if code != 200 || body["status"] != "ready" {
		t.Errorf("/readyz = %d %v", code, body)
	}
	checks, _ := body["checks"].(map[string]any)
	for _, dep := range []string{"state", "objects", "events", "secrets"} {
		c, ok := checks[dep].(map[string]any)
		if !ok || c["status"] != "ok" {
			t.Errorf("/readyz check %s = %v", dep, checks[dep])
		}
	}
}

func TestServeUnknownRouteIsJSON404(t *testing.T) {
	base, _, _, _ := startLocal(t)
	if code, body := getJSON(t, base+"/nope"); code != 404 || body["error"] == nil {
		t.Errorf("/nope = %d %v", code, body)
	}
}

// TestServePushRoutesAreNotPublic: no push consumer answers on the public
// listener, whatever the method or name (the embedded bus calls them in
// process), so a forged pipeline message cannot reach one; the consumers are
// still subscribed to the bus.
func TestServePushRoutesAreNotPublic(t *testing.T) {
	base, env, _, _ := startLocal(t)
	envelope := `{"message":{"data":"eyJqb2IiOiJqLTEifQ==","messageId":"1","attributes":{"kind":"cancel"}},"subscription":"s"}`
	for _, e := range registry.All() {
		if e.Kind != registry.Push {
			continue
		}
		for _, path := range []string{"/push/" + strings.ToLower(e.Name), "/push/" + e.Name, "/push/" + strings.ToLower(e.Name) + "/"} {
			resp, err := http.Post(base+path, "application/json", strings.NewReader(envelope))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("POST %s = %d %s, want 404 or 401", path, resp.StatusCode, body)
			}
		}
	}
	// The handlers are reachable through the bus only: a push consumer's
	// subscription name is taken.
	if err := env.Bus.Subscribe("x", "local-generate", func(context.Context, *events.Message) error { return nil }); !errors.Is(err, events.ErrExists) {
		t.Errorf("Subscribe(local-generate) = %v, want ErrExists: the generate consumer is not on the bus", err)
	}
}

// TestServeDrainsDeliveriesOnShutdown: a delivery in flight when the stop
// signal arrives completes before serve returns.
func TestServeDrainsDeliveriesOnShutdown(t *testing.T) {
	_, env, stop, _ := startLocal(t)
	var started, finished atomic.Int32
	release := make(chan struct{})
	if err := env.Bus.Subscribe("drain-test", "drain-test-sub", func(ctx context.Context, m *events.Message) error {
		started.Add(1)
		<-release
		finished.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Bus.Publish(context.Background(), "drain-test", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	for started.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	stopErr := make(chan error, 1)
	go func() { stopErr <- stop() }()
	select {
	case err := <-stopErr:
		t.Fatalf("serve returned (%v) while a delivery was still in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-stopErr; err != nil {
		t.Fatalf("stop: %v", err)
	}
	if finished.Load() != 1 {
		t.Errorf("in-flight delivery did not finish before exit")
	}
}

// TestServeShutdownBoundedByDrainTimeout stops the server while a flood of
// deliveries is queued behind a pool of two workers whose handlers run until
// canceled: serve returns once SYNTHOS_DRAIN_TIMEOUT has passed, saying what
// was pending, cancels the running handlers and drops the queued deliveries,
// counting them; never more than two handlers ran at once.
func TestServeShutdownBoundedByDrainTimeout(t *testing.T) {
	_, env, stop, _ := startLocalWith(t, map[string]string{
		"SYNTHOS_DRAIN_TIMEOUT": "100ms", "SYNTHOS_WORKERS": "2", "SYNTHOS_SUBSCRIPTION_WORKERS": "2",
	})
	var running, peak, started atomic.Int32
	if err := env.Bus.Subscribe("flood", "flood-sub", func(ctx context.Context, m *events.Message) error {
		n := running.Add(1)
		defer running.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		started.Add(1)
		<-ctx.Done()
		return ctx.Err()
	}); err != nil {
		t.Fatal(err)
	}
	for range 1000 {
		if _, err := env.Bus.Publish(context.Background(), "flood", []byte("shard"), nil); err != nil {
			t.Fatal(err)
		}
	}
	for started.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	err := stop()
	if err == nil || !strings.Contains(err.Error(), "drain deliveries") || !strings.Contains(err.Error(), "998 queued, 2 running") {
		t.Errorf("stop = %v, want the drain timeout with 998 queued, 2 running", err)
	}
	if s := env.Bus.Stats(); s.Running != 0 || s.Dropped != 1000 {
		t.Errorf("after stop: %v, %d dropped; want nothing running and 1000 dropped (998 queued, 2 canceled)", s, s.Dropped)
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("%d handlers ran at once, want the pool's 2", p)
	}
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args     []string
		wantErr  bool
		wantText string
	}{
		{nil, true, "Commands:"},
		{[]string{"help"}, false, "serve"},
		{[]string{"bogus"}, true, "Commands:"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		if (err != nil) != tc.wantErr {
			t.Errorf("%v: err = %v", tc.args, err)
		}
		if err != nil && exitCode(err) != 2 {
			t.Errorf("%v: exit code %d, want 2", tc.args, exitCode(err))
		}
		if !strings.Contains(errOut.String(), tc.wantText) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, errOut.String(), tc.wantText)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	t.Parallel()
	fs := newTestFlags()
	n := fs.Int("n", 0, "")
	o := fs.String("o", "", "")
	pos, err := parseInterleaved(fs, []string{"in.csv", "-n", "10", "extra", "-o", "out.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if *n != 10 || *o != "out.csv" || strings.Join(pos, ",") != "in.csv,extra" {
		t.Errorf("n=%d o=%s pos=%v", *n, *o, pos)
	}
}

func TestEnsureSecretCreatesOnceAndKeeps(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "secrets")
	if err := ensureSecret(dir, "api-key-pepper"); err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile(filepath.Join(dir, "api-key-pepper"))
	if err != nil || len(first) != 64 {
		t.Fatalf("pepper %q %v", first, err)
	}
	if err := ensureSecret(dir, "api-key-pepper"); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, "api-key-pepper"))
	if string(again) != string(first) {
		t.Error("an existing pepper was replaced: every key would stop working")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "api-key-pepper")); fi.Mode().Perm() != 0o600 {
		t.Errorf("pepper mode %v, want 0600", fi.Mode().Perm())
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// ended is closed when the serve writing here returns (startLocalWith).
	ended chan struct{}
}

// printedKey waits for the admin key a fresh local platform prints right
// after it starts listening: for as long as serve runs (its start-up, the
// WAF's rule set among it, takes seconds under -race on a loaded machine),
// failing at once if serve returns first.
func printedKey(t *testing.T, out *syncBuffer) string {
	t.Helper()
	re := regexp.MustCompile(`export KEY=(sk_live_\w+)`)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1]
		}
		select {
		case <-out.ended:
			if m := re.FindStringSubmatch(out.String()); m != nil {
				return m[1]
			}
			t.Fatalf("serve returned without printing a bootstrap key:\n%s", out.String())
		case <-t.Context().Done():
			t.Fatalf("no bootstrap key printed:\n%s", out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServePrintsAWorkingBootstrapKeyOnce: a fresh local platform prints an
// admin key that the API accepts; it is created only once.
func TestServePrintsAWorkingBootstrapKeyOnce(t *testing.T) {
	ctx := context.Background()
	base, env, _, out := startLocal(t)
	key := printedKey(t, out)
	req, _ := http.NewRequest("GET", base+"/v1/jobs", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /v1/jobs with the printed key = %d", resp.StatusCode)
	}
	if again, err := bootstrapKey(ctx, env); err != nil || again != "" {
		t.Errorf("a second start created another key: %q %v", again, err)
	}
	docs, err := env.State.Query(ctx, apikeys.Collection, state.Query{})
	if err != nil || len(docs) != 1 {
		t.Errorf("keys stored: %d, %v", len(docs), err)
	}
}
