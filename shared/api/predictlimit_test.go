package api

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/metrics"
)

// TestRowLimiter: a tenant's bucket starts full (the burst: one second of
// rows, at least MaxPredictRows), refills at the rate, charges a request
// larger than the burst only the burst (so it can ever pass), says how long
// until a refused request would pass, and is the tenant's alone. Rate 0 is
// unbounded.
func TestRowLimiter(t *testing.T) {
	t.Parallel()
	type step struct {
		tenant  string
		advance time.Duration
		rows    int
		wait    time.Duration
	}
	tests := []struct {
		name  string
		rate  float64
		steps []step
	}{
		// rate 100 000/s: the burst is 100 000 rows.
		{"burst then refill", 100_000, []step{
			{"a", 0, 100_000, 0},
			{"a", 0, 1, 10 * time.Microsecond}, // 1 row at 100 000/s
			{"a", 100 * time.Millisecond, 10_000, 0},
			{"a", 0, 20_000, 200 * time.Millisecond},
			{"b", 0, 100_000, 0}, // another tenant's bucket is full
		}},
		// rate 10/s: the burst is MaxPredictRows (10 000).
		{"slow rate keeps the request burst", 10, []step{
			{"a", 0, MaxPredictRows, 0},
			{"a", 0, 5, 500 * time.Millisecond},
			{"a", time.Second, 5, 0},
			// Charged the burst only: 10 000 rows less the 5 left, at 10/s.
			{"a", 0, 50_000, 999500 * time.Millisecond},
		}},
		{"unbounded", 0, []step{{"a", 0, 1 << 30, 0}, {"a", 0, 1 << 30, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := time.Unix(1_700_000_000, 0)
			l := newRowLimiter(tt.rate, func() time.Time { return now })
			for i, s := range tt.steps {
				now = now.Add(s.advance)
				if got := l.take(s.tenant, s.rows); got.Round(time.Microsecond) != s.wait {
					t.Errorf("step %d: take(%s, %d) waits %v, want %v", i, s.tenant, s.rows, got, s.wait)
				}
			}
		})
	}
}

// TestLimitRowsError: over the rate the error is 429 rate_limited with the
// whole seconds to wait, which RetryAfter reads for the header.
func TestLimitRowsError(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	s := &Service{PredictRowsPerSecond: 10, Now: func() time.Time { return now }}
	if err := s.limitRows("t", MaxPredictRows); err != nil {
		t.Fatal(err)
	}
	err := s.limitRows("t", 25)
	if RetryAfter(err) != 3 || !strings.Contains(err.Error(), "10 rows a second") {
		t.Fatalf("over the rate: %v, Retry-After %d (want 3: 25 rows at 10/s)", err, RetryAfter(err))
	}
	if RetryAfter(fieldErr("rows", "x")) != 0 || RetryAfter(nil) != 0 {
		t.Error("RetryAfter of other errors")
	}
}

// TestPredictionMetrics: every prediction request is recorded in
// synthos_model_predict_duration_seconds by framework, mode and outcome
// (never the tenant or the model id), and successful rows are counted.
func TestPredictionMetrics(t *testing.T) {
	p, err := metrics.Setup(context.Background(), metrics.Options{Exporter: metrics.ExportPrometheus, Service: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	defer metrics.SetDefault(p.Recorder)()
	s := &Service{}
	pr := &apikeys.Principal{Tenant: "tenant-secret"}
	ctx := context.Background()
	start := time.Now()
	s.observe(ctx, pr, "mdl_secret", "xgboost", "json", 7, start, nil)
	s.observe(ctx, pr, "mdl_secret", "xgboost", "table", 0, start, fieldErr("body", "bad"))
	s.observe(ctx, pr, "mdl_secret", "", "json", 0, start, &CodedError{Code: "rate_limited", Kind: ErrRateLimited, Details: map[string]any{"retry_after_seconds": 1}})
	s.observe(ctx, pr, "mdl_secret", "sklearn", "vertex", 2, start, unavailable("Vertex AI failed", io.EOF))
	rec := httptest.NewRecorder()
	p.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`synthos_model_predict_duration_seconds_count{framework="xgboost",mode="json",outcome="ok"} 1`,
		`synthos_model_predict_duration_seconds_count{framework="xgboost",mode="table",outcome="invalid"} 1`,
		`synthos_model_predict_duration_seconds_count{framework="unknown",mode="json",outcome="rate_limited"} 1`,
		`synthos_model_predict_duration_seconds_count{framework="sklearn",mode="vertex",outcome="error"} 1`,
		`synthos_model_predicted_rows_total{framework="xgboost",mode="json"} 7`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %s", want)
		}
	}
	if strings.Contains(text, "secret") {
		t.Error("a label carries the tenant or the model id")
	}
}
