package obs

import (
	"context"
	"io"
	"log/slog"
)

// Cloud Logging's structured-log field names: the agent turns these into
// LogEntry fields (severity, trace correlation) instead of jsonPayload keys.
// https://cloud.google.com/logging/docs/structured-logging
const (
	FieldSeverity     = "severity"
	FieldMessage      = "message"
	FieldTime         = "time"
	FieldTrace        = "logging.googleapis.com/trace"
	FieldSpanID       = "logging.googleapis.com/spanId"
	FieldTraceSampled = "logging.googleapis.com/trace_sampled"
)

// NewLogger returns a JSON logger in Cloud Logging's field names. Log lines
// written with a context that carries a Trace get the trace fields, so that
// Cloud Logging groups every line of one request or job, across services.
// project may be empty (locally): the trace field then holds the bare id.
func NewLogger(w io.Writer, level slog.Leveler, project string) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level:       level,
		ReplaceAttr: replaceAttr,
	})
	return slog.New(&traceHandler{Handler: h, project: project})
}

func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) > 0 {
		return a
	}
	switch a.Key {
	case slog.LevelKey:
		return slog.String(FieldSeverity, severity(a.Value.Any().(slog.Level)))
	case slog.MessageKey:
		a.Key = FieldMessage
	}
	return a
}

// severity maps slog levels onto Cloud Logging's LogSeverity names.
func severity(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "DEBUG"
	case l < slog.LevelWarn:
		return "INFO"
	case l < slog.LevelError:
		return "WARNING"
	default:
		return "ERROR"
	}
}

type traceHandler struct {
	slog.Handler
	project string
}

func (h *traceHandler) Handle(ctx context.Context, r slog.Record) error {
	if t, ok := TraceFrom(ctx); ok {
		trace := t.TraceID
		if h.project != "" {
			trace = "projects/" + h.project + "/traces/" + t.TraceID
		}
		r.AddAttrs(slog.String(FieldTrace, trace), slog.String(FieldSpanID, t.SpanID), slog.Bool(FieldTraceSampled, t.Sampled))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *traceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithAttrs(as), project: h.project}
}

func (h *traceHandler) WithGroup(name string) slog.Handler {
	return &traceHandler{Handler: h.Handler.WithGroup(name), project: h.project}
}

type loggerKey struct{}

// WithLogger returns a context carrying l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, l)
}

// Logger returns the logger carried by ctx, or slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
