// Package e2e runs whole jobs through the pipeline functions: on the
// embedded platform (bolt, file:// objects, the in-process Bus) and on the
// production clients against the Firestore and Pub/Sub emulators and an
// in-process fake Cloud Storage.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	apifn "synthos.dev/synthos/functions/api"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/gate"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/topics"
)

// adultPaths are where the Adult training table may be, relative to e2e/:
// the workspace's shared/datasets beside the repository, or a copy in it.
var adultPaths = []string{"../../shared/datasets/adult.train.csv", "../shared/datasets/adult.train.csv"}

// adult returns the first n data rows of Adult (all with n <= 0) as CSV.
func adult(t testing.TB, n int) []byte {
	t.Helper()
	var b []byte
	var err error
	for _, p := range adultPaths {
		if b, err = os.ReadFile(p); err == nil {
			break
		}
	}
	if err != nil {
		abs, _ := filepath.Abs(adultPaths[0])
		t.Fatalf("the Adult dataset is needed at %s (the workspace's shared/datasets): %v", abs, err)
	}
	if n <= 0 {
		return b
	}
	lines := bytes.SplitAfterN(b, []byte("\n"), n+2)
	return bytes.Join(lines[:min(n+1, len(lines))], nil)
}

// recorder keeps what the test observes on the topics: audit events, job
// events and dead letters.
type recorder struct {
	mu          sync.Mutex
	audits      []audit.Event
	jobEvents   []jobs.Event
	deadLetters map[string][]*events.Message // by topic
}

func newRecorder() *recorder { return &recorder{deadLetters: map[string][]*events.Message{}} }

func (r *recorder) audit(_ context.Context, m *events.Message) error {
	var ev audit.Event
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		return fmt.Errorf("audit event: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.audits = append(r.audits, ev)
	return nil
}

func (r *recorder) jobEvent(_ context.Context, m *events.Message) error {
	var ev jobs.Event
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		return fmt.Errorf("job event: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobEvents = append(r.jobEvents, ev)
	return nil
}

// lastJobEvent returns the latest job event of job id that says it failed.
func (r *recorder) lastJobEvent(id string) (jobs.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.jobEvents) - 1; i >= 0; i-- {
		if ev := r.jobEvents[i]; ev.JobID == id && ev.State == jobs.Failed {
			return ev, true
		}
	}
	return jobs.Event{}, false
}

func (r *recorder) deadLetter(topic string, m *events.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deadLetters[topic] = append(r.deadLetters[topic], m)
}

// auditActions returns the actions audited for a job, deduplicated by
// event id (redeliveries repeat ids), sorted.
func (r *recorder) auditActions(jobID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, ev := range r.audits {
		if ev.Resource == "jobs/"+jobID && !seen[ev.ID] {
			seen[ev.ID] = true
			out = append(out, ev.Action)
		}
	}
	slices.Sort(out)
	return out
}

// jobStates returns the distinct states announced on job-events for a job.
func (r *recorder) jobStates(jobID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.jobEvents {
		if ev.JobID == jobID && !slices.Contains(out, string(ev.State)) {
			out = append(out, string(ev.State))
		}
	}
	slices.Sort(out)
	return out
}

// upload stores data as a ready dataset of tenant.
func upload(t testing.TB, env *platform.Env, tenant, id, name string, data []byte) *datasets.Dataset {
	t.Helper()
	ds := &datasets.Dataset{ID: id, Tenant: tenant, Name: name, Key: datasets.DatasetKey(tenant, id, name),
		Format: "csv", Size: int64(len(data)), Status: "ready"}
	if err := objects.Put(t.Context(), env.Objects, ds.Key, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if err := datasets.New(env.State).Create(t.Context(), ds); err != nil {
		t.Fatalf("create dataset: %v", err)
	}
	return ds
}

// submit admits a job under a plan that allows whatever the tests run and
// publishes its first step, as the API does.
func submit(t testing.TB, env *platform.Env, j *jobs.Job) {
	t.Helper()
	if _, err := admitter(t, env, openPlans(t)).Admit(t.Context(), j); err != nil {
		t.Fatalf("admit job: %v", err)
	}
	if err := jobs.Submit(t.Context(), env.Events, j); err != nil {
		t.Fatalf("submit job: %v", err)
	}
}

// readObject returns an object's bytes.
func readObject(t testing.TB, b *blob.Bucket, key string) []byte {
	t.Helper()
	data, err := b.ReadAll(t.Context(), key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return data
}

// outputOf returns the job's synthetic table, released or quarantined.
func outputOf(t testing.TB, b *blob.Bucket, j *jobs.Job) []byte {
	t.Helper()
	if k, ok := j.Outputs["data"]; ok {
		return readObject(t, b, k)
	}
	if k, ok := j.Outputs["quarantine"]; ok {
		return readObject(t, b, k)
	}
	t.Fatalf("job %s (%s: %s) has no output: %v", j.ID, j.State, j.Error, j.Outputs)
	return nil
}

// loadJob returns the stored job.
func loadJob(t testing.TB, env *platform.Env, id string) *jobs.Job {
	t.Helper()
	j, err := jobs.New(env.State).Load(t.Context(), id)
	if err != nil {
		t.Fatalf("load job: %v", err)
	}
	return j
}

// pipelineTopic reports whether topic carries pipeline tasks.
func pipelineTopic(topic string) bool {
	return topic == topics.GenerateRequests || topic == topics.PrivacyChecks
}

// wantContains fails unless s contains sub.
func wantContains(t testing.TB, what, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Errorf("%s = %q, want it to contain %q", what, s, sub)
	}
}

// apiClient serves the API function on e's platform with a one-plan catalog
// and returns a JSON caller authenticated as an admin key of tenant "acme".
func apiClient(t *testing.T, e *embedded, plan plans.Plan) func(method, path string, body any) (int, map[string]any) {
	t.Helper()
	raw := apiRawClient(t, e, plan, "acme")
	return func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		res, data := raw(method, path, body)
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
		}
		return res.StatusCode, m
	}
}

// apiRawClient is apiClient for tenant, returning the response (its body
// closed) and its bytes.
func apiRawClient(t *testing.T, e *embedded, plan plans.Plan, tenant string) func(method, path string, body any) (*http.Response, []byte) {
	t.Helper()
	ctx := t.Context()
	pepper := bytes.Repeat([]byte("e"), 32)
	catalog, err := plans.New([]plans.Plan{plan})
	if err != nil {
		t.Fatal(err)
	}
	h, err := apifn.NewWithOptions(e.env, apifn.Options{Pepper: pepper, Plans: catalog})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	keys, err := apikeys.New(e.env.State, pepper)
	if err != nil {
		t.Fatal(err)
	}
	key, _, err := keys.Create(ctx, apikeys.CreateOptions{Tenant: tenant, Scopes: []apikeys.Scope{apikeys.Admin}})
	if err != nil {
		t.Fatal(err)
	}
	return func(method, path string, body any) (*http.Response, []byte) {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		r, err := http.NewRequestWithContext(ctx, method, srv.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Authorization", "Bearer "+key)
		if body != nil {
			r.Header.Set("Content-Type", "application/json")
		}
		res, err := srv.Client().Do(r)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res, data
	}
}

// skipGate is a thresholds document that skips every gate metric, for
// tests of something other than the gate.
func skipGate(t testing.TB) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{"skip": gate.Metrics})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
