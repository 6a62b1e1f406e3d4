package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/functions/notify"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/webhooks"
)

const key = "notify-test-key-of-at-least-32-bytes!!"

func TestNotify(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := state.Open(ctx, "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
	}))
	defer rcv.Close()

	opts := webhooks.Options{Client: webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true}}
	admin, err := webhooks.New(st, []byte(key), opts)
	if err != nil {
		t.Fatal(err)
	}
	ep, secret, err := admin.CreateEndpoint(ctx, "t1", webhooks.EndpointInput{URL: rcv.URL})
	if err != nil {
		t.Fatal(err)
	}

	vars := map[string]string{}
	var varsMu sync.Mutex
	env := &platform.Env{
		State:  st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Secrets: secrets.Env(func(k string) (string, bool) {
			varsMu.Lock()
			defer varsMu.Unlock()
			v, ok := vars[k]
			return v, ok
		}),
	}
	h, err := notify.NewWithOptions(env, opts)
	if err != nil {
		t.Fatal(err)
	}
	ev := jobs.Event{Type: "job.succeeded", JobID: "j1", Tenant: "t1", State: "succeeded", At: time.Now().UTC()}
	data, _ := json.Marshal(ev)
	msg := &events.Message{ID: "m-1", Data: data, DeliveryAttempt: 1}

	// Without the encryption key the message is retried, naming the secret.
	if err := h(ctx, msg); err == nil || !strings.Contains(err.Error(), webhooks.KeySecret) {
		t.Fatalf("without the key: %v; want an error naming %s", err, webhooks.KeySecret)
	}
	varsMu.Lock()
	vars[secrets.EnvName(webhooks.KeySecret)] = key
	varsMu.Unlock()

	if err := h(ctx, msg); err != nil {
		t.Fatal(err)
	}
	if err := h(ctx, msg); err != nil { // Pub/Sub redelivers the same message
		t.Fatal(err)
	}
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n != 1 {
		t.Fatalf("receiver got %d requests, want 1", n)
	}
	if err := webhooks.Verify(got[0].Header, bodies[0], time.Now(), secret); err != nil {
		t.Fatal(err)
	}
	if id := got[0].Header.Get(webhooks.HeaderID); id != webhooks.MessageID("m-1", ep.ID) {
		t.Fatalf("webhook-id %q", id)
	}
	var p struct {
		Type string     `json:"type"`
		Data jobs.Event `json:"data"`
	}
	if err := json.Unmarshal(bodies[0], &p); err != nil || p.Type != "job.succeeded" || p.Data.JobID != "j1" {
		t.Fatalf("payload %s (%v)", bodies[0], err)
	}

	tests := []struct {
		name string
		data string
		ok   bool
	}{
		{"not JSON", "{", false},
		{"no type", `{"job_id":"j1","tenant":"t1"}`, false},
		{"platform event", `{"type":"job.succeeded","job_id":"j1"}`, true},
	}
	for _, tt := range tests {
		err := h(ctx, &events.Message{ID: "m-" + tt.name, Data: []byte(tt.data)})
		if (err == nil) != tt.ok {
			t.Errorf("%s: %v, want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && !errors.Is(err, webhooks.ErrInvalid) {
			t.Errorf("%s: %v is not ErrInvalid", tt.name, err)
		}
	}
	if _, err := notify.New(&platform.Env{}); err == nil {
		t.Fatal("New accepted an empty environment")
	}
}
