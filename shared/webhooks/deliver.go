package webhooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/state"
)

// Response bodies are read up to maxBody (then the connection is dropped)
// and the first maxSnippet bytes are kept in the log.
const (
	maxBody    = 64 << 10
	maxSnippet = 256
)

// MessageID returns the webhook-id of event eventID sent to endpoint
// endpointID: the same on every retry and replay, different per endpoint.
func MessageID(eventID, endpointID string) string {
	h := sha256.Sum256([]byte(eventID + "\x00" + endpointID))
	return "msg_" + hex.EncodeToString(h[:16])
}

// payload is the Standard Webhooks body.
type payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// Deliver sends ev to every enabled endpoint of ev.Tenant whose filter takes
// ev.Type, skipping endpoints that already accepted it. It returns nil once
// every such endpoint has accepted it or been refused for good by the SSRF
// guard, and otherwise an error wrapping ErrDelivery: call it again later
// (the push consumer leaves that to Pub/Sub's retry policy).
func (s *Service) Deliver(ctx context.Context, ev Event) error {
	if ev.ID == "" || ev.Type == "" {
		return fmt.Errorf("webhooks.Deliver: %w: event needs an id and a type", ErrInvalid)
	}
	if ev.Tenant == "" {
		return nil // platform-wide events have no customer endpoints
	}
	data := ev.Data
	if len(data) == 0 {
		data = []byte("{}")
	}
	if !json.Valid(data) {
		return fmt.Errorf("webhooks.Deliver: %w: event data is not JSON", ErrInvalid)
	}
	body, err := json.Marshal(payload{Type: ev.Type, Timestamp: ev.At.UTC(), Data: data})
	if err != nil {
		return fmt.Errorf("webhooks.Deliver: %w: %w", ErrInvalid, err)
	}
	eps, err := s.endpointDocs(ctx, ev.Tenant)
	if err != nil {
		return fmt.Errorf("webhooks.Deliver: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, s.o.Budget)
	defer cancel()
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		sem  = make(chan struct{}, s.o.Parallel)
	)
	for _, ep := range eps {
		if !ep.Enabled || !matches(ep.EventTypes, ev.Type) {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := s.deliverOne(ctx, ep, ev, body); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("webhooks.Deliver %s: %w", ev.ID, errors.Join(errs...))
	}
	return nil
}

// deliverOne runs the quick tries for one endpoint.
func (s *Service) deliverOne(ctx context.Context, ep endpointDoc, ev Event, body []byte) error {
	id := MessageID(ev.ID, ep.ID)
	var prior Delivery
	err := s.store.Get(ctx, CollDeliveries, id, &prior)
	switch {
	case err == nil && (prior.Status == StatusSucceeded || prior.Status == StatusFailed):
		return nil // done on an earlier delivery of the same event
	case err == nil:
		body = []byte(prior.Payload) // keep the bytes first sent
	case !errors.Is(err, state.ErrNotFound):
		return fmt.Errorf("endpoint %s: read delivery %s: %w", ep.ID, id, err)
	}
	secrets, err := s.secrets(ctx, ep)
	if err != nil {
		return err
	}
	tmpl := Delivery{ID: id, Tenant: ep.Tenant, EndpointID: ep.ID, EventID: ev.ID, EventType: ev.Type, Payload: string(body)}
	for try := 0; ; try++ {
		a := s.send(ctx, ep.URL, id, body, secrets)
		d, err := s.record(ctx, tmpl, a)
		if err != nil {
			return fmt.Errorf("endpoint %s: %w", ep.ID, err)
		}
		switch d.Status {
		case StatusSucceeded, StatusFailed:
			if d.Status == StatusFailed {
				s.o.Logger.WarnContext(ctx, "webhook refused by the SSRF guard", "tenant", ep.Tenant, "endpoint", ep.ID, "delivery", id, "error", a.Error)
			}
			return nil
		}
		s.o.Logger.WarnContext(ctx, "webhook attempt failed", "tenant", ep.Tenant, "endpoint", ep.ID,
			"delivery", id, "attempt", d.Attempts, "status", a.StatusCode, "error", a.Error)
		if try+1 >= s.o.Attempts {
			return fmt.Errorf("endpoint %s: delivery %s: %w after %d attempts: %s", ep.ID, id, ErrDelivery, d.Attempts, a.Error)
		}
		if err := sleep(ctx, s.backoff(try)); err != nil {
			return fmt.Errorf("endpoint %s: delivery %s: %w: %s (stopped retrying: %w)", ep.ID, id, ErrDelivery, a.Error, err)
		}
	}
}

// backoff is the wait after try (0-based): MinBackoff doubled per try, capped
// at MaxBackoff, with jitter over its upper half so that retries of many
// deliveries spread out.
func (s *Service) backoff(try int) time.Duration {
	d := s.o.MinBackoff
	for range try {
		if d >= s.o.MaxBackoff/2 {
			d = s.o.MaxBackoff
			break
		}
		d *= 2
	}
	d = min(d, s.o.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// send makes one attempt and describes it. It never returns the URL in the
// error text: URLs may carry the customer's tokens.
func (s *Service) send(ctx context.Context, target, id string, body []byte, secrets []string) (a Attempt) {
	now := s.o.Now()
	a = Attempt{At: now.UTC()}
	defer func() {
		outcome := "delivered"
		switch {
		case a.Blocked:
			outcome = "blocked"
		case a.Error != "":
			outcome = "failed"
		}
		metrics.Default().Webhook(ctx, outcome)
	}()
	sig, err := Sign(id, now, body, secrets...)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		a.Error = "build request: " + err.Error()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Synthos-Webhooks/1")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, sig)

	start := time.Now()
	res, err := s.client.Do(req)
	if err != nil {
		a.LatencyMS = time.Since(start).Milliseconds()
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		a.Error = err.Error()
		a.Blocked = errors.Is(err, ErrForbidden)
		return a
	}
	snippet, readErr := io.ReadAll(io.LimitReader(res.Body, maxBody))
	_ = res.Body.Close()
	a.LatencyMS = time.Since(start).Milliseconds()
	a.StatusCode = res.StatusCode
	a.Response = strings.ToValidUTF8(string(snippet[:min(len(snippet), maxSnippet)]), "\uFFFD")
	switch {
	case res.StatusCode >= 300 && res.StatusCode <= 399:
		a.Error = fmt.Sprintf("redirect (status %d) not followed: webhooks must be answered by the registered URL", res.StatusCode)
	case res.StatusCode < 200 || res.StatusCode > 299:
		a.Error = fmt.Sprintf("status %d", res.StatusCode)
	case readErr != nil:
		a.Error = "reading response: " + readErr.Error()
	}
	return a
}

// record appends attempt a to the delivery tmpl.ID (creating it from tmpl)
// and returns the updated delivery.
func (s *Service) record(ctx context.Context, tmpl Delivery, a Attempt) (Delivery, error) {
	var out Delivery
	err := s.store.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		d := tmpl
		err := tx.Get(CollDeliveries, tmpl.ID, &d)
		if errors.Is(err, state.ErrNotFound) {
			d = tmpl
			d.Status, d.CreatedAt = StatusPending, a.At
		} else if err != nil {
			return fmt.Errorf("read delivery %s: %w", tmpl.ID, err)
		}
		d.Attempts++
		a.Attempt = d.Attempts
		d.Log = append(d.Log, a)
		if len(d.Log) > maxLog {
			d.Log = d.Log[len(d.Log)-maxLog:]
		}
		d.StatusCode, d.LatencyMS, d.Error, d.LastAt, d.At = a.StatusCode, a.LatencyMS, a.Error, a.At, a.At.UnixNano()
		switch {
		case a.OK():
			d.Status = StatusSucceeded
		case a.Blocked:
			d.Status = StatusFailed
		case d.Status != StatusSucceeded:
			d.Status = StatusFailing
		}
		out = d
		return tx.Set(CollDeliveries, d.ID, d)
	})
	if err != nil {
		return Delivery{}, fmt.Errorf("record delivery %s: %w", tmpl.ID, err)
	}
	return out, nil
}

// DeliveryQuery selects deliveries of one tenant.
type DeliveryQuery struct {
	EndpointID string // only this endpoint's; empty for all
	Limit      int    // default 50, at most 500
}

// Deliveries returns tenant's delivery log, latest attempt first.
func (s *Service) Deliveries(ctx context.Context, tenant string, q DeliveryQuery) ([]Delivery, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, fmt.Errorf("webhooks.Deliveries: %w", err)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	where := []state.Eq{{Field: "tenant", Value: tenant}}
	if q.EndpointID != "" {
		where = append(where, state.Eq{Field: "endpoint_id", Value: q.EndpointID})
	}
	docs, err := s.store.Query(ctx, CollDeliveries, state.Query{Where: where, OrderBy: "at", Desc: true, Limit: limit})
	if err != nil {
		return nil, fmt.Errorf("webhooks.Deliveries: %w", err)
	}
	out := make([]Delivery, 0, len(docs))
	for _, doc := range docs {
		var d Delivery
		if err := doc.DataTo(&d); err != nil {
			return nil, fmt.Errorf("webhooks.Deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// GetDelivery returns one of tenant's deliveries.
func (s *Service) GetDelivery(ctx context.Context, tenant, id string) (Delivery, error) {
	d, err := s.getDelivery(ctx, tenant, id)
	if err != nil {
		return Delivery{}, fmt.Errorf("webhooks.GetDelivery: %w", err)
	}
	return d, nil
}

func (s *Service) getDelivery(ctx context.Context, tenant, id string) (Delivery, error) {
	var d Delivery
	if id == "" || strings.Contains(id, "/") {
		return d, fmt.Errorf("%w: delivery %q", ErrNotFound, id)
	}
	err := s.store.Get(ctx, CollDeliveries, id, &d)
	if errors.Is(err, state.ErrNotFound) || err == nil && d.Tenant != tenant {
		return Delivery{}, fmt.Errorf("%w: delivery %s", ErrNotFound, id)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("read delivery %s: %w", id, err)
	}
	return d, nil
}

// Replay sends a logged delivery again, once, to its endpoint's current URL,
// with the same webhook-id and body and a fresh timestamp and signature, and
// logs the attempt. It returns the updated delivery; when the endpoint does
// not accept it the error wraps ErrDelivery (or ErrForbidden). A deleted
// endpoint is ErrNotFound, a disabled one ErrDisabled.
func (s *Service) Replay(ctx context.Context, tenant, id string) (Delivery, error) {
	d, err := s.getDelivery(ctx, tenant, id)
	if err != nil {
		return Delivery{}, fmt.Errorf("webhooks.Replay: %w", err)
	}
	ep, err := s.getEndpoint(ctx, tenant, d.EndpointID)
	if err != nil {
		return Delivery{}, fmt.Errorf("webhooks.Replay %s: %w", id, err)
	}
	if !ep.Enabled {
		return Delivery{}, fmt.Errorf("webhooks.Replay %s: %w: endpoint %s", id, ErrDisabled, ep.ID)
	}
	secrets, err := s.secrets(ctx, ep)
	if err != nil {
		return Delivery{}, fmt.Errorf("webhooks.Replay %s: %w", id, err)
	}
	a := s.send(ctx, ep.URL, d.ID, []byte(d.Payload), secrets)
	a.Replay = true
	d, err = s.record(ctx, d, a)
	if err != nil {
		return Delivery{}, fmt.Errorf("webhooks.Replay: %w", err)
	}
	switch {
	case a.OK():
		return d, nil
	case a.Blocked:
		return d, fmt.Errorf("webhooks.Replay %s: %w: %s", id, ErrForbidden, a.Error)
	default:
		return d, fmt.Errorf("webhooks.Replay %s: %w: %s", id, ErrDelivery, a.Error)
	}
}
