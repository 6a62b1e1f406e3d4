package audit_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	fnaudit "synthos.dev/synthos/functions/audit"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/webhooks"
)

// Security events reach the tenant's endpoints that subscribe to them,
// signed, once per endpoint across redeliveries; other audit records and
// other tenants' events do not.
func TestSecurityEventWebhooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const key = "audit-test-key-of-at-least-32-bytes!!"

	type hit struct {
		h    http.Header
		body []byte
	}
	var mu sync.Mutex
	got := map[string][]hit{}
	fail := true // the "all" receiver fails its first request
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got[r.URL.Path] = append(got[r.URL.Path], hit{r.Header.Clone(), b})
		if r.URL.Path == "/all" && fail {
			fail = false
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer rcv.Close()

	opts := webhooks.Options{Client: webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true}, Attempts: 1}
	admin, err := webhooks.New(st, []byte(key), opts)
	if err != nil {
		t.Fatal(err)
	}
	endpoints := map[string][]string{"/waf": {"security.waf.*"}, "/all": {"security.*"}, "/jobs": {"job.*"}}
	secretOf := map[string]string{}
	for path, types := range endpoints {
		_, secret, err := admin.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.URL + path, EventTypes: types})
		if err != nil {
			t.Fatal(err)
		}
		secretOf[path] = secret
	}
	if _, _, err := admin.CreateEndpoint(ctx, "t2", webhooks.EndpointInput{URL: rcv.URL + "/other"}); err != nil {
		t.Fatal(err)
	}
	env := &platform.Env{State: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Secrets: secrets.Env(func(k string) (string, bool) { return key, k == secrets.EnvName(webhooks.KeySecret) })}
	h, err := fnaudit.NewWithOptions(env, opts)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)
	msg := func(e audit.Event) *events.Message {
		b, _ := json.Marshal(e)
		return &events.Message{ID: "m-" + e.ID, Data: b}
	}
	waf := audit.Event{ID: "s1", Tenant: "t1", Actor: "key:k1", Action: "security.waf.blocked", Resource: "/v1/jobs",
		Outcome: "denied", Details: map[string]string{"rule": "942100", "client_net": "203.0.113.0/24"}, At: at}
	rule := audit.Event{ID: "s2", Tenant: "t1", Actor: "key:k1", Action: "security.rule.matched", Resource: "/v1/jobs/x",
		Outcome: "detected", Details: map[string]string{"rule": "tenant-enumeration"}, At: at}
	plain := audit.Event{ID: "s3", Tenant: "t1", Actor: "key:k1", Action: "job.created", Resource: "jobs/j1", At: at}
	platformWide := audit.Event{ID: "s4", Actor: "client:198.51.100.0/24", Action: "security.ip.banned", At: at}

	// The "all" endpoint fails once: the message fails and is redelivered.
	if err := h(ctx, msg(waf)); err == nil {
		t.Fatal("a failing endpoint did not fail the message")
	}
	for _, e := range []audit.Event{waf, rule, plain, platformWide} {
		if err := h(ctx, msg(e)); err != nil {
			t.Fatalf("%s: %v", e.ID, err)
		}
	}
	if err := h(ctx, msg(rule)); err != nil { // a plain redelivery
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string][]string{ // receiver -> event ids, in order
		"/waf": {"s1"},
		"/all": {"s1", "s1", "s2"}, // the failed try, its redelivery, then s2 once
	}
	for _, path := range []string{"/waf", "/all", "/jobs", "/other"} {
		hits := got[path]
		if len(hits) != len(want[path]) {
			t.Fatalf("%s got %d requests, want %d", path, len(hits), len(want[path]))
		}
		for i, hh := range hits {
			if err := webhooks.Verify(hh.h, hh.body, time.Now(), secretOf[path]); err != nil {
				t.Errorf("%s #%d: %v", path, i, err)
			}
			var p struct {
				Type string       `json:"type"`
				Data audit.Record `json:"data"`
			}
			if err := json.Unmarshal(hh.body, &p); err != nil {
				t.Fatal(err)
			}
			if p.Data.ID != want[path][i] || p.Type != p.Data.Action || p.Data.Seq == 0 {
				t.Errorf("%s #%d: type %s record %+v", path, i, p.Type, p.Data)
			}
		}
	}
	if got["/all"][1].h.Get(webhooks.HeaderID) != got["/all"][0].h.Get(webhooks.HeaderID) {
		t.Error("the redelivery changed the webhook-id")
	}
}
