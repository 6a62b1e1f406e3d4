package obs

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Middleware puts the request's trace (traceparent, then
// X-Cloud-Trace-Context, else a new one) and logger into the request context,
// echoes the trace to the client as a traceparent response header, logs one
// line per request with Cloud Logging's httpRequest fields, and turns a panic
// into a 500 JSON error instead of a dropped connection.
func Middleware(l *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := FromRequest(r)
		ctx := WithLogger(WithTrace(r.Context(), t), l)
		w.Header().Set("traceparent", t.Traceparent())
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		defer func() {
			if p := recover(); p != nil {
				l.ErrorContext(ctx, "panic serving request", "panic", fmt.Sprint(p), "path", r.URL.Path)
				if !rec.wrote {
					rec.Header().Set("Content-Type", "application/json")
					rec.WriteHeader(http.StatusInternalServerError)
					_, _ = rec.Write([]byte(`{"error":{"code":"internal","message":"internal error"}}`))
				}
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
				"latency", fmt.Sprintf("%.6fs", time.Since(start).Seconds()),
				"remoteIp", r.RemoteAddr,
				"userAgent", r.UserAgent(),
			))
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
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
