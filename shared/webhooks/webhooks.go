// Package webhooks sends signed outbound webhooks to customers' endpoints,
// following Standard Webhooks (standardwebhooks.com), and keeps the
// endpoints, a delivery log and replay.
//
// # Endpoints and secrets
//
// A tenant registers endpoints (collection webhook_endpoints): an https URL,
// an optional filter of event types and an enabled flag. Each endpoint gets a
// signing secret "whsec_<base64>" that is returned once, at creation or
// rotation, and is stored only encrypted with AES-256-GCM under a key read
// from the secrets adapter ([KeySecret]); it is never logged. During a
// rotation the old secret stays valid for a grace period and every message
// is signed with all valid secrets, one "v1,<sig>" each, so receivers can
// switch at their pace. [Verify] is the receiver's side of the scheme.
//
// # Delivery, retries and the log
//
// [Service.Deliver] sends one event to every matching enabled endpoint of its
// tenant. The webhook-id is derived from the event id and the endpoint id, so
// it is the same on every retry and replay and receivers can dedupe on it.
// Retries happen at two levels. Within one call each endpoint gets a few
// quick tries with exponential backoff and jitter, bounded in total by
// Options.Budget, which absorbs short blips without holding the function.
// If an endpoint still fails, Deliver returns an error wrapping ErrDelivery:
// the push consumer answers 5xx and Pub/Sub redelivers with the
// subscription's backoff (minutes apart) until its maximum delivery attempts,
// then dead-letters the message. On a redelivery endpoints that already
// succeeded are skipped, because each (event, endpoint) pair has one record
// in the delivery log (collection webhook_deliveries) holding its status, the
// exact body, and its latest attempts (number, status code, latency, error,
// time). The log is listed per tenant, newest first, and any logged delivery
// can be sent again with [Service.Replay].
//
// # The SSRF guard
//
// Endpoint URLs are chosen by customers, so the client ([NewClient]) refuses
// to connect to anything but public unicast addresses: the check runs in the
// dialer's Control hook, after DNS resolution, on the address the socket is
// about to reach. Private (RFC 1918, RFC 4193), shared (100.64/10), loopback,
// link-local (169.254/16 with the metadata server, fe80::/10), unspecified,
// multicast and reserved ranges are refused, as are their IPv4-mapped, NAT64
// and 6to4 forms. Redirects are not followed (a 3xx is a failed delivery), no
// proxy is used, bodies are read up to a small limit, and every phase has a
// timeout. A delivery the guard refuses is recorded as failed for good and not
// retried: the address will not become allowed by waiting.
package webhooks

import (
	"errors"
	"time"
)

// Errors callers test with errors.Is.
var (
	// ErrInvalid: a bad argument (URL, event type filter, tenant, secret).
	ErrInvalid = errors.New("webhooks: invalid argument")
	// ErrNotFound: no such endpoint or delivery for this tenant.
	ErrNotFound = errors.New("webhooks: not found")
	// ErrLimit: the tenant already has the maximum number of endpoints.
	ErrLimit = errors.New("webhooks: endpoint limit reached")
	// ErrDisabled: the endpoint is disabled, so nothing is sent to it.
	ErrDisabled = errors.New("webhooks: endpoint disabled")
	// ErrForbidden: the SSRF guard refused the destination address.
	ErrForbidden = errors.New("webhooks: destination address not allowed")
	// ErrSignature: a received webhook failed verification.
	ErrSignature = errors.New("webhooks: signature verification failed")
	// ErrCorrupt: a stored secret does not decrypt with the configured key.
	ErrCorrupt = errors.New("webhooks: stored secret unreadable")
	// ErrDelivery: an endpoint did not accept a delivery; try again later.
	ErrDelivery = errors.New("webhooks: delivery failed")
)

// Collections in the state store.
const (
	CollEndpoints  = "webhook_endpoints"
	CollDeliveries = "webhook_deliveries"
)

// Endpoint is a customer's webhook receiver as shown to the customer. It has
// no secret: secrets are returned once, by CreateEndpoint and RotateSecret.
type Endpoint struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	URL         string    `json:"url"`
	Description string    `json:"description,omitempty"`
	EventTypes  []string  `json:"event_types,omitempty"` // empty: every type
	Enabled     bool      `json:"enabled"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Event is what Deliver sends: one occurrence the customer is told about.
type Event struct {
	// ID identifies the occurrence and is stable across redeliveries (the
	// Pub/Sub message id); webhook-id is derived from it.
	ID     string
	Tenant string
	// Type is the event type, e.g. job.succeeded, matched against filters.
	Type string
	At   time.Time
	// Data is the JSON object sent as the payload's "data".
	Data []byte
}

// Delivery statuses.
const (
	StatusPending   = "pending"   // created, no attempt finished yet
	StatusSucceeded = "succeeded" // the endpoint answered 2xx
	StatusFailing   = "failing"   // the last attempt failed; Pub/Sub or a replay retries
	StatusFailed    = "failed"    // refused by the SSRF guard; not retried
)

// Delivery is one event sent to one endpoint, with its recent attempts.
type Delivery struct {
	ID         string `json:"id"` // the webhook-id
	Tenant     string `json:"tenant"`
	EndpointID string `json:"endpoint_id"`
	EventID    string `json:"event_id"`
	EventType  string `json:"event_type"`
	// Payload is the exact body sent, kept so replays send the same bytes.
	Payload string `json:"payload"`
	Status  string `json:"status"`
	// Attempts counts every attempt made, including replays; Log keeps the
	// latest maxLog of them.
	Attempts   int       `json:"attempts"`
	StatusCode int       `json:"status_code,omitempty"` // of the latest attempt
	LatencyMS  int64     `json:"latency_ms"`            // of the latest attempt
	Error      string    `json:"error,omitempty"`       // of the latest attempt
	CreatedAt  time.Time `json:"created_at"`
	// LastAt is the time of the latest attempt; At is the same instant in
	// Unix nanoseconds, the field the log is ordered by.
	LastAt time.Time `json:"last_at"`
	At     int64     `json:"at"`
	Log    []Attempt `json:"log"`
}

// Attempt is one try at sending a delivery.
type Attempt struct {
	Attempt    int    `json:"attempt"` // 1-based over the delivery's life
	StatusCode int    `json:"status_code,omitempty"`
	LatencyMS  int64  `json:"latency_ms"`
	Error      string `json:"error,omitempty"`
	Response   string `json:"response,omitempty"` // the start of the body
	// Blocked: the SSRF guard refused the address; nothing was sent.
	Blocked bool      `json:"blocked,omitempty"`
	Replay  bool      `json:"replay,omitempty"`
	At      time.Time `json:"at"`
}

// OK reports whether the attempt was accepted.
func (a Attempt) OK() bool {
	return a.Error == "" && !a.Blocked && a.StatusCode >= 200 && a.StatusCode <= 299
}

// maxLog is how many attempts a delivery record keeps.
const maxLog = 20
