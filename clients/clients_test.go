package clients

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestClients builds synthos, starts `synthos serve` on embedded drivers in
// a scratch directory and runs the TypeScript (node --test) and Python
// (unittest) suites against it with SYNTHOS_API and SYNTHOS_API_KEY set to
// the platform and its bootstrap admin key. Each suite runs its README
// example as written and round trips: upload, a job with an
// Idempotency-Key and its replay, polling, download, typed errors.
// SYNTHOS_BIN may name a prebuilt binary.
func TestClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and runs a server: not in -short")
	}
	api, key := startPlatform(t)
	env := append(cleanEnv(), "SYNTHOS_API="+api, "SYNTHOS_API_KEY="+key)

	t.Run("typescript", func(t *testing.T) {
		node, npm := needTool(t, "node"), needTool(t, "npm")
		dir, err := filepath.Abs("typescript")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
			run(t, dir, env, npm, "ci", "--no-fund", "--no-audit")
		}
		run(t, dir, env, node, "--test")
	})
	t.Run("python", func(t *testing.T) {
		python := needTool(t, "python3")
		dir, err := filepath.Abs("python")
		if err != nil {
			t.Fatal(err)
		}
		run(t, dir, env, python, "-m", "unittest", "-v")
	})
}

// needTool answers the path of a tool the suite needs; without it the test
// is skipped with a message naming it, or fails under CI=true.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not installed and this client suite needs it", name)
	}
	t.Skipf("%s is not installed: this client suite needs it", name)
	return ""
}

// run runs a suite and fails the test with its output when it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s (%s): %s\n%s", filepath.Base(name), strings.Join(args, " "), time.Since(start).Round(time.Millisecond), errText(err), out)
	if err != nil {
		t.Fatalf("%s %s in %s failed: %v", filepath.Base(name), strings.Join(args, " "), dir, err)
	}
}

func errText(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

var (
	runningRE = regexp.MustCompile(`Synthos is running at (http://\S+)`)
	keyRE     = regexp.MustCompile(`export KEY=(sk_live_\S+)`)
)

// startPlatform starts `synthos serve` on a free port with its state,
// objects and secrets in a scratch directory and answers its URL and the
// admin key it prints on a first start. The server is stopped (SIGTERM,
// then SIGKILL) when the test ends.
func startPlatform(t *testing.T) (api, key string) {
	t.Helper()
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	bin := os.Getenv("SYNTHOS_BIN")
	if bin == "" {
		bin = filepath.Join(tmp, "synthos")
		build := exec.Command("go", "build", "-o", bin, "./functions/cmd/synthos")
		build.Dir = repo
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = tmp
	cmd.Env = append(cleanEnv(),
		"SYNTHOS_STATE_URL=bolt://"+filepath.Join(tmp, "state", "state.db"),
		"SYNTHOS_OBJECTS_URL=file://"+filepath.Join(tmp, "objects"),
		"SYNTHOS_SECRETS_URL=file://"+filepath.Join(tmp, "secrets"),
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(tmp, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start synthos serve: %v", err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second): // drained work should not take this long
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("serve.log (exit: %v):\n%s", waitErr, tail(b, 60))
		}
	})

	// The banner names the address and, on a fresh state, the admin key; it
	// ends with the Ctrl-C line. Keep draining stdout afterwards so the
	// server never blocks on a full pipe.
	var mu sync.Mutex
	var banner strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		mu.Lock()
		banner.WriteString(sc.Text() + "\n")
		mu.Unlock()
		if strings.HasPrefix(sc.Text(), "Press Ctrl-C") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	text := banner.String()
	m, k := runningRE.FindStringSubmatch(text), keyRE.FindStringSubmatch(text)
	if m == nil || k == nil {
		<-exited
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf("synthos serve printed no address or bootstrap key (exit: %v):\n%s\nserve.log:\n%s", waitErr, text, tail(b, 40))
	}
	api, key = m[1], k[1]
	waitReady(t, api, exited)
	return api, key
}

// waitReady polls /readyz until it answers 200 or the server exits.
func waitReady(t *testing.T, api string, exited <-chan struct{}) {
	t.Helper()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-exited:
			t.Fatalf("synthos serve exited before %s/readyz answered 200", api)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// cleanEnv is the environment without SYNTHOS_ variables, so the platform
// and the suites see only what the test sets.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SYNTHOS_") {
			env = append(env, kv)
		}
	}
	return env
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
