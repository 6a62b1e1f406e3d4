package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// MaxPushBytes bounds a push request body: a 10 MB message grows by a third
// in base64, plus attributes and the envelope itself.
const MaxPushBytes = 16 << 20

// envelope is the JSON body of a Pub/Sub push request (wrapped payload).
// Real traffic carries both camelCase and snake_case spellings of the id and
// the publish time; either may be the only one present.
type envelope struct {
	Message         *pushMessage `json:"message"`
	Subscription    string       `json:"subscription"`
	DeliveryAttempt int          `json:"deliveryAttempt,omitempty"`
}

type pushMessage struct {
	Data             []byte            `json:"data,omitempty"`
	Attributes       map[string]string `json:"attributes,omitempty"`
	MessageID        string            `json:"messageId"`
	MessageIDSnake   string            `json:"message_id"`
	PublishTime      string            `json:"publishTime,omitempty"`
	PublishTimeSnake string            `json:"publish_time,omitempty"`
}

// DecodePush decodes a Pub/Sub push request. Errors wrap ErrBadEnvelope (and
// ErrTooLarge when the body exceeds MaxPushBytes).
func DecodePush(r *http.Request) (*Message, error) {
	if r.Body == nil {
		return nil, fmt.Errorf("events.DecodePush: %w: no body", ErrBadEnvelope)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPushBytes+1))
	if err != nil {
		return nil, fmt.Errorf("events.DecodePush: %w: reading body: %w", ErrBadEnvelope, err)
	}
	if len(body) > MaxPushBytes {
		return nil, fmt.Errorf("events.DecodePush: %w: %w: over %d bytes", ErrBadEnvelope, ErrTooLarge, MaxPushBytes)
	}
	return decodeEnvelope(body)
}

func decodeEnvelope(body []byte) (*Message, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("events.DecodePush: %w: %w", ErrBadEnvelope, err)
	}
	pm := env.Message
	if pm == nil {
		return nil, fmt.Errorf("events.DecodePush: %w: no message", ErrBadEnvelope)
	}
	m := &Message{
		ID:              first(pm.MessageID, pm.MessageIDSnake),
		Data:            pm.Data,
		Attributes:      pm.Attributes,
		DeliveryAttempt: env.DeliveryAttempt,
		Subscription:    env.Subscription,
	}
	if m.ID == "" {
		return nil, fmt.Errorf("events.DecodePush: %w: no message id", ErrBadEnvelope)
	}
	if m.DeliveryAttempt < 0 {
		return nil, fmt.Errorf("events.DecodePush: %w: negative deliveryAttempt", ErrBadEnvelope)
	}
	if ts := first(pm.PublishTime, pm.PublishTimeSnake); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, fmt.Errorf("events.DecodePush: %w: publish time: %w", ErrBadEnvelope, err)
		}
		m.PublishTime = t
	}
	return m, nil
}

// EncodePush renders m as the body Pub/Sub would push for it, with both
// spellings of the id and publish time as real traffic has. It lets local
// runners and tests drive push endpoints with exactly the production format.
func EncodePush(m *Message) ([]byte, error) {
	if m == nil || m.ID == "" {
		return nil, fmt.Errorf("events.EncodePush: %w: message without id", ErrInvalid)
	}
	pm := &pushMessage{
		Data:       m.Data,
		Attributes: m.Attributes,
		MessageID:  m.ID, MessageIDSnake: m.ID,
	}
	if !m.PublishTime.IsZero() {
		ts := m.PublishTime.UTC().Format(time.RFC3339Nano)
		pm.PublishTime, pm.PublishTimeSnake = ts, ts
	}
	b, err := json.Marshal(envelope{Message: pm, Subscription: m.Subscription, DeliveryAttempt: m.DeliveryAttempt})
	if err != nil {
		return nil, fmt.Errorf("events.EncodePush: %w", err)
	}
	return b, nil
}

// PushHandler serves a push subscription's endpoint: 405 for anything but
// POST, 400 for a malformed envelope (413 when too large), 500 when h fails,
// so that Pub/Sub redelivers and eventually dead-letters, and 204 once h
// succeeds. Handler errors are logged with the message id and never turned
// into an acknowledgement (see the package doc).
func PushHandler(h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		m, err := DecodePush(r)
		if err != nil {
			slog.WarnContext(r.Context(), "rejected push request", "err", err)
			code := http.StatusBadRequest
			if errors.Is(err, ErrTooLarge) {
				code = http.StatusRequestEntityTooLarge
			}
			http.Error(w, "malformed push envelope", code)
			return
		}
		var ctx context.Context
		if err := handle(r.Context(), func(hctx context.Context, m *Message) error {
			ctx = hctx
			return h(hctx, m)
		}, m); err != nil {
			slog.ErrorContext(ctx, "message handler failed",
				"messageId", m.ID, "subscription", m.Subscription, "deliveryAttempt", m.DeliveryAttempt, "err", err)
			http.Error(w, "handler failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// Doer sends HTTP requests; *http.Client is one.
type Doer interface {
	Do(*http.Request) (*http.Response, error)
}

// PushTo returns a Handler that POSTs each message, as a push envelope, to
// url and succeeds on a 2xx answer, as Pub/Sub's push delivery does. It lets a
// Bus drive HTTP functions exactly as production Pub/Sub would.
func PushTo(c Doer, url string) Handler {
	return func(ctx context.Context, m *Message) error {
		body, err := EncodePush(m)
		if err != nil {
			return err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("events.PushTo: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			return fmt.Errorf("events.PushTo %s: %w", url, err)
		}
		defer res.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		if res.StatusCode < 200 || res.StatusCode > 299 {
			return fmt.Errorf("events.PushTo %s: message %s: status %d", url, m.ID, res.StatusCode)
		}
		return nil
	}
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
