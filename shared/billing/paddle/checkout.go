package paddle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// DefaultAPIURL is Paddle Billing's live API; the sandbox is
// https://sandbox-api.paddle.com.
const DefaultAPIURL = "https://api.paddle.com"

// ErrNoCheckoutURL reports a transaction Paddle created without a checkout
// URL: the account has no default payment link (Paddle > Checkout >
// Checkout settings) and the request named none.
var ErrNoCheckoutURL = errors.New("paddle: the transaction has no checkout URL; set a default payment link in Paddle's checkout settings or SYNTHOS_PADDLE_CHECKOUT_URL")

// APIError is an error answer of the Paddle API ({"error": {type, code,
// detail, documentation_url}}).
type APIError struct {
	Status int
	Type   string `json:"type"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
	Doc    string `json:"documentation_url"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("paddle: HTTP %d %s: %s (%s)", e.Status, e.Code, e.Detail, e.Type)
}

// Client calls the Paddle Billing API with an API key (Bearer).
type Client struct {
	// BaseURL is DefaultAPIURL when empty.
	BaseURL string
	// APIKey is the Paddle API key (pdl_… or an older key).
	APIKey string
	// HTTP is http.DefaultClient with a 30 s timeout when nil.
	HTTP *http.Client
}

// CheckoutRequest is one checkout to open for a tenant.
type CheckoutRequest struct {
	// PriceID is the Paddle price (pri_…) to buy, quantity 1.
	PriceID string
	// Tenant goes into custom_data.tenant_id, which the subscription
	// consumer reads to credit the right tenant (package subscription).
	Tenant string
	// URL, when set, is the payment link Paddle appends ?_ptxn= to;
	// empty uses the account's default payment link.
	URL string
}

// Checkout is the transaction Paddle created and the URL that opens it.
type Checkout struct {
	TransactionID string
	URL           string
}

// CreateCheckout creates a transaction (POST /transactions) for r and
// returns its checkout URL (data.checkout.url).
func (c *Client) CreateCheckout(ctx context.Context, r CheckoutRequest) (Checkout, error) {
	if !strings.HasPrefix(r.PriceID, "pri_") {
		return Checkout{}, fmt.Errorf("paddle: price id %q is not a Paddle price (pri_…)", r.PriceID)
	}
	type item struct {
		PriceID  string `json:"price_id"`
		Quantity int    `json:"quantity"`
	}
	body := map[string]any{
		"items":       []item{{PriceID: r.PriceID, Quantity: 1}},
		"custom_data": map[string]string{"tenant_id": r.Tenant},
	}
	if r.URL != "" {
		body["checkout"] = map[string]string{"url": r.URL}
	}
	var out struct {
		Data struct {
			ID       string `json:"id"`
			Checkout *struct {
				URL *string `json:"url"`
			} `json:"checkout"`
		} `json:"data"`
	}
	if err := c.do(ctx, http.MethodPost, "/transactions", body, &out); err != nil {
		return Checkout{}, err
	}
	if out.Data.ID == "" {
		return Checkout{}, errors.New("paddle: create transaction answered without data.id")
	}
	if out.Data.Checkout == nil || out.Data.Checkout.URL == nil || *out.Data.Checkout.URL == "" {
		return Checkout{}, fmt.Errorf("transaction %s: %w", out.Data.ID, ErrNoCheckoutURL)
	}
	return Checkout{TransactionID: out.Data.ID, URL: *out.Data.Checkout.URL}, nil
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	base := c.BaseURL
	if base == "" {
		base = DefaultAPIURL
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	b, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("paddle: encode %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(base, "/")+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("paddle: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("paddle: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("paddle: %s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error APIError `json:"error"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Error.Code == "" {
			return fmt.Errorf("paddle: %s %s: HTTP %d: %.200s", method, path, resp.StatusCode, raw)
		}
		e.Error.Status = resp.StatusCode
		return &e.Error
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("paddle: %s %s: decode the answer: %w", method, path, err)
	}
	return nil
}
