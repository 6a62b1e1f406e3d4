// Package config reads the platform's configuration from the environment and
// validates it at start, so that a misconfigured instance fails on its first
// request with a message naming the variable and how to fix it, not later
// with a confusing driver error.
//
// Every variable is listed in README.md's configuration table; keep the two
// in step (config_test.go checks that each variable here is documented).
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"synthos.dev/synthos/shared/destinations"
)

// Config is the configuration shared by every function and the local runner.
type Config struct {
	// StateURL selects the document store: bolt:///path/state.db (embedded,
	// durable on disk) or firestore://PROJECT[?database=NAME].
	StateURL string `env:"SYNTHOS_STATE_URL, default=bolt://.synthos/state.db"`
	// ObjectsURL selects the object store: file:///dir, mem://, gs://bucket,
	// s3://bucket, azblob://container.
	ObjectsURL string `env:"SYNTHOS_OBJECTS_URL, default=file://.synthos/objects"`
	// ObjectsRegion is where the platform bucket lives (europe-west1,
	// eu-central-1, westeurope, EU, …): residency policies check it, since
	// every job's input and working copies are kept there. Empty refuses
	// every job of a tenant or dataset with a residency policy, as does a
	// region shared/destinations does not know (the job's error says so):
	// an unknown region never stops the platform from starting.
	ObjectsRegion string `env:"SYNTHOS_OBJECTS_REGION"`
	// ZoneBuckets lists a platform bucket per residency zone as
	// REGION=URL pairs (europe-west1=gs://p-synthos-data-eu,...): each
	// tenant's objects are kept in the bucket of its residency zone, and
	// tenants without one in SYNTHOS_OBJECTS_URL. Empty: one bucket.
	ZoneBuckets string `env:"SYNTHOS_ZONE_BUCKETS, default="`
	// Events selects how messages travel: "embedded" (in-process dispatcher)
	// or "pubsub" (Google Cloud Pub/Sub; needs GOOGLE_CLOUD_PROJECT).
	Events string `env:"SYNTHOS_EVENTS, default=embedded"`
	// SecretsURL selects where secrets come from: env://, file:///dir or
	// gcpsecretmanager://PROJECT.
	SecretsURL string `env:"SYNTHOS_SECRETS_URL, default=file://.synthos/secrets"`
	// Project is the Google Cloud project (Pub/Sub topics, log trace names).
	Project string `env:"GOOGLE_CLOUD_PROJECT"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `env:"SYNTHOS_LOG_LEVEL, default=info"`
	// Addr is where `synthos serve` listens. Cloud Functions use PORT instead.
	Addr string `env:"SYNTHOS_ADDR, default=127.0.0.1:8080"`
	// ReadyTimeout bounds each dependency check of /readyz.
	ReadyTimeout time.Duration `env:"SYNTHOS_READY_TIMEOUT, default=2s"`
	// MaxAttempts is how often the embedded dispatcher delivers a message
	// before dead-lettering it (Pub/Sub's dead-letter policy in production).
	MaxAttempts int `env:"SYNTHOS_MAX_ATTEMPTS, default=5"`
	// DrainTimeout bounds how long shutdown waits for in-flight deliveries.
	DrainTimeout time.Duration `env:"SYNTHOS_DRAIN_TIMEOUT, default=30s"`
	// ShardRows is the largest number of rows one generate invocation
	// samples; bigger jobs fan out one message per shard.
	ShardRows int64 `env:"SYNTHOS_SHARD_ROWS, default=1000000"`
	// DPBudgetEpsilon is every dataset's default differential-privacy budget
	// cap, as epsilon at DPBudgetDelta, until an admin sets the dataset's
	// own (PUT /v1/datasets/{id}/privacy-budget). 0 gives datasets no
	// default budget: dp jobs are refused until a cap is set.
	DPBudgetEpsilon float64 `env:"SYNTHOS_DP_BUDGET_EPSILON, default=10"`
	// MaxUploadBytes bounds a table sent through an upload session (POST
	// /v1/datasets/uploads): a Cloud Storage resumable upload in the
	// cloud, chunked PUTs to the API locally.
	MaxUploadBytes int64 `env:"SYNTHOS_MAX_UPLOAD_BYTES, default=5368709120"`
	// DPBudgetDelta is the delta of the default cap.
	DPBudgetDelta float64 `env:"SYNTHOS_DP_BUDGET_DELTA, default=1e-9"`
	// Workers bounds how many deliveries the embedded dispatcher handles at
	// once; 0 picks events.DefaultWorkers (twice GOMAXPROCS, at least 4).
	Workers int `env:"SYNTHOS_WORKERS, default=0"`
	// SubscriptionWorkers bounds how many deliveries of one subscription the
	// embedded dispatcher handles at once (a job's shards share one); 0
	// picks one less than the cores (events.DefaultSubscriptionWorkers).
	SubscriptionWorkers int `env:"SYNTHOS_SUBSCRIPTION_WORKERS, default=0"`
	// PushAuth is how push functions authenticate Pub/Sub push requests:
	// "oidc" (verify the Google-signed OIDC token the subscription attaches)
	// or "none" (only for emulators and tests).
	PushAuth string `env:"SYNTHOS_PUSH_AUTH, default=oidc"`
	// PushAudience is the audience the push subscription puts in its OIDC
	// tokens; required by push functions with PushAuth "oidc".
	PushAudience string `env:"SYNTHOS_PUSH_AUDIENCE"`
	// PushServiceAccounts are the service accounts whose tokens push
	// functions accept (the subscriptions' oidc_token.service_account_email).
	PushServiceAccounts []string `env:"SYNTHOS_PUSH_SERVICE_ACCOUNTS"`

	// Lease is how long a running job step is presumed alive without a
	// heartbeat (steps renew it every third of it); the reaper resumes a
	// job whose lease ran out.
	Lease time.Duration `env:"SYNTHOS_LEASE, default=60s"`
	// QueueTimeout is how long a job may wait for its next step before the
	// reaper presumes the message lost and publishes it again.
	QueueTimeout time.Duration `env:"SYNTHOS_QUEUE_TIMEOUT, default=10m"`
	// ReapInterval is how often the local runner's reaper looks for jobs
	// whose lease ran out (Cloud Scheduler calls the Reap function in the
	// cloud).
	ReapInterval time.Duration `env:"SYNTHOS_REAP_INTERVAL, default=30s"`
	// MaxResumes is how many times the reaper resumes one job before it
	// fails it and releases what it holds.
	MaxResumes int `env:"SYNTHOS_MAX_RESUMES, default=3"`
	// CancelPoll is how often a running step looks for a cancel request.
	CancelPoll time.Duration `env:"SYNTHOS_CANCEL_POLL, default=500ms"`
	// ShardWindow is how many shards of one job sample at once; the others
	// wait their turn (a tenant runs at most concurrent_jobs x ShardWindow).
	ShardWindow int `env:"SYNTHOS_SHARD_WINDOW, default=4"`

	// AuditKMSKey is the Cloud KMS key version (EC_SIGN_ED25519) that signs
	// audit checkpoints in the cloud; empty: the local Ed25519 note key in
	// the audit-signing-key secret (embedded mode).
	AuditKMSKey string `env:"SYNTHOS_AUDIT_KMS_KEY"`
	// AuditKeyName is the checkpoint key's name in signature lines and
	// verifier keys.
	AuditKeyName string `env:"SYNTHOS_AUDIT_KEY_NAME, default=synthos-audit"`
	// AuditBucket is where audit bundles are archived (the locked 7-year
	// bucket: gs://...; file:// locally); empty: no archive.
	AuditBucket string `env:"SYNTHOS_AUDIT_BUCKET"`
	// AuditBundleRecords is how many new records of a log make the audit
	// function archive a bundle.
	AuditBundleRecords int64 `env:"SYNTHOS_AUDIT_BUNDLE_RECORDS, default=1000"`
	// KEKURI is the key-encryption key that wraps every tenant's Tink
	// keyset: gcp-kms://projects/P/locations/L/keyRings/R/cryptoKeys/K in
	// the cloud, or file://PATH of a local master keyset (Tink JSON) in
	// embedded mode. Empty: master-keyset.json in a file:// secrets
	// directory (`synthos serve` creates it), else none (see KEK).
	KEKURI string `env:"SYNTHOS_KEK_URI"`
	// ComplianceRegimes are the regimes a job's compliance report assesses
	// (gdpr, hipaa, ccpa) for tenants without their own policy.
	ComplianceRegimes []string `env:"SYNTHOS_COMPLIANCE_REGIMES, default=gdpr,hipaa,ccpa"`
	// ComplianceTenantRegimes is the policy per tenant:
	// "tenantA:gdpr+ccpa,tenantB:hipaa".
	ComplianceTenantRegimes map[string]string `env:"SYNTHOS_COMPLIANCE_TENANT_REGIMES, default="`
	// Metrics selects the metrics exporter: "prometheus" (a /metrics
	// endpoint on the local runner), "gcp" (Cloud Monitoring; needs
	// GOOGLE_CLOUD_PROJECT) or "none".
	Metrics string `env:"SYNTHOS_METRICS, default=prometheus"`
	// Traces selects the span exporter: "none", "stdout" (JSON spans on
	// stderr), "otlp" (OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT) or "gcp"
	// (Cloud Trace; needs GOOGLE_CLOUD_PROJECT).
	Traces string `env:"SYNTHOS_TRACES, default=none"`
	// TraceSampleRatio is the share of new traces sampled, in (0, 1]
	// (a request that arrives with a traceparent keeps its caller's
	// decision); unsampled requests get non-recording spans.
	TraceSampleRatio float64 `env:"SYNTHOS_TRACE_SAMPLE_RATIO, default=1"`
	// PlatformAdminTenants are the tenants whose admin keys may read the
	// platform-wide analytics (GET /v1/analytics/...?scope=platform).
	PlatformAdminTenants []string `env:"SYNTHOS_PLATFORM_ADMIN_TENANTS, default="`
	// VertexRegion turns on deployment of custom models Synthos does not
	// serve in process (scikit-learn, XGBoost-sklearn, TensorFlow) to Vertex
	// AI in that region of GOOGLE_CLOUD_PROJECT, with artifacts staged in
	// the gs:// object store; empty: such models are validated and stored
	// only.
	VertexRegion string `env:"SYNTHOS_VERTEX_REGION, default="`
	// PredictRowsPerSecond bounds the rows each tenant predicts a second
	// through POST /v1/models/{id}:predict, per instance; 0 is unbounded.
	PredictRowsPerSecond float64 `env:"SYNTHOS_PREDICT_ROWS_PER_SECOND, default=200000"`

	// Security edge (package shared/edge) of the public HTTP functions.

	// RedisURL, when set, keeps rate limits, security-rule rates and bans
	// in Redis (Memorystore), shared by every instance; otherwise each
	// instance keeps its own, a weaker guarantee (see README).
	RedisURL string `env:"SYNTHOS_REDIS_URL, default="`
	// TrustedProxies is how many proxies in front of the functions append
	// to X-Forwarded-For (Google's front end: 1; an external load balancer
	// too: 2); 0 believes only the connection's peer.
	TrustedProxies int `env:"SYNTHOS_TRUSTED_PROXIES, default=0"`
	// IPAllow and IPDeny are platform-wide CIDR lists.
	IPAllow []string `env:"SYNTHOS_IP_ALLOW, default="`
	IPDeny  []string `env:"SYNTHOS_IP_DENY, default="`
	// WAFMode is block, detect or off; WAFParanoia CRS's paranoia level
	// (1-4); WAFThreshold the inbound anomaly score that blocks.
	WAFMode      string `env:"SYNTHOS_WAF_MODE, default=block"`
	WAFParanoia  int    `env:"SYNTHOS_WAF_PARANOIA, default=1"`
	WAFThreshold int    `env:"SYNTHOS_WAF_ANOMALY_THRESHOLD, default=5"`
	// SecurityRulesFile replaces the built-in security rules (JSON).
	SecurityRulesFile string `env:"SYNTHOS_SECURITY_RULES_FILE, default="`
	// Per-address limits on every request, before authentication.
	RateIPPerMinute int `env:"SYNTHOS_RATE_IP_PER_MINUTE, default=1200"`
	RateIPBurst     int `env:"SYNTHOS_RATE_IP_BURST, default=300"`
	// Per-key and per-tenant limits for plans that set none.
	RateKeyPerMinute    int `env:"SYNTHOS_RATE_KEY_PER_MINUTE, default=600"`
	RateKeyBurst        int `env:"SYNTHOS_RATE_KEY_BURST, default=100"`
	RateTenantPerMinute int `env:"SYNTHOS_RATE_TENANT_PER_MINUTE, default=1200"`
	// AuthFailuresPerMinute is how many failed authentications one address
	// may make a minute (at once, too) before it is banned.
	AuthFailuresPerMinute int `env:"SYNTHOS_AUTH_FAILURES_PER_MINUTE, default=10"`
	// BanBase and BanMax bound automatic bans: the n-th strike bans for
	// BanBase·2^(n-1), at most BanMax.
	BanBase time.Duration `env:"SYNTHOS_BAN_BASE, default=1m"`
	BanMax  time.Duration `env:"SYNTHOS_BAN_MAX, default=24h"`

	// Compute prices of the analytics' cost estimate (shared/analytics.
	// Prices): US dollars per vCPU-second and GiB-second, and the instance
	// a job is priced as (the README's cost model: 1 vCPU, 2 GiB).
	CostVCPUSecond float64 `env:"SYNTHOS_COST_VCPU_SECOND, default=0.000024"`
	CostGiBSecond  float64 `env:"SYNTHOS_COST_GIB_SECOND, default=0.0000025"`
	CostVCPUs      float64 `env:"SYNTHOS_COST_VCPUS, default=1"`
	CostGiB        float64 `env:"SYNTHOS_COST_GIB, default=2"`

	AI AI
}

// complianceRegimes are the regimes a compliance report knows.
var complianceRegimes = []string{"gdpr", "hipaa", "ccpa"}

// Regimes returns the compliance regimes that apply to tenant: its own
// policy, else SYNTHOS_COMPLIANCE_REGIMES.
func (c *Config) Regimes(tenant string) []string {
	if v, ok := c.ComplianceTenantRegimes[tenant]; ok {
		return strings.Split(v, "+")
	}
	return c.ComplianceRegimes
}

// MasterKeysetFile is the local master keyset's name in a file:// secrets
// directory, the KEK when SYNTHOS_KEK_URI is empty.
const MasterKeysetFile = "master-keyset.json"

// KEK returns the key-encryption key's URI: SYNTHOS_KEK_URI, or the master
// keyset in a file:// secrets directory; "" when there is none (no tenant
// data can be encrypted).
func (c *Config) KEK() string {
	if c == nil {
		return ""
	}
	if c.KEKURI != "" {
		return c.KEKURI
	}
	if dir, ok := strings.CutPrefix(c.SecretsURL, "file://"); ok && dir != "" {
		return "file://" + strings.TrimSuffix(dir, "/") + "/" + MasterKeysetFile
	}
	return ""
}

// Cloud KMS resource names.
var (
	kmsKey        = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)
	kmsKeyVersion = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+/cryptoKeyVersions/[^/]+$`)
)

// AI configures the model providers (package llm) and the router that
// picks among them per task. The offline provider needs nothing and is
// always available; a vendor is used only when listed in AIProviders.
type AI struct {
	// Providers lists the providers the router may use: offline, gemini
	// (Gemini on Vertex AI), claude (Anthropic API, key in the secret
	// anthropic-api-key), claude-vertex (Claude on Vertex AI).
	Providers []string `env:"SYNTHOS_AI_PROVIDERS, default=offline"`
	// Models picks a model per provider and task: provider.task=model,
	// comma-separated (e.g. gemini.design=gemini-2.5-pro); unset pairs
	// keep the built-in defaults.
	Models []string `env:"SYNTHOS_AI_MODELS"`
	// Policies picks the routing policy per task: task=policy with policy
	// cheapest, best_quality or lowest_latency.
	Policies []string `env:"SYNTHOS_AI_POLICIES, default=design=best_quality,text=cheapest,typing=lowest_latency,narrative=cheapest"`
	// Ensemble asks several providers at once for a task and keeps the
	// best validated answer: task=N.
	Ensemble []string `env:"SYNTHOS_AI_ENSEMBLE"`
	// Timeout bounds one model call, retries included.
	Timeout time.Duration `env:"SYNTHOS_AI_TIMEOUT, default=60s"`
	// MaxRetries is how often a call is retried on 429 and 5xx.
	MaxRetries int `env:"SYNTHOS_AI_MAX_RETRIES, default=3"`
	// Prices overrides model prices: model=input/output in US dollars per
	// million tokens.
	Prices []string `env:"SYNTHOS_AI_PRICES"`
	// Budgets overrides plans' monthly AI budgets (the catalog's
	// ai_budget_usd) in US dollars per tenant: plan=dollars (0: no cap).
	// Plans it does not name keep the catalog's.
	Budgets []string `env:"SYNTHOS_AI_BUDGETS, default="`
	// VertexLocation is the Vertex AI region of Gemini calls.
	VertexLocation string `env:"SYNTHOS_VERTEX_LOCATION, default=us-central1"`
	// ClaudeVertexLocation is the Vertex AI region of Claude calls (Claude
	// is served in fewer regions than Gemini).
	ClaudeVertexLocation string `env:"SYNTHOS_CLAUDE_VERTEX_LOCATION, default=us-east5"`
}

// AIProviders are the names SYNTHOS_AI_PROVIDERS accepts.
var AIProviders = []string{"offline", "gemini", "claude", "claude-vertex"}

// maxWorkers bounds SYNTHOS_WORKERS: far beyond what one instance can run.
const maxWorkers = 1024

// PushOIDC reports whether push functions must verify OIDC tokens, and
// fails, naming the variables, when they must but cannot: a push function
// calls it when it starts.
func (c *Config) PushOIDC() (bool, error) {
	if c.PushAuth == "none" {
		return false, nil
	}
	var missing []string
	if c.PushAudience == "" {
		missing = append(missing, "SYNTHOS_PUSH_AUDIENCE (the audience of the push subscription's OIDC token)")
	}
	if len(c.PushServiceAccounts) == 0 {
		missing = append(missing, "SYNTHOS_PUSH_SERVICE_ACCOUNTS (the service account the push subscription signs as)")
	}
	if len(missing) > 0 {
		return true, fmt.Errorf("%w: push requests are verified (SYNTHOS_PUSH_AUTH=oidc) but %s not set",
			ErrInvalid, strings.Join(missing, " and "))
	}
	return true, nil
}

// DefaultMaxUploadBytes is SYNTHOS_MAX_UPLOAD_BYTES's default, 5 GiB;
// MaxUploadBytesLimit is the largest value accepted, Cloud Storage's
// largest object (5 TiB).
const (
	DefaultMaxUploadBytes = 5 << 30
	MaxUploadBytesLimit   = 5 << 40
)

// Defaults of the privacy budget, for callers without a Config (tests).
const (
	DefaultDPBudgetEpsilon = 10
	DefaultDPBudgetDelta   = 1e-9
)

// AIBudgets returns SYNTHOS_AI_BUDGETS' per-plan overrides of the plan
// catalog's AI budgets (none with a nil Config).
func (c *Config) AIBudgets() []string {
	if c == nil {
		return nil
	}
	return c.AI.Budgets
}

// DPBudget returns the default privacy budget cap (epsilon, delta); a nil
// Config gives the defaults.
func (c *Config) DPBudget() (epsilon, delta float64) {
	if c == nil {
		return DefaultDPBudgetEpsilon, DefaultDPBudgetDelta
	}
	return c.DPBudgetEpsilon, c.DPBudgetDelta
}

// Variables lists every environment variable Config reads, for the README
// check and for `synthos config`.
var Variables = []string{
	"SYNTHOS_STATE_URL", "SYNTHOS_OBJECTS_URL", "SYNTHOS_EVENTS", "SYNTHOS_SECRETS_URL",
	"GOOGLE_CLOUD_PROJECT", "SYNTHOS_LOG_LEVEL", "SYNTHOS_ADDR", "SYNTHOS_READY_TIMEOUT",
	"SYNTHOS_MAX_ATTEMPTS", "SYNTHOS_DRAIN_TIMEOUT", "SYNTHOS_SHARD_ROWS",
	"SYNTHOS_DP_BUDGET_EPSILON", "SYNTHOS_DP_BUDGET_DELTA", "SYNTHOS_WORKERS", "SYNTHOS_SUBSCRIPTION_WORKERS",
	"SYNTHOS_PUSH_AUTH", "SYNTHOS_PUSH_AUDIENCE", "SYNTHOS_PUSH_SERVICE_ACCOUNTS",
	"SYNTHOS_MAX_UPLOAD_BYTES",
	"SYNTHOS_LEASE", "SYNTHOS_QUEUE_TIMEOUT", "SYNTHOS_REAP_INTERVAL", "SYNTHOS_MAX_RESUMES",
	"SYNTHOS_CANCEL_POLL", "SYNTHOS_SHARD_WINDOW",
	"SYNTHOS_AUDIT_KMS_KEY", "SYNTHOS_AUDIT_KEY_NAME", "SYNTHOS_AUDIT_BUCKET", "SYNTHOS_AUDIT_BUNDLE_RECORDS",
	"SYNTHOS_KEK_URI",
	"SYNTHOS_AI_PROVIDERS", "SYNTHOS_AI_MODELS", "SYNTHOS_AI_POLICIES", "SYNTHOS_AI_ENSEMBLE", "SYNTHOS_AI_TIMEOUT",
	"SYNTHOS_AI_MAX_RETRIES", "SYNTHOS_AI_PRICES", "SYNTHOS_AI_BUDGETS", "SYNTHOS_VERTEX_LOCATION",
	"SYNTHOS_CLAUDE_VERTEX_LOCATION",
	"SYNTHOS_METRICS", "SYNTHOS_TRACES", "SYNTHOS_PLATFORM_ADMIN_TENANTS",
	"SYNTHOS_OBJECTS_REGION", "SYNTHOS_ZONE_BUCKETS",
	"SYNTHOS_REDIS_URL", "SYNTHOS_TRUSTED_PROXIES", "SYNTHOS_IP_ALLOW", "SYNTHOS_IP_DENY",
	"SYNTHOS_WAF_MODE", "SYNTHOS_WAF_PARANOIA", "SYNTHOS_WAF_ANOMALY_THRESHOLD", "SYNTHOS_SECURITY_RULES_FILE",
	"SYNTHOS_RATE_IP_PER_MINUTE", "SYNTHOS_RATE_IP_BURST", "SYNTHOS_RATE_KEY_PER_MINUTE", "SYNTHOS_RATE_KEY_BURST",
	"SYNTHOS_RATE_TENANT_PER_MINUTE", "SYNTHOS_AUTH_FAILURES_PER_MINUTE", "SYNTHOS_BAN_BASE", "SYNTHOS_BAN_MAX",
	"SYNTHOS_COMPLIANCE_REGIMES", "SYNTHOS_COMPLIANCE_TENANT_REGIMES", "SYNTHOS_PREDICT_ROWS_PER_SECOND", "SYNTHOS_VERTEX_REGION",
	"SYNTHOS_TRACE_SAMPLE_RATIO",
	"SYNTHOS_COST_VCPU_SECOND", "SYNTHOS_COST_GIB_SECOND", "SYNTHOS_COST_VCPUS", "SYNTHOS_COST_GIB",
}

// maxDPBudgetEpsilon bounds SYNTHOS_DP_BUDGET_EPSILON: far beyond any
// meaningful guarantee, it only keeps typos out.
const maxDPBudgetEpsilon = 1000

// ErrInvalid classifies configuration errors: the process cannot start.
var ErrInvalid = errors.New("invalid configuration")

// Load reads the configuration from the process environment.
func Load(ctx context.Context) (*Config, error) {
	return LoadFrom(ctx, envconfig.OsLookuper())
}

// LoadMap reads the configuration from a map, for tests.
func LoadMap(ctx context.Context, env map[string]string) (*Config, error) {
	return LoadFrom(ctx, envconfig.MapLookuper(env))
}

// LoadFrom reads and validates the configuration through l.
func LoadFrom(ctx context.Context, l envconfig.Lookuper) (*Config, error) {
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: l}); err != nil {
		return nil, fmt.Errorf("%w: %s (see the configuration table in README.md)", ErrInvalid, envNames(err.Error()))
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks every field and joins all problems into one error, each
// naming its variable and how to fix it.
func (c *Config) Validate() error {
	var errs []error
	bad := func(variable, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", variable, fmt.Sprintf(format, args...)))
	}
	checkScheme := func(variable, value string, schemes []string, example string) {
		u, err := url.Parse(value)
		if err != nil || u.Scheme == "" {
			bad(variable, "%q is not a URL; set it like %s", value, example)
			return
		}
		for _, s := range schemes {
			if u.Scheme == s {
				return
			}
		}
		bad(variable, "scheme %q is not supported; use one of %s (e.g. %s)", u.Scheme, strings.Join(schemes, ", "), example)
	}
	checkScheme("SYNTHOS_STATE_URL", c.StateURL, []string{"bolt", "firestore"}, "bolt://.synthos/state.db or firestore://my-project")
	checkScheme("SYNTHOS_OBJECTS_URL", c.ObjectsURL, []string{"file", "mem", "gs", "s3", "azblob"}, "file://.synthos/objects or gs://my-bucket")
	if _, err := destinations.ParseZoneBuckets(c.ZoneBuckets); err != nil {
		bad("SYNTHOS_ZONE_BUCKETS", "%v", err)
	}
	checkScheme("SYNTHOS_SECRETS_URL", c.SecretsURL, []string{"env", "file", "gcpsecretmanager"}, "env:// or gcpsecretmanager://my-project")
	switch c.Events {
	case "embedded":
	case "pubsub":
		if c.Project == "" {
			bad("GOOGLE_CLOUD_PROJECT", "must be set when SYNTHOS_EVENTS=pubsub (the project that owns the topics)")
		}
	default:
		bad("SYNTHOS_EVENTS", "%q is not supported; use embedded or pubsub", c.Events)
	}
	if strings.HasPrefix(c.StateURL, "firestore://") && strings.TrimPrefix(strings.SplitN(c.StateURL, "?", 2)[0], "firestore://") == "" {
		bad("SYNTHOS_STATE_URL", "firestore:// needs a project id, e.g. firestore://my-project")
	}
	switch c.Metrics {
	case "prometheus", "none":
	case "gcp":
		if c.Project == "" {
			bad("GOOGLE_CLOUD_PROJECT", "must be set when SYNTHOS_METRICS=gcp (the Cloud Monitoring project)")
		}
	default:
		bad("SYNTHOS_METRICS", "%q is not supported; use prometheus, gcp or none", c.Metrics)
	}
	switch c.Traces {
	case "none", "stdout", "otlp":
	case "gcp":
		if c.Project == "" {
			bad("GOOGLE_CLOUD_PROJECT", "must be set when SYNTHOS_TRACES=gcp (the Cloud Trace project)")
		}
	default:
		bad("SYNTHOS_TRACES", "%q is not supported; use none, stdout, otlp or gcp", c.Traces)
	}
	if !(c.TraceSampleRatio > 0 && c.TraceSampleRatio <= 1) {
		bad("SYNTHOS_TRACE_SAMPLE_RATIO", "%v: want a share in (0, 1]; SYNTHOS_TRACES=none records no spans", c.TraceSampleRatio)
	}
	if _, err := c.Level(); err != nil {
		bad("SYNTHOS_LOG_LEVEL", "%q is not a level; use debug, info, warn or error", c.LogLevel)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("SYNTHOS_ADDR", "%q is not host:port; use e.g. 127.0.0.1:8080", c.Addr)
	}
	if c.ReadyTimeout <= 0 {
		bad("SYNTHOS_READY_TIMEOUT", "must be a positive duration such as 2s")
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 100 {
		bad("SYNTHOS_MAX_ATTEMPTS", "%d is out of range; use 1 to 100 (Pub/Sub allows 5 to 100)", c.MaxAttempts)
	}
	if c.DrainTimeout <= 0 {
		bad("SYNTHOS_DRAIN_TIMEOUT", "must be a positive duration such as 30s")
	}
	if c.ShardRows < 1000 {
		bad("SYNTHOS_SHARD_ROWS", "%d is too small; use at least 1000 (default 1000000)", c.ShardRows)
	}
	if math.IsNaN(c.DPBudgetEpsilon) || math.IsInf(c.DPBudgetEpsilon, 0) || c.DPBudgetEpsilon < 0 || c.DPBudgetEpsilon > maxDPBudgetEpsilon {
		bad("SYNTHOS_DP_BUDGET_EPSILON", "%v is out of range; use 0 (no default budget) to %g, e.g. 10 (the default)", c.DPBudgetEpsilon, float64(maxDPBudgetEpsilon))
	}
	if !(c.DPBudgetDelta > 0 && c.DPBudgetDelta < 1) {
		bad("SYNTHOS_DP_BUDGET_DELTA", "%v is out of range; use a probability in (0, 1), well below 1/rows, e.g. 1e-9 (the default)", c.DPBudgetDelta)
	}
	if c.Workers < 0 || c.Workers > maxWorkers {
		bad("SYNTHOS_WORKERS", "%d is out of range; use 0 (twice the cores, at least 4) to %d", c.Workers, maxWorkers)
	}
	if c.SubscriptionWorkers < 0 || c.SubscriptionWorkers > maxWorkers || c.Workers > 0 && c.SubscriptionWorkers > c.Workers {
		bad("SYNTHOS_SUBSCRIPTION_WORKERS", "%d is out of range; use 0 (one less than the cores) to SYNTHOS_WORKERS", c.SubscriptionWorkers)
	}
	if math.IsNaN(c.PredictRowsPerSecond) || c.PredictRowsPerSecond < 0 || c.PredictRowsPerSecond > 1e9 {
		bad("SYNTHOS_PREDICT_ROWS_PER_SECOND", "%v is out of range; use 0 (unbounded) to 1e9, e.g. 200000 (the default)", c.PredictRowsPerSecond)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"SYNTHOS_COST_VCPU_SECOND", c.CostVCPUSecond}, {"SYNTHOS_COST_GIB_SECOND", c.CostGiBSecond},
		{"SYNTHOS_COST_VCPUS", c.CostVCPUs}, {"SYNTHOS_COST_GIB", c.CostGiB}} {
		if math.IsNaN(p.v) || math.IsInf(p.v, 0) || p.v < 0 {
			bad(p.name, "%v: want a number ≥ 0 (defaults: $0.000024 per vCPU-second, $0.0000025 per GiB-second, 1 vCPU, 2 GiB)", p.v)
		}
	}
	if c.VertexRegion != "" {
		if c.Project == "" {
			bad("SYNTHOS_VERTEX_REGION", "needs GOOGLE_CLOUD_PROJECT (the project Vertex AI models are deployed in)")
		}
		if !strings.HasPrefix(c.ObjectsURL, "gs://") {
			bad("SYNTHOS_VERTEX_REGION", "needs a gs:// SYNTHOS_OBJECTS_URL: Vertex AI reads model artifacts from Cloud Storage")
		}
		if strings.ContainsAny(c.VertexRegion, "/ .") {
			bad("SYNTHOS_VERTEX_REGION", "%q is not a region; use e.g. us-central1", c.VertexRegion)
		}
	}
	switch c.PushAuth {
	case "oidc", "none":
	default:
		bad("SYNTHOS_PUSH_AUTH", "%q is not supported; use oidc (production) or none (emulators only)", c.PushAuth)
	}
	for _, sa := range c.PushServiceAccounts {
		if at := strings.IndexByte(sa, '@'); at <= 0 || at == len(sa)-1 || strings.ContainsAny(sa, " \t") {
			bad("SYNTHOS_PUSH_SERVICE_ACCOUNTS", "%q is not a service account email; list emails such as synthos-pubsub-invoker@PROJECT.iam.gserviceaccount.com, comma-separated", sa)
		}
	}
	if c.MaxUploadBytes < 1<<20 || c.MaxUploadBytes > MaxUploadBytesLimit {
		bad("SYNTHOS_MAX_UPLOAD_BYTES", "%d is out of range; use a number of bytes from 1048576 (1 MiB) to %d (5 TiB, Cloud Storage's largest object), e.g. %d (5 GiB, the default)",
			c.MaxUploadBytes, int64(MaxUploadBytesLimit), int64(DefaultMaxUploadBytes))
	}
	if c.Lease < time.Second {
		bad("SYNTHOS_LEASE", "%v is too short; use at least 1s, e.g. 60s (the default)", c.Lease)
	}
	if c.QueueTimeout < c.Lease {
		bad("SYNTHOS_QUEUE_TIMEOUT", "%v is shorter than SYNTHOS_LEASE (%v); use e.g. 10m (the default)", c.QueueTimeout, c.Lease)
	}
	if c.ReapInterval < 100*time.Millisecond {
		bad("SYNTHOS_REAP_INTERVAL", "%v is too short; use e.g. 30s (the default)", c.ReapInterval)
	}
	if c.MaxResumes < 0 || c.MaxResumes > 100 {
		bad("SYNTHOS_MAX_RESUMES", "%d is out of range; use 0 to 100, e.g. 3 (the default)", c.MaxResumes)
	}
	if c.CancelPoll < 10*time.Millisecond || c.CancelPoll > c.Lease {
		bad("SYNTHOS_CANCEL_POLL", "%v is out of range; use 10ms to SYNTHOS_LEASE, e.g. 500ms (the default)", c.CancelPoll)
	}
	if c.ShardWindow < 1 || c.ShardWindow > 1000 {
		bad("SYNTHOS_SHARD_WINDOW", "%d is out of range; use 1 to 1000, e.g. 4 (the default)", c.ShardWindow)
	}
	if c.AuditKMSKey != "" && !kmsKeyVersion.MatchString(c.AuditKMSKey) {
		bad("SYNTHOS_AUDIT_KMS_KEY", "%q is not a KMS key version; use projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N of an EC_SIGN_ED25519 key", c.AuditKMSKey)
	}
	if c.AuditKeyName == "" || strings.ContainsAny(c.AuditKeyName, "+ \t\n") {
		bad("SYNTHOS_AUDIT_KEY_NAME", "%q is not a note key name; use letters, digits and punctuation other than +, e.g. synthos-audit (the default)", c.AuditKeyName)
	}
	if c.AuditBucket != "" {
		checkScheme("SYNTHOS_AUDIT_BUCKET", c.AuditBucket, []string{"gs", "file", "mem", "s3", "azblob"}, "gs://my-audit-archive (the locked bucket terraform builds)")
	}
	if c.AuditBundleRecords < 1 || c.AuditBundleRecords > 1_000_000 {
		bad("SYNTHOS_AUDIT_BUNDLE_RECORDS", "%d is out of range; use 1 to 1000000, e.g. 1000 (the default)", c.AuditBundleRecords)
	}
	switch {
	case c.KEKURI == "":
	case strings.HasPrefix(c.KEKURI, "gcp-kms://"):
		if !kmsKey.MatchString(strings.TrimPrefix(c.KEKURI, "gcp-kms://")) {
			bad("SYNTHOS_KEK_URI", "%q is not a KMS key; use gcp-kms://projects/P/locations/L/keyRings/R/cryptoKeys/K", c.KEKURI)
		}
	case strings.HasPrefix(c.KEKURI, "file://"):
		if strings.TrimPrefix(c.KEKURI, "file://") == "" {
			bad("SYNTHOS_KEK_URI", "file:// needs the path of the master keyset, e.g. file://.synthos/secrets/master-keyset.json")
		}
	default:
		bad("SYNTHOS_KEK_URI", "%q is not supported; use gcp-kms://projects/P/locations/L/keyRings/R/cryptoKeys/K (cloud) or file://PATH (a local master keyset)", c.KEKURI)
	}
	for _, r := range c.ComplianceRegimes {
		if !slices.Contains(complianceRegimes, r) {
			bad("SYNTHOS_COMPLIANCE_REGIMES", "unknown regime %q; list some of gdpr, hipaa, ccpa, e.g. gdpr,hipaa,ccpa (the default)", r)
		}
	}
	for tenant, v := range c.ComplianceTenantRegimes {
		for _, r := range strings.Split(v, "+") {
			if !slices.Contains(complianceRegimes, r) {
				bad("SYNTHOS_COMPLIANCE_TENANT_REGIMES", "tenant %s: unknown regime %q; write tenant:gdpr+hipaa,other:ccpa", tenant, r)
			}
		}
	}
	c.AI.validate(bad)
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		bad("SYNTHOS_REDIS_URL", "must be redis://HOST:PORT[/DB] or rediss:// (TLS), e.g. redis://10.0.0.3:6379; leave unset for in-process limits")
	}
	if c.TrustedProxies < 0 || c.TrustedProxies > 10 {
		bad("SYNTHOS_TRUSTED_PROXIES", "%d is out of range; use 0 (no proxy) to 10 (Cloud Functions behind Google's front end: 1; behind an external load balancer too: 2)", c.TrustedProxies)
	}
	for v, list := range map[string][]string{"SYNTHOS_IP_ALLOW": c.IPAllow, "SYNTHOS_IP_DENY": c.IPDeny} {
		for _, item := range list {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if _, err := netip.ParsePrefix(item); err != nil {
				if _, err := netip.ParseAddr(item); err != nil {
					bad(v, "%q is neither a CIDR nor an address; list items such as 203.0.113.0/24 or 2001:db8::/32, comma-separated", item)
				}
			}
		}
	}
	switch strings.ToLower(c.WAFMode) {
	case "block", "detect", "off":
	default:
		bad("SYNTHOS_WAF_MODE", "%q is not supported; use block (the default), detect (log only) or off", c.WAFMode)
	}
	if c.WAFParanoia < 1 || c.WAFParanoia > 4 {
		bad("SYNTHOS_WAF_PARANOIA", "%d is out of range; use 1 (the default, fewest false positives) to 4", c.WAFParanoia)
	}
	if c.WAFThreshold < 1 || c.WAFThreshold > 10000 {
		bad("SYNTHOS_WAF_ANOMALY_THRESHOLD", "%d is out of range; use 1 to 10000, e.g. 5 (the default: one critical match blocks)", c.WAFThreshold)
	}
	for v, n := range map[string]int{"SYNTHOS_RATE_IP_PER_MINUTE": c.RateIPPerMinute, "SYNTHOS_RATE_IP_BURST": c.RateIPBurst,
		"SYNTHOS_RATE_KEY_PER_MINUTE": c.RateKeyPerMinute, "SYNTHOS_RATE_KEY_BURST": c.RateKeyBurst,
		"SYNTHOS_RATE_TENANT_PER_MINUTE": c.RateTenantPerMinute, "SYNTHOS_AUTH_FAILURES_PER_MINUTE": c.AuthFailuresPerMinute} {
		if n < 0 || n > 100_000_000 {
			bad(v, "%d is out of range; use 0 (no limit) to 100000000", n)
		}
	}
	if c.BanBase <= 0 || c.BanMax < c.BanBase {
		bad("SYNTHOS_BAN_BASE", "%v (with SYNTHOS_BAN_MAX %v) is out of range; use a positive duration such as 1m, and a SYNTHOS_BAN_MAX at least as long, e.g. 24h", c.BanBase, c.BanMax)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w:\n  %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// validate checks the AI settings' syntax; package assist checks their
// meaning (known models, tasks) when it builds the router.
func (a *AI) validate(bad func(variable, format string, args ...any)) {
	for _, p := range a.Providers {
		if !slices.Contains(AIProviders, p) {
			bad("SYNTHOS_AI_PROVIDERS", "%q is not a provider; list some of %s, e.g. offline,gemini", p, strings.Join(AIProviders, ", "))
		}
	}
	pairs := func(variable string, items []string, example string) {
		for _, it := range items {
			if k, v, ok := strings.Cut(it, "="); !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
				bad(variable, "%q is not key=value; write e.g. %s", it, example)
			}
		}
	}
	pairs("SYNTHOS_AI_MODELS", a.Models, "gemini.design=gemini-2.5-pro,claude.text=claude-haiku-4-5")
	pairs("SYNTHOS_AI_POLICIES", a.Policies, "design=best_quality,text=cheapest")
	pairs("SYNTHOS_AI_ENSEMBLE", a.Ensemble, "design=2")
	pairs("SYNTHOS_AI_PRICES", a.Prices, "gemini-2.5-pro=1.25/10")
	pairs("SYNTHOS_AI_BUDGETS", a.Budgets, "free=1,pro=50")
	if a.Timeout <= 0 {
		bad("SYNTHOS_AI_TIMEOUT", "must be a positive duration such as 60s")
	}
	if a.MaxRetries < 0 || a.MaxRetries > 10 {
		bad("SYNTHOS_AI_MAX_RETRIES", "%d is out of range; use 0 to 10, e.g. 3 (the default)", a.MaxRetries)
	}
	if a.VertexLocation == "" || a.ClaudeVertexLocation == "" {
		bad("SYNTHOS_VERTEX_LOCATION", "must name a Vertex AI region such as us-central1 (Claude: us-east5)")
	}
}

// envNames rewrites envconfig's field names ("ReadyTimeout: ...") into the
// variable names a user sets ("SYNTHOS_READY_TIMEOUT: ...").
func envNames(msg string) string {
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		msg = strings.ReplaceAll(msg, f.Name+":", name+":")
	}
	return msg
}

// Level returns the slog level named by LogLevel.
func (c *Config) Level() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	return l, err
}
