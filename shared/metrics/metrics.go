// Package metrics holds Synthos' OpenTelemetry instruments behind one small
// API that every package can call (metrics.Default().JobState(...)), and the
// exporters: a Prometheus /metrics handler locally, Cloud Monitoring in the
// cloud (see Setup).
//
// # Cardinality
//
// Every label value goes through a per-label limiter: values are cut to 64
// bytes of [a-z0-9_.-/{} ], and once a label has seen MaxValues distinct
// values every new one is recorded as "other". No instrument takes a tenant
// id, a job id or a raw URL path: HTTP requests are labelled with the route
// template the mux matched ("GET /v1/jobs/{id}"), never the path. Per-tenant
// figures live in the analytics store (shared/analytics), not in metrics.
//
// # Names
//
// Instruments are named synthos_<what> with a unit; the Prometheus exporter
// adds _total to counters and the unit suffix (synthos_http_request_duration_seconds),
// Cloud Monitoring stores them as workload.googleapis.com/<name> (Names lists
// them, and the Terraform test checks alert policies against it).
package metrics

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
)

// Instrument names (as created; see the package doc for the exported forms).
const (
	HTTPRequests       = "synthos_http_requests"
	HTTPDuration       = "synthos_http_request_duration"
	Jobs               = "synthos_jobs"
	RowsGenerated      = "synthos_rows_generated"
	FitDuration        = "synthos_fit_duration"
	SampleDuration     = "synthos_sample_duration"
	EpsilonSpent       = "synthos_dp_epsilon_spent"
	QuotaUsed          = "synthos_quota_used"
	WebhookDeliveries  = "synthos_webhook_deliveries"
	MessageDuration    = "synthos_pubsub_handle_duration"
	MessageRedelivered = "synthos_pubsub_redeliveries"
	DeadLetters        = "synthos_pubsub_dead_letters"
	SecurityEvents     = "synthos_security_events"
	ProviderCalls      = "synthos_ai_provider_calls"
	ProviderCost       = "synthos_ai_provider_cost"
	BudgetPauses       = "synthos_budget_guard_pauses"
	StuckJobs          = "synthos_jobs_reaped"
	DestinationWrites  = "synthos_destination_writes"
	DestinationLatency = "synthos_destination_write_duration"
	PredictDuration    = "synthos_model_predict_duration"
	PredictedRows      = "synthos_model_predicted_rows"
)

// Names lists every instrument, for checks that reference them (Terraform).
func Names() []string {
	return []string{HTTPRequests, HTTPDuration, Jobs, RowsGenerated, FitDuration, SampleDuration,
		EpsilonSpent, QuotaUsed, WebhookDeliveries, MessageDuration, MessageRedelivered, DeadLetters,
		SecurityEvents, ProviderCalls, ProviderCost, BudgetPauses, StuckJobs, DestinationWrites, DestinationLatency,
		PredictDuration, PredictedRows}
}

// MaxValues is how many distinct values one label keeps before new ones are
// recorded as "other".
const MaxValues = 100

// Other is the value a label takes past its limit, or when empty.
const Other = "other"

// durationBuckets are seconds from 1 ms to 1 h: HTTP requests sit at the
// low end, fits and samples at the high end.
var durationBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600}

// predictBuckets are seconds from 50 µs to 60 s: one row in process at the
// low end, a streamed table batch or a Vertex AI call at the high end.
var predictBuckets = []float64{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Recorder records every Synthos measurement. Its methods are safe for
// concurrent use; a Recorder built on a no-op provider costs next to nothing.
type Recorder struct {
	httpRequests  metric.Int64ObservableCounter
	httpDuration  metric.Float64Histogram
	jobs          metric.Int64Counter
	rows          metric.Int64Counter
	fit           metric.Float64Histogram
	sample        metric.Float64Histogram
	epsilon       metric.Float64Counter
	quota         metric.Int64Counter
	webhooks      metric.Int64Counter
	msgDuration   metric.Float64Histogram
	redeliveries  metric.Int64Counter
	deadLetters   metric.Int64Counter
	security      metric.Int64Counter
	providerCalls metric.Int64Counter
	providerCost  metric.Float64Counter
	budgetPauses  metric.Int64Counter
	reaped        metric.Int64Counter
	destWrites    metric.Int64Counter
	destLatency   metric.Float64Histogram
	predict       metric.Float64Histogram
	predictRows   metric.Int64Counter

	labels sync.Map // label key → *limiter
	sets   sync.Map // httpKey → *httpSeries (the hot path's attribute set and count)
	nsets  atomic.Int64

	// overflow counts requests whose series did not fit in sets.
	overflowMu sync.Mutex
	overflow   map[attribute.Distinct]*httpSeries
}

// httpSeries is one method × route × status: its attribute set, and its
// request count, which the hot path bumps with one atomic add and
// collection reads (the SDK's synchronous counter costs a few hundred
// nanoseconds per request: option building, attribute de-duplication, a
// map lookup).
type httpSeries struct {
	opt   metric.MeasurementOption
	attrs attribute.Set
	n     atomic.Int64
}

// New creates the instruments on mp's meter.
func New(mp metric.MeterProvider) (*Recorder, error) {
	m := mp.Meter("synthos.dev/synthos/shared/metrics")
	r := &Recorder{}
	var err error
	c := func(name, unit, desc string) metric.Int64Counter {
		if err != nil {
			return nil
		}
		var i metric.Int64Counter
		i, err = m.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		return i
	}
	fc := func(name, unit, desc string) metric.Float64Counter {
		if err != nil {
			return nil
		}
		var i metric.Float64Counter
		i, err = m.Float64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		return i
	}
	h := func(name, desc string) metric.Float64Histogram {
		if err != nil {
			return nil
		}
		var i metric.Float64Histogram
		i, err = m.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(durationBuckets...))
		return i
	}
	if err == nil {
		r.httpRequests, err = m.Int64ObservableCounter(HTTPRequests, metric.WithUnit("{request}"),
			metric.WithDescription("HTTP requests served, by method, route template and status"),
			metric.WithInt64Callback(r.observeHTTP))
	}
	r.httpDuration = h(HTTPDuration, "HTTP request latency, by method, route template and status")
	r.jobs = c(Jobs, "{job}", "Job state changes, by state and model")
	r.rows = c(RowsGenerated, "{row}", "Synthetic rows written, by model")
	r.fit = h(FitDuration, "Model fit time, by model")
	r.sample = h(SampleDuration, "Sampling time of one shard, by model")
	r.epsilon = fc(EpsilonSpent, "1", "Differential-privacy epsilon charged to budgets, by model")
	r.quota = c(QuotaUsed, "{row}", "Rows committed against plan quotas, by model")
	r.webhooks = c(WebhookDeliveries, "{delivery}", "Outbound webhook delivery attempts, by outcome")
	r.msgDuration = h(MessageDuration, "Pub/Sub message handling time, by subscription and outcome")
	r.redeliveries = c(MessageRedelivered, "{message}", "Pub/Sub deliveries after the first, by subscription")
	r.deadLetters = c(DeadLetters, "{message}", "Messages given up on and dead-lettered, by subscription")
	r.security = c(SecurityEvents, "{event}", "Security events (denials, bad signatures, WAF blocks, bans), by kind")
	r.providerCalls = c(ProviderCalls, "{call}", "AI provider calls, by provider, model and outcome")
	r.providerCost = fc(ProviderCost, "USD", "AI provider cost in US dollars, by provider and model")
	r.budgetPauses = c(BudgetPauses, "{pause}", "Generation paused by the budget guard, by reason")
	r.reaped = c(StuckJobs, "{job}", "Jobs the reaper found past their lease, by outcome (resumed, failed)")
	r.destWrites = c(DestinationWrites, "{write}", "Object writes to storage destinations (tenants' buckets and the platform's), by provider and outcome")
	r.destLatency = h(DestinationLatency, "Time of one object write to a storage destination, by provider")
	if err == nil {
		// Predictions sit far below HTTP requests: a single row takes
		// microseconds in process, so the buckets start at 50 µs.
		r.predict, err = m.Float64Histogram(PredictDuration, metric.WithUnit("s"),
			metric.WithDescription("Custom-model prediction request latency, by framework, mode (json, table, vertex) and outcome"),
			metric.WithExplicitBucketBoundaries(predictBuckets...))
	}
	r.predictRows = c(PredictedRows, "{row}", "Rows predicted by custom models, by framework and mode")
	if err != nil {
		return nil, err
	}
	return r, nil
}

var def atomic.Pointer[Recorder]

func init() {
	r, _ := New(noop.NewMeterProvider()) // cannot fail on the no-op provider
	def.Store(r)
}

// Default returns the process-wide Recorder: a no-op one until SetDefault
// (Setup calls it).
func Default() *Recorder { return def.Load() }

// SetDefault installs r as the process-wide Recorder and returns a function
// that restores the previous one (tests).
func SetDefault(r *Recorder) (restore func()) {
	old := def.Swap(r)
	return func() { def.Store(old) }
}

// label bounds v for label key.
func (r *Recorder) label(key, v string) string {
	l, ok := r.labels.Load(key)
	if !ok {
		l, _ = r.labels.LoadOrStore(key, &limiter{})
	}
	return l.(*limiter).admit(v)
}

func (r *Recorder) attrs(kv ...string) metric.MeasurementOption {
	return metric.WithAttributeSet(r.attrSet(kv...))
}

func (r *Recorder) attrSet(kv ...string) attribute.Set {
	a := make([]attribute.KeyValue, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		a = append(a, attribute.String(kv[i], r.label(kv[i], kv[i+1])))
	}
	return attribute.NewSet(a...)
}

type httpKey struct {
	method, route string
	status        int
}

// maxHTTPSets bounds the cache of HTTP attribute sets (methods × routes ×
// statuses actually seen); past it sets are built per request.
const maxHTTPSets = 4096

// HTTPRequest records one served request. route is the mux pattern that
// matched ("GET /v1/jobs/{id}"), "" when none did; never the raw path.
func (r *Recorder) HTTPRequest(ctx context.Context, method, route string, status int, d time.Duration) {
	k := httpKey{method, route, status}
	v, ok := r.sets.Load(k)
	if !ok {
		v = r.newHTTPSeries(k)
	}
	s := v.(*httpSeries)
	s.n.Add(1)
	r.httpDuration.Record(ctx, d.Seconds(), s.opt)
}

// newHTTPSeries returns k's series, cached in sets while they hold fewer
// than maxHTTPSets, else in overflow by attribute set (bounded by the
// label limits).
func (r *Recorder) newHTTPSeries(k httpKey) any {
	route := k.route
	if route == "" {
		route = "unmatched"
	}
	attrs := r.attrSet("method", httpMethod(k.method), "route", route, "status", strconv.Itoa(k.status))
	s := &httpSeries{opt: metric.WithAttributeSet(attrs), attrs: attrs}
	if r.nsets.Load() < maxHTTPSets {
		v, loaded := r.sets.LoadOrStore(k, s)
		if !loaded {
			r.nsets.Add(1)
		}
		return v
	}
	r.overflowMu.Lock()
	defer r.overflowMu.Unlock()
	if o, ok := r.overflow[attrs.Equivalent()]; ok {
		return o
	}
	if r.overflow == nil {
		r.overflow = map[attribute.Distinct]*httpSeries{}
	}
	r.overflow[attrs.Equivalent()] = s
	return s
}

// observeHTTP reports the request counts at collection. Two keys may map
// to one attribute set (methods folded into "other"): their counts add up.
func (r *Recorder) observeHTTP(_ context.Context, o metric.Int64Observer) error {
	sums := map[attribute.Distinct]*struct {
		attrs attribute.Set
		n     int64
	}{}
	add := func(s *httpSeries) {
		e := sums[s.attrs.Equivalent()]
		if e == nil {
			e = &struct {
				attrs attribute.Set
				n     int64
			}{attrs: s.attrs}
			sums[s.attrs.Equivalent()] = e
		}
		e.n += s.n.Load()
	}
	r.sets.Range(func(_, v any) bool { add(v.(*httpSeries)); return true })
	r.overflowMu.Lock()
	for _, s := range r.overflow {
		add(s)
	}
	r.overflowMu.Unlock()
	for _, e := range sums {
		o.Observe(e.n, metric.WithAttributeSet(e.attrs))
	}
	return nil
}

func httpMethod(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return Other
}

// JobState records a job entering state (queued, running states, succeeded,
// failed, cancelled) for model.
func (r *Recorder) JobState(ctx context.Context, state, model string) {
	r.jobs.Add(ctx, 1, r.attrs("state", state, "model", model))
}

// Rows records n synthetic rows written by model.
func (r *Recorder) Rows(ctx context.Context, model string, n int64) {
	if n > 0 {
		r.rows.Add(ctx, n, r.attrs("model", model))
	}
}

// Fit records the time model took to fit.
func (r *Recorder) Fit(ctx context.Context, model string, d time.Duration) {
	r.fit.Record(ctx, d.Seconds(), r.attrs("model", model))
}

// Sample records the time one shard of model took to sample.
func (r *Recorder) Sample(ctx context.Context, model string, d time.Duration) {
	r.sample.Record(ctx, d.Seconds(), r.attrs("model", model))
}

// Epsilon records epsilon charged to a privacy budget by model.
func (r *Recorder) Epsilon(ctx context.Context, model string, eps float64) {
	if eps > 0 {
		r.epsilon.Add(ctx, eps, r.attrs("model", model))
	}
}

// Quota records rows committed against tenants' plan quotas, by the model
// that produced them.
func (r *Recorder) Quota(ctx context.Context, model string, rows int64) {
	if rows > 0 {
		r.quota.Add(ctx, rows, r.attrs("model", model))
	}
}

// Webhook records one outbound webhook attempt: outcome is "delivered",
// "failed" (will retry) or "gave_up".
func (r *Recorder) Webhook(ctx context.Context, outcome string) {
	r.webhooks.Add(ctx, 1, r.attrs("outcome", outcome))
}

// Message records one Pub/Sub delivery handled by subscription: its
// handling time, whether it failed, and a redelivery when attempt > 1.
func (r *Recorder) Message(ctx context.Context, subscription string, attempt int, err error, d time.Duration) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	sub := shortSubscription(subscription)
	r.msgDuration.Record(ctx, d.Seconds(), r.attrs("subscription", sub, "outcome", outcome))
	if attempt > 1 {
		r.redeliveries.Add(ctx, 1, r.attrs("subscription", sub))
	}
}

// DeadLetter records a message dead-lettered from subscription.
func (r *Recorder) DeadLetter(ctx context.Context, subscription string) {
	r.deadLetters.Add(ctx, 1, r.attrs("subscription", shortSubscription(subscription)))
}

// SecurityEvent records a security event of kind (denied, bad_signature,
// waf_block, rate_limited, ban...).
func (r *Recorder) SecurityEvent(ctx context.Context, kind string) {
	r.security.Add(ctx, 1, r.attrs("kind", kind))
}

// DestinationWrite records one object write to a storage destination:
// provider is gs, s3, azblob or platform (never a destination id: tenants'
// buckets would make the label unbounded), outcome ok or error.
func (r *Recorder) DestinationWrite(ctx context.Context, provider, outcome string, d time.Duration) {
	r.destWrites.Add(ctx, 1, r.attrs("provider", provider, "outcome", outcome))
	r.destLatency.Record(ctx, d.Seconds(), r.attrs("provider", provider))
}

// ProviderCall records one AI provider call and its cost in US dollars.
func (r *Recorder) ProviderCall(ctx context.Context, provider, model, outcome string, costUSD float64) {
	r.providerCalls.Add(ctx, 1, r.attrs("provider", provider, "model", model, "outcome", outcome))
	if costUSD > 0 {
		r.providerCost.Add(ctx, costUSD, r.attrs("provider", provider, "model", model))
	}
}

// BudgetPause records the budget guard pausing generation for reason.
func (r *Recorder) BudgetPause(ctx context.Context, reason string) {
	r.budgetPauses.Add(ctx, 1, r.attrs("reason", reason))
}

// Reaped records jobs the reaper found past their lease: outcome is
// "resumed" or "failed".
func (r *Recorder) Reaped(ctx context.Context, outcome string, n int) {
	if n > 0 {
		r.reaped.Add(ctx, int64(n), r.attrs("outcome", outcome))
	}
}

// shortSubscription keeps a subscription's id from its full name
// ("projects/p/subscriptions/generate" → "generate").
func shortSubscription(s string) string {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return s[i+1:]
		}
	}
	return s
}

// limiter admits up to MaxValues distinct values of one label.
type limiter struct {
	seen sync.Map // string → struct{}
	n    atomic.Int64
}

func (l *limiter) admit(v string) string {
	v = clean(v)
	if v == Other {
		return v
	}
	if _, ok := l.seen.Load(v); ok {
		return v
	}
	if l.n.Add(1) > MaxValues {
		l.n.Add(-1)
		return Other
	}
	if _, loaded := l.seen.LoadOrStore(v, struct{}{}); loaded {
		l.n.Add(-1)
	}
	return v
}

// clean keeps label values short and printable: at most 64 bytes of
// lowercase letters, digits and _.-/{} and space (route templates).
func clean(v string) string {
	if v == "" {
		return Other
	}
	ok := len(v) <= 64
	for i := 0; ok && i < len(v); i++ {
		c := v[i]
		ok = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == '/' || c == '{' || c == '}' || c == ' '
	}
	if ok {
		return v
	}
	b := make([]byte, 0, 64)
	for i := 0; i < len(v) && len(b) < 64; i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' || c == '/' || c == '{' || c == '}' || c == ' ' {
			b = append(b, c)
		} else {
			b = append(b, '_')
		}
	}
	return string(b)
}

// Prediction records one custom-model prediction request: framework is the
// model's (xgboost, lightgbm, or the deployed one's), mode json, table or
// vertex, outcome ok, invalid, rate_limited or error. No label names the
// tenant or the model: both are unbounded.
func (r *Recorder) Prediction(ctx context.Context, framework, mode, outcome string, rows int, d time.Duration) {
	r.predict.Record(ctx, d.Seconds(), r.attrs("framework", framework, "mode", mode, "outcome", outcome))
	if rows > 0 && outcome == "ok" {
		r.predictRows.Add(ctx, int64(rows), r.attrs("framework", framework, "mode", mode))
	}
}
