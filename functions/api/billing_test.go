package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/billing/subscription"
)

// exerciseBilling covers the billing routes on the shared fixture, whose
// catalog sells nothing and whose tenant never subscribed.
func exerciseBilling(t *testing.T, f *fixture, admin, reader string) {
	t.Helper()
	for _, tc := range []struct {
		name     string
		rq       req
		status   int
		wantCode string
	}{
		{"checkout unknown plan", req{method: "POST", path: "/v1/billing/checkout", key: admin, body: map[string]any{"plan": "platinum"}}, 400, "invalid_request"},
		{"checkout no body", req{method: "POST", path: "/v1/billing/checkout", key: admin}, 400, "invalid_request"},
		{"checkout plan without a price", req{method: "POST", path: "/v1/billing/checkout", key: admin, body: map[string]any{"plan": "free"}}, 409, "plan_not_for_sale"},
		{"checkout read scope", req{method: "POST", path: "/v1/billing/checkout", key: reader, body: map[string]any{"plan": "free"}}, 403, "forbidden"},
		{"portal without a customer", req{method: "POST", path: "/v1/billing/portal", key: admin}, 409, "no_billing_customer"},
	} {
		r := f.do(tc.rq)
		if r.status != tc.status || r.errCode(t) != tc.wantCode {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.body, tc.status, tc.wantCode)
		}
	}
}

// fakeProviders serves Paddle's POST /transactions and Stripe's POST
// /v1/billing_portal/sessions in their wire formats, remembering what they
// were sent; refuse makes both answer their documented error shapes.
type fakeProviders struct {
	paddle, stripe *httptest.Server
	paddleBody     map[string]any
	stripeForm     url.Values
	refuse         bool
}

func newFakeProviders(t *testing.T) *fakeProviders {
	fp := &fakeProviders{}
	fp.paddle = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &fp.paddleBody)
		w.Header().Set("Content-Type", "application/json")
		if fp.refuse || r.Header.Get("Authorization") != "Bearer pdl_test_key" {
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error": {"type": "request_error", "code": "forbidden", "detail": "You aren't permitted to perform this request.", "documentation_url": "https://developer.paddle.com/v1/errors/shared/forbidden"}, "meta": {"request_id": "r1"}}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"data": {"id": "txn_01test", "status": "ready", "custom_data": %s, "checkout": {"url": "https://pay.example.com/buy?_ptxn=txn_01test"}}, "meta": {"request_id": "r2"}}`,
			mustMarshal(fp.paddleBody["custom_data"]))
	}))
	fp.stripe = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fp.stripeForm, _ = url.ParseQuery(string(b))
		w.Header().Set("Content-Type", "application/json")
		if fp.refuse || r.URL.Path != "/v1/billing_portal/sessions" || r.Header.Get("Authorization") != "Bearer sk_test_key" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error": {"code": "resource_missing", "message": "No such customer: 'cus_acme'", "param": "customer", "type": "invalid_request_error"}}`)
			return
		}
		fmt.Fprintf(w, `{"id": "bps_test", "object": "billing_portal.session", "configuration": "bpc_test", "created": 1680210639, "customer": %q, "livemode": false, "return_url": %q, "url": "https://billing.stripe.com/p/session/test_acme"}`,
			fp.stripeForm.Get("customer"), fp.stripeForm.Get("return_url"))
	}))
	t.Cleanup(fp.paddle.Close)
	t.Cleanup(fp.stripe.Close)
	return fp
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestBillingLinks(t *testing.T) {
	catalog, err := plans.New([]plans.Plan{
		{Name: plans.Free, RowsPerMonth: 1000, RowsPerJob: 100, ConcurrentJobs: 1, ReportRetentionDays: 1},
		{Name: plans.Pro, RowsPerMonth: 100000, RowsPerJob: 1000, ConcurrentJobs: 2, ReportRetentionDays: 1,
			PriceIDs: []string{"price_1Stripe", "pri_01pro"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	fp := newFakeProviders(t)
	cfg := &billing.LinksConfig{PaddleAPIURL: fp.paddle.URL, PaddleAPIKeySecret: "paddle-api-key",
		StripeAPIURL: fp.stripe.URL, StripeAPIKeySecret: "stripe-api-key"}
	configured := newFixture(t, fixtureOptions{plans: catalog, billing: cfg,
		secrets: map[string]string{"paddle-api-key": "pdl_test_key", "stripe-api-key": "sk_test_key"}})
	bare := newFixture(t, fixtureOptions{plans: catalog, billing: cfg})
	for _, f := range []*fixture{configured, bare} {
		if err := f.st.Set(context.Background(), subscription.CollRecords, "acme",
			subscription.Record{Tenant: "acme", Provider: billing.Stripe, CustomerID: "cus_acme", SubscriptionID: "sub_1", Status: subscription.Active}); err != nil {
			t.Fatal(err)
		}
	}
	checkout := req{method: "POST", path: "/v1/billing/checkout", body: map[string]any{"plan": "pro"}}
	portal := req{method: "POST", path: "/v1/billing/portal"}
	tests := []struct {
		name     string
		f        *fixture
		tenant   string
		rq       req
		refuse   bool
		status   int
		wantCode string
		wantURL  string
	}{
		{name: "checkout", f: configured, tenant: "acme", rq: checkout, status: 201, wantURL: "https://pay.example.com/buy?_ptxn=txn_01test"},
		{name: "portal", f: configured, tenant: "acme", rq: portal, status: 201, wantURL: "https://billing.stripe.com/p/session/test_acme"},
		{name: "portal of a tenant without a subscription", f: configured, tenant: "globex", rq: portal, status: 409, wantCode: "no_billing_customer"},
		{name: "checkout, Paddle refuses", f: configured, tenant: "acme", rq: checkout, refuse: true, status: 502, wantCode: "billing_provider_error"},
		{name: "portal, Stripe refuses", f: configured, tenant: "acme", rq: portal, refuse: true, status: 502, wantCode: "billing_provider_error"},
		{name: "checkout not configured", f: bare, tenant: "acme", rq: checkout, status: 503, wantCode: "billing_not_configured"},
		{name: "portal not configured", f: bare, tenant: "acme", rq: portal, status: 503, wantCode: "billing_not_configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fp.refuse, fp.paddleBody, fp.stripeForm = tt.refuse, nil, nil
			rq := tt.rq
			rq.key = tt.f.key(tt.tenant, apikeys.Admin)
			r := tt.f.do(rq)
			if r.status != tt.status {
				t.Fatalf("%d %s, want %d", r.status, r.body, tt.status)
			}
			if tt.wantCode != "" {
				if c := r.errCode(t); c != tt.wantCode {
					t.Errorf("code %s, want %s: %s", c, tt.wantCode, r.body)
				}
				if tt.wantCode == "billing_not_configured" && !strings.Contains(string(r.body), "-api-key") {
					t.Errorf("the answer does not name the missing secret: %s", r.body)
				}
				return
			}
			if got := r.json(t)["url"]; got != tt.wantURL {
				t.Errorf("url %v, want %s", got, tt.wantURL)
			}
			switch tt.rq.path {
			case "/v1/billing/checkout":
				items := fp.paddleBody["items"].([]any)
				if items[0].(map[string]any)["price_id"] != "pri_01pro" || fp.paddleBody["custom_data"].(map[string]any)["tenant_id"] != "acme" {
					t.Errorf("Paddle was sent %v", fp.paddleBody)
				}
			case "/v1/billing/portal":
				if fp.stripeForm.Get("customer") != "cus_acme" || fp.stripeForm.Get("return_url") != tt.f.srv.URL+"/#/usage" {
					t.Errorf("Stripe was sent %v", fp.stripeForm)
				}
			}
		})
	}
}
