package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/guard"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
	"synthos.dev/synthos/shared/table"
)

func TestDecodeJobRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		field   string // "" for success
		check   func(r jobsRequest) bool
		seedSet bool
	}{
		{body: `{"dataset":"d","rows":10}`, check: func(r jobsRequest) bool { return r.Model == "tree" && r.Format == "csv" && r.Rows == 10 }},
		{body: `{"dataset":"d","rows":10,"seed":18446744073709551615}`, seedSet: true, check: func(r jobsRequest) bool { return r.Seed == 1<<64-1 }},
		{body: `{"dataset":"d","rows":1,"model":"dp","epsilon":0.5,"delta":1e-6}`, check: func(r jobsRequest) bool { return r.Epsilon == 0.5 && r.Delta == 1e-6 }},
		{body: `{"dataset":"d","rows":1,"conditions":{"age":30,"smoker":true,"sex":"f"}}`,
			check: func(r jobsRequest) bool {
				return r.Conditions["age"] == "30" && r.Conditions["smoker"] == "true" && r.Conditions["sex"] == "f"
			}},
		{body: `{"dataset":"d","rows":1,"rules":{"rules": [{"type":"range","column":"age","min":18}]},"thresholds":{"max_dcr_share":0.55}}`,
			check: func(r jobsRequest) bool {
				return string(r.Rules) == `{"rules":[{"type":"range","column":"age","min":18}]}` && string(r.Thresholds) == `{"max_dcr_share":0.55}`
			}},
		{body: `{"dataset":"d","rows":1,"rules":{"a < b":true}}`, field: "rules"},
		{body: `{"dataset":"d","rows":1,"thresholds":{"quality":0.8}}`, field: "thresholds.quality"},
		{body: `{"dataset":"d","rows":0}`, field: "rows"},
		{body: `{"dataset":"d","rows":1,"model":"gan"}`, field: "model"},
		{body: `{"dataset":"d","rows":1,"epsilon":null}`, check: func(r jobsRequest) bool { return r.Epsilon == 0 }},
		{body: `{"dataset":" ","rows":1}`, field: "dataset"},
		{body: `{"dataset":1,"rows":1}`, field: "dataset"},
		{body: `{"dataset":"d","rows":1.5}`, field: "rows"},
		{body: `{"dataset":"d","rows":1000000001}`, field: "rows"},
		{body: `{"dataset":"d","rows":1,"seed":"7"}`, field: "seed"},
		{body: `{"dataset":"d","rows":1,"model":"dp","epsilon":0}`, field: "epsilon"},
		{body: `{"dataset":"d","rows":1,"model":"dp","epsilon":101}`, field: "epsilon"},
		{body: `{"dataset":"d","rows":1,"delta":0.1}`, field: "delta"},
		{body: `{"dataset":"d","rows":1,"thresholds":"high"}`, field: "thresholds"},
		{body: `{"dataset":"d","rows":1,"conditions":[]}`, field: "conditions"},
		{body: `{"dataset":"d","rows":1,"target":false}`, field: "target"},
		{body: `[1]`, field: "body"},
		{body: `{"dataset":"d","rows":1} {}`, field: "body"},
	}
	for _, tc := range tests {
		r, seedSet, err := DecodeJobRequest(strings.NewReader(tc.body))
		if tc.field == "" {
			if err != nil || !tc.check(r) || seedSet != tc.seedSet {
				t.Errorf("%s: %+v seedSet=%v %v", tc.body, r, seedSet, err)
			}
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field {
			t.Errorf("%s: error %v, want one naming %s", tc.body, err, tc.field)
		}
		if s, _, _ := Status(err); s != http.StatusBadRequest {
			t.Errorf("%s: status %d", tc.body, s)
		}
	}
}

type jobsRequest = jobs.Request

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("x: %w", jobs.ErrNotFound), 404, "not_found"},
		{fmt.Errorf("x: %w", jobs.ErrTerminal), 409, "conflict"},
		{&CodedError{Code: "not_ready", Kind: ErrNotReady}, 404, "not_ready"},
		{fmt.Errorf("x: %w", guard.ErrPaused), 503, "generation_paused"},
		{&entitlements.LimitError{Limit: entitlements.LimitDP, Plan: "free"}, 402, "plan_limit"},
		{&entitlements.LimitError{Limit: entitlements.LimitRowsPerMonth, Plan: "free", ResetsAt: time.Unix(0, 0)}, 429, "quota_exceeded"},
		{fmt.Errorf("x: %w", apikeys.ErrUnauthenticated), 401, "unauthenticated"},
		{fmt.Errorf("x: %w", ErrTooLarge), 413, "too_large"},
		{errors.New("boom"), 500, "internal"},
	}
	for _, tc := range tests {
		if s, c, _ := Status(tc.err); s != tc.status || c != tc.code {
			t.Errorf("%v: %d %s, want %d %s", tc.err, s, c, tc.status, tc.code)
		}
	}
	// A job request checked against its dataset (jobspec.Check) answers 400
	// naming the field, however it is wrapped.
	req := jobs.Request{Dataset: "d", Rows: 10, Model: "tree", Format: "csv", Target: "chargs"}
	err := fmt.Errorf("create job: %w", jobspec.Check(req, []table.Column{{Name: "charges", Kind: table.Float}}))
	if s, c, d := Status(err); s != 400 || c != "invalid_request" || d["field"] != "target" {
		t.Errorf("%v: %d %s %v, want 400 invalid_request naming target", err, s, c, d)
	}
}

// countingVerifier accepts one key and counts lookups.
type countingVerifier struct {
	calls   int
	revoked bool
}

func (v *countingVerifier) Verify(_ context.Context, key string) (*apikeys.Principal, error) {
	v.calls++
	if key != "good" || v.revoked {
		return nil, apikeys.ErrUnauthenticated
	}
	return &apikeys.Principal{Tenant: "t", KeyID: "id1", Scopes: []apikeys.Scope{apikeys.Read}}, nil
}

func TestAuthenticatorCacheAndRevocation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	v := &countingVerifier{}
	a := NewAuthenticator(v, 10*time.Second)
	now := time.Unix(1_800_000_000, 0)
	a.now = func() time.Time { return now }
	for range 3 {
		if p, err := a.Authenticate(ctx, "good"); err != nil || p.Tenant != "t" {
			t.Fatal(p, err)
		}
	}
	if v.calls != 1 {
		t.Errorf("verified %d times, want 1 (cached)", v.calls)
	}
	if _, err := a.Authenticate(ctx, "bad"); !errors.Is(err, apikeys.ErrUnauthenticated) {
		t.Errorf("bad key: %v", err)
	}
	v.revoked = true // revoked elsewhere
	if _, err := a.Authenticate(ctx, "good"); err != nil {
		t.Errorf("within the TTL the cache answers: %v", err)
	}
	now = now.Add(11 * time.Second)
	if _, err := a.Authenticate(ctx, "good"); !errors.Is(err, apikeys.ErrUnauthenticated) {
		t.Errorf("after the TTL a revoked key must fail: %v", err)
	}
	v.revoked = false
	if _, err := a.Authenticate(ctx, "good"); err != nil {
		t.Fatal(err)
	}
	a.Forget("id1")
	v.revoked = true
	if _, err := a.Authenticate(ctx, "good"); !errors.Is(err, apikeys.ErrUnauthenticated) {
		t.Errorf("after Forget a revoked key must fail at once: %v", err)
	}
}

func TestKeyFromRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header, value, want string
	}{
		{"Authorization", "Bearer sk_live_x", "sk_live_x"},
		{"Authorization", "bearer  sk_live_x ", "sk_live_x"},
		{"Authorization", "Basic abc", ""},
		{"X-API-Key", "sk_test_y", "sk_test_y"},
	}
	for _, tc := range tests {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set(tc.header, tc.value)
		if got := KeyFromRequest(r); got != tc.want {
			t.Errorf("%s: %s = %q, want %q", tc.header, tc.value, got, tc.want)
		}
	}
}
