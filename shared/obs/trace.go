// Package obs is the observability base: JSON logs in Cloud Logging's field
// names, a correlation (trace) id that travels from the first HTTP request
// through Pub/Sub message attributes to the last log line, and HTTP middleware.
package obs

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
)

// Trace identifies one piece of work across services: the W3C trace id
// (32 hex digits) and the current span id (16 hex digits).
type Trace struct {
	TraceID string
	SpanID  string
	Sampled bool
	// root marks a trace NewTrace started here: its SpanID names no span
	// anyone exports, so the first span started on it (StartSpan) is a
	// root of the trace, not the child of a parent Cloud Trace never sees.
	root bool
}

// Valid reports whether t carries a usable trace id.
func (t Trace) Valid() bool {
	return len(t.TraceID) == 32 && isHex(t.TraceID) && t.TraceID != zeroTraceID
}

const zeroTraceID = "00000000000000000000000000000000"

// Traceparent renders t as a W3C traceparent header value.
func (t Trace) Traceparent() string {
	flags := "00"
	if t.Sampled {
		flags = "01"
	}
	span := t.SpanID
	if len(span) != 16 {
		span = newID(8)
	}
	return "00-" + t.TraceID + "-" + span + "-" + flags // one allocation; runs per request
}

type traceKey struct{}

// WithTrace returns a context carrying t.
func WithTrace(ctx context.Context, t Trace) context.Context {
	return &traceCtx{Context: ctx, t: t}
}

// TraceFrom returns the trace carried by ctx, if any.
func TraceFrom(ctx context.Context) (Trace, bool) {
	p, ok := ctx.Value(traceKey{}).(*Trace)
	if !ok {
		return Trace{}, false
	}
	return *p, p.Valid()
}

// NewTrace starts a fresh trace, for work that arrives without one. It is
// sampled with the probability SetSampleRatio set (every trace by
// default): this root decision travels with the trace (traceparent flags,
// the log lines' trace_sampled), and the parent-based sampler of
// SetupTracing follows it, so an unsampled request gets non-recording
// spans that cost next to nothing.
func NewTrace() Trace {
	tid, sid := newIDs()
	return Trace{TraceID: tid, SpanID: sid, Sampled: sampleRoot(), root: true}
}

// sampleRatio is math.Float64bits of the share of new traces sampled; 0
// bits mean 1 (the default).
var sampleRatio atomic.Uint64

// SetSampleRatio sets the share of new traces that are sampled, in (0, 1];
// other values mean 1.
func SetSampleRatio(r float64) {
	if !(r > 0 && r < 1) {
		r = 1
	}
	sampleRatio.Store(math.Float64bits(r))
}

func sampleRoot() bool {
	bits := sampleRatio.Load()
	if bits == 0 {
		return true
	}
	r := math.Float64frombits(bits)
	return r >= 1 || mrand.Float64() < r
}

// ParseTraceparent parses a W3C traceparent value ("00-<trace>-<span>-<flags>").
// It reads the fields at their fixed offsets: this runs on every request
// and message that carries a trace, and splitting allocates.
func ParseTraceparent(v string) (Trace, bool) {
	v = strings.TrimSpace(v)
	// A later version may append fields after a '-'; version 00 has none.
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' || len(v) > 55 && v[55] != '-' {
		return Trace{}, false
	}
	if v[:2] == "ff" || !isHex(v[:2]) || !isHex(v[3:35]) || !isHex(v[36:52]) || !isHex(v[53:55]) {
		return Trace{}, false
	}
	t := Trace{TraceID: lowerHex(v[3:35]), SpanID: lowerHex(v[36:52]), Sampled: hexVal[v[54]]&1 == 1}
	return t, t.Valid()
}

// lowerHex returns hex digits s in lower case, s itself (no copy) when it
// already is.
func lowerHex(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'F' {
			return strings.ToLower(s)
		}
	}
	return s
}

// ParseCloudTraceContext parses Google's legacy X-Cloud-Trace-Context value
// ("TRACE_ID/SPAN_ID;o=1", the span id in decimal).
func ParseCloudTraceContext(v string) (Trace, bool) {
	v = strings.TrimSpace(v)
	traceID, rest, _ := strings.Cut(v, "/")
	t := Trace{TraceID: strings.ToLower(traceID)}
	if rest != "" {
		span, opts, _ := strings.Cut(rest, ";")
		var n uint64
		if _, err := fmt.Sscan(span, &n); err == nil {
			t.SpanID = fmt.Sprintf("%016x", n)
		}
		t.Sampled = strings.Contains(opts, "o=1")
	}
	return t, t.Valid()
}

// FromRequest extracts the trace of an incoming request (traceparent first,
// then X-Cloud-Trace-Context), or starts a new one.
func FromRequest(r *http.Request) Trace {
	if t, ok := ParseTraceparent(header(r.Header, "Traceparent")); ok {
		return t
	}
	if t, ok := ParseCloudTraceContext(header(r.Header, "X-Cloud-Trace-Context")); ok {
		return t
	}
	return NewTrace()
}

// header returns h's first value of key, which must be in canonical form
// (as net/http stores incoming headers): Header.Get would check and
// re-spell the key on every request.
func header(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// AttrTraceparent is the message attribute that carries the trace across
// Pub/Sub (the same name OpenTelemetry's Pub/Sub propagation uses).
const AttrTraceparent = "traceparent"

// InjectAttributes adds ctx's trace to message attributes, leaving an
// explicitly set traceparent alone. It returns attrs (allocated if nil).
func InjectAttributes(ctx context.Context, attrs map[string]string) map[string]string {
	t, ok := TraceFrom(ctx)
	if !ok {
		return attrs
	}
	if attrs == nil {
		attrs = map[string]string{}
	}
	if _, set := attrs[AttrTraceparent]; !set {
		attrs[AttrTraceparent] = t.Traceparent()
	}
	return attrs
}

// ExtractAttributes returns ctx carrying the trace found in message
// attributes, or a new trace when there is none.
func ExtractAttributes(ctx context.Context, attrs map[string]string) context.Context {
	if t, ok := ParseTraceparent(attrs[AttrTraceparent]); ok {
		t.SpanID = newID(8) // a new span for this hop, same trace
		return WithTrace(ctx, t)
	}
	return WithTrace(ctx, NewTrace())
}

// newID returns n random bytes in hex (n is 8 or 16). The bytes come from
// math/rand/v2's ChaCha8 generator, which the runtime seeds from the
// system's entropy and keeps per thread: W3C trace ids need randomness,
// not secrecy, and crypto/rand's system call cost a fifth of a request's
// trace bookkeeping.
func newID(n int) string {
	var raw [16]byte
	for i := 0; i < n; i += 8 {
		binary.LittleEndian.PutUint64(raw[i:], mrand.Uint64())
	}
	var out [32]byte
	hex.Encode(out[:], raw[:n])
	return string(out[:2*n])
}

// newIDs returns a new trace id and span id in hex, as newID(16) and
// newID(8) but in one allocation: both slice one string.
func newIDs() (traceID, spanID string) {
	var raw [24]byte
	for i := 0; i < 24; i += 8 {
		binary.LittleEndian.PutUint64(raw[i:], mrand.Uint64())
	}
	if [16]byte(raw[:16]) == [16]byte{} { // the one invalid trace id
		raw[0] = 1
	}
	var out [48]byte
	hex.Encode(out[:], raw[:])
	s := string(out[:])
	return s[:32], s[32:]
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if hexVal[s[i]] == 0xff {
			return false
		}
	}
	return true
}
