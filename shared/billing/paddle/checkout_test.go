package paddle

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A create-transaction answer shaped like Paddle's documented example,
// trimmed of the fields nobody reads.
const txnReady = `{
  "data": {
    "id": "txn_01hv8wptq8987qeep44cyrewp9",
    "status": "ready",
    "customer_id": null,
    "custom_data": {"tenant_id": "acme"},
    "currency_code": "USD",
    "origin": "api",
    "collection_mode": "automatic",
    "items": [{"price": {"id": "pri_01gsz8x8sawmvhz1pv30nge1ke"}, "quantity": 1}],
    "checkout": {"url": %s}
  },
  "meta": {"request_id": "5a7b2a9f-8e3c-4f0a-9b1d-2c3e4f5a6b7c"}
}`

func TestCreateCheckout(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		answer   string
		link     string
		wantURL  string
		wantErr  string
		wantBody map[string]any
	}{
		{name: "default payment link", status: 201,
			answer:  strings.Replace(txnReady, "%s", `"https://buy.example.com/pay?_ptxn=txn_01hv8wptq8987qeep44cyrewp9"`, 1),
			wantURL: "https://buy.example.com/pay?_ptxn=txn_01hv8wptq8987qeep44cyrewp9"},
		{name: "explicit payment link is sent", status: 201, link: "https://synthos.example/pay",
			answer:   strings.Replace(txnReady, "%s", `"https://synthos.example/pay?_ptxn=txn_01hv8wptq8987qeep44cyrewp9"`, 1),
			wantURL:  "https://synthos.example/pay?_ptxn=txn_01hv8wptq8987qeep44cyrewp9",
			wantBody: map[string]any{"checkout": map[string]any{"url": "https://synthos.example/pay"}}},
		{name: "no payment link set", status: 201, answer: strings.Replace(txnReady, "%s", "null", 1),
			wantErr: "no checkout URL"},
		{name: "Paddle refuses the key", status: 403,
			answer: `{"error": {"type": "request_error", "code": "forbidden", "detail": "You aren't permitted to perform this request.",
			"documentation_url": "https://developer.paddle.com/v1/errors/shared/forbidden"}, "meta": {"request_id": "x"}}`,
			wantErr: "HTTP 403 forbidden"},
		{name: "not JSON", status: 502, answer: "<html>bad gateway</html>", wantErr: "HTTP 502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != http.MethodPost || r.URL.Path != "/transactions" {
					t.Errorf("request %s %s, want POST /transactions", r.Method, r.URL.Path)
				}
				if a := r.Header.Get("Authorization"); a != "Bearer pdl_sdbx_apikey_test" {
					t.Errorf("Authorization %q", a)
				}
				b, _ := io.ReadAll(r.Body)
				if err := json.Unmarshal(b, &got); err != nil {
					t.Errorf("request body %s: %v", b, err)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.answer)
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL, APIKey: "pdl_sdbx_apikey_test"}
			co, err := c.CreateCheckout(context.Background(), CheckoutRequest{PriceID: "pri_01gsz8x8sawmvhz1pv30nge1ke", Tenant: "acme", URL: tt.link})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if co.URL != tt.wantURL || co.TransactionID != "txn_01hv8wptq8987qeep44cyrewp9" {
				t.Errorf("checkout = %+v", co)
			}
			items, _ := got["items"].([]any)
			if len(items) != 1 || items[0].(map[string]any)["price_id"] != "pri_01gsz8x8sawmvhz1pv30nge1ke" || items[0].(map[string]any)["quantity"] != 1.0 {
				t.Errorf("items sent %v", got["items"])
			}
			if cd, _ := got["custom_data"].(map[string]any); cd["tenant_id"] != "acme" {
				t.Errorf("custom_data sent %v, want tenant_id acme", got["custom_data"])
			}
			for k, v := range tt.wantBody {
				if b1, _ := json.Marshal(got[k]); string(b1) != mustJSON(v) {
					t.Errorf("%s sent %s, want %s", k, b1, mustJSON(v))
				}
			}
			if tt.wantBody == nil && got["checkout"] != nil {
				t.Errorf("checkout sent %v without a configured link", got["checkout"])
			}
		})
	}
}

func TestCreateCheckoutRefusesOtherPrices(t *testing.T) {
	c := &Client{BaseURL: "http://127.0.0.1:1", APIKey: "k"}
	_, err := c.CreateCheckout(context.Background(), CheckoutRequest{PriceID: "price_1Stripe", Tenant: "acme"})
	if err == nil || !strings.Contains(err.Error(), "not a Paddle price") {
		t.Fatalf("err = %v", err)
	}
	var ae *APIError
	if errors.As(err, &ae) {
		t.Fatal("a local refusal is not an API error")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
