package billing

import (
	"context"
	"fmt"
	"strings"

	"github.com/sethvargo/go-envconfig"
)

// LinksConfig is what the API needs to hand out billing links: where the
// providers' APIs are and which secrets hold their API keys. A provider
// whose key secret is missing is "not configured": its link route answers
// 503 naming the secret.
type LinksConfig struct {
	// PaddleAPIURL is Paddle Billing's API (the sandbox is
	// https://sandbox-api.paddle.com).
	PaddleAPIURL string `env:"SYNTHOS_PADDLE_API_URL, default=https://api.paddle.com"`
	// PaddleAPIKeySecret names the secret holding the Paddle API key.
	PaddleAPIKeySecret string `env:"SYNTHOS_PADDLE_API_KEY_SECRET, default=paddle-api-key"`
	// PaddleCheckoutURL is the payment link Paddle appends ?_ptxn= to;
	// empty uses the account's default payment link.
	PaddleCheckoutURL string `env:"SYNTHOS_PADDLE_CHECKOUT_URL"`
	// StripeAPIURL is Stripe's API.
	StripeAPIURL string `env:"SYNTHOS_STRIPE_API_URL, default=https://api.stripe.com"`
	// StripeAPIKeySecret names the secret holding the Stripe secret key.
	StripeAPIKeySecret string `env:"SYNTHOS_STRIPE_API_KEY_SECRET, default=stripe-api-key"`
}

// LinksVariables lists the variables LinksConfig reads, for documentation.
var LinksVariables = []string{"SYNTHOS_PADDLE_API_URL", "SYNTHOS_PADDLE_API_KEY_SECRET", "SYNTHOS_PADDLE_CHECKOUT_URL",
	"SYNTHOS_STRIPE_API_URL", "SYNTHOS_STRIPE_API_KEY_SECRET"}

// LoadLinksConfig reads LinksConfig through l (envconfig.OsLookuper() in
// production).
func LoadLinksConfig(ctx context.Context, l envconfig.Lookuper) (LinksConfig, error) {
	var c LinksConfig
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: l}); err != nil {
		return LinksConfig{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if strings.TrimSpace(c.PaddleAPIKeySecret) == "" || strings.TrimSpace(c.StripeAPIKeySecret) == "" {
		return LinksConfig{}, fmt.Errorf("%w: SYNTHOS_PADDLE_API_KEY_SECRET and SYNTHOS_STRIPE_API_KEY_SECRET must not be empty", ErrConfig)
	}
	return c, nil
}
