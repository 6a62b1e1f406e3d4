// Package events publishes and handles the messages that chain Synthos'
// functions together.
//
// In production functions are chained through Pub/Sub topics with push
// subscriptions: a publisher calls [PubSub.Publish], and the consumer is an
// HTTP function wrapped by [PushHandler], which decodes the push envelope and
// calls a [Handler]. The upload trigger is an Eventarc CloudEvent decoded by
// [DecodeStorageEvent]. Locally the embedded [Bus] plays Pub/Sub: at-least-once
// delivery, retries with backoff, dead-lettering and optional duplicates, on a
// bounded pool of workers (Pub/Sub's flow control and Cloud Run's instance
// limits play that part in production). In production the push requests
// carry an OIDC token that shared/pushauth checks before PushHandler runs.
//
// # Errors, retries and poison messages
//
// A Handler's error always means "not done, deliver again": PushHandler
// answers 500 so Pub/Sub retries with the subscription's backoff and, after
// the subscription's maximum delivery attempts, forwards the message to its
// dead-letter topic; the Bus does the same. No error is ever swallowed as an
// acknowledgement, so there is no "permanent error" class. A handler that
// knows a message can never succeed (a malformed request, a job that no longer
// exists) should record that durably (for example mark the job failed, in the
// same transaction as its dedupe record) and then return nil; only errors the
// handler could not record are left to the dead-letter policy.
//
// # Traces
//
// Every Publish copies the caller's attributes and adds the trace carried by
// ctx ([obs.InjectAttributes]); every delivery path calls
// [obs.ExtractAttributes] before the Handler runs, so the correlation id of
// the first request reaches the logs of the last consumer.
package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is one delivery of a published message.
type Message struct {
	// ID is the server-assigned message id, the same on every redelivery:
	// consumers dedupe on it.
	ID string
	// Data is the payload. Handlers must treat it as read-only.
	Data []byte
	// Attributes are the publisher's attributes plus "traceparent".
	Attributes map[string]string
	// PublishTime is when the server accepted the message.
	PublishTime time.Time
	// DeliveryAttempt counts deliveries from 1, like Pub/Sub's. Pub/Sub only
	// reports it on subscriptions with a dead-letter policy; it is 0 otherwise.
	DeliveryAttempt int
	// Subscription is the subscription that delivered the message.
	Subscription string
}

// Handler processes one message. It returns nil only once the message's
// effect is durable; any error asks for redelivery (see the package doc).
// Handlers must be idempotent: delivery is at least once.
type Handler func(ctx context.Context, m *Message) error

// Publisher sends messages to topics.
type Publisher interface {
	// Publish sends data with attributes to topic and returns the message id
	// once the message is accepted. It never modifies attrs.
	Publish(ctx context.Context, topic string, data []byte, attrs map[string]string) (id string, err error)
	// Close releases the publisher; later Publish calls fail with ErrClosed.
	Close() error
}

// Errors callers can test with errors.Is.
var (
	// ErrClosed reports use of a closed (or draining) publisher or bus.
	ErrClosed = errors.New("events: closed")
	// ErrInvalid reports an argument that can never succeed: an empty topic,
	// an empty message, attributes beyond Pub/Sub's limits, a nil handler.
	ErrInvalid = errors.New("events: invalid argument")
	// ErrExists reports a subscription name that is already taken.
	ErrExists = errors.New("events: already exists")
	// ErrBadEnvelope reports a push request that is not a Pub/Sub push envelope.
	ErrBadEnvelope = errors.New("events: malformed push envelope")
	// ErrTooLarge reports a push request body over the size limit. It comes
	// wrapped together with ErrBadEnvelope.
	ErrTooLarge = errors.New("events: push body too large")
	// ErrBadEvent reports a CloudEvent that is not the expected kind or whose
	// data does not decode.
	ErrBadEvent = errors.New("events: malformed event")
)

// Pub/Sub's limits on a message, mirrored by the Bus so that what works
// locally works in production.
const (
	maxDataBytes   = 10 << 20
	maxAttrs       = 100
	maxAttrKeyLen  = 256
	maxAttrValLen  = 1024
	reservedPrefix = "goog"
)

// validate checks a message against Pub/Sub's publish rules.
func validate(topic string, data []byte, attrs map[string]string) error {
	switch {
	case topic == "":
		return fmt.Errorf("%w: empty topic", ErrInvalid)
	case len(data) == 0 && len(attrs) == 0:
		return fmt.Errorf("%w: message has neither data nor attributes", ErrInvalid)
	case len(data) > maxDataBytes:
		return fmt.Errorf("%w: data is %d bytes, over %d", ErrInvalid, len(data), maxDataBytes)
	case len(attrs) > maxAttrs:
		return fmt.Errorf("%w: %d attributes, over %d", ErrInvalid, len(attrs), maxAttrs)
	}
	for k, v := range attrs {
		switch {
		case k == "":
			return fmt.Errorf("%w: empty attribute key", ErrInvalid)
		case len(k) > maxAttrKeyLen:
			return fmt.Errorf("%w: attribute key %.32q... over %d bytes", ErrInvalid, k, maxAttrKeyLen)
		case len(v) > maxAttrValLen:
			return fmt.Errorf("%w: attribute %q value over %d bytes", ErrInvalid, k, maxAttrValLen)
		case strings.HasPrefix(k, reservedPrefix):
			return fmt.Errorf("%w: attribute key %q uses the reserved prefix %q", ErrInvalid, k, reservedPrefix)
		}
	}
	return nil
}
