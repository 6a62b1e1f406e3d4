package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/destinations"
	"synthos.dev/synthos/shared/destinations/destinationstest"
	"testing"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"
	"gocloud.dev/blob"
	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/edge"
	"synthos.dev/synthos/shared/health"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/secrules"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/topics"
	"synthos.dev/synthos/shared/webhooks"
)

// testPepper keys the stored HMACs in tests.
var testPepper = bytes.Repeat([]byte("p"), 32)

// testPlans is a catalog whose free plan allows what the tests do, except
// the differentially private model (to exercise 402).
func testPlans(t testing.TB) *plans.Catalog {
	t.Helper()
	c, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 1000, ConcurrentJobs: 100, ReportRetentionDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// recorder is a Publisher that keeps what was published.
type recorder struct {
	mu   sync.Mutex
	msgs []published
	// failTasks makes publishing to the generate-requests topic fail.
	failTasks bool
}

type published struct {
	topic string
	data  []byte
	attrs map[string]string
}

func (r *recorder) Publish(_ context.Context, topic string, data []byte, attrs map[string]string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failTasks && topic == topics.GenerateRequests {
		return "", errors.New("recorder: publishing is down")
	}
	r.msgs = append(r.msgs, published{topic, data, attrs})
	return fmt.Sprint(len(r.msgs)), nil
}

func (r *recorder) Close() error { return nil }

// count returns how many messages went to topic.
func (r *recorder) count(topic string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if m.topic == topic {
			n++
		}
	}
	return n
}

// actions returns the audit actions published so far.
func (r *recorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, m := range r.msgs {
		if m.topic == topics.AuditEvents {
			out = append(out, m.attrs["action"])
		}
	}
	return out
}

// fixture is an API over a temporary bolt store and an in-memory bucket.
type fixture struct {
	t       testing.TB
	handler http.Handler // the API with the obs middleware, for in-process calls
	srv     *httptest.Server
	st      state.Store
	bucket  *blob.Bucket
	// raw is the deployment's own bucket under bucket's zone routing
	// (fixtureOptions.euBucket); bucket itself otherwise.
	raw  *blob.Bucket
	pub  *recorder
	keys *apikeys.Keys
	spec *spec // validates every response when set
	env  *platform.Env
	ring *keyring.Keyring // with fixtureOptions.keyring
	kek  tink.AEAD        // ring's key-encryption key
}

type fixtureOptions struct {
	bucket  *blob.Bucket
	authTTL time.Duration
	logger  *slog.Logger
	plans   *plans.Catalog // default testPlans
	// vertex deploys custom models (a client of a fake Vertex AI).
	vertex api.ModelDeployer
	// predictRate bounds predicted rows a second per tenant (0: the
	// configuration's default).
	predictRate float64
	// noWebhookKey leaves the webhook-secret-key secret unset.
	noWebhookKey bool
	// productionHooks keeps the production webhook client (https only,
	// the SSRF guard) instead of loopbackHooks.
	productionHooks bool
	// maxUpload (default 1 MiB) and maxResumable (default the
	// configuration's 5 GiB) bound direct and session uploads; sessions
	// starts upload sessions (default none: the chunked PUT).
	maxUpload, maxResumable int64
	sessions                api.SessionStarter
	chunkGranularity        int64 // default 256 KiB
	// keyring gives the API a keyring over a fresh local master keyset
	// (default none: encryption routes answer 503).
	keyring bool
	// destinations gives the platform a destination router (credentials
	// sealed by a test sealer) and puts the platform bucket in
	// objectsRegion (an s3 region).
	destinations  bool
	objectsRegion string
	// euBucket, with destinations, gives the deployment a second platform
	// bucket for zone eu (eu-central-1), as SYNTHOS_ZONE_BUCKETS does.
	euBucket *blob.Bucket
	// securityRules replaces the edge's security rules (nil: the defaults).
	securityRules []secrules.Rule
	// edgeEnv configures the edge (SYNTHOS_… variables; nil: defaults);
	// redisPrefix keys its Redis state; counter counts security events.
	edgeEnv     map[string]string
	redisPrefix string
	counter     edge.Counter
	// billing configures the billing links (nil: the environment's);
	// secrets adds secrets by name (the providers' API keys).
	billing *billing.LinksConfig
	secrets map[string]string
}

// testWebhookKey encrypts webhook signing secrets in tests.
const testWebhookKey = "0123456789abcdef0123456789abcdef-api-test-key"

// loopbackHooks lets webhooks reach httptest receivers, which the
// production SSRF guard refuses.
var loopbackHooks = webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true}

// testAuditKey signs audit checkpoints; testAuditVerifier checks them.
var testAuditKey, testAuditVerifier = func() (string, string) {
	s, v, err := audit.GenerateKey("synthos-audit-test")
	if err != nil {
		panic(err)
	}
	return s, v
}()

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	st, err := state.Open(context.Background(), "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bucket := o.bucket
	if bucket == nil {
		bucket = memblob.OpenBucket(nil)
		t.Cleanup(func() { bucket.Close() })
	}
	raw := bucket
	pub := &recorder{}
	vars := map[string]string{}
	if !o.noWebhookKey {
		vars[secrets.EnvName(webhooks.KeySecret)] = testWebhookKey
	}
	vars[secrets.EnvName(audit.SigningKeySecret)] = testAuditKey
	vars[secrets.EnvName(anonymize.SecretName("acme"))] = testKeyring(t)
	for k, v := range o.secrets {
		vars[secrets.EnvName(k)] = v
	}
	env := &platform.Env{State: st, Objects: bucket, Events: pub, Health: health.New(time.Second), Logger: slog.New(slog.DiscardHandler),
		Secrets: secrets.Env(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })}
	if o.destinations {
		env.Config = &config.Config{ObjectsURL: "s3://platform", ObjectsRegion: o.objectsRegion, MaxUploadBytes: 5 << 30}
		if o.euBucket != nil {
			own, _ := destinations.ZoneOf("s3", o.objectsRegion)
			env.Zones = destinations.NewPlatformBuckets(
				destinations.ZoneBucket{Zone: own, Bucket: bucket, Place: destinations.Placement{What: "input and working copies", Name: "platform", Provider: "s3", Region: o.objectsRegion}},
				[]destinations.ZoneBucket{{Zone: "eu", Bucket: o.euBucket, Place: destinations.Placement{What: "input and working copies", Name: "platform-eu", Provider: "s3", Region: "eu-central-1"}}},
				func(ctx context.Context, tenant string) (string, error) {
					return destinations.TenantResidency(ctx, st, tenant)
				})
			env.Objects = env.Zones.Bucket()
			bucket = env.Objects
		}
		ds, err := destinations.NewStore(st, destinationstest.NewSealer(t), destinations.StoreOptions{AllowLocal: true})
		if err != nil {
			t.Fatal(err)
		}
		env.Destinations = destinations.NewRouter(ds, bucket, destinations.RouterOptions{Backoff: time.Millisecond})
		t.Cleanup(func() { _ = env.Destinations.Close() })
	}
	catalog := o.plans
	if catalog == nil {
		catalog = testPlans(t)
	}
	hooks := loopbackHooks
	if o.productionHooks {
		hooks = webhooks.ClientOptions{}
	}
	maxUpload := o.maxUpload
	if maxUpload == 0 {
		maxUpload = 1 << 20
	}
	var ring *keyring.Keyring
	var kek tink.AEAD
	if o.keyring {
		path := filepath.Join(t.TempDir(), "master-keyset.json")
		if _, err := keyring.CreateMasterKeyset(path); err != nil {
			t.Fatal(err)
		}
		if kek, err = keyring.OpenKEK(context.Background(), "file://"+path); err != nil {
			t.Fatal(err)
		}
		if ring, err = keyring.New(st, kek); err != nil {
			t.Fatal(err)
		}
	}
	var guard *edge.Guard
	if o.securityRules != nil || o.edgeEnv != nil || o.counter != nil {
		cfg, err := config.LoadMap(context.Background(), o.edgeEnv)
		if err != nil {
			t.Fatal(err)
		}
		ent, err := entitlements.New(st, catalog, nil)
		if err != nil {
			t.Fatal(err)
		}
		if guard, err = edge.FromConfig(context.Background(), cfg, edge.Deps{State: st, Events: pub, Rules: o.securityRules,
			Plans: ent.Plan, RedisPrefix: o.redisPrefix, Counter: o.counter}); err != nil {
			t.Fatal(err)
		}
	}

	h, err := NewWithOptions(env, Options{Edge: guard, Pepper: testPepper, AuthTTL: o.authTTL, MaxUpload: maxUpload, Plans: catalog, Vertex: o.vertex, PredictRowsPerSecond: o.predictRate,
		WebhookClient: hooks, MaxResumable: o.maxResumable, Sessions: o.sessions,
		ChunkGranularity: o.chunkGranularity, Keyring: ring, BillingLinks: o.billing})
	if err != nil {
		t.Fatal(err)
	}
	logger := o.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	handler := obs.Middleware(logger, h)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	keys, err := apikeys.New(st, testPepper)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, handler: handler, srv: srv, st: st, bucket: bucket, raw: raw, pub: pub, keys: keys, env: env, ring: ring, kek: kek}
}

// key creates a key of tenant with the given scopes.
func (f *fixture) key(tenant string, scopes ...apikeys.Scope) string {
	f.t.Helper()
	k, _, err := f.keys.Create(context.Background(), apikeys.CreateOptions{Tenant: tenant, Scopes: scopes})
	if err != nil {
		f.t.Fatal(err)
	}
	return k
}

// req describes one request.
type req struct {
	method, path, key string
	body              any               // []byte, string, or a value encoded as JSON
	header            map[string]string // extra headers
}

// resp is a response with its body read.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (r resp) errCode(t testing.TB) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// do sends rq and, when the fixture has a spec, validates the response.
func (f *fixture) do(rq req) resp {
	f.t.Helper()
	var body io.Reader
	ctype := ""
	switch b := rq.body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		body, ctype = bytes.NewReader(j), "application/json"
	}
	hr, err := http.NewRequest(rq.method, f.srv.URL+rq.path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	if rq.key != "" {
		hr.Header.Set("Authorization", "Bearer "+rq.key)
	}
	for k, v := range rq.header {
		hr.Header.Set(k, v)
	}
	res, err := f.srv.Client().Do(hr)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	out := resp{status: res.StatusCode, header: res.Header, body: b}
	if f.spec != nil {
		f.spec.check(f.t, rq.method, rq.path, out)
	}
	return out
}

// multipartBody returns a body with the file in field and its content type.
func multipartBody(t testing.TB, field, filename, content string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, content)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// sampleCSV is the first datasets.MinRows rows of insurance.csv's age, sex
// and charges: the smallest table an upload accepts.
const sampleCSV = "age,sex,charges\n19,female,16884.9\n18,male,1725.5\n28,male,4449.4\n33,male,21984.5\n32,male,3866.9\n" +
	"31,female,3756.6\n46,female,8240.6\n37,female,7281.5\n37,male,6406.4\n60,female,28923.1\n"

// upload stores sampleCSV as a dataset of key's tenant and returns its id.
func (f *fixture) upload(key string) string {
	f.t.Helper()
	body, ct := multipartBody(f.t, "file", "insurance.csv", sampleCSV)
	r := f.do(req{method: "POST", path: "/v1/datasets", key: key, body: body, header: map[string]string{"Content-Type": ct}})
	if r.status != http.StatusCreated {
		f.t.Fatalf("upload: %d %s", r.status, r.body)
	}
	return r.json(f.t)["id"].(string)
}

// createJob creates a job on dataset and returns its id.
func (f *fixture) createJob(key, dataset string) string {
	f.t.Helper()
	r := f.do(req{method: "POST", path: "/v1/jobs", key: key, body: map[string]any{"dataset": dataset, "rows": 10, "seed": 7}})
	if r.status != http.StatusAccepted {
		f.t.Fatalf("create job: %d %s", r.status, r.body)
	}
	return r.json(f.t)["id"].(string)
}

// testKeyring is a fresh anonymisation keyring, as stored.
func testKeyring(t testing.TB) string {
	t.Helper()
	k, err := anonymize.NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// finish marks a job succeeded and writes its report and output, as the
// pipeline would.
func (f *fixture) finish(tenant, id string) {
	f.t.Helper()
	ctx := context.Background()
	_, _, err := jobs.New(f.st).Update(ctx, id, "test-finish", func(j *jobs.Job) error {
		j.Outputs = map[string]string{"data": datasets.OutputKey(tenant, id, "csv")}
		return jobs.Advance(j, jobs.Succeeded)
	})
	if err != nil {
		f.t.Fatal(err)
	}
	put := func(key, content string) {
		err := objects.Put(ctx, f.bucket, key, func(w io.Writer) error { _, err := io.WriteString(w, content); return err }, nil)
		if err != nil {
			f.t.Fatal(err)
		}
	}
	put(datasets.ReportKey(tenant, id, "json"), `{"quality":{"overall":0.9}}`)
	put(datasets.ReportKey(tenant, id, "html"), "<!doctype html><title>report</title>")
	put(datasets.OutputKey(tenant, id, "csv"), sampleCSV)
	put(datasets.TrainKey(tenant, id), sampleCSV)
	put(datasets.HoldoutKey(tenant, id), "age,sex,charges\n23,male,2130.1\n52,female,11070.5\n41,female,7512.3\n")
}
