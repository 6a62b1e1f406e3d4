package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
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
	"sync/atomic"
	"testing"
	"time"

	auditfn "synthos.dev/synthos/functions/audit"
	"synthos.dev/synthos/functions/notify"
	"synthos.dev/synthos/shared/admission"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/objects/objectstest"
	"synthos.dev/synthos/shared/webhooks"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"gocloud.dev/blob/gcsblob"

	"synthos.dev/synthos/functions/privacy"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/topics"
)

// needEmulator returns the emulator address in env var, skipping the test
// when it is unset (failing under CI=true).
func needEmulator(t *testing.T, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI runs this test against the emulator (make test starts it)", env)
		}
		t.Skipf("%s is not set: start the emulator (see .ci/with-emulators.sh) to run this test", env)
	}
	return v
}

// maxPumpAttempts is the pump's max_delivery_attempts, as in Terraform.
const maxPumpAttempts = 5

// pump plays a push subscription with a dead-letter policy: it pulls from
// a subscription and POSTs each message as a push envelope to a function's
// HTTP endpoint, acks on 2xx, nacks otherwise, and after maxPumpAttempts
// dead-letters the message (pipeline.DeadLetter, as the dead-letter
// consumer does in production).
type pump struct {
	env      *platform.Env
	rec      *recorder
	mu       sync.Mutex
	attempts map[string]int
}

func (p *pump) run(ctx context.Context, t *testing.T, client *pubsub.Client, project, topic, sub, url string) {
	t.Helper()
	name := fmt.Sprintf("projects/%s/subscriptions/%s-%s", project, topic, sub)
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: name, Topic: fmt.Sprintf("projects/%s/topics/%s", project, topic), AckDeadlineSeconds: 600,
	}); err != nil {
		t.Fatalf("create subscription %s: %v", name, err)
	}
	push := events.PushTo(http.DefaultClient, url)
	subscriber := client.Subscriber(name)
	go func() {
		err := subscriber.Receive(ctx, func(ctx context.Context, msg *pubsub.Message) {
			p.mu.Lock()
			p.attempts[name+msg.ID]++
			attempt := p.attempts[name+msg.ID]
			p.mu.Unlock()
			m := &events.Message{ID: msg.ID, Data: msg.Data, Attributes: msg.Attributes, PublishTime: msg.PublishTime,
				DeliveryAttempt: attempt, Subscription: name}
			if err := push(ctx, m); err == nil {
				msg.Ack()
				return
			}
			if attempt < maxPumpAttempts {
				msg.Nack()
				return
			}
			p.rec.deadLetter(topic, m)
			if pipelineTopic(topic) {
				if err := pipeline.DeadLetter(ctx, p.env, m); err != nil {
					msg.Nack()
					return
				}
			}
			msg.Ack()
		})
		// Once the test is over, the client closing under Receive is not
		// a failure.
		if err != nil && !errors.Is(err, context.Canceled) && ctx.Err() == nil {
			t.Errorf("receive %s: %v", topic, err)
		}
	}()
}

// emulated is the platform on the production clients: Firestore
// (emulator) for state, Pub/Sub (emulator) with pull-to-push pumps driving
// the functions over HTTP, and Cloud Storage (fake-gcs-server, real
// storage client) with server-side compose. Each has a project (topics)
// and a tenant of its own.
type emulated struct {
	env             *platform.Env
	project, tenant string
	rec             *recorder
	hooks           *receiver
	adm             *admission.Admitter
}

// startEmulated starts an emulated platform with cfg added to its
// configuration; wrap, when set, wraps the generate function.
func startEmulated(t *testing.T, ctx context.Context, cfgExtra map[string]string, wrap func(events.Handler) events.Handler) *emulated {
	t.Helper()
	needEmulator(t, "FIRESTORE_EMULATOR_HOST")
	needEmulator(t, "PUBSUB_EMULATOR_HOST")

	// A project of its own keeps topics apart from concurrent runs.
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	project := "synthos-e2e-" + hex.EncodeToString(suffix)
	// The emulator's database outlives the run: a tenant of its own keeps
	// webhook endpoints and plans of earlier runs out of this one.
	tenant := "acme-" + hex.EncodeToString(suffix)

	_, gcs := objectstest.FakeGCS(t)
	const bucketName = "synthos-e2e-data"
	if err := gcs.Bucket(bucketName).Create(ctx, project, nil); err != nil {
		t.Fatalf("create bucket: %v", err)
	}

	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secrets", webhooks.KeySecret), []byte(webhookKey), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"SYNTHOS_STATE_URL":    "firestore://synthos-test",
		"SYNTHOS_OBJECTS_URL":  "mem://",
		"SYNTHOS_EVENTS":       "pubsub",
		"GOOGLE_CLOUD_PROJECT": project,
		"SYNTHOS_SECRETS_URL":  "file://" + filepath.Join(dir, "secrets"),
		"SYNTHOS_SHARD_ROWS":   "4000",
	}
	maps.Copy(vars, cfgExtra)
	cfg, err := config.LoadMap(ctx, vars)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	env, err := platform.Open(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatalf("platform.Open: %v", err)
	}
	t.Cleanup(func() { _ = env.Close() })
	// The data bucket is the fake Cloud Storage one, reached through the
	// real client, as gs://synthos-e2e-data would be in production.
	bucket, err := gcsblob.OpenBucket(ctx, nil, bucketName, &gcsblob.Options{Client: gcs})
	if err != nil {
		t.Fatalf("gcsblob.OpenBucket: %v", err)
	}
	t.Cleanup(func() { _ = bucket.Close() })
	env.Objects = bucket
	env.Config.ObjectsURL = "gs://" + bucketName

	client, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatalf("pubsub.NewClient: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	for _, topic := range topics.All() {
		if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: fmt.Sprintf("projects/%s/topics/%s", project, topic)}); err != nil {
			t.Fatalf("create topic %s: %v", topic, err)
		}
	}

	adm := admitter(t, env, openPlans(t))
	rec := newRecorder()
	p := &pump{env: env, rec: rec, attempts: map[string]int{}}
	serveAs := func(topic, sub string, h events.Handler) {
		s := httptest.NewServer(platform.PushHTTP(h))
		t.Cleanup(s.Close)
		p.run(ctx, t, client, project, topic, sub, s.URL)
	}
	serve := func(topic string, h events.Handler) { serveAs(topic, "push", h) }
	for _, f := range []struct {
		topic string
		new   platform.PushFactory
	}{{topics.GenerateRequests, generateWith(adm)}, {topics.PrivacyChecks, privacy.New}} {
		h, err := f.new(env)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		if f.topic == topics.GenerateRequests && wrap != nil {
			h = wrap(h)
		}
		serve(f.topic, h)
	}
	serve(topics.AuditEvents, rec.audit)
	serve(topics.JobEvents, rec.jobEvent)
	// The notify and audit functions on their own subscriptions, as deployed.
	hookOpts := webhooks.Options{Client: webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true}}
	notifier, err := notify.NewWithOptions(env, hookOpts)
	if err != nil {
		t.Fatal(err)
	}
	serveAs(topics.JobEvents, "notify", notifier)
	auditor, err := auditfn.New(env)
	if err != nil {
		t.Fatal(err)
	}
	serveAs(topics.AuditEvents, "audit", auditor)
	hooks := startReceiver(t)
	wh, err := webhooks.New(env.State, []byte(webhookKey), hookOpts)
	if err != nil {
		t.Fatal(err)
	}
	if _, secret, err := wh.CreateEndpoint(ctx, tenant, webhooks.EndpointInput{URL: hooks.srv.URL + "/hooks"}); err != nil {
		t.Fatal(err)
	} else {
		hooks.secret = secret
	}

	return &emulated{env: env, project: project, tenant: tenant, rec: rec, hooks: hooks, adm: adm}
}

// TestEmulatorsShardedJob runs a sharded job on the production clients
// (see emulated). The output must equal the same job sampled in one piece
// on the embedded platform.
func TestEmulatorsShardedJob(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	em := startEmulated(t, ctx, nil, nil)
	env, project, tenant, rec, hooks := em.env, em.project, em.tenant, em.rec, em.hooks
	ds := upload(t, env, tenant, "ds-"+project, "adult.csv", adult(t, 3000))
	j := &jobs.Job{ID: "job-" + project, Tenant: tenant, Request: jobs.Request{
		Dataset: ds.ID, Rows: 12_000, Model: "tree", Seed: 11, Format: "csv", Target: "income"}}
	submit(t, env, j)

	// Wait for the last audit event of the job: the job is final by then.
	// Bounded, so a stall fails with what the job and the pumps saw instead
	// of holding the package until its timeout (one CI run stalled here
	// for 19 minutes under the full suite's load).
	deadline := time.After(8 * time.Minute)
	var got *jobs.Job
	for {
		got = loadJob(t, env, j.ID)
		if got.State.Terminal() && slices.Contains(rec.auditActions(j.ID), "job."+string(got.State)) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job is %s when the test ended", got.State)
		case <-deadline:
			t.Fatalf("job still %s after 8 minutes (shards done %v, attempts %d, last error %q, lease until %v); audit actions seen: %v",
				got.State, got.ShardDone, got.Attempts, got.LastError, got.LeaseExpires, rec.auditActions(j.ID))
		case <-time.After(50 * time.Millisecond):
		}
	}
	if got.Shards != 3 || !slices.Equal(got.ShardDone, []int{0, 1, 2}) {
		t.Errorf("shards %d, done %v; want 3, [0 1 2]", got.Shards, got.ShardDone)
	}
	if got.State == jobs.Failed && got.Outputs[pipeline.OutputQuarantine] == "" {
		t.Fatalf("job failed outside the gate: %s %v", got.Error, got.Reasons)
	}
	out := outputOf(t, env.Objects, got)
	_, want := runSmall(t, embeddedOptions{}, "csv", 12_000)
	if !bytes.Equal(out, want) {
		t.Errorf("output composed on Cloud Storage (%d bytes) differs from the embedded one-piece sample (%d bytes)", len(out), len(want))
	}
	for _, k := range []string{pipeline.OutputReportJSON, pipeline.OutputReportHTML, pipeline.OutputModel} {
		if ok, err := env.Objects.Exists(ctx, got.Outputs[k]); err != nil || !ok {
			t.Errorf("output %s: exists=%v err=%v", k, ok, err)
		}
	}
	if states := rec.jobStates(j.ID); !slices.Contains(states, "sampling") || !slices.Contains(states, string(got.State)) {
		t.Errorf("job events %v", states)
	}
	// The customer got signed webhooks, the last for the final state, and
	// the audit function stored the job's records in Firestore. Both run on
	// their own subscriptions: wait for them.
	final := "job." + string(got.State)
	hookDeadline := time.After(4 * time.Minute)
	for {
		types := hooks.verified(t)
		records, err := audit.NewLog(env.State).List(ctx, tenant, audit.Query{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var stored int
		for _, r := range records {
			if strings.Contains(r.Resource, j.ID) {
				stored++
			}
		}
		if slices.Contains(types, final) && stored >= 5 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("webhooks received %v (want %s) and %d audit records stored (want ≥ 5) when the test ended", types, final, stored)
		case <-hookDeadline:
			rec.mu.Lock()
			dead := len(rec.deadLetters)
			rec.mu.Unlock()
			t.Fatalf("after 4 minutes: webhooks received %v (want %s), %d audit records stored (want ≥ 5), audit events published %v, %d topics with dead letters",
				types, final, stored, rec.auditActions(j.ID), dead)
		case <-time.After(50 * time.Millisecond):
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for topic, dead := range rec.deadLetters {
		t.Errorf("%d messages dead-lettered on %s", len(dead), topic)
	}
}

// TestEmulatorsLostMessages: Pub/Sub loses pipeline messages mid-job (the
// generate function takes the messages of shards 1 and 2 and drops them, as
// a message lost with an instance or a restarted emulator looks to the
// pipeline). The job stalls in sampling; the reaper, ticked as Cloud
// Scheduler ticks it, finds its lease run out and resumes it; it finishes
// with the same output as the job sampled in one piece, and holds nothing.
func TestEmulatorsLostMessages(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var dropping atomic.Bool
	var dropped atomic.Int32
	dropping.Store(true)
	wrap := func(h events.Handler) events.Handler {
		return func(ctx context.Context, m *events.Message) error {
			if task, err := jobs.DecodeTask(m.Data); err == nil && task.Shard >= 1 && dropping.Load() {
				dropped.Add(1)
				return nil // acknowledged, never run: lost
			}
			return h(ctx, m)
		}
	}
	em := startEmulated(t, ctx, map[string]string{"SYNTHOS_LEASE": "5s", "SYNTHOS_QUEUE_TIMEOUT": "5s"}, wrap)
	ds := upload(t, em.env, em.tenant, "ds-"+em.project, "adult.csv", adult(t, 3000))
	j := &jobs.Job{ID: "job-lost-" + em.project, Tenant: em.tenant, Request: jobs.Request{
		Dataset: ds.ID, Rows: 12_000, Model: "tree", Seed: 11, Format: "csv", Target: "income"}}
	if _, err := em.adm.Admit(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Submit(ctx, em.env.Events, j); err != nil {
		t.Fatal(err)
	}
	// Shard 0 runs; shards 1 and 2 are lost: the job stalls. Both waits
	// are bounded so a stall reports what the job saw.
	stallDeadline := time.After(5 * time.Minute)
	for {
		got := loadJob(t, em.env, j.ID)
		if got.State == jobs.Sampling && slices.Contains(got.ShardDone, 0) && dropped.Load() >= 2 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the job did not stall as expected: %s, shards done %v, %d dropped", got.State, got.ShardDone, dropped.Load())
		case <-stallDeadline:
			t.Fatalf("after 5 minutes the job had not stalled as expected: %s, shards done %v, %d dropped, last error %q", got.State, got.ShardDone, dropped.Load(), got.LastError)
		case <-time.After(50 * time.Millisecond):
		}
	}
	dropping.Store(false)
	stalled := time.Now()
	p, err := pipeline.New(em.env, pipeline.Options{Admission: em.adm})
	if err != nil {
		t.Fatal(err)
	}
	var got *jobs.Job
	resumed := 0
	resumeDeadline := time.After(8 * time.Minute)
	for {
		r, err := p.Reap(ctx)
		if err != nil {
			t.Fatalf("reap: %v", err)
		}
		resumed += r.Resumed
		got = loadJob(t, em.env, j.ID)
		if got.State.Terminal() && got.Settled {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job is %s (shards done %v) when the test ended", got.State, got.ShardDone)
		case <-resumeDeadline:
			t.Fatalf("job still %s after 8 minutes of reaping (shards done %v, resumed %d times, attempts %d, last error %q, settled %v)",
				got.State, got.ShardDone, resumed, got.Attempts, got.LastError, got.Settled)
		case <-time.After(time.Second):
		}
	}
	t.Logf("stalled job %s %v after the messages were lost (resumed %d times)", got.State, time.Since(stalled).Round(time.Millisecond), resumed)
	if resumed < 1 {
		t.Errorf("resumed %d times, want at least once", resumed)
	}
	if got.State == jobs.Failed && got.Outputs[pipeline.OutputQuarantine] == "" {
		t.Fatalf("job failed outside the gate: %s %s", got.ErrorCode, got.Error)
	}
	if !slices.Equal(got.ShardDone, []int{0, 1, 2}) {
		t.Errorf("shards done %v", got.ShardDone)
	}
	_, want := runSmall(t, embeddedOptions{}, "csv", 12_000)
	if out := outputOf(t, em.env.Objects, got); !bytes.Equal(out, want) {
		t.Errorf("output after the resumption (%d bytes) differs from the one-piece sample (%d bytes)", len(out), len(want))
	}
	u, err := em.adm.Entitlements().Usage(ctx, em.tenant, entitlements.MonthOf(time.Now()))
	if err != nil || u.Reserved != 0 {
		t.Errorf("usage after the job: %+v %v; want nothing reserved", u, err)
	}
}
