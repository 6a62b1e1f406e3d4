package stripe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	stripego "github.com/stripe/stripe-go/v84"
)

// Portal opens Stripe customer-portal sessions with stripe-go
// (POST /v1/billing_portal/sessions).
type Portal struct {
	// BaseURL is Stripe's API (https://api.stripe.com) when empty; tests
	// point it at a server speaking Stripe's wire format.
	BaseURL string
	// APIKey is the secret key (sk_… or a restricted rk_… key allowed to
	// write billing portal sessions).
	APIKey string
	// HTTP is a client with a 30 s timeout when nil.
	HTTP *http.Client
}

// Session creates a portal session for customer, returning to returnURL,
// and returns the session's URL.
func (p *Portal) Session(ctx context.Context, customer, returnURL string) (string, error) {
	if customer == "" {
		return "", errors.New("stripe: a portal session needs a customer id")
	}
	hc := p.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	cfg := &stripego.BackendConfig{HTTPClient: hc, MaxNetworkRetries: stripego.Int64(1),
		// stripe-go logs errors to stderr by default; the caller reports them.
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull}}
	if p.BaseURL != "" {
		cfg.URL = stripego.String(p.BaseURL)
	}
	b := stripego.GetBackendWithConfig(stripego.APIBackend, cfg)
	sc := stripego.NewClient(p.APIKey, stripego.WithBackends(&stripego.Backends{API: b, Connect: b, Uploads: b, MeterEvents: b}))
	params := &stripego.BillingPortalSessionCreateParams{Customer: stripego.String(customer)}
	if returnURL != "" {
		params.ReturnURL = stripego.String(returnURL)
	}
	s, err := sc.V1BillingPortalSessions.Create(ctx, params)
	if err != nil {
		return "", fmt.Errorf("stripe: create a billing portal session for %s: %w", customer, err)
	}
	if s.URL == "" {
		return "", fmt.Errorf("stripe: billing portal session %s has no url", s.ID)
	}
	return s.URL, nil
}
