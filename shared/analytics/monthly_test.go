package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/state/statetest"
	"synthos.dev/synthos/shared/webhooks"
)

// The monthly report reaches each subscribed tenant once, signed, with the
// month's page; tenants without a subscription get nothing; a failing
// endpoint is tried again on the next pass.
func TestSendMonthly(t *testing.T) {
	ctx := context.Background()
	st := statetest.Bolt(t)
	a, err := New(st)
	if err != nil {
		t.Fatal(err)
	}
	q := 0.91
	for i, tenant := range []string{"acme", "acme", "beta", "quiet"} {
		f := Fact{JobID: "j" + string(rune('0'+i)), Tenant: tenant, Dataset: "claims", Model: "tree", State: "succeeded",
			At: time.Date(2026, 3, 10+i, 12, 0, 0, 0, time.UTC), Rows: 1000, Seconds: 3, Quality: &q}
		if _, err := a.Record(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	type hit struct {
		h    http.Header
		body []byte
	}
	var mu sync.Mutex
	got := map[string][]hit{}
	failBeta := true
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got[r.URL.Path] = append(got[r.URL.Path], hit{r.Header.Clone(), b})
		if r.URL.Path == "/beta" && failBeta {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer rcv.Close()
	hooks, err := webhooks.New(st, []byte("monthly-test-key-of-at-least-32-bytes"),
		webhooks.Options{Client: webhooks.ClientOptions{AllowHTTP: true, AllowLoopbackForTests: true}, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{}
	for _, ep := range []struct {
		tenant, path string
		types        []string
	}{
		{"acme", "/acme", []string{ReportEventType}},
		{"beta", "/beta", []string{"report.*"}},
		{"quiet", "/quiet", []string{"job.*"}}, // not subscribed
	} {
		_, secret, err := hooks.CreateEndpoint(ctx, ep.tenant, webhooks.EndpointInput{URL: rcv.URL + ep.path, EventTypes: ep.types})
		if err != nil {
			t.Fatal(err)
		}
		secrets[ep.path] = secret
	}
	now := time.Date(2026, 4, 1, 0, 5, 0, 0, time.UTC) // March has just ended
	n, err := SendMonthly(ctx, st, a, hooks, now)
	if n != 1 || err == nil || !strings.Contains(err.Error(), "beta") {
		t.Fatalf("first pass: sent %d, %v; want acme sent and beta failing", n, err)
	}
	mu.Lock()
	failBeta = false
	mu.Unlock()
	if n, err := SendMonthly(ctx, st, a, hooks, now.Add(time.Minute)); n != 1 || err != nil {
		t.Fatalf("second pass: sent %d, %v; want beta", n, err)
	}
	if n, err := SendMonthly(ctx, st, a, hooks, now.Add(2*time.Minute)); n != 0 || err != nil {
		t.Fatalf("third pass: sent %d, %v; want nothing", n, err)
	}
	var mark sentMark
	if err := st.Get(ctx, CollReportsSent, DocID("*", "2026-03"), &mark); err != nil {
		t.Fatalf("the month is not marked: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for path, want := range map[string]int{"/acme": 1, "/beta": 2, "/quiet": 0} {
		if len(got[path]) != want {
			t.Fatalf("%s got %d requests, want %d", path, len(got[path]), want)
		}
	}
	for _, path := range []string{"/acme", "/beta"} {
		h := got[path][len(got[path])-1]
		if err := webhooks.Verify(h.h, h.body, time.Now(), secrets[path]); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var p struct {
			Type string        `json:"type"`
			Data ReportPayload `json:"data"`
		}
		if err := json.Unmarshal(h.body, &p); err != nil {
			t.Fatal(err)
		}
		tenant := strings.TrimPrefix(path, "/")
		if p.Type != ReportEventType || p.Data.Month != "2026-03" || p.Data.Scope != "tenant "+tenant ||
			!strings.Contains(p.Data.HTML, "March 2026") || !strings.Contains(p.Data.HTML, `data-chart="rows"`) {
			t.Errorf("%s: type %s month %s scope %s, page of %d bytes", path, p.Type, p.Data.Month, p.Data.Scope, len(p.Data.HTML))
		}
	}
	if got["/beta"][0].h.Get(webhooks.HeaderID) != got["/beta"][1].h.Get(webhooks.HeaderID) {
		t.Error("the retry changed the webhook-id")
	}
	if _, err := SendMonthly(ctx, failingStore{st}, a, hooks, now.AddDate(0, 1, 0)); err == nil {
		t.Error("a failing store was not reported")
	}
}

// failingStore fails every read.
type failingStore struct{ state.Store }

func (failingStore) Get(context.Context, string, string, any) error {
	return errors.New("unavailable")
}
