package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"synthos.dev/synthos/shared/client"
)

// remoteRun runs the CLI with --api and --key in front of args.
func remoteRun(t *testing.T, base, key string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"--api", base, "--key", key}, args...), &out, &errOut)
	return out.String(), errOut.String(), err
}

// TestRemoteCLI drives a local platform through the CLI's remote mode:
// datasets, generate, jobs, evaluate, keys and the models registry, all
// through shared/client.
func TestRemoteCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a job on a local platform: not in -short")
	}
	base, _, _, out := startLocal(t)
	key := printedKey(t, out)
	dir := t.TempDir()

	// datasets upload / list / show
	stdout, stderr, err := remoteRun(t, base, key, "datasets", "upload", "../../../examples/insurance.csv", "--quiet")
	if err != nil {
		t.Fatalf("datasets upload: %v\n%s", err, stderr)
	}
	var ds client.Dataset
	if err := json.Unmarshal([]byte(stdout), &ds); err != nil || !strings.HasPrefix(ds.Id, "ds_") || ds.Name != "insurance.csv" {
		t.Fatalf("datasets upload printed %q (%v)", stdout, err)
	}
	if stdout, _, err = remoteRun(t, base, key, "datasets", "list"); err != nil || !strings.Contains(stdout, ds.Id) {
		t.Errorf("datasets list = %q, %v; want %s", stdout, err, ds.Id)
	}
	if stdout, _, err = remoteRun(t, base, key, "datasets", "show", ds.Id); err != nil || !strings.Contains(stdout, `"rows": 1338`) {
		t.Errorf("datasets show = %q, %v", stdout, err)
	}

	// generate: upload, job, wait, output and reports
	outCSV, repJSON := filepath.Join(dir, "synthetic.csv"), filepath.Join(dir, "report.json")
	stdout, stderr, err = remoteRun(t, base, key, "generate", "../../../examples/insurance.csv", "-n", "300", "-o", outCSV,
		"--seed", "7", "--target", "charges", "--json", repJSON, "--quiet")
	if err != nil {
		t.Fatalf("generate: %v\n%s", err, stderr)
	}
	job := regexp.MustCompile(`job (job_[a-z2-7]+)`).FindStringSubmatch(stdout)
	if job == nil || !strings.Contains(stderr, "is succeeded") {
		t.Fatalf("generate printed %q / %q", stdout, stderr)
	}
	b, err := os.ReadFile(outCSV)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(b, []byte("\n")); lines != 301 {
		t.Errorf("the output has %d lines, want a header and 300 rows", lines)
	}
	var rep map[string]any
	if b, err := os.ReadFile(repJSON); err != nil || json.Unmarshal(b, &rep) != nil || rep["gate"] == nil {
		t.Errorf("report.json: %v %v", err, rep["gate"])
	}

	// jobs list / show, and a typed error for an unknown id
	if stdout, _, err = remoteRun(t, base, key, "jobs", "list"); err != nil || !strings.Contains(stdout, job[1]) || !strings.Contains(stdout, "succeeded") {
		t.Errorf("jobs list = %q, %v", stdout, err)
	}
	if stdout, _, err = remoteRun(t, base, key, "jobs", "show", job[1]); err != nil || !strings.Contains(stdout, `"state": "succeeded"`) {
		t.Errorf("jobs show = %q, %v", stdout, err)
	}
	if _, _, err = remoteRun(t, base, key, "jobs", "show", "job_nope"); client.Code(err) != "not_found" || exitCode(err) != 1 {
		t.Errorf("jobs show job_nope = %v (code %q), want not_found", err, client.Code(err))
	}

	// evaluate: the job's report and its gate
	html := filepath.Join(dir, "report.html")
	stdout, _, err = remoteRun(t, base, key, "evaluate", job[1], "--report", html)
	if err != nil && !errors.Is(err, errGateFailed) {
		t.Fatalf("evaluate: %v", err)
	}
	if !strings.Contains(stdout, "release gate") {
		t.Errorf("evaluate printed %q", stdout)
	}
	b, err = os.ReadFile(html)
	if err != nil || !bytes.Contains(bytes.ToLower(b), []byte("<html")) {
		t.Fatalf("report.html: %v", err)
	}
	// The title names the user's dataset and job, not the pipeline's
	// object names.
	title := regexp.MustCompile(`<title>([^<]*)</title>`).FindSubmatch(b)
	if title == nil || !bytes.Contains(title[1], []byte(job[1])) || !bytes.Contains(title[1], []byte("insurance.csv")) {
		t.Errorf("report title = %q, want the job %s and insurance.csv", title, job[1])
	}
	for _, internal := range []string{"output.csv", "train.csv", "holdout.csv"} {
		if bytes.Contains(b, []byte(internal)) {
			t.Errorf("the report names the internal object %s", internal)
		}
	}

	// keys create / list / revoke; the new read key cannot create keys
	newKey, stderr, err := remoteRun(t, base, key, "keys", "create", "--scope", "read", "--name", "remote-test")
	newKey = strings.TrimSpace(newKey)
	if err != nil || !strings.HasPrefix(newKey, "sk_live_") {
		t.Fatalf("keys create = %q, %v\n%s", newKey, err, stderr)
	}
	stdout, _, err = remoteRun(t, base, key, "keys", "list")
	if err != nil || !strings.Contains(stdout, "remote-test") {
		t.Fatalf("keys list = %q, %v", stdout, err)
	}
	if _, _, err := remoteRun(t, base, newKey, "keys", "list"); client.Code(err) != "forbidden" {
		t.Errorf("keys list with a read key = %v, want forbidden", err)
	}
	id := regexp.MustCompile(`(?m)^(\S+)\s.*remote-test`).FindStringSubmatch(stdout)
	if id == nil {
		t.Fatalf("keys list has no id for remote-test:\n%s", stdout)
	}
	if stdout, _, err = remoteRun(t, base, key, "keys", "revoke", id[1]); err != nil || !strings.Contains(stdout, "revoked") {
		t.Errorf("keys revoke = %q, %v", stdout, err)
	}

	// models upload / list / show / delete
	stdout, stderr, err = remoteRun(t, base, key, "models", "upload", "../../../shared/ensemble/testdata/xgb_insurance_multiclass.json", "--dataset", ds.Id, "--quiet")
	if err != nil {
		t.Fatalf("models upload: %v\n%s", err, stderr)
	}
	var m client.Model
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || m.Id == "" {
		t.Fatalf("models upload printed %q (%v)", stdout, err)
	}
	if stdout, _, err = remoteRun(t, base, key, "models", "list"); err != nil || !strings.Contains(stdout, m.Id) {
		t.Errorf("models list = %q, %v", stdout, err)
	}
	if stdout, _, err = remoteRun(t, base, key, "models", "show", m.Id); err != nil || !strings.Contains(stdout, m.Id) {
		t.Errorf("models show = %q, %v", stdout, err)
	}
	if stdout, _, err = remoteRun(t, base, key, "models", "delete", m.Id); err != nil || !strings.Contains(stdout, "deleted") {
		t.Errorf("models delete = %q, %v", stdout, err)
	}
	if _, _, err = remoteRun(t, base, key, "models", "show", m.Id); client.Code(err) != "not_found" {
		t.Errorf("models show after delete = %v, want not_found", err)
	}
}

func TestRemoteArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"jobs", "list"}, "talks to a deployment"},
		{[]string{"models", "list"}, "registry of a deployment"},
		{[]string{"--api", "http://127.0.0.1:1", "jobs", "list"}, "needs an API key"},
		{[]string{"--api", "127.0.0.1:1", "--key", "sk_live_x", "jobs", "list"}, "http(s) URL"},
		{[]string{"--api"}, "--api needs a value"},
	} {
		t.Setenv("SYNTHOS_API", "")
		t.Setenv("SYNTHOS_API_KEY", "")
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, &out, &errOut)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v (exit %d), want a usage error containing %q", tc.args, err, exitCode(err), tc.want)
		}
	}
}

// flaky fails the first PUT of a chunk that does not start at byte 0,
// after the server has seen none of it: the upload must resume.
type flaky struct {
	failed atomic.Bool
	puts   atomic.Int64
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		f.puts.Add(1)
		if cr := r.Header.Get("Content-Range"); !strings.HasPrefix(cr, "bytes 0-") && !strings.HasPrefix(cr, "bytes */") && f.failed.CompareAndSwap(false, true) {
			return nil, errors.New("flaky: connection reset")
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestResumableUploadResumes: a table sent in 256 KiB chunks survives a
// failed chunk (the client asks the server how far it got and goes on) and
// arrives whole and valid.
func TestResumableUploadResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a local platform: not in -short")
	}
	base, _, _, out := startLocal(t)
	key := printedKey(t, out)
	src, err := os.ReadFile("../../../examples/insurance.csv")
	if err != nil {
		t.Fatal(err)
	}
	header, rows, _ := bytes.Cut(src, []byte("\n"))
	rows = append(bytes.TrimRight(rows, "\n"), '\n')
	table := append(append([]byte{}, header...), '\n')
	for len(table) < 700<<10 { // three chunks: two of 256 KiB and the rest
		table = append(table, rows...)
	}
	nrows := bytes.Count(table, []byte("\n")) - 1
	tr := &flaky{}
	api, err := client.New(base, key, client.Options{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	var last atomic.Int64
	d, err := api.UploadDatasetResumable(context.Background(), "big.csv", bytes.NewReader(table), int64(len(table)),
		client.ResumableOptions{ChunkSize: 256 << 10, Progress: func(sent, _ int64) { last.Store(sent) }})
	if err != nil {
		t.Fatal(err)
	}
	if !tr.failed.Load() {
		t.Fatal("the flaky transport never failed a chunk: the test did not exercise a resume")
	}
	if d.Rows == nil || *d.Rows != nrows || d.Size != len(table) || d.Status != "ready" {
		t.Errorf("dataset = rows %v size %d status %v, want %d rows, %d bytes, ready", d.Rows, d.Size, d.Status, nrows, len(table))
	}
	// 3 chunks, the failed one again, and the status query in between.
	if got := tr.puts.Load(); got != 5 {
		t.Errorf("%d PUTs, want 5 (3 chunks, 1 retry, 1 status query)", got)
	}
	if last.Load() != int64(len(table)) {
		t.Errorf("progress ended at %d of %d bytes", last.Load(), len(table))
	}
}

// TestKeysCreateWhileServeRuns: the quick start's `synthos keys create`
// works while the platform holds the embedded store, through its keys API
// with the admin key it printed; without that key the error says what to do.
func TestKeysCreateWhileServeRuns(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{
		"SYNTHOS_STATE_URL":   "bolt://" + filepath.Join(dir, "state.db"),
		"SYNTHOS_OBJECTS_URL": "file://" + filepath.Join(dir, "objects"),
		"SYNTHOS_SECRETS_URL": "file://" + filepath.Join(dir, "secrets"),
	}
	base, _, _, out := startLocalWith(t, vars)
	admin := printedKey(t, out)
	for k, v := range vars {
		t.Setenv(k, v)
	}
	t.Setenv("SYNTHOS_ADDR", strings.TrimPrefix(base, "http://"))
	t.Setenv("SYNTHOS_API", "")

	t.Setenv("SYNTHOS_API_KEY", "")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"keys", "create", "--tenant", "local", "--scope", "read"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("keys create without SYNTHOS_API_KEY while serve runs = %v, want the store-in-use error", err)
	}

	t.Setenv("SYNTHOS_API_KEY", admin)
	stdout.Reset()
	stderr.Reset()
	if err := run(context.Background(), []string{"keys", "create", "--tenant", "local", "--scope", "read", "--name", "quickstart"}, &stdout, &stderr); err != nil {
		t.Fatalf("keys create with SYNTHOS_API_KEY while serve runs: %v\n%s", err, stderr.String())
	}
	key := strings.TrimSpace(stdout.String())
	if !strings.HasPrefix(key, "sk_live_") || !strings.Contains(stderr.String(), "keys API") {
		t.Fatalf("keys create printed %q / %q", key, stderr.String())
	}
	// The new key works against the running platform.
	r, err := http.NewRequest("GET", base+"/v1/jobs", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v1/jobs with the new key = %d", resp.StatusCode)
	}
}
