package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/state"
)

// TestWalkthrough runs the curl walk-through of docs/walkthrough.md as
// written: the one ```sh block is extracted and run by bash in a scratch
// directory laid out like a checkout (the datasets at ../shared/datasets),
// with a synthos binary built from this tree first on PATH and SYNTHOS_ADDR
// set to a free port. The block itself creates the key, starts
// `synthos serve`, uploads a table, creates and polls a job, and fetches
// the report and the output.
//
// When the job cannot succeed because a pipeline function is not available
// in this build, the test still runs every command, checks what the API
// did, and skips naming the function that blocked it. SYNTHOS_BIN may name
// a prebuilt binary instead of building one.
func TestWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and runs a server: not in -short")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	for _, tool := range []string{"curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (the walk-through needs it)", tool)
		}
	}
	repo, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	sharedDir, err := filepath.EvalSymlinks(filepath.Join(repo, "..", "shared"))
	if err != nil {
		t.Skipf("the sample datasets (../shared/datasets beside the checkout) are not here: %v", err)
	}
	doc, err := os.ReadFile(filepath.Join(repo, "docs", "walkthrough.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := shellBlocks(string(doc))
	if len(blocks) != 1 {
		t.Fatalf("docs/walkthrough.md has %d ```sh blocks, want exactly one", len(blocks))
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
	ws := filepath.Join(tmp, "ws", "repo")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sharedDir, filepath.Join(tmp, "ws", "shared")); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)

	cmd := exec.Command("bash", "-x", "-c", blocks[0])
	cmd.Dir = ws
	cmd.Env = append(cleanEnv(),
		"PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"SYNTHOS_ADDR="+addr,
		// The README's default, stated so the test does not depend on it.
		"SYNTHOS_SECRETS_URL=file://.synthos/secrets",
		// Absolute, so no run can see another's objects whatever a relative
		// file:// URL resolves to.
		"SYNTHOS_OBJECTS_URL=file://"+filepath.Join(ws, ".synthos", "objects"),
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A failed step may leave the background server running: stop the
	// whole process group the block started.
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	runErr := cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	transcript := out.String()
	serveLog, _ := os.ReadFile(filepath.Join(ws, "serve.log"))
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
	states := regexp.MustCompile(`(?m)^job job_[a-z2-7]+ is ([a-z]+)$`).FindAllStringSubmatch(transcript, -1)
	final := states[len(states)-1][1]

	if final != "succeeded" {
		if blocker := pipelineBlocker(t, filepath.Join(ws, ".synthos", "state.db")); blocker != "" {
			t.Skipf("every command ran and the API answered, but the job stayed %s: %s", final, blocker)
		}
		t.Fatalf("the job ended %s; serve.log:\n%s", final, tail(serveLog, 60))
	}
	if runErr != nil {
		t.Errorf("the block exited with %v", runErr)
	}
	var report map[string]any
	if b, err := os.ReadFile(filepath.Join(ws, "report.json")); err != nil || json.Unmarshal(b, &report) != nil {
		t.Errorf("report.json is missing or not JSON: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(ws, "report.html")); err != nil || !bytes.Contains(bytes.ToLower(b), []byte("<html")) {
		t.Errorf("report.html is missing or not HTML: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(ws, "synthetic.csv"))
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

// pipelineBlocker reads the stopped server's dead letters and returns why a
// pipeline step was given up on because a function is not available in
// this build ("" if that is not the reason).
func pipelineBlocker(t *testing.T, statePath string) string {
	t.Helper()
	st, err := state.Open(context.Background(), "bolt://"+statePath)
	if errors.Is(err, state.ErrLocked) {
		t.Fatalf("the server did not stop: %v", err)
	}
	if err != nil {
		t.Fatalf("open the walk-through's state: %v", err)
	}
	defer st.Close()
	docs, err := st.Query(context.Background(), platform.CollDeadLetters, state.Query{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		var dl platform.DeadLetter
		if err := d.DataTo(&dl); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(dl.LastError, "not available") {
			return fmt.Sprintf("its %s message was dead-lettered after %d attempts: %s", dl.Topic, dl.Attempts, dl.LastError)
		}
	}
	return ""
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
