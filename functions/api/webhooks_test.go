package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/functions/notify"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/webhooks"
)

// hookReceiver is a customer's webhook endpoint: it keeps every request and
// answers with the next scripted status (then 200).
type hookReceiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	script []int
	got    []hookRequest
}

type hookRequest struct {
	header http.Header
	body   []byte
}

func newHookReceiver(t testing.TB) *hookReceiver {
	t.Helper()
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.got = append(h.got, hookRequest{r.Header.Clone(), b})
		status := http.StatusOK
		if len(h.script) > 0 {
			status, h.script = h.script[0], h.script[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) answer(statuses ...int) { h.mu.Lock(); h.script = statuses; h.mu.Unlock() }

func (h *hookReceiver) requests() []hookRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

// webhook registers an endpoint at url through the API and returns its id
// and signing secret.
func (f *fixture) webhook(key, url string) (string, string) {
	f.t.Helper()
	r := f.do(req{method: "POST", path: "/v1/webhooks", key: key, body: map[string]any{"url": url, "event_types": []string{"job.*"}}})
	if r.status != http.StatusCreated {
		f.t.Fatalf("create webhook: %d %s", r.status, r.body)
	}
	m := r.json(f.t)
	return m["id"].(string), m["secret"].(string)
}

// jobEvent runs a job event of tenant through the notify function, as
// Pub/Sub would push it, and returns the webhook-id of its delivery to
// endpoint. An endpoint refusing it is not an error here: the delivery is
// logged as failing (Pub/Sub would redeliver).
func (f *fixture) jobEvent(tenant, msgID, endpoint string) string {
	f.t.Helper()
	h, err := notify.NewWithOptions(f.env, webhooks.Options{Client: loopbackHooks, MinBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	if err != nil {
		f.t.Fatal(err)
	}
	data, err := json.Marshal(jobs.Event{Type: "job.succeeded", JobID: "job_" + msgID, Tenant: tenant, State: jobs.Succeeded, At: time.Now().UTC()})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := h(context.Background(), &events.Message{ID: msgID, Data: data, DeliveryAttempt: 1}); err != nil && !errors.Is(err, webhooks.ErrDelivery) {
		f.t.Fatalf("notify: %v", err)
	}
	return webhooks.MessageID(msgID, endpoint)
}

// TestWebhooksDeliveryLogAndReplay registers an endpoint through the API,
// sends it a job event through the notify function, reads the delivery log
// and replays the delivery (failing, then accepted, then after a secret
// rotation): the receiver verifies every request it got.
func TestWebhooksDeliveryLogAndReplay(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	f.spec = loadSpec(t)
	admin := f.key("acme", apikeys.Admin)
	reader := f.key("acme", apikeys.Read)
	writer := f.key("acme", apikeys.Read, apikeys.Write)
	rcv := newHookReceiver(t)

	// Created once under an Idempotency-Key: the replay is the same answer.
	create := func() resp {
		return f.do(req{method: "POST", path: "/v1/webhooks", key: admin, header: map[string]string{"Idempotency-Key": "hook-1"},
			body: map[string]any{"url": rcv.srv.URL + "/hooks", "description": "ci", "event_types": []string{"job.succeeded", "job.failed"}}})
	}
	first := create()
	if first.status != http.StatusCreated {
		t.Fatalf("create: %d %s", first.status, first.body)
	}
	again := create()
	if again.status != http.StatusCreated || string(again.body) != string(first.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("idempotent replay: %d %q %s", again.status, again.header.Get("Idempotent-Replayed"), again.body)
	}
	created := first.json(t)
	ep, secret := created["id"].(string), created["secret"].(string)
	if !strings.HasPrefix(secret, webhooks.SecretPrefix) || first.header.Get("Location") != "/v1/webhooks/"+ep {
		t.Errorf("created %s at %q", first.body, first.header.Get("Location"))
	}
	r := f.do(req{method: "GET", path: "/v1/webhooks", key: reader})
	if r.status != 200 || len(r.json(t)["webhooks"].([]any)) != 1 || strings.Contains(string(r.body), secret) {
		t.Fatalf("list: %d %s (one endpoint, without its secret)", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/webhooks/" + ep, key: reader}); r.status != 200 || strings.Contains(string(r.body), "whsec_") {
		t.Errorf("get: %d %s", r.status, r.body)
	}

	// A job event through the notify function: one signed delivery, logged.
	msg := f.jobEvent("acme", "m-1", ep)
	got := rcv.requests()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	if err := webhooks.Verify(got[0].header, got[0].body, time.Now(), secret); err != nil {
		t.Fatalf("verify the delivery: %v", err)
	}
	r = f.do(req{method: "GET", path: "/v1/webhooks/deliveries", key: reader})
	list := r.json(t)["deliveries"].([]any)
	if r.status != 200 || len(list) != 1 {
		t.Fatalf("deliveries: %d %s", r.status, r.body)
	}
	d := list[0].(map[string]any)
	if d["id"] != msg || d["endpoint_id"] != ep || d["status"] != webhooks.StatusSucceeded || d["attempts"] != 1.0 ||
		d["event_type"] != "job.succeeded" || len(d["log"].([]any)) != 1 || d["payload"] != string(got[0].body) {
		t.Errorf("delivery %v", d)
	}
	for path, n := range map[string]int{"?endpoint=" + ep: 1, "?endpoint=ep_other": 0, "?limit=1": 1} {
		r := f.do(req{method: "GET", path: "/v1/webhooks/deliveries" + path, key: reader})
		if r.status != 200 || len(r.json(t)["deliveries"].([]any)) != n {
			t.Errorf("deliveries%s: %d %s, want %d", path, r.status, r.body, n)
		}
	}

	replay := func(key string) resp {
		return f.do(req{method: "POST", path: "/v1/webhooks/deliveries/" + msg + "/replay", key: key})
	}
	// The endpoint refuses the replay: 200, and the delivery's latest
	// attempt says so (a delivery once accepted stays succeeded).
	rcv.answer(http.StatusInternalServerError)
	r = replay(writer)
	d = r.json(t)
	log, _ := d["log"].([]any)
	if r.status != 200 || d["status"] != webhooks.StatusSucceeded || d["error"] != "status 500" || d["attempts"] != 2.0 || len(log) != 2 ||
		log[1].(map[string]any)["replay"] != true || log[1].(map[string]any)["status_code"] != 500.0 {
		t.Errorf("replay refused by the endpoint: %d %s", r.status, r.body)
	}
	// Accepted the second time.
	if r := replay(writer); r.status != 200 || r.json(t)["error"] != nil || r.json(t)["attempts"] != 3.0 {
		t.Errorf("replay: %d %s", r.status, r.body)
	}
	if r := replay(reader); r.status != http.StatusForbidden {
		t.Errorf("replay with a read key: %d", r.status)
	}
	if r := f.do(req{method: "GET", path: "/v1/webhooks/deliveries/" + msg, key: reader}); r.status != 200 || r.json(t)["attempts"] != 3.0 {
		t.Errorf("get delivery: %d %s", r.status, r.body)
	}

	// Rotation with a grace period: replays carry both signatures.
	r = f.do(req{method: "POST", path: "/v1/webhooks/" + ep + "/rotate", key: admin, body: map[string]any{"grace_seconds": 3600}})
	newSecret, _ := r.json(t)["secret"].(string)
	if r.status != 200 || newSecret == "" || newSecret == secret {
		t.Fatalf("rotate: %d %s", r.status, r.body)
	}
	if r := replay(writer); r.status != 200 || r.json(t)["status"] != webhooks.StatusSucceeded {
		t.Errorf("replay after rotation: %d %s", r.status, r.body)
	}
	got = rcv.requests()
	if len(got) != 4 {
		t.Fatalf("receiver got %d requests, want the delivery and 3 replays", len(got))
	}
	for i, g := range got {
		if err := webhooks.Verify(g.header, g.body, time.Now(), secret); err != nil {
			t.Errorf("request %d does not verify with the first secret: %v", i, err)
		}
		if id := g.header.Get(webhooks.HeaderID); id != msg || string(g.body) != string(got[0].body) {
			t.Errorf("request %d: webhook-id %s, body %s; want the delivery's", i, id, g.body)
		}
	}
	if err := webhooks.Verify(got[3].header, got[3].body, time.Now(), newSecret); err != nil {
		t.Errorf("the replay after rotation does not verify with the new secret: %v", err)
	}

	// Disabled: not replayed (409); deleted: 404, and the log stays.
	if r := f.do(req{method: "PATCH", path: "/v1/webhooks/" + ep, key: admin, body: map[string]any{"enabled": false}}); r.status != 200 || r.json(t)["enabled"] != false {
		t.Errorf("disable: %d %s", r.status, r.body)
	}
	if r := replay(writer); r.status != http.StatusConflict || r.errCode(t) != "endpoint_disabled" {
		t.Errorf("replay to a disabled endpoint: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "PATCH", path: "/v1/webhooks/" + ep, key: admin, body: map[string]any{"enabled": true}}); r.status != 200 || r.json(t)["enabled"] != true {
		t.Errorf("enable: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "DELETE", path: "/v1/webhooks/" + ep, key: admin}); r.status != 200 || r.json(t)["id"] != ep {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := replay(writer); r.status != http.StatusNotFound || r.errCode(t) != "endpoint_deleted" {
		t.Errorf("replay to a deleted endpoint: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/webhooks/deliveries?endpoint=" + ep, key: reader}); len(r.json(t)["deliveries"].([]any)) != 1 {
		t.Errorf("the log of a deleted endpoint: %s", r.body)
	}
	if len(rcv.requests()) != 4 {
		t.Errorf("a disabled or deleted endpoint was sent to")
	}

	actions := f.pub.actions()
	for _, a := range []string{"webhook.created", "webhook.delivery_replayed", "webhook.secret_rotated", "webhook.disabled", "webhook.enabled", "webhook.deleted"} {
		if !slices.Contains(actions, a) {
			t.Errorf("no %s audit event: %v", a, actions)
		}
	}
	if n := slices.Index(actions, "webhook.created"); n >= 0 && slices.Contains(actions[n+1:], "webhook.created") {
		t.Errorf("the idempotent replay audited a second creation: %v", actions)
	}
}

// TestWebhooksProductionGuard: with the production client, endpoints must
// be https URLs of public addresses.
func TestWebhooksProductionGuard(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{productionHooks: true})
	f.spec = loadSpec(t)
	admin := f.key("acme", apikeys.Admin)
	for _, url := range []string{"http://example.com/hook", "https://127.0.0.1/hook", "https://169.254.169.254/latest", "https://[::1]/x", "https://user:pw@example.com/"} {
		r := f.do(req{method: "POST", path: "/v1/webhooks", key: admin, body: map[string]any{"url": url}})
		d, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
		if r.status != http.StatusBadRequest || d["field"] != "url" {
			t.Errorf("%s: %d %s, want 400 on field url", url, r.status, r.body)
		}
	}
	if r := f.do(req{method: "POST", path: "/v1/webhooks", key: admin, body: map[string]any{"url": "https://hooks.example.com/synthos"}}); r.status != http.StatusCreated {
		t.Errorf("a public https URL: %d %s", r.status, r.body)
	}
}

// TestWebhooksWithoutKey: without the webhook-secret-key secret the
// webhook routes answer 503 naming it, and the rest of the API works.
func TestWebhooksWithoutKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{noWebhookKey: true})
	f.spec = loadSpec(t)
	admin := f.key("acme", apikeys.Admin)
	r := f.do(req{method: "GET", path: "/v1/webhooks", key: admin})
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), webhooks.KeySecret) {
		t.Errorf("without the key: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/jobs", key: admin}); r.status != 200 {
		t.Errorf("jobs without the webhook key: %d", r.status)
	}
}
