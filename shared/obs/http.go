package obs

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"synthos.dev/synthos/shared/metrics"
)

// Middleware puts the request's trace (traceparent, then
// X-Cloud-Trace-Context, else a new one) and logger into the request context,
// runs the request in a server span (a child of the caller's), echoes the
// trace to the client as a traceparent response header, logs one line per
// request with Cloud Logging's httpRequest fields, records the request's
// metrics by route template (the ServeMux pattern that matched, never the
// raw path), and turns a panic into a 500 JSON error instead of a dropped
// connection.
func Middleware(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		// startSpan takes the request's trace as the parent directly:
		// a context carrying it only to be read back would cost an
		// allocation per request.
		ctx, span, t, recording := startSpan(r.Context(), FromRequest(r), r.Method, trace.SpanKindServer, nil, start)
		ctx = WithLogger(ctx, l)
		// Canonical already: a lower-case key is re-spelled, allocating.
		w.Header().Set("Traceparent", t.Traceparent())
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		// ServeMux records the pattern it matched on the request it is
		// given: this one, unless a handler between copies it.
		inner := r.WithContext(ctx)
		defer func() {
			if p := recover(); p != nil {
				l.ErrorContext(ctx, "panic serving request", "panic", fmt.Sprint(p), "path", r.URL.Path)
				if !rec.wrote {
					rec.Header().Set("Content-Type", "application/json")
					rec.WriteHeader(http.StatusInternalServerError)
					_, _ = rec.Write([]byte(`{"error":{"code":"internal","message":"internal error"}}`))
				}
			}
			latency := time.Since(start)
			route := inner.Pattern
			metrics.Default().HTTPRequest(ctx, r.Method, route, rec.status, latency)
			if s, ok := span.(*ownSpan); ok {
				// Our span (sampled, under SetupTracing's provider) ends
				// at the time the latency was read: no clock read of its
				// own, and one lock for the name, status and end.
				s.endRequest(route, rec.status, start.Add(latency))
			} else {
				if recording {
					// The span is named by the route template (method
					// included: it is the http.route). The status code
					// is an attribute only when it is not a success: a
					// span without attributes skips the SDK's per-span
					// de-duplication map and attribute slice; the
					// request's log line, which carries the trace id,
					// has every status.
					if route != "" {
						span.SetName(route)
					}
					if rec.status >= 400 {
						span.SetAttributes(attribute.Int("http.response.status_code", rec.status))
					}
					if rec.status >= 500 {
						span.SetStatus(codes.Error, http.StatusText(rec.status))
					}
				}
				span.End()
			}
			level := slog.LevelInfo
			switch {
			case rec.status == http.StatusNotImplemented:
				level = slog.LevelWarn // a known gap, answered honestly: not a fault
			case rec.status >= 500:
				level = slog.LevelError
			}
			l.Log(ctx, level, "request", slog.Group("httpRequest",
				"requestMethod", r.Method,
				"requestUrl", r.URL.Path,
				"status", rec.status,
				"latency", fmt.Sprintf("%.6fs", latency.Seconds()),
				"remoteIp", r.RemoteAddr,
				"userAgent", r.UserAgent(),
			))
		}()
		next.ServeHTTP(rec, inner)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
