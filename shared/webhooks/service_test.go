package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/webhooks"
)

var testKey = []byte("0123456789abcdef0123456789abcdef-test-key")

// clock is a settable time source shared by the Service and the receiver.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// receiver is a customer's endpoint: it records every request and answers
// with the next scripted status (then 200).
type receiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	script []int
	got    []received
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{script: script}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Clone(), body})
		status := http.StatusOK
		if len(r.script) > 0 {
			status, r.script = r.script[0], r.script[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

func (r *receiver) setScript(s ...int) { r.mu.Lock(); r.script = s; r.mu.Unlock() }

type fixture struct {
	svc   *webhooks.Service
	store state.Store
	clock *clock
}

func newFixture(t *testing.T, o webhooks.Options) *fixture {
	t.Helper()
	st, err := state.Open(context.Background(), "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Now().UTC()}
	o.Now = c.Now
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = time.Millisecond, 4*time.Millisecond
	}
	svc, err := webhooks.New(st, testKey, o)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{svc: svc, store: st, clock: c}
}

// testClient is what tests use to reach httptest servers.
var testClient = webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true}

func event(id, tenant, typ string) webhooks.Event {
	return webhooks.Event{ID: id, Tenant: tenant, Type: typ, At: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
		Data: []byte(`{"job_id":"j1","state":"succeeded"}`)}
}

func TestDeliverSignedAndLogged(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: testClient})
	rcv := newReceiver(t)
	ep, secret, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.srv.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, webhooks.SecretPrefix) || !ep.Enabled {
		t.Fatalf("CreateEndpoint gave secret %q, endpoint %+v", secret, ep)
	}
	ev := event("m-1", "t1", "job.succeeded")
	if err := f.svc.Deliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if err := webhooks.Verify(r.header, r.body, f.clock.Now(), secret); err != nil {
		t.Fatalf("receiver cannot verify the delivery: %v", err)
	}
	wantID := webhooks.MessageID(ev.ID, ep.ID)
	if got := r.header.Get(webhooks.HeaderID); got != wantID {
		t.Fatalf("webhook-id %q, want %q", got, wantID)
	}
	var p struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Type != ev.Type || !p.Timestamp.Equal(ev.At) || string(p.Data) != string(ev.Data) {
		t.Fatalf("payload %s does not carry the event", r.body)
	}

	log, err := f.svc.Deliveries(ctx, "t1", webhooks.DeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 1 {
		t.Fatalf("delivery log has %d entries, want 1", len(log))
	}
	d := log[0]
	if d.ID != wantID || d.Status != webhooks.StatusSucceeded || d.Attempts != 1 || d.StatusCode != 200 ||
		d.EndpointID != ep.ID || d.EventID != ev.ID || d.EventType != ev.Type || d.Payload != string(r.body) ||
		len(d.Log) != 1 || d.Log[0].Attempt != 1 || d.Log[0].StatusCode != 200 || d.Log[0].Response != "ok" ||
		d.Log[0].LatencyMS < 0 || d.LastAt.IsZero() || d.At != d.LastAt.UnixNano() {
		t.Fatalf("delivery log entry %+v", d)
	}
	if other, err := f.svc.Deliveries(ctx, "t2", webhooks.DeliveryQuery{}); err != nil || len(other) != 0 {
		t.Fatalf("another tenant sees %d deliveries (%v)", len(other), err)
	}

	// Pub/Sub redelivers the same message: the endpoint is not called again.
	if err := f.svc.Deliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("a redelivered event reached the endpoint again (%d requests)", n)
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: testClient, Attempts: 3})
	rcv := newReceiver(t, 500, 503)
	ep, secret, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Deliver(ctx, event("m-1", "t1", "job.failed")); err != nil {
		t.Fatalf("Deliver after two failures and a success: %v", err)
	}
	reqs := rcv.requests()
	if len(reqs) != 3 {
		t.Fatalf("receiver got %d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.header.Get(webhooks.HeaderID) != webhooks.MessageID("m-1", ep.ID) {
			t.Fatalf("attempt %d has webhook-id %q; it must be the same on every try", i+1, r.header.Get(webhooks.HeaderID))
		}
		if err := webhooks.Verify(r.header, r.body, f.clock.Now(), secret); err != nil {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	d, err := f.svc.GetDelivery(ctx, "t1", webhooks.MessageID("m-1", ep.ID))
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for _, a := range d.Log {
		codes = append(codes, a.StatusCode)
	}
	if d.Status != webhooks.StatusSucceeded || d.Attempts != 3 || len(codes) != 3 || codes[0] != 500 || codes[1] != 503 || codes[2] != 200 ||
		d.Log[0].Error != "status 500" || d.Log[2].Error != "" {
		t.Fatalf("delivery %+v, status codes %v", d, codes)
	}
}

func TestRetriesExhaustedThenRedelivered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: testClient, Attempts: 2})
	rcv := newReceiver(t, 500, 500, 500, 500)
	ep, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	healthy := newReceiver(t)
	if _, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: healthy.srv.URL}); err != nil {
		t.Fatal(err)
	}
	ev := event("m-1", "t1", "job.succeeded")
	for round := 1; round <= 2; round++ {
		err := f.svc.Deliver(ctx, ev)
		if !errors.Is(err, webhooks.ErrDelivery) {
			t.Fatalf("round %d: Deliver = %v, want ErrDelivery so that Pub/Sub retries", round, err)
		}
		d, err := f.svc.GetDelivery(ctx, "t1", webhooks.MessageID(ev.ID, ep.ID))
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != webhooks.StatusFailing || d.Attempts != 2*round {
			t.Fatalf("round %d: delivery status %s after %d attempts", round, d.Status, d.Attempts)
		}
	}
	if n := len(healthy.requests()); n != 1 {
		t.Fatalf("the healthy endpoint got %d requests over two rounds, want 1", n)
	}
	// The receiver recovers; the next redelivery succeeds.
	if err := f.svc.Deliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
	d, _ := f.svc.GetDelivery(ctx, "t1", webhooks.MessageID(ev.ID, ep.ID))
	if d.Status != webhooks.StatusSucceeded || d.Attempts != 5 || d.Log[4].Attempt != 5 {
		t.Fatalf("after recovery: %+v", d)
	}
}

func TestReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: testClient})
	rcv := newReceiver(t)
	ep, secret, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ev := event("m-1", "t1", "job.succeeded")
	if err := f.svc.Deliver(ctx, ev); err != nil {
		t.Fatal(err)
	}
	id := webhooks.MessageID(ev.ID, ep.ID)
	f.clock.Add(time.Minute)

	d, err := f.svc.Replay(ctx, "t1", id)
	if err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests, want 2", len(reqs))
	}
	first, again := reqs[0], reqs[1]
	if string(first.body) != string(again.body) || again.header.Get(webhooks.HeaderID) != id ||
		again.header.Get(webhooks.HeaderTimestamp) == first.header.Get(webhooks.HeaderTimestamp) {
		t.Fatalf("replay sent %s with headers %v; want the same body and id, a new timestamp", again.body, again.header)
	}
	if err := webhooks.Verify(again.header, again.body, f.clock.Now(), secret); err != nil {
		t.Fatalf("replay does not verify: %v", err)
	}
	if d.Attempts != 2 || !d.Log[1].Replay || d.Log[0].Replay || d.Status != webhooks.StatusSucceeded {
		t.Fatalf("replayed delivery %+v", d)
	}

	if _, err := f.svc.Replay(ctx, "t2", id); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("another tenant replayed it: %v", err)
	}
	if _, err := f.svc.Replay(ctx, "t1", "msg_nope"); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("replay of an unknown id: %v", err)
	}
	rcv.setScript(500)
	if _, err := f.svc.Replay(ctx, "t1", id); !errors.Is(err, webhooks.ErrDelivery) {
		t.Fatalf("a refused replay: %v, want ErrDelivery", err)
	}
	if _, err := f.svc.UpdateEndpoint(ctx, "t1", ep.ID, webhooks.EndpointInput{URL: ep.URL}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Replay(ctx, "t1", id); !errors.Is(err, webhooks.ErrDisabled) {
		t.Fatalf("replay to a disabled endpoint: %v, want ErrDisabled", err)
	}
	if err := f.svc.DeleteEndpoint(ctx, "t1", ep.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Replay(ctx, "t1", id); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("replay to a deleted endpoint: %v, want ErrNotFound", err)
	}
	if n := len(rcv.requests()); n != 3 {
		t.Fatalf("receiver got %d requests, want 3", n)
	}
}

func TestRotation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: testClient})
	rcv := newReceiver(t)
	ep, oldSecret, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	newSecret, err := f.svc.RotateSecret(ctx, "t1", ep.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if newSecret == oldSecret {
		t.Fatal("rotation returned the old secret")
	}
	if err := f.svc.Deliver(ctx, event("m-1", "t1", "job.succeeded")); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Hour) // the grace period ends
	if err := f.svc.Deliver(ctx, event("m-2", "t1", "job.succeeded")); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.requests()
	if len(reqs) != 2 {
		t.Fatalf("receiver got %d requests", len(reqs))
	}
	during, after := reqs[0], reqs[1]
	verifyAt := func(r received, at time.Time, secret string) error {
		return webhooks.Verify(r.header, r.body, at, secret)
	}
	duringAt := f.clock.Now().Add(-2 * time.Hour)
	tests := []struct {
		name   string
		r      received
		at     time.Time
		secret string
		ok     bool
	}{
		{"in grace, old secret", during, duringAt, oldSecret, true},
		{"in grace, new secret", during, duringAt, newSecret, true},
		{"after grace, new secret", after, f.clock.Now(), newSecret, true},
		{"after grace, old secret", after, f.clock.Now(), oldSecret, false},
	}
	for _, tt := range tests {
		if err := verifyAt(tt.r, tt.at, tt.secret); (err == nil) != tt.ok {
			t.Errorf("%s: Verify = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	if n := len(strings.Fields(during.header.Get(webhooks.HeaderSignature))); n != 2 {
		t.Errorf("in grace the message carries %d signatures, want 2", n)
	}

	// Rotating with no grace ends the previous secret at once.
	third, err := f.svc.RotateSecret(ctx, "t1", ep.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Deliver(ctx, event("m-3", "t1", "job.succeeded")); err != nil {
		t.Fatal(err)
	}
	last := rcv.requests()[2]
	if webhooks.Verify(last.header, last.body, f.clock.Now(), third) != nil || webhooks.Verify(last.header, last.body, f.clock.Now(), newSecret) == nil {
		t.Error("after a rotation without grace only the newest secret must verify")
	}
	if _, err := f.svc.RotateSecret(ctx, "t1", ep.ID, 30*24*time.Hour); !errors.Is(err, webhooks.ErrInvalid) {
		t.Errorf("a 30-day grace: %v, want ErrInvalid", err)
	}
	if _, err := f.svc.RotateSecret(ctx, "t2", ep.ID, time.Hour); !errors.Is(err, webhooks.ErrNotFound) {
		t.Errorf("another tenant rotated the secret: %v", err)
	}
}

// TestGuardInDelivery: an endpoint whose host name resolves to loopback is
// refused at dial time, recorded as failed for good, and not retried.
func TestGuardInDelivery(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: webhooks.ClientOptions{AllowHTTP: true}, Attempts: 3})
	rcv := newReceiver(t)
	u, _ := url.Parse(rcv.srv.URL)
	ep, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: "http://localhost:" + u.Port() + "/"})
	if err != nil {
		t.Fatalf("a host name passes CreateEndpoint (it is checked at dial time): %v", err)
	}
	if _, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.srv.URL}); !errors.Is(err, webhooks.ErrInvalid) {
		t.Fatalf("a literal loopback URL was accepted: %v", err)
	}
	ev := event("m-1", "t1", "job.succeeded")
	for range 2 {
		if err := f.svc.Deliver(ctx, ev); err != nil {
			t.Fatalf("a guarded endpoint must not hold the message for retries: %v", err)
		}
	}
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("the loopback receiver was reached %d times", n)
	}
	d, err := f.svc.GetDelivery(ctx, "t1", webhooks.MessageID(ev.ID, ep.ID))
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != webhooks.StatusFailed || d.Attempts != 1 || !d.Log[0].Blocked || !strings.Contains(d.Error, "not allowed") {
		t.Fatalf("delivery %+v; want failed after 1 attempt with the guard's reason", d)
	}
	if _, err := f.svc.Replay(ctx, "t1", d.ID); !errors.Is(err, webhooks.ErrForbidden) {
		t.Fatalf("replay through the guard: %v, want ErrForbidden", err)
	}
}

func TestRedirectIsAFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: testClient, Attempts: 1})
	target := newReceiver(t)
	redirector := httptest.NewServer(http.RedirectHandler(target.srv.URL, http.StatusFound))
	t.Cleanup(redirector.Close)
	ep, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: redirector.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Deliver(ctx, event("m-1", "t1", "job.succeeded")); !errors.Is(err, webhooks.ErrDelivery) {
		t.Fatalf("Deliver to a redirect = %v, want ErrDelivery", err)
	}
	d, _ := f.svc.GetDelivery(ctx, "t1", webhooks.MessageID("m-1", ep.ID))
	if d.StatusCode != http.StatusFound || !strings.Contains(d.Error, "redirect") || len(target.requests()) != 0 {
		t.Fatalf("delivery %+v, redirect target hit %d times", d, len(target.requests()))
	}
}

func TestFilterAndDisabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: testClient})
	failedOnly, all, disabled := newReceiver(t), newReceiver(t), newReceiver(t)
	if _, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: failedOnly.srv.URL, EventTypes: []string{"job.failed"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: all.srv.URL, EventTypes: []string{"job.*"}}); err != nil {
		t.Fatal(err)
	}
	ep, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: disabled.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.UpdateEndpoint(ctx, "t1", ep.ID, webhooks.EndpointInput{URL: disabled.srv.URL}, false); err != nil {
		t.Fatal(err)
	}
	other := newReceiver(t)
	if _, _, err := f.svc.CreateEndpoint(ctx, "t2", webhooks.EndpointInput{URL: other.srv.URL}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Deliver(ctx, event("m-1", "t1", "job.succeeded")); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Deliver(ctx, event("m-2", "t1", "job.failed")); err != nil {
		t.Fatal(err)
	}
	for name, tt := range map[string]struct {
		r    *receiver
		want int
	}{"job.failed filter": {failedOnly, 1}, "job.* filter": {all, 2}, "disabled": {disabled, 0}, "other tenant": {other, 0}} {
		if n := len(tt.r.requests()); n != tt.want {
			t.Errorf("%s: %d requests, want %d", name, n, tt.want)
		}
	}
	log, err := f.svc.Deliveries(ctx, "t1", webhooks.DeliveryQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 3 || log[0].At < log[1].At || log[1].At < log[2].At {
		t.Fatalf("delivery log %d entries, want 3 newest first", len(log))
	}
	one, err := f.svc.Deliveries(ctx, "t1", webhooks.DeliveryQuery{Limit: 1})
	if err != nil || len(one) != 1 || one[0].ID != log[0].ID {
		t.Fatalf("Limit 1 gave %d entries (%v)", len(one), err)
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{MaxEndpoints: 2}) // production client options: https only
	a, secret, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: " https://hooks.example.com/a ", Description: "main", EventTypes: []string{"job.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.URL != "https://hooks.example.com/a" || a.Description != "main" || a.Tenant != "t1" {
		t.Fatalf("created %+v", a)
	}
	var raw map[string]any
	if err := f.store.Get(ctx, webhooks.CollEndpoints, a.ID, &raw); err != nil {
		t.Fatal(err)
	}
	stored, _ := json.Marshal(raw)
	key := strings.TrimPrefix(secret, webhooks.SecretPrefix)
	if strings.Contains(string(stored), key) {
		t.Fatal("the signing secret is stored in plain text")
	}
	if pub, _ := json.Marshal(a); strings.Contains(string(pub), "secret") {
		t.Fatalf("the public endpoint exposes secret material: %s", pub)
	}

	bad := []webhooks.EndpointInput{
		{URL: "http://hooks.example.com/"},
		{URL: "https://10.0.0.1/"},
		{URL: "https://hooks.example.com/", EventTypes: []string{"job.*.x"}},
		{URL: "https://hooks.example.com/", EventTypes: []string{""}},
		{URL: "https://hooks.example.com/", Description: strings.Repeat("x", 300)},
	}
	for _, in := range bad {
		if _, _, err := f.svc.CreateEndpoint(ctx, "t1", in); !errors.Is(err, webhooks.ErrInvalid) {
			t.Errorf("CreateEndpoint(%+v) = %v, want ErrInvalid", in, err)
		}
	}
	if _, _, err := f.svc.CreateEndpoint(ctx, "", webhooks.EndpointInput{URL: "https://hooks.example.com/"}); !errors.Is(err, webhooks.ErrInvalid) {
		t.Errorf("empty tenant: %v", err)
	}
	f.clock.Add(time.Second)
	b, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: "https://hooks.example.com/b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: "https://hooks.example.com/c"}); !errors.Is(err, webhooks.ErrLimit) {
		t.Fatalf("third endpoint with MaxEndpoints 2: %v", err)
	}
	if _, _, err := f.svc.CreateEndpoint(ctx, "t2", webhooks.EndpointInput{URL: "https://hooks.example.com/t2"}); err != nil {
		t.Fatal(err)
	}
	list, err := f.svc.ListEndpoints(ctx, "t1")
	if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
		t.Fatalf("ListEndpoints = %+v, %v; want a then b", list, err)
	}
	if _, err := f.svc.GetEndpoint(ctx, "t2", a.ID); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("another tenant read the endpoint: %v", err)
	}
	if err := f.svc.DeleteEndpoint(ctx, "t2", a.ID); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("another tenant deleted the endpoint: %v", err)
	}
	up, err := f.svc.UpdateEndpoint(ctx, "t1", a.ID, webhooks.EndpointInput{URL: "https://hooks.example.com/a2"}, true)
	if err != nil || up.URL != "https://hooks.example.com/a2" || len(up.EventTypes) != 0 {
		t.Fatalf("UpdateEndpoint = %+v, %v", up, err)
	}
	if err := f.svc.DeleteEndpoint(ctx, "t1", a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetEndpoint(ctx, "t1", a.ID); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("deleted endpoint still readable: %v", err)
	}
	if err := f.svc.DeleteEndpoint(ctx, "t1", a.ID); !errors.Is(err, webhooks.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func TestWrongKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, webhooks.Options{Client: testClient})
	rcv := newReceiver(t)
	if _, _, err := f.svc.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.srv.URL}); err != nil {
		t.Fatal(err)
	}
	other, err := webhooks.New(f.store, []byte("another key of at least thirty-two bytes!"), webhooks.Options{Client: testClient})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Deliver(ctx, event("m-1", "t1", "job.succeeded")); !errors.Is(err, webhooks.ErrCorrupt) {
		t.Fatalf("Deliver with the wrong key = %v, want ErrCorrupt", err)
	}
	if len(rcv.requests()) != 0 {
		t.Fatal("something was sent without a readable secret")
	}
	if _, err := webhooks.New(f.store, []byte("short"), webhooks.Options{}); !errors.Is(err, webhooks.ErrInvalid) {
		t.Fatalf("a short key: %v, want ErrInvalid", err)
	}
}

func TestDeliverInvalid(t *testing.T) {
	t.Parallel()
	f := newFixture(t, webhooks.Options{Client: testClient})
	tests := []struct {
		name string
		ev   webhooks.Event
		want error
	}{
		{"no id", webhooks.Event{Tenant: "t1", Type: "job.succeeded"}, webhooks.ErrInvalid},
		{"no type", webhooks.Event{ID: "m", Tenant: "t1"}, webhooks.ErrInvalid},
		{"data not JSON", webhooks.Event{ID: "m", Tenant: "t1", Type: "job.succeeded", Data: []byte("{")}, webhooks.ErrInvalid},
		{"platform event: nothing to send", webhooks.Event{ID: "m", Type: "job.succeeded"}, nil},
		{"tenant without endpoints", webhooks.Event{ID: "m", Tenant: "t9", Type: "job.succeeded"}, nil},
	}
	for _, tt := range tests {
		err := f.svc.Deliver(context.Background(), tt.ev)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: Deliver = %v, want %v", tt.name, err, tt.want)
		}
	}
}
