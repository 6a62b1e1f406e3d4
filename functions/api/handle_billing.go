package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sethvargo/go-envconfig"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/paddle"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/billing/stripe"
	"synthos.dev/synthos/shared/billing/subscription"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/web"
)

// billingLinks hands out the providers' own pages for plan changes: a
// Paddle checkout for buying a plan and the Stripe customer portal for
// managing an existing Stripe subscription. The provider's webhook then
// changes the plan (functions/billing, package subscription); nothing here
// changes entitlements.
type billingLinks struct {
	cfg     billing.LinksConfig
	catalog *plans.Catalog
	secrets secrets.Source
	subs    *subscription.Store
	http    *http.Client // nil: the clients' defaults
}

// apiKey reads a provider's API key; a missing secret is the provider not
// being configured, answered 503 with the secret's name.
func (b *billingLinks) apiKey(ctx context.Context, provider, name, envVar string) (string, error) {
	v, err := b.secrets.Get(ctx, name)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", &api.CodedError{Code: "billing_not_configured", Kind: api.ErrUnavailable,
			Msg:     fmt.Sprintf("%s billing is not configured: the secret %q (%s) holding its API key is missing", provider, name, envVar),
			Details: map[string]any{"provider": provider, "secret": name, "variable": envVar}}
	}
	if err != nil {
		return "", fmt.Errorf("billing: read the %s API key secret %q: %w", provider, name, err)
	}
	return strings.TrimSpace(string(v)), nil
}

// providerErr answers a provider's refusal or failure as 502: the request
// was understood here, the provider did not serve it. The provider's own
// message (an unknown price, a refused key) is what the operator needs.
func providerErr(w http.ResponseWriter, r *http.Request, provider string, err error) {
	ctx := r.Context()
	obs.Logger(ctx).WarnContext(ctx, "billing provider refused a link", "provider", provider, "error", err)
	web.WriteError(w, http.StatusBadGateway, "billing_provider_error",
		fmt.Sprintf("%s did not create the link: %v", provider, err), map[string]any{"provider": provider})
}

// createCheckout: POST /v1/billing/checkout {plan} → {provider, url,
// transaction_id}: a Paddle checkout for the plan's Paddle price, carrying
// the tenant in custom_data.tenant_id.
func (s *server) createCheckout(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Plan string `json:"plan"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	b := s.billing
	p, ok := b.catalog.Get(body.Plan)
	if !ok {
		writeErr(w, r, &api.FieldError{Field: "plan", Reason: fmt.Sprintf("must be one of %s", strings.Join(b.catalog.Names(), ", "))})
		return
	}
	price := ""
	for _, id := range p.PriceIDs {
		if strings.HasPrefix(id, "pri_") {
			price = id
			break
		}
	}
	if price == "" {
		writeErr(w, r, &api.CodedError{Code: "plan_not_for_sale", Kind: api.ErrConflict,
			Msg:     fmt.Sprintf("plan %q has no Paddle price (pri_…) in the plan catalog (SYNTHOS_PLANS_FILE or SYNTHOS_PLANS_JSON), so it cannot be bought through a checkout", p.Name),
			Details: map[string]any{"plan": p.Name}})
		return
	}
	key, err := b.apiKey(r.Context(), "Paddle", b.cfg.PaddleAPIKeySecret, "SYNTHOS_PADDLE_API_KEY_SECRET")
	if err != nil {
		writeErr(w, r, err)
		return
	}
	c := &paddle.Client{BaseURL: b.cfg.PaddleAPIURL, APIKey: key, HTTP: b.http}
	co, err := c.CreateCheckout(r.Context(), paddle.CheckoutRequest{PriceID: price, Tenant: principal(r).Tenant, URL: b.cfg.PaddleCheckoutURL})
	if err != nil {
		providerErr(w, r, "Paddle", err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, map[string]any{"provider": "paddle", "plan": p.Name, "url": co.URL, "transaction_id": co.TransactionID})
}

// createPortal: POST /v1/billing/portal → {provider, url}: a Stripe
// customer-portal session for the tenant's Stripe customer, returning to
// the console's usage page.
func (s *server) createPortal(w http.ResponseWriter, r *http.Request) {
	b := s.billing
	tenant := principal(r).Tenant
	rec, err := b.subs.Get(r.Context(), tenant)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		writeErr(w, r, fmt.Errorf("billing portal: %w", err))
		return
	}
	if rec.Provider != billing.Stripe || rec.CustomerID == "" {
		writeErr(w, r, &api.CodedError{Code: "no_billing_customer", Kind: api.ErrConflict,
			Msg: "this tenant has no Stripe customer yet: the customer portal manages a Stripe subscription, which starts with a Stripe checkout" +
				" (a Paddle subscription is managed from the links in Paddle's receipts)",
			Details: map[string]any{"provider": string(rec.Provider)}})
		return
	}
	key, err := b.apiKey(r.Context(), "Stripe", b.cfg.StripeAPIKeySecret, "SYNTHOS_STRIPE_API_KEY_SECRET")
	if err != nil {
		writeErr(w, r, err)
		return
	}
	p := &stripe.Portal{BaseURL: b.cfg.StripeAPIURL, APIKey: key, HTTP: b.http}
	u, err := p.Session(r.Context(), rec.CustomerID, baseURL(r)+"/#/usage")
	if err != nil {
		providerErr(w, r, "Stripe", err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, map[string]any{"provider": "stripe", "url": u})
}

// newBillingLinks builds the link handlers; cfg nil reads the environment.
func newBillingLinks(env *platform.Env, catalog *plans.Catalog, cfg *billing.LinksConfig) (*billingLinks, error) {
	var c billing.LinksConfig
	if cfg != nil {
		c = *cfg
	} else {
		var err error
		if c, err = billing.LoadLinksConfig(context.Background(), envconfig.OsLookuper()); err != nil {
			return nil, err
		}
	}
	subs, err := subscription.New(env.State, catalog, nil)
	if err != nil {
		return nil, err
	}
	return &billingLinks{cfg: c, catalog: catalog, secrets: env.Secrets, subs: subs}, nil
}
