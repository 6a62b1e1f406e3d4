package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/admission"
	"synthos.dev/synthos/shared/assist"
	"synthos.dev/synthos/shared/errs"
	privacyrisk "synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/webhooks"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"gocloud.dev/blob"

	auditfn "synthos.dev/synthos/functions/audit"
	"synthos.dev/synthos/functions/ingest"
	"synthos.dev/synthos/functions/notify"
	"synthos.dev/synthos/functions/privacy"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/topics"
)

// embedded is a platform opened as the local runner opens it, with the
// pipeline functions subscribed to their topics on the Bus.
type embedded struct {
	env *platform.Env
	bus *events.Bus
	rec *recorder
	adm *admission.Admitter
}

type embeddedOptions struct {
	shardRows      int64
	duplicateEvery int // deliver every Nth message twice (1: all)
	seed           uint64
	// fullEval runs the production evaluation settings; other tests use
	// smaller samples (a 2-fold discriminator on 1,000 rows a side, 500
	// privacy queries) so the suite stays quick under -race: they test the
	// pipeline's flow, not the metrics, which their own packages test.
	fullEval bool
	// plans is the catalog the generate step enforces on jobs without a
	// monthly quota reservation (default: openPlans).
	plans *plans.Catalog
	// config adds to the platform's configuration; secrets are written to
	// its secrets directory (name → value).
	config, secrets map[string]string
	// assistant replaces the pipeline's AI router (default: built from
	// the configuration, offline).
	assistant func() (*assist.Assistant, error)
	// sampleBudget is the generate step's pipeline.Options.SampleBudget
	// (default: the pipeline's).
	sampleBudget int64
}

// openPlans is the catalog of tests that store jobs directly, which the
// first step meters like uploads' jobs: a free plan that allows whatever
// they run (dp, large and concurrent jobs).
func openPlans(t testing.TB) *plans.Catalog {
	t.Helper()
	c, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 1 << 40, RowsPerJob: 1 << 40, DPAllowed: true,
		ConcurrentJobs: 1000, ReportRetentionDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// admitter returns the admission over env's state with plan catalog c
// instead of the one the environment variables configure.
func admitter(t testing.TB, env *platform.Env, c *plans.Catalog) *admission.Admitter {
	t.Helper()
	a, err := admission.New(env.State, admission.Options{Catalog: c, BudgetEpsilon: 10, BudgetDelta: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// generateWith builds the generate consumer (functions/generate) admitting
// through a (upload-created jobs; settling needs no plan).
func generateWith(a *admission.Admitter) platform.PushFactory {
	return func(env *platform.Env) (events.Handler, error) {
		p, err := pipeline.New(env, pipeline.Options{Admission: a})
		if err != nil {
			return nil, err
		}
		return p.Generate, nil
	}
}

// webhookKey encrypts webhook signing secrets in the test's secrets dir.
const webhookKey = "0123456789abcdef0123456789abcdef-e2e-webhook-key"

// quickEval builds the privacy consumer with small evaluation samples (and
// fewer compliance attacks).
func quickEval(env *platform.Env) (events.Handler, error) {
	p, err := pipeline.New(env, pipeline.Options{
		Quality: quality.Options{DiscriminatorRows: 1000, Folds: 2, Triples: 20},
		Privacy: privacyrisk.Options{MaxQueries: 500},
		Attacks: privacyrisk.AttackOptions{Attacks: 200},
	})
	if err != nil {
		return nil, err
	}
	return p.Evaluate, nil
}

func startEmbedded(t testing.TB, o embeddedOptions) *embedded {
	t.Helper()
	if o.shardRows == 0 {
		o.shardRows = 1_000_000
	}
	if o.plans == nil {
		o.plans = openPlans(t)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", webhooks.KeySecret), []byte(webhookKey), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"SYNTHOS_STATE_URL":    "bolt://" + dir + "/state.db",
		"SYNTHOS_OBJECTS_URL":  "file://" + dir + "/objects",
		"SYNTHOS_SECRETS_URL":  "file://" + dir + "/secrets",
		"SYNTHOS_SHARD_ROWS":   fmt.Sprint(o.shardRows),
		"SYNTHOS_MAX_ATTEMPTS": "3",
	}
	maps.Copy(vars, o.config)
	for name, v := range o.secrets {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.LoadMap(t.Context(), vars)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	env, err := platform.Open(t.Context(), cfg, io.Discard)
	if err != nil {
		t.Fatalf("platform.Open: %v", err)
	}
	t.Cleanup(func() { _ = env.Close() })

	// The test's own Bus replaces the platform's: it adds duplicates, short
	// backoffs and the pipeline's dead-letter hook.
	_ = env.Bus.Close()
	rec := newRecorder()
	bus := events.NewBus(events.BusOptions{
		MaxAttempts: cfg.MaxAttempts, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		DuplicateEvery: o.duplicateEvery, Seed: o.seed, Logger: env.Logger,
		DeadLetter: func(ctx context.Context, topic string, m *events.Message, lastErr error) {
			rec.deadLetter(topic, m)
			if pipelineTopic(topic) {
				if err := pipeline.DeadLetter(ctx, env, m); err != nil {
					t.Errorf("pipeline.DeadLetter: %v", err)
				}
			}
		},
	})
	env.Bus, env.Events = bus, bus
	t.Cleanup(func() { _ = bus.Close() })

	adm := admitter(t, env, o.plans)
	subscribe := func(topic, name string, h events.Handler) {
		if err := bus.Subscribe(topic, name, h); err != nil {
			t.Fatalf("subscribe %s: %v", name, err)
		}
	}
	evaluate := quickEval
	if o.fullEval {
		evaluate = privacy.New
	}
	generate := generateWith(adm)
	if o.sampleBudget != 0 {
		generate = func(env *platform.Env) (events.Handler, error) {
			p, err := pipeline.New(env, pipeline.Options{Admission: adm, SampleBudget: o.sampleBudget})
			if err != nil {
				return nil, err
			}
			return p.Generate, nil
		}
	}
	if o.assistant != nil {
		generate = func(env *platform.Env) (events.Handler, error) {
			p, err := pipeline.New(env, pipeline.Options{Admission: adm, Assistant: o.assistant})
			if err != nil {
				return nil, err
			}
			return p.Generate, nil
		}
		evaluate = func(env *platform.Env) (events.Handler, error) {
			p, err := pipeline.New(env, pipeline.Options{Assistant: o.assistant,
				Quality: quality.Options{DiscriminatorRows: 1000, Folds: 2, Triples: 20}, Privacy: privacyrisk.Options{MaxQueries: 500}})
			if err != nil {
				return nil, err
			}
			return p.Evaluate, nil
		}
	}
	for _, f := range []struct {
		topic, name string
		new         platform.PushFactory
	}{
		{topics.GenerateRequests, "generate", generate},
		{topics.PrivacyChecks, "privacy", evaluate},
		{topics.JobEvents, "notify", func(env *platform.Env) (events.Handler, error) {
			// The receiver is an httptest server on loopback, which the
			// production SSRF guard refuses.
			return notify.NewWithOptions(env, webhooks.Options{Client: webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true}})
		}},
		{topics.AuditEvents, "audit", auditfn.New},
	} {
		h, err := f.new(env)
		if err != nil {
			t.Fatalf("%s.New: %v", f.name, err)
		}
		subscribe(f.topic, f.name, h)
	}
	subscribe(topics.AuditEvents, "test-audit", rec.audit)
	subscribe(topics.JobEvents, "test-job-events", rec.jobEvent)
	return &embedded{env: env, bus: bus, rec: rec, adm: adm}
}

// drain waits until every delivery, retries included, is done.
func (e *embedded) drain(t testing.TB) {
	t.Helper()
	if err := e.bus.Drain(t.Context()); err != nil {
		t.Fatalf("drain: %v", err)
	}
}

func TestEmbeddedJobSucceeds(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{fullEval: true})
	ds := upload(t, e.env, "acme", "ds-adult", "adult.csv", adult(t, 0))
	hooks := startReceiver(t)
	wh, err := webhooks.New(e.env.State, []byte(webhookKey), webhooks.Options{Client: webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, secret, err := wh.CreateEndpoint(t.Context(), "acme", webhooks.EndpointInput{URL: hooks.srv.URL + "/hooks"}); err != nil {
		t.Fatal(err)
	} else {
		hooks.secret = secret
	}
	j := &jobs.Job{ID: "job-adult", Tenant: "acme", Request: jobs.Request{
		Dataset: ds.ID, Rows: 5000, Model: "tree", Seed: 7, Format: "csv", Target: "income"}}
	submit(t, e.env, j)
	e.drain(t)

	// The customer's receiver got a correctly signed webhook for every
	// state, ending with job.succeeded.
	types := hooks.verified(t)
	if len(types) == 0 || types[len(types)-1] != "job.succeeded" {
		t.Errorf("webhooks received %v, want the states ending with job.succeeded", types)
	}
	// The audit function stored every audit event of the job.
	records, err := audit.NewLog(e.env.State).List(t.Context(), "acme", audit.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var stored int
	for _, r := range records {
		if r.Resource == "jobs/"+j.ID || strings.Contains(r.Resource, j.ID) {
			stored++
		}
	}
	if stored < 5 {
		t.Errorf("audit log holds %d records of the job, want one per state (5)", stored)
	}

	got := loadJob(t, e.env, j.ID)
	if got.State != jobs.Succeeded {
		t.Fatalf("job is %s (%s; %v), want succeeded", got.State, got.Error, got.Reasons)
	}
	for _, name := range []string{pipeline.OutputData, pipeline.OutputReportJSON, pipeline.OutputReportHTML, pipeline.OutputModel} {
		key, ok := got.Outputs[name]
		if !ok {
			t.Fatalf("outputs %v lack %q", got.Outputs, name)
		}
		if ok, err := objects.Exists(t.Context(), e.env.Objects, key); err != nil || !ok {
			t.Errorf("output %s at %s: exists=%v err=%v", name, key, ok, err)
		}
	}
	out := readObject(t, e.env.Objects, got.Outputs[pipeline.OutputData])
	if n := bytes.Count(out, []byte("\n")); n != 5001 {
		t.Errorf("output has %d lines, want a header and 5000 rows", n)
	}
	var rep struct {
		Gate struct {
			Pass bool `json:"pass"`
		} `json:"gate"`
	}
	if err := json.Unmarshal(readObject(t, e.env.Objects, got.Outputs[pipeline.OutputReportJSON]), &rep); err != nil || !rep.Gate.Pass {
		t.Errorf("report: gate pass=%v err=%v", rep.Gate.Pass, err)
	}
	wantContains(t, "html report", string(readObject(t, e.env.Objects, got.Outputs[pipeline.OutputReportHTML])), "<html")
	holdout := readObject(t, e.env.Objects, datasets.HoldoutKey("acme", j.ID))
	if n := bytes.Count(holdout, []byte("\n")) - 1; n != 26049/5 {
		t.Errorf("holdout has %d rows, want 20%% of 26049", n)
	}
	if part, err := e.env.Objects.List(&blob.ListOptions{Prefix: datasets.JobPrefix("acme", j.ID) + "parts/"}).Next(t.Context()); err != io.EOF {
		t.Errorf("an unsharded job has parts: %v %v", part, err)
	}

	states := []string{"evaluating", "fitting", "profiling", "sampling", "succeeded"}
	wantActions := make([]string, len(states))
	for i, s := range states {
		wantActions[i] = "job." + s
	}
	if got := e.rec.auditActions(j.ID); !slices.Equal(got, wantActions) {
		t.Errorf("audit actions %v, want %v", got, wantActions)
	}
	if got := e.rec.jobStates(j.ID); !slices.Equal(got, states) {
		t.Errorf("job events %v, want %v", got, states)
	}
	if n := len(e.rec.deadLetters[topics.GenerateRequests]) + len(e.rec.deadLetters[topics.PrivacyChecks]); n != 0 {
		t.Errorf("%d pipeline messages dead-lettered", n)
	}
}

// runSmall runs a job on the first 3,000 rows of Adult and returns it with
// its output (released or quarantined).
func runSmall(t *testing.T, o embeddedOptions, format string, rows int64) (*jobs.Job, []byte) {
	t.Helper()
	e := startEmbedded(t, o)
	ds := upload(t, e.env, "acme", "ds-small", "adult.csv", adult(t, 3000))
	j := &jobs.Job{ID: "job-small", Tenant: "acme", Request: jobs.Request{
		Dataset: ds.ID, Rows: rows, Model: "tree", Seed: 11, Format: format, Target: "income"}}
	submit(t, e.env, j)
	e.drain(t)
	got := loadJob(t, e.env, j.ID)
	if got.State != jobs.Succeeded && got.State != jobs.Failed {
		t.Fatalf("job ended %s", got.State)
	}
	if got.State == jobs.Failed && got.Outputs[pipeline.OutputQuarantine] == "" {
		t.Fatalf("job failed outside the gate: %s %v", got.Error, got.Reasons)
	}
	if n := len(e.rec.deadLetters[topics.GenerateRequests]) + len(e.rec.deadLetters[topics.PrivacyChecks]); n != 0 {
		t.Errorf("%d pipeline messages dead-lettered", n)
	}
	if !slices.Contains(e.rec.auditActions(j.ID), "job."+string(got.State)) {
		t.Errorf("no audit event for the job's final state %s: %v", got.State, e.rec.auditActions(j.ID))
	}
	return got, outputOf(t, e.env.Objects, got)
}

// TestEmbeddedShardedMatchesUnsharded: a 12,000-row job in 3 shards of
// 4,000 composes to exactly the bytes of the same job sampled in one piece,
// for every output format (Parquet through its JSON Lines parts).
func TestEmbeddedShardedMatchesUnsharded(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"csv", "jsonl", "parquet"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			one, want := runSmall(t, embeddedOptions{}, format, 12_000)
			sharded, got := runSmall(t, embeddedOptions{shardRows: 4000}, format, 12_000)
			if one.Shards != 1 || sharded.Shards != 3 {
				t.Fatalf("shards: %d and %d, want 1 and 3", one.Shards, sharded.Shards)
			}
			if !slices.Equal(sharded.ShardDone, []int{0, 1, 2}) {
				t.Errorf("shard_done = %v", sharded.ShardDone)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("sharded output (%d bytes) differs from the unsharded one (%d bytes)", len(got), len(want))
			}
			if one.State != sharded.State || !slices.Equal(one.Reasons, sharded.Reasons) {
				t.Errorf("verdicts differ: %s %v vs %s %v", one.State, one.Reasons, sharded.State, sharded.Reasons)
			}
		})
	}
}

// TestEmbeddedDuplicateDeliveries: with every message delivered twice, in
// whatever order the goroutines run, a sharded job ends exactly as it does
// with single deliveries.
func TestEmbeddedDuplicateDeliveries(t *testing.T) {
	t.Parallel()
	base, want := runSmall(t, embeddedOptions{shardRows: 4000}, "csv", 12_000)
	for _, o := range []embeddedOptions{
		{shardRows: 4000, duplicateEvery: 1, seed: 1},
		{shardRows: 4000, duplicateEvery: 2, seed: 2},
	} {
		t.Run(fmt.Sprintf("every%d", o.duplicateEvery), func(t *testing.T) {
			got, out := runSmall(t, o, "csv", 12_000)
			if got.State != base.State || !slices.Equal(got.Reasons, base.Reasons) || !slices.Equal(got.ShardDone, base.ShardDone) {
				t.Errorf("job ended %s %v %v, want %s %v %v", got.State, got.Reasons, got.ShardDone, base.State, base.Reasons, base.ShardDone)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output differs under duplicate delivery (%d vs %d bytes)", len(out), len(want))
			}
		})
	}
}

// TestEmbeddedFailures: a bad dataset fails its job at once (acknowledged,
// not dead-lettered); poison messages are dead-lettered, and the one that
// names a job fails it.
func TestEmbeddedFailures(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{})
	ctx := t.Context()
	good := upload(t, e.env, "acme", "ds-good", "adult.csv", adult(t, 500))
	bad := upload(t, e.env, "acme", "ds-bad", "bad.csv", []byte("a,b\n1,2,3\n"))

	tests := []struct {
		name       string
		job        *jobs.Job
		prepare    func()
		wantError  string
		wantCode   string // default: any code
		deadLetter bool
	}{
		{name: "ragged dataset", job: &jobs.Job{ID: "job-bad", Tenant: "acme", Request: jobs.Request{Dataset: bad.ID, Rows: 10}},
			wantError: "ragged", wantCode: "invalid_argument"},
		{name: "missing dataset", job: &jobs.Job{ID: "job-nods", Tenant: "acme", Request: jobs.Request{Dataset: "nope", Rows: 10}},
			wantError: "does not exist"},
		{name: "unknown model", job: &jobs.Job{ID: "job-model", Tenant: "acme", Request: jobs.Request{Dataset: good.ID, Rows: 10, Model: "gan"}},
			wantError: "unknown model"},
		{name: "impossible rules", job: &jobs.Job{ID: "job-rules", Tenant: "acme", Request: jobs.Request{Dataset: good.ID, Rows: 10,
			Rules: json.RawMessage(`{"rules":[{"type":"range","column":"age","min":200}]}`)}},
			wantError: "rule"},
		{name: "unknown output format", job: &jobs.Job{ID: "job-fmt", Tenant: "acme", Request: jobs.Request{Dataset: good.ID, Rows: 10, Format: "xml"}},
			wantError: "output format"},
		{name: "bad thresholds", job: &jobs.Job{ID: "job-th", Tenant: "acme", Request: jobs.Request{Dataset: good.ID, Rows: 10,
			Thresholds: json.RawMessage(`{"max_dcr_share":7}`)}},
			wantError: "threshold", wantCode: "invalid_argument"},
		{name: "unwritable training table is dead-lettered", job: &jobs.Job{ID: "job-stuck", Tenant: "acme", Request: jobs.Request{Dataset: good.ID, Rows: 10}},
			// A directory where the training table goes makes every
			// write of it fail: a failure that retrying does not fix.
			prepare: func() {
				if err := objects.Put(ctx, e.env.Objects, datasets.TrainKey("acme", "job-stuck")+"/blocker", func(w io.Writer) error {
					_, err := io.WriteString(w, "x")
					return err
				}, nil); err != nil {
					t.Fatal(err)
				}
			},
			wantError: "failed 3 times", wantCode: "unavailable", deadLetter: true},
	}
	// A dp job without epsilon is refused by admission, before any step.
	dp := &jobs.Job{ID: "job-dp", Tenant: "acme", Request: jobs.Request{Dataset: good.ID, Rows: 10, Model: "dp"}}
	if _, err := admitter(t, e.env, openPlans(t)).Admit(ctx, dp); errs.CodeOf(err) != errs.InvalidArgument || !strings.Contains(errs.Message(err), "epsilon") {
		t.Errorf("dp job without epsilon: admission answered %v, want invalid_argument naming epsilon", err)
	}
	for _, tt := range tests {
		if tt.prepare != nil {
			tt.prepare()
		}
		submit(t, e.env, tt.job)
	}
	// Poison messages naming no job.
	if _, err := e.bus.Publish(ctx, topics.GenerateRequests, []byte("not a task"), nil); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Publish(ctx, e.bus, topics.GenerateRequests, jobs.Task{JobID: "ghost", Tenant: "acme", Shard: -1}); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Publish(ctx, e.bus, topics.PrivacyChecks, jobs.Task{JobID: "job-bad", Tenant: "other", Shard: -1}); err != nil {
		t.Fatal(err)
	}
	e.drain(t)

	dead := e.rec.deadLetters[topics.GenerateRequests]
	var deadBodies []string
	for _, m := range dead {
		deadBodies = append(deadBodies, string(m.Data))
	}
	for _, tt := range tests {
		got := loadJob(t, e.env, tt.job.ID)
		if got.State != jobs.Failed || !strings.Contains(strings.ToLower(got.Error), tt.wantError) {
			t.Errorf("%s: job is %s with error %q, want failed with %q", tt.name, got.State, got.Error, tt.wantError)
		}
		if got.ErrorCode == "" || tt.wantCode != "" && got.ErrorCode != tt.wantCode {
			t.Errorf("%s: error code %q, want %q", tt.name, got.ErrorCode, tt.wantCode)
		}
		// The job.failed event (the customer's webhook) carries the code too.
		if ev, ok := e.rec.lastJobEvent(tt.job.ID); !ok || ev.ErrorCode != got.ErrorCode {
			t.Errorf("%s: job event %+v, want error_code %q", tt.name, ev, got.ErrorCode)
		}
		wasDead := slices.ContainsFunc(deadBodies, func(b string) bool { return strings.Contains(b, `"`+tt.job.ID+`"`) })
		if wasDead != tt.deadLetter {
			t.Errorf("%s: dead-lettered = %v, want %v", tt.name, wasDead, tt.deadLetter)
		}
		if !slices.Contains(e.rec.auditActions(tt.job.ID), "job.failed") {
			t.Errorf("%s: no job.failed audit event", tt.name)
		}
	}
	for _, want := range []string{"not a task", `"ghost"`} {
		if !slices.ContainsFunc(deadBodies, func(b string) bool { return strings.Contains(b, want) }) {
			t.Errorf("poison message %s was not dead-lettered (dead letters: %q)", want, deadBodies)
		}
	}
	if n := len(e.rec.deadLetters[topics.PrivacyChecks]); n != 1 {
		t.Errorf("%d privacy-checks dead letters, want the foreign-tenant task", n)
	}
}

// TestEmbeddedIngest: an upload under uploads/<tenant>/ becomes a dataset
// and a job with the options of its metadata, which runs to the end; the
// same event delivered again creates nothing new.
func TestEmbeddedIngest(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{})
	ctx := t.Context()
	name := "uploads/acme/small adult.csv"
	meta := map[string]string{"rows": "800", "Model": "copula", "seed": "5", "format": "jsonl"}
	if err := objects.Put(ctx, e.env.Objects, name, func(w io.Writer) error {
		_, err := w.Write(adult(t, 2000))
		return err
	}, &blob.WriterOptions{Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	ingestEvent(t, e, "ev-1", name, "42", meta, 2)
	e.drain(t)
	page, err := jobs.New(e.env.State).List(ctx, "acme", 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(page.Jobs))
	}
	j := page.Jobs[0]
	if j.State != jobs.Succeeded && j.Outputs[pipeline.OutputQuarantine] == "" {
		t.Fatalf("job ended %s: %s", j.State, j.Error)
	}
	if j.Request.Rows != 800 || j.Request.Model != "copula" || j.Request.Seed != 5 || j.Request.Format != "jsonl" {
		t.Errorf("request %+v does not carry the metadata options", j.Request)
	}
	ds, err := datasets.New(e.env.State).Get(ctx, "acme", j.Request.Dataset)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != "small_adult.csv" || !strings.HasPrefix(ds.Key, datasets.TenantPrefix("acme")) {
		t.Errorf("dataset %+v", ds)
	}
	if n := bytes.Count(outputOf(t, e.env.Objects, &j), []byte("\n")); n != 800 {
		t.Errorf("output has %d lines, want 800", n)
	}
	if got := e.rec.auditActions(j.ID); !slices.Contains(got, "job.created") {
		t.Errorf("audit actions %v lack job.created", got)
	}
}

// receiver is a customer's webhook endpoint that verifies every delivery's
// Standard Webhooks signature.
type receiver struct {
	srv    *httptest.Server
	secret string
	mu     sync.Mutex
	got    []string // event types with a valid signature
	bad    []string
}

func startReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := webhooks.Verify(req.Header, body, time.Now(), r.secret); err != nil {
			r.bad = append(r.bad, err.Error())
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(body, &ev)
		r.got = append(r.got, ev.Type)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) verified(t *testing.T) []string {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		t.Errorf("deliveries with bad signatures: %v", r.bad)
	}
	return slices.Clone(r.got)
}

// ingestEvent delivers the finalize event of the object name in the uploads
// bucket to the Ingest function times times (a redelivery is a repeat).
func ingestEvent(t *testing.T, e *embedded, id, name, generation string, meta map[string]string, times int) {
	t.Helper()
	fn, err := ingest.New(e.env)
	if err != nil {
		t.Fatal(err)
	}
	ev := cloudevents.NewEvent()
	ev.SetID(id)
	ev.SetSource("//storage.googleapis.com/projects/_/buckets/uploads")
	ev.SetType(events.TypeObjectFinalized)
	if err := ev.SetData(cloudevents.ApplicationJSON, map[string]any{
		"bucket": "uploads", "name": name, "size": "1", "generation": generation, "metadata": meta,
	}); err != nil {
		t.Fatal(err)
	}
	for range times {
		if err := fn(t.Context(), ev); err != nil {
			t.Fatalf("ingest: %v", err)
		}
	}
}
