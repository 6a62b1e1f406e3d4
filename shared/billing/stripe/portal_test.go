package stripe

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// A billing portal session as Stripe's API reference shows it.
const portalSession = `{
  "id": "bps_1MrSjzLkdIwHu7ixex0IvU9b",
  "object": "billing_portal.session",
  "configuration": "bpc_1MAhNDLkdIwHu7ixckACO1Jq",
  "created": 1680210639,
  "customer": "cus_NciAYcXfLnqBoz",
  "flow": null,
  "livemode": false,
  "locale": null,
  "on_behalf_of": null,
  "return_url": "https://example.com/account",
  "url": "https://billing.stripe.com/p/session/test_YWNjdF8xTTJKVGtMa2RJd0h1N2l4LF9OY2lBYjJXcHY4a2NPck96UjBEbFVYRnU5bjlwVUF50100BUtQs3bl"
}`

func TestPortalSession(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		answer   string
		customer string
		wantErr  string
	}{
		{name: "session", status: 200, answer: portalSession, customer: "cus_NciAYcXfLnqBoz"},
		{name: "unknown customer", status: 400, customer: "cus_missing",
			answer: `{"error": {"code": "resource_missing", "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
			"message": "No such customer: 'cus_missing'", "param": "customer", "type": "invalid_request_error"}}`,
			wantErr: "No such customer"},
		{name: "no customer", customer: "", wantErr: "needs a customer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				if r.Method != http.MethodPost || r.URL.Path != "/v1/billing_portal/sessions" {
					t.Errorf("request %s %s", r.Method, r.URL.Path)
				}
				if a := r.Header.Get("Authorization"); a != "Bearer sk_test_portal" {
					t.Errorf("Authorization %q", a)
				}
				b, _ := io.ReadAll(r.Body)
				form, err := url.ParseQuery(string(b))
				if err != nil || form.Get("customer") != tt.customer || form.Get("return_url") != "https://synthos.example/#/usage" {
					t.Errorf("form sent %q (%v)", b, err)
				}
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Request-Id", "req_test")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.answer)
			}))
			defer srv.Close()
			p := &Portal{BaseURL: srv.URL, APIKey: "sk_test_portal"}
			u, err := p.Session(context.Background(), tt.customer, "https://synthos.example/#/usage")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(u, "https://billing.stripe.com/p/session/test_") || calls != 1 {
				t.Errorf("url %q after %d calls", u, calls)
			}
		})
	}
}
