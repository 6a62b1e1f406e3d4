package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// walkthroughMarker precedes the walk-through's sh block in README.md.
const walkthroughMarker = "<!-- walkthrough: functions/cmd/synthos/walkthrough_test.go runs the next sh block -->"

// TestWalkthrough runs the curl walk-through of README.md as written: the
// first sh block after walkthroughMarker is run by bash in a scratch
// directory laid out like a checkout (examples/ at its root), with a synthos
// binary built from this tree first on PATH and SYNTHOS_ADDR set to a free
// port. The block creates the key, starts `synthos serve`, uploads a table,
// creates and polls a job, and fetches the report and the output; the test
// checks each result. SYNTHOS_BIN may name a prebuilt binary.
func TestWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and runs a server: not in -short")
	}
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed and the README walk-through needs it", tool)
			}
			t.Skipf("%s is not installed (the README walk-through needs it)", tool)
		}
	}
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, walk, ok := strings.Cut(string(doc), walkthroughMarker)
	if !ok {
		t.Fatalf("README.md lacks the %s marker before the walk-through", walkthroughMarker)
	}
	blocks := shellBlocks(walk)
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```sh block after the walk-through marker")
	}

	tmp := t.TempDir()
	bin := os.Getenv("SYNTHOS_BIN")
	if bin == "" {
		bin = filepath.Join(tmp, "bin", "synthos")
		build := exec.Command("go", "build", "-o", bin, "./functions/cmd/synthos")
		build.Dir = repo
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	// As a newcomer meets it: with no platform running (the block starts
	// one), and beside `make run` (the block reuses it and its key).
	t.Run("own server", func(t *testing.T) { runWalkthrough(t, repo, bin, blocks[0], false) })
	t.Run("beside make run", func(t *testing.T) { runWalkthrough(t, repo, bin, blocks[0], true) })
}

// runWalkthrough runs the block in a fresh workspace; with running, a platform is
// started first as make run would, and its printed admin key exported.
func runWalkthrough(t *testing.T, repo, bin, block string, running bool) {
	tmp := t.TempDir()
	ws := filepath.Join(tmp, "ws", "repo")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	// The walk-through reads examples/insurance.csv from the repository root.
	if err := os.Symlink(filepath.Join(repo, "examples"), filepath.Join(ws, "examples")); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	out := filepath.Join(tmp, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}

	env := append(cleanEnv(),
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SYNTHOS_ADDR="+addr,
		// The scratch directory the block writes to (it makes one when unset).
		"OUT="+out,
		// The README's default, stated so the test does not depend on it.
		"SYNTHOS_SECRETS_URL=file://.synthos/secrets",
		// Absolute, so no run can see another's objects whatever a relative
		// file:// URL resolves to.
		"SYNTHOS_OBJECTS_URL=file://"+filepath.Join(ws, ".synthos", "objects"),
	)
	if running {
		env = append(env, "SYNTHOS_API_KEY="+startServe(t, bin, ws, env))
	}
	cmd := exec.Command("bash", "-x", "-c", block)
	cmd.Dir = ws
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var transcriptBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &transcriptBuf, &transcriptBuf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A failed step may leave the background server running: stop the
	// whole process group the block started.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	runErr := cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	transcript := transcriptBuf.String()
	serveLog, _ := os.ReadFile(filepath.Join(out, "serve.log"))
	t.Logf("walk-through transcript:\n%s", transcript)

	if strings.Contains(transcript, `unknown command "keys"`) {
		t.Fatal(`the CLI does not register the keys command: add {"keys", …, runKeys} to commands() in main.go`)
	}
	// What the API must have done whatever the pipeline's state.
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`KEY=sk_live_[0-9A-Za-z]{38}`),
		regexp.MustCompile(`(?m)^dataset ds_[a-z2-7]+$`),
		regexp.MustCompile(`(?m)^job job_[a-z2-7]+$`),
		regexp.MustCompile(`(?m)^job job_[a-z2-7]+ is [a-z]+$`),
	} {
		if !want.MatchString(transcript) {
			t.Fatalf("the walk-through did not get as far as %s; serve.log:\n%s", want, tail(serveLog, 40))
		}
	}
	if _, err := os.Stat(filepath.Join(out, "serve.log")); running && err == nil {
		t.Errorf("the walk-through started a second server beside the running one")
	}
	// The checkout stays clean: everything goes to the scratch directory.
	for _, f := range []string{"serve.log", "report.json", "report.html", "synthetic.csv"} {
		if _, err := os.Stat(filepath.Join(ws, f)); err == nil {
			t.Errorf("the walk-through left %s in the repository root", f)
		}
	}
	states := regexp.MustCompile(`(?m)^job job_[a-z2-7]+ is ([a-z]+)$`).FindAllStringSubmatch(transcript, -1)
	final := states[len(states)-1][1]

	if final != "succeeded" {
		t.Fatalf("the job ended %s; serve.log:\n%s", final, tail(serveLog, 60))
	}
	if runErr != nil {
		t.Errorf("the block exited with %v", runErr)
	}
	var report map[string]any
	if b, err := os.ReadFile(filepath.Join(out, "report.json")); err != nil || json.Unmarshal(b, &report) != nil {
		t.Errorf("report.json is missing or not JSON: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(out, "report.html")); err != nil || !bytes.Contains(bytes.ToLower(b), []byte("<html")) {
		t.Errorf("report.html is missing or not HTML: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(out, "synthetic.csv"))
	if err != nil {
		t.Fatalf("synthetic.csv: %v", err)
	}
	if lines := bytes.Count(b, []byte("\n")); lines != 1001 {
		t.Errorf("synthetic.csv has %d lines, want a header and 1000 rows", lines)
	}
	if header, _, _ := strings.Cut(string(b), "\n"); header != "age,sex,bmi,children,smoker,region,charges" {
		t.Errorf("synthetic.csv header = %q", header)
	}
}

// startServe starts `synthos serve` in ws as make run does and returns the
// admin key it prints on its first start (before it serves requests).
func startServe(t *testing.T, bin, ws string, env []string) string {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Dir, cmd.Env = ws, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	var seen strings.Builder
	for sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		if k, ok := strings.CutPrefix(sc.Text(), "  export KEY="); ok {
			go func() { _, _ = io.Copy(io.Discard, stdout) }() // keep the pipe drained
			return k
		}
	}
	t.Fatalf("synthos serve exited without printing a key:\n%s", seen.String())
	return ""
}

// shellBlocks returns the bodies of the ```sh fenced blocks of a Markdown
// document.
func shellBlocks(doc string) []string {
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(doc, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case cur == nil && trimmed == "```sh":
			cur = &strings.Builder{}
		case cur != nil && trimmed == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	return blocks
}

// cleanEnv is the test's environment without SYNTHOS_ variables, so the
// walk-through runs on the defaults it documents.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SYNTHOS_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return env
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
