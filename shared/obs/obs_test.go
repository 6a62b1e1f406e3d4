package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, header, value string
		wantTrace, wantSpan string
		wantSampled, ok     bool
	}{
		{"traceparent", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true, true},
		{"traceparent unsampled", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", false, true},
		{"traceparent zero trace", "traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "", "", false, false},
		{"traceparent garbage", "traceparent", "hello", "", "", false, false},
		{"traceparent upper case", "traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true, true},
		{"traceparent later version, more fields", "traceparent", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-xyz", "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", true, true},
		{"traceparent flags too long", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-011", "", "", false, false},
		{"traceparent short span", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902-01", "", "", false, false},
		{"traceparent not hex", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e47zz-00f067aa0ba902b7-01", "", "", false, false},
		{"traceparent misplaced dash", "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736000f067aa0ba902b-7-01", "", "", false, false},
		{"traceparent bad version", "traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "", false, false},
		{"cloud trace", "X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1", "105445aa7843bc8bf206b12000100000", "0000000000000001", true, true},
		{"cloud trace no span", "X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000", "105445aa7843bc8bf206b12000100000", "", false, true},
		{"cloud trace short", "X-Cloud-Trace-Context", "abc/1;o=1", "", "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got Trace
			var ok bool
			if tc.header == "traceparent" {
				got, ok = ParseTraceparent(tc.value)
			} else {
				got, ok = ParseCloudTraceContext(tc.value)
			}
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tc.ok, got)
			}
			if !ok {
				return
			}
			if got.TraceID != tc.wantTrace || got.SpanID != tc.wantSpan || got.Sampled != tc.wantSampled {
				t.Errorf("got %+v, want trace %s span %s sampled %v", got, tc.wantTrace, tc.wantSpan, tc.wantSampled)
			}
		})
	}
}

func TestFromRequestPrefersTraceparent(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1")
	r.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if got := FromRequest(r); got.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("trace = %s", got.TraceID)
	}
	r.Header.Del("traceparent")
	if got := FromRequest(r); got.TraceID != "105445aa7843bc8bf206b12000100000" {
		t.Errorf("trace = %s", got.TraceID)
	}
	r.Header.Del("X-Cloud-Trace-Context")
	if got := FromRequest(r); !got.Valid() {
		t.Errorf("a request without headers must get a fresh valid trace, got %+v", got)
	}
}

// TestCorrelationAcrossHops follows one trace id from an HTTP request, into
// message attributes, out of them on the consumer side, and into its log line.
func TestCorrelationAcrossHops(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := NewLogger(&buf, slog.LevelInfo, "my-project")
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"

	var attrs map[string]string
	h := Middleware(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attrs = InjectAttributes(r.Context(), map[string]string{"job": "j1"})
	}))
	req := httptest.NewRequest("POST", "/v1/jobs", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !strings.Contains(rec.Header().Get("traceparent"), traceID) {
		t.Errorf("response traceparent %q lacks the trace", rec.Header().Get("traceparent"))
	}
	if attrs["job"] != "j1" || !strings.Contains(attrs[AttrTraceparent], traceID) {
		t.Fatalf("attributes = %v", attrs)
	}

	// Downstream consumer.
	buf.Reset()
	ctx := ExtractAttributes(context.Background(), attrs)
	l.InfoContext(ctx, "consumed", "job", "j1")
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line is not JSON: %v: %s", err, buf.String())
	}
	if line[FieldTrace] != "projects/my-project/traces/"+traceID {
		t.Errorf("trace field = %v", line[FieldTrace])
	}
	if line[FieldSeverity] != "INFO" || line[FieldMessage] != "consumed" {
		t.Errorf("line = %v", line)
	}
	if span, _ := line[FieldSpanID].(string); len(span) != 16 || span == "00f067aa0ba902b7" {
		t.Errorf("spanId = %v, want a new 16-hex span for the new hop", line[FieldSpanID])
	}
}

func TestInjectKeepsExplicitAndDoesNotInventWithoutTrace(t *testing.T) {
	t.Parallel()
	if got := InjectAttributes(context.Background(), nil); got != nil {
		t.Errorf("no trace in ctx: attrs = %v, want nil", got)
	}
	ctx := WithTrace(context.Background(), NewTrace())
	got := InjectAttributes(ctx, map[string]string{AttrTraceparent: "explicit"})
	if got[AttrTraceparent] != "explicit" {
		t.Errorf("explicit traceparent overwritten: %v", got)
	}
}

func TestSeverityNames(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := NewLogger(&buf, slog.LevelDebug, "")
	l.Debug("d")
	l.Info("i")
	l.Warn("w")
	l.Error("e")
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m[FieldSeverity].(string))
		if _, ok := m["level"]; ok {
			t.Errorf("slog's level key leaked: %s", line)
		}
	}
	if strings.Join(got, ",") != "DEBUG,INFO,WARNING,ERROR" {
		t.Errorf("severities = %v", got)
	}
}

func TestMiddlewareRecoversPanic(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := Middleware(NewLogger(&buf, slog.LevelInfo, ""), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("boom")
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("status %d body %s", rec.Code, rec.Body)
	}
	if !strings.Contains(buf.String(), "boom") || !strings.Contains(buf.String(), `"severity":"ERROR"`) {
		t.Errorf("panic not logged: %s", buf.String())
	}
}

// SetSampleRatio decides new traces' sampled flag; a ratio outside (0, 1)
// samples every trace.
func TestSampleRatio(t *testing.T) {
	defer SetSampleRatio(1)
	for _, tc := range []struct {
		ratio  float64
		lo, hi int // sampled out of 4000 (about ±7 standard deviations)
	}{
		{0.25, 800, 1200},
		{1, 4000, 4000},
		{0, 4000, 4000},
		{-2, 4000, 4000},
	} {
		SetSampleRatio(tc.ratio)
		n := 0
		for range 4000 {
			if NewTrace().Sampled {
				n++
			}
		}
		if n < tc.lo || n > tc.hi {
			t.Errorf("ratio %v: %d of 4000 sampled, want %d to %d", tc.ratio, n, tc.lo, tc.hi)
		}
	}
}
