package metrics

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"synthos.dev/synthos/internal/cputime"
)

func setupProm(t testing.TB, limit int) *Provider {
	t.Helper()
	p, err := Setup(context.Background(), Options{Exporter: ExportPrometheus, Service: "test", CardinalityLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

func scrape(t testing.TB, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

// families returns the metric family names of a text exposition.
func families(text string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if name, ok := strings.CutPrefix(line, "# TYPE "); ok {
			out[strings.Fields(name)[0]] = true
		}
	}
	return out
}

func TestPrometheusExposition(t *testing.T) {
	p := setupProm(t, 0)
	r, ctx := p.Recorder, context.Background()
	r.HTTPRequest(ctx, "GET", "GET /v1/jobs/{id}", 200, 3*time.Millisecond)
	r.JobState(ctx, "succeeded", "tree")
	r.Rows(ctx, "tree", 1000)
	r.Fit(ctx, "tree", 2*time.Second)
	r.Sample(ctx, "tree", time.Second)
	r.Epsilon(ctx, "dp", 0.5)
	r.Quota(ctx, "tree", 1000)
	r.Webhook(ctx, "delivered")
	r.Message(ctx, "projects/p/subscriptions/generate", 2, errors.New("x"), 40*time.Millisecond)
	r.DeadLetter(ctx, "generate")
	r.SecurityEvent(ctx, "denied")
	r.ProviderCall(ctx, "anthropic", "claude", "ok", 0.0125)
	r.BudgetPause(ctx, "budget_exceeded")
	r.Reaped(ctx, "resumed", 2)
	r.DestinationWrite(ctx, "s3", "error", 30*time.Millisecond)
	r.Prediction(ctx, "xgboost", "json", "ok", 3, 300*time.Microsecond)
	r.Prediction(ctx, "xgboost", "json", "rate_limited", 3, time.Millisecond)

	text := scrape(t, p.Handler)
	fams := families(text)
	want := []string{
		"synthos_http_requests_total", "synthos_http_request_duration_seconds", "synthos_jobs_total",
		"synthos_rows_generated_total", "synthos_fit_duration_seconds", "synthos_sample_duration_seconds",
		"synthos_dp_epsilon_spent_total", "synthos_quota_used_total", "synthos_webhook_deliveries_total",
		"synthos_pubsub_handle_duration_seconds", "synthos_pubsub_redeliveries_total",
		"synthos_pubsub_dead_letters_total", "synthos_security_events_total", "synthos_ai_provider_calls_total",
		"synthos_ai_provider_cost_USD_total", "synthos_budget_guard_pauses_total", "synthos_jobs_reaped_total",
		"synthos_destination_writes_total", "synthos_destination_write_duration_seconds",
		"synthos_model_predict_duration_seconds", "synthos_model_predicted_rows_total",
	}
	for _, w := range want {
		if !fams[w] {
			t.Errorf("no family %s in the scrape; families: %v", w, fams)
		}
	}
	for f := range fams {
		if !strings.HasPrefix(f, "synthos_") {
			t.Errorf("family %s lacks the synthos_ prefix", f)
		}
	}
	if len(fams) != len(Names()) {
		t.Errorf("%d families, %d names: keep Names in step with the instruments", len(fams), len(Names()))
	}
	for _, line := range []string{
		`synthos_http_requests_total{method="GET",route="GET /v1/jobs/{id}",status="200"} 1`,
		`synthos_rows_generated_total{model="tree"} 1000`,
		`synthos_pubsub_redeliveries_total{subscription="generate"} 1`,
		`synthos_pubsub_handle_duration_seconds_count{outcome="error",subscription="generate"} 1`,
		`synthos_jobs_reaped_total{outcome="resumed"} 2`,
		`synthos_destination_writes_total{outcome="error",provider="s3"} 1`,
		// Rows count successes only; the 300 µs request lands in the
		// 500 µs bucket (the sub-millisecond buckets exist).
		`synthos_model_predicted_rows_total{framework="xgboost",mode="json"} 3`,
		`synthos_model_predict_duration_seconds_bucket{framework="xgboost",mode="json",outcome="ok",le="0.0005"} 1`,
		`synthos_model_predict_duration_seconds_bucket{framework="xgboost",mode="json",outcome="ok",le="0.00025"} 0`,
		`synthos_model_predict_duration_seconds_count{framework="xgboost",mode="json",outcome="rate_limited"} 1`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("scrape lacks %q:\n%s", line, text)
		}
	}
}

// TestCardinalityBounded feeds 10,000 distinct tenant-like values into
// every label and checks the series stay bounded and none of them leaks.
func TestCardinalityBounded(t *testing.T) {
	p := setupProm(t, 0)
	r, ctx := p.Recorder, context.Background()
	const n = 10000
	for i := range n {
		tenant := fmt.Sprintf("tenant-%05d", i)
		r.HTTPRequest(ctx, "BREW", "", 200+i%3, time.Millisecond) // unknown method, no route
		r.JobState(ctx, "succeeded", tenant)
		r.SecurityEvent(ctx, tenant)
		r.Message(ctx, "projects/p/subscriptions/"+tenant, 1, nil, time.Millisecond)
	}
	text := scrape(t, p.Handler)
	count := map[string]int{}
	leaked := 0
	for _, line := range strings.Split(text, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		name := line[:strings.IndexAny(line, "{ ")]
		count[name]++
		if strings.Contains(line, "tenant-0") && !strings.Contains(line, `"tenant-000`) {
			// Admitted values are the first MaxValues (tenant-00000..00099).
			leaked++
		}
	}
	if leaked > 0 {
		t.Errorf("%d series carry values past the label limit", leaked)
	}
	checks := map[string]int{
		"synthos_http_requests_total":                  3, // other × unmatched × 3 statuses
		"synthos_jobs_total":                           MaxValues + 1,
		"synthos_security_events_total":                MaxValues + 1,
		"synthos_pubsub_handle_duration_seconds_count": MaxValues + 1,
	}
	for name, want := range checks {
		if count[name] != want {
			t.Errorf("%s: %d series, want %d", name, count[name], want)
		}
	}
	if !strings.Contains(text, `synthos_jobs_total{model="other",state="succeeded"} 9900`) {
		t.Errorf("values past the limit are not folded into other")
	}
	if !strings.Contains(text, `method="other",route="unmatched"`) {
		t.Errorf("unknown methods and unmatched routes are not folded")
	}
}

func TestClean(t *testing.T) {
	long := strings.Repeat("a", 100)
	for _, tc := range []struct{ in, want string }{
		{"", Other},
		{"tree", "tree"},
		{"GET /v1/jobs/{id}", "GET /v1/jobs/{id}"},
		{"a\"b\nc", "a_b_c"},
		{long, long[:64]},
	} {
		if got := clean(tc.in); got != tc.want {
			t.Errorf("clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestSetupErrors(t *testing.T) {
	if _, err := Setup(context.Background(), Options{Exporter: "statsd"}); err == nil {
		t.Error("unknown exporter accepted")
	}
	if _, err := Setup(context.Background(), Options{Exporter: ExportGCP}); err == nil {
		t.Error("gcp exporter without a project accepted")
	}
	p, err := Setup(context.Background(), Options{Exporter: ExportNone})
	if err != nil || p.Handler != nil {
		t.Fatalf("none: %v %v", p, err)
	}
	p.Recorder.JobState(context.Background(), "queued", "tree") // no-op, no panic
}

func TestSetDefault(t *testing.T) {
	p := setupProm(t, 0)
	restore := SetDefault(p.Recorder)
	if Default() != p.Recorder {
		t.Fatal("SetDefault did not install")
	}
	restore()
	if Default() == p.Recorder {
		t.Fatal("restore did not restore")
	}
}

func BenchmarkHTTPRequest(b *testing.B) {
	p := setupProm(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p.Recorder.HTTPRequest(ctx, "GET", "GET /v1/jobs/{id}", 200, time.Millisecond)
		}
	})
}

func BenchmarkJobState(b *testing.B) {
	p := setupProm(b, 0)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p.Recorder.JobState(ctx, "succeeded", "tree")
	}
}

// BenchmarkScrape10k times one /metrics scrape of 10,000 series.
func BenchmarkScrape10k(b *testing.B) {
	p := setupProm(b, 20000)
	c, err := p.mp.Meter("bench").Int64Counter("synthos_bench")
	if err != nil {
		b.Fatal(err)
	}
	for i := range 10000 {
		c.Add(context.Background(), 1, metric.WithAttributes(attribute.Int("series", i)))
	}
	text := scrape(b, p.Handler)
	if n := strings.Count(text, "synthos_bench_total{"); n != 10000 {
		b.Fatalf("%d series, want 10000", n)
	}
	// "plain" as curl asks; "gzip" as Prometheus asks (it sends
	// Accept-Encoding: gzip), compression included.
	for _, enc := range []string{"plain", "gzip"} {
		b.Run(enc, func(b *testing.B) {
			req := httptest.NewRequest("GET", "/metrics", nil)
			if enc == "gzip" {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			b.ReportAllocs()
			cpu0 := cputime.Process()
			for b.Loop() {
				rec := httptest.NewRecorder()
				p.Handler.ServeHTTP(rec, req)
				if rec.Code != 200 {
					b.Fatal(rec.Code)
				}
			}
			// CPU time per scrape: on a shared, loaded machine wall time
			// per op measures the queue for a core as much as the work.
			b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// TestExpositionMatchesExporter records the same measurements through our
// text encoder and through go.opentelemetry.io/otel/exporters/prometheus
// (the exporter the issue names, configured as Setup used to configure it)
// on one meter provider, and checks the two scrapes hold the same lines:
// same family names, HELP and TYPE, labels, buckets and values.
func TestExpositionMatchesExporter(t *testing.T) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		t.Fatal(err)
	}
	manual := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithReader(manual))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	r, err := New(mp)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 50 {
		r.HTTPRequest(ctx, "GET", fmt.Sprintf("GET /v1/r%d/{id}", i%7), 200+i%3*100, time.Duration(i)*time.Millisecond)
	}
	r.HTTPRequest(ctx, "BREW", "", 404, 0)
	r.JobState(ctx, "succeeded", "tree")
	r.Rows(ctx, "tree", 1<<40) // large counts render as the exporter renders them
	r.Fit(ctx, "tree", 2*time.Second)
	r.Sample(ctx, "tree", time.Hour+time.Second) // past the last bucket
	r.Epsilon(ctx, "dp", 0.1)
	r.Epsilon(ctx, "dp", 0.2) // 0.30000000000000004: shortest round-trip formatting
	r.Quota(ctx, "tree", 1000)
	r.Webhook(ctx, "delivered")
	r.Message(ctx, "projects/p/subscriptions/generate", 2, errors.New("x"), 40*time.Millisecond)
	r.DeadLetter(ctx, "generate")
	r.SecurityEvent(ctx, `we"ird\kind`+"\n") // cleaned, but the encoder must escape whatever it gets
	r.ProviderCall(ctx, "anthropic", "claude", "ok", 0.0125)
	r.BudgetPause(ctx, "budget_exceeded")
	r.Reaped(ctx, "resumed", 2)
	r.DestinationWrite(ctx, "s3", "error", 30*time.Millisecond)
	r.Prediction(ctx, "xgboost", "json", "ok", 3, 300*time.Microsecond)
	// Instruments outside the Recorder: an up-down counter, a gauge, a
	// float histogram with its own unit, raw label values needing escapes.
	m := mp.Meter("other")
	ud, _ := m.Int64UpDownCounter("synthos_test_inflight", metric.WithUnit("{request}"), metric.WithDescription("in flight\\now"))
	ud.Add(ctx, -3, metric.WithAttributes(attribute.String("q", "a\"b\\c\nd")))
	g, _ := m.Float64Gauge("synthos_test_temp", metric.WithUnit("Cel"))
	g.Record(ctx, 21.5)
	hb, _ := m.Int64Histogram("synthos_test_bytes", metric.WithUnit("By"), metric.WithExplicitBucketBoundaries(1e-5, 1, 1e6))
	hb.Record(ctx, 7, metric.WithAttributes(attribute.Int("n", 3), attribute.Bool("ok", true)))

	lines := func(h http.Handler) []string {
		var out []string
		for _, l := range strings.Split(scrape(t, h), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
		sort.Strings(out)
		return out
	}
	ours := lines(newExposition(manual))
	theirs := lines(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if len(ours) < 100 {
		t.Fatalf("only %d lines: %v", len(ours), ours)
	}
	if d := diffLines(ours, theirs); d != "" {
		t.Errorf("our exposition differs from the exporter's (-ours +exporter):\n%s", d)
	}
}

func diffLines(a, b []string) string {
	in := func(s []string) map[string]int {
		m := map[string]int{}
		for _, l := range s {
			m[l]++
		}
		return m
	}
	ma, mb := in(a), in(b)
	var d []string
	for l, n := range ma {
		if mb[l] != n {
			d = append(d, "-"+l)
		}
	}
	for l, n := range mb {
		if ma[l] != n {
			d = append(d, "+"+l)
		}
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}

// TestExpositionOrderAndGzip checks a scrape is deterministic (series sorted
// by labels, whatever order the SDK hands them over in) and that a scraper
// asking for gzip (Prometheus does) gets the same text compressed.
func TestExpositionOrderAndGzip(t *testing.T) {
	p := setupProm(t, 0)
	ctx := context.Background()
	for _, m := range []string{"zeta", "alpha", "mid", "beta"} {
		p.Recorder.Rows(ctx, m, 1)
	}
	first := scrape(t, p.Handler)
	want := "synthos_rows_generated_total{model=\"alpha\"} 1\nsynthos_rows_generated_total{model=\"beta\"} 1\n" +
		"synthos_rows_generated_total{model=\"mid\"} 1\nsynthos_rows_generated_total{model=\"zeta\"} 1\n"
	if !strings.Contains(first, want) {
		t.Errorf("series not sorted by labels:\n%s", first)
	}
	for i := range 5 {
		if again := scrape(t, p.Handler); again != first {
			t.Fatalf("scrape %d differs from the first:\n%s\nvs\n%s", i, again, first)
		}
	}
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"gzip", true},
		{"deflate, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"identity", false},
		{"", false},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header.Set("Accept-Encoding", tc.accept)
		p.Handler.ServeHTTP(rec, req)
		body := rec.Body.Bytes()
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.gzip {
			t.Fatalf("Accept-Encoding %q: gzip = %v, want %v", tc.accept, got, tc.gzip)
		}
		if tc.gzip {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%q: %v", tc.accept, err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%q: %v", tc.accept, err)
			}
		}
		if string(body) != first {
			t.Errorf("Accept-Encoding %q: body differs from the plain scrape", tc.accept)
		}
	}
}

// TestHTTPCounts checks the request counter, which the hot path keeps in
// atomics per method × route × status and reports at collection: keys that
// fold into one series add up (unknown methods, routes past the label
// limit, including those past the cache of maxHTTPSets keys), and the count
// agrees with the latency histogram's.
func TestHTTPCounts(t *testing.T) {
	tests := []struct {
		name  string
		calls func(r *Recorder)
		want  []string
	}{
		{"folded methods", func(r *Recorder) {
			r.HTTPRequest(context.Background(), "BREW", "GET /x", 200, time.Millisecond)
			r.HTTPRequest(context.Background(), "MAKE", "GET /x", 200, time.Millisecond)
			r.HTTPRequest(context.Background(), "GET", "GET /x", 200, time.Millisecond)
		}, []string{
			`synthos_http_requests_total{method="other",route="GET /x",status="200"} 2`,
			`synthos_http_requests_total{method="GET",route="GET /x",status="200"} 1`,
			`synthos_http_request_duration_seconds_count{method="other",route="GET /x",status="200"} 2`,
		}},
		{"past the cache", func(r *Recorder) {
			// 6,000 distinct routes: the first MaxValues keep their name,
			// the rest fold into "other"; keys past maxHTTPSets take the
			// overflow path.
			for i := range 6000 {
				r.HTTPRequest(context.Background(), "GET", fmt.Sprintf("GET /r%d", i), 200, time.Millisecond)
			}
		}, []string{
			`synthos_http_requests_total{method="GET",route="GET /r0",status="200"} 1`,
			fmt.Sprintf(`synthos_http_requests_total{method="GET",route="other",status="200"} %d`, 6000-MaxValues),
			fmt.Sprintf(`synthos_http_request_duration_seconds_count{method="GET",route="other",status="200"} %d`, 6000-MaxValues),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := setupProm(t, 0)
			tc.calls(p.Recorder)
			text := scrape(t, p.Handler)
			for _, w := range tc.want {
				if !strings.Contains(text, w+"\n") {
					t.Errorf("scrape lacks %q", w)
				}
			}
			// A second scrape reports the same cumulative counts.
			if again := scrape(t, p.Handler); again != text {
				t.Error("a second scrape differs")
			}
		})
	}
}
