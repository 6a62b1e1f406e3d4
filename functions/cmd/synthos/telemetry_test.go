package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	nooptrace "go.opentelemetry.io/otel/trace/noop"

	"synthos.dev/synthos/shared/obs"
)

// TestServeTracesOneJob runs one job over HTTP on the embedded bus and
// checks that every span of it, from the API request through each function
// the messages reach, shares the request's trace, with each consumer span a
// child of the publish that sent its message; and that /metrics counts the
// request by route template and the deliveries by subscription.
func TestServeTracesOneJob(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	shutdown, err := obs.SetupTracing(context.Background(), obs.TracingOptions{SpanExporter: exp, Service: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = shutdown(context.Background())
		otel.SetTracerProvider(nooptrace.NewTracerProvider())
	})

	base, _, stop, out := startLocal(t)
	key := printedKey(t, out)
	csv, err := os.ReadFile("../../../examples/insurance.csv")
	if err != nil {
		t.Fatalf("examples/insurance.csv: %v", err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "insurance.csv")
	fw.Write(csv)
	mw.Close()
	var ds struct{ ID string }
	do(t, "POST", base+"/v1/datasets", key, mw.FormDataContentType(), &body, &ds)

	jobReq := `{"dataset":"` + ds.ID + `","rows":200,"model":"copula","seed":1}`
	var job struct{ ID string }
	resp := do(t, "POST", base+"/v1/jobs", key, "application/json", strings.NewReader(jobReq), &job)
	tp, ok := obs.ParseTraceparent(resp.Header.Get("traceparent"))
	if !ok {
		t.Fatalf("no traceparent on the response: %q", resp.Header.Get("traceparent"))
	}
	state := ""
	for range 600 {
		var j struct{ State string }
		do(t, "GET", base+"/v1/jobs/"+job.ID, key, "", nil, &j)
		if state = j.State; state == "succeeded" || state == "failed" || state == "cancelled" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if state != "succeeded" {
		t.Fatalf("job %s is %s", job.ID, state)
	}
	// The Analytics consumer folded the finished job into today's usage.
	var usage struct {
		Buckets []struct {
			Jobs, Succeeded, Rows int64
		}
	}
	for range 100 {
		do(t, "GET", base+"/v1/analytics/usage", key, "", nil, &usage)
		if n := len(usage.Buckets); n > 0 && usage.Buckets[n-1].Jobs > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(usage.Buckets); n != 30 || usage.Buckets[n-1].Succeeded != 1 || usage.Buckets[n-1].Rows != 200 {
		t.Errorf("analytics usage of today = %+v, want the job's 200 rows", usage.Buckets)
	}
	var quality struct {
		Buckets []struct{ Quality *float64 }
	}
	do(t, "GET", base+"/v1/analytics/quality", key, "", nil, &quality)
	if q := quality.Buckets[len(quality.Buckets)-1].Quality; q == nil || *q <= 0 || *q > 1 {
		t.Errorf("analytics quality of today = %v, want the report's overall score", q)
	}
	scrape := do(t, "GET", base+"/metrics", "", "", nil, nil)
	metricsText, _ := io.ReadAll(scrape.Body)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Flush, not shut down: the in-memory exporter forgets its spans on
	// Shutdown.
	if err := otel.GetTracerProvider().(*sdktrace.TracerProvider).ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}

	spans := exp.GetSpans()
	byID := map[string]tracetest.SpanStub{}
	names := map[string]bool{}
	for _, s := range spans {
		if s.SpanContext.TraceID().String() != tp.TraceID {
			continue
		}
		byID[s.SpanContext.SpanID().String()] = s
		names[s.Name] = true
	}
	for _, want := range []string{"POST /v1/jobs", "send generate-requests", "process local-generate",
		"send privacy-checks", "process local-privacy", "send job-events", "process local-notify", "process local-analytics"} {
		if !names[want] {
			t.Errorf("trace %s has no span %q; it has %v", tp.TraceID, want, names)
		}
	}
	server, ok := byID[tp.SpanID]
	if !ok || server.Name != "POST /v1/jobs" {
		t.Fatalf("the response's traceparent does not name the server span: %+v", server.Name)
	}
	// Every consumer span's parent is a producer span of the same trace.
	for _, s := range byID {
		if !strings.HasPrefix(s.Name, "process ") {
			continue
		}
		parent, ok := byID[s.Parent.SpanID().String()]
		if !ok || !strings.HasPrefix(parent.Name, "send ") {
			t.Errorf("span %q: parent %s is not a publish of this trace", s.Name, s.Parent.SpanID())
		}
	}

	text := string(metricsText)
	for _, re := range []string{
		`synthos_http_requests_total\{method="POST",route="POST /v1/jobs",status="202"\} 1`,
		`synthos_pubsub_handle_duration_seconds_count\{outcome="ok",subscription="local-generate"\} [1-9]`,
		`synthos_jobs_total\{model="copula",state="succeeded"\} 1`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("/metrics lacks %s:\n%s", re, grepLines(text, "synthos_http_requests_total", "synthos_jobs_total"))
		}
	}
	if strings.Contains(text, job.ID) || strings.Contains(text, ds.ID) {
		t.Error("/metrics carries a job or dataset id")
	}
}

// do sends a request and decodes a JSON answer into v (when not nil); a
// non-2xx answer fails the test.
func do(t *testing.T, method, url, key, ctype string, body io.Reader, v any) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s = %d %s", method, url, resp.StatusCode, b)
	}
	if v != nil {
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
	return resp
}

func grepLines(text string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
			}
		}
	}
	return strings.Join(out, "\n")
}
