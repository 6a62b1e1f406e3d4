// Package paddle verifies and decodes Paddle Billing webhooks.
//
// Paddle signs each delivery with the notification destination's secret key:
// the header is "Paddle-Signature: ts=<unix seconds>;h1=<hex HMAC-SHA256>"
// and the HMAC covers ts + ":" + the raw body. While a secret is being
// rotated the header carries one h1 per active secret, so a delivery is
// accepted when any h1 matches any configured secret. The timestamp
// tolerance defaults to five seconds, as in Paddle's SDKs.
package paddle

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"synthos.dev/synthos/shared/billing"
)

// SignatureHeader is the header Paddle signs deliveries with.
const SignatureHeader = "Paddle-Signature"

// DefaultTolerance is how far the signed timestamp may be from now.
const DefaultTolerance = 5 * time.Second

// maxSignatures bounds the h1 entries checked per delivery, so that a forged
// header cannot make one request cost thousands of HMACs.
const maxSignatures = 8

// Verifier checks Paddle-Signature headers and decodes the signed events.
type Verifier struct {
	// Secrets returns the destination's secret keys (several during a rotation).
	Secrets billing.Secrets
	// Tolerance bounds |now - ts|; zero means DefaultTolerance.
	Tolerance time.Duration
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Verify checks header against body and returns the decoded event. Errors
// wrap billing.ErrSignature, ErrStale, ErrMalformed or ErrNoSecret.
func (v *Verifier) Verify(ctx context.Context, header string, body []byte) (billing.Event, error) {
	ts, sigs, err := parseHeader(header)
	if err != nil {
		return billing.Event{}, err
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if d := now().Sub(time.Unix(ts, 0)).Abs(); d > tol {
		return billing.Event{}, fmt.Errorf("paddle: %w: signed %s from now, tolerance %s", billing.ErrStale, d.Truncate(time.Second), tol)
	}
	if v.Secrets == nil {
		return billing.Event{}, fmt.Errorf("paddle: %w", billing.ErrNoSecret)
	}
	keys, err := v.Secrets(ctx)
	if err != nil {
		return billing.Event{}, fmt.Errorf("paddle: %w", err)
	}
	if !matches(keys, strconv.FormatInt(ts, 10), body, sigs) {
		return billing.Event{}, fmt.Errorf("paddle: %w: no h1 matches a configured secret", billing.ErrSignature)
	}
	return Decode(body)
}

// Sign returns the Paddle-Signature header for body signed at ts with each of
// secrets, as Paddle sends it (one h1 per secret during a rotation). Tests and
// local tools use it to drive the endpoint with the real format.
func Sign(ts time.Time, body []byte, secrets ...string) string {
	var b strings.Builder
	unix := strconv.FormatInt(ts.Unix(), 10)
	b.WriteString("ts=" + unix)
	for _, s := range secrets {
		b.WriteString(";h1=" + hex.EncodeToString(mac(s, unix, body)))
	}
	return b.String()
}

// parseHeader splits "ts=...;h1=...[;h1=...]". Unknown keys are ignored (a
// future scheme); undecodable h1 values are dropped.
func parseHeader(h string) (int64, [][]byte, error) {
	if strings.TrimSpace(h) == "" {
		return 0, nil, fmt.Errorf("paddle: %w: no %s header", billing.ErrSignature, SignatureHeader)
	}
	var ts int64
	seenTS := false
	var sigs [][]byte
	for part := range strings.SplitSeq(h, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return 0, nil, fmt.Errorf("paddle: %w: malformed header element %.32q", billing.ErrSignature, part)
		}
		switch k {
		case "ts":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || seenTS || n <= 0 {
				return 0, nil, fmt.Errorf("paddle: %w: bad or repeated ts", billing.ErrSignature)
			}
			ts, seenTS = n, true
		case "h1":
			if sig, err := hex.DecodeString(val); err == nil && len(sig) == sha256.Size && len(sigs) < maxSignatures {
				sigs = append(sigs, sig)
			}
		}
	}
	switch {
	case !seenTS:
		return 0, nil, fmt.Errorf("paddle: %w: no ts", billing.ErrSignature)
	case len(sigs) == 0:
		return 0, nil, fmt.Errorf("paddle: %w: no valid h1", billing.ErrSignature)
	}
	return ts, sigs, nil
}

// matches reports whether any signature equals the HMAC of ts:body under any
// key, comparing in constant time.
func matches(keys []string, ts string, body []byte, sigs [][]byte) bool {
	ok := false
	for _, k := range keys {
		want := mac(k, ts, body)
		for _, s := range sigs {
			if hmac.Equal(want, s) {
				ok = true
			}
		}
	}
	return ok
}

func mac(key, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(ts))
	m.Write([]byte{':'})
	m.Write(body)
	return m.Sum(nil)
}

// Envelope is a Paddle Billing notification's outer shape.
type Envelope struct {
	EventID        string          `json:"event_id"`
	EventType      string          `json:"event_type"`
	OccurredAt     time.Time       `json:"occurred_at"`
	NotificationID string          `json:"notification_id"`
	Data           json.RawMessage `json:"data"`
}

// Decode parses a Paddle notification body into a billing.Event. Errors wrap
// billing.ErrMalformed.
func Decode(body []byte) (billing.Event, error) {
	var e Envelope
	if err := json.Unmarshal(body, &e); err != nil {
		return billing.Event{}, fmt.Errorf("paddle: %w: %w", billing.ErrMalformed, err)
	}
	switch d := bytes.TrimSpace(e.Data); {
	case e.EventID == "" || e.EventType == "":
		return billing.Event{}, fmt.Errorf("paddle: %w: event_id and event_type are required", billing.ErrMalformed)
	case e.OccurredAt.IsZero():
		return billing.Event{}, fmt.Errorf("paddle: %w: occurred_at is required", billing.ErrMalformed)
	case len(d) == 0 || d[0] != '{':
		return billing.Event{}, fmt.Errorf("paddle: %w: data must be an object", billing.ErrMalformed)
	}
	return billing.Event{Provider: billing.Paddle, ID: e.EventID, Type: e.EventType, OccurredAt: e.OccurredAt, Body: body}, nil
}
