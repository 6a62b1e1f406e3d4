package billing

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// Config is the billing functions' configuration, read from the environment.
type Config struct {
	// PaddleSecretName and StripeSecretName name the webhook signing
	// secrets in the secret source (comma-separated values during a rotation).
	PaddleSecretName string `env:"SYNTHOS_PADDLE_SECRET_NAME, default=paddle-webhook-secret"`
	StripeSecretName string `env:"SYNTHOS_STRIPE_SECRET_NAME, default=stripe-webhook-secret"`
	// PaddleTolerance bounds the age of a Paddle signature (Paddle's SDKs use 5s).
	PaddleTolerance time.Duration `env:"SYNTHOS_PADDLE_TOLERANCE, default=5s"`
	// StripeTolerance bounds the age of a Stripe signature (stripe-go's default, 300s).
	StripeTolerance time.Duration `env:"SYNTHOS_STRIPE_TOLERANCE, default=300s"`
	// StripeIgnoreAPIVersion accepts Stripe events of another API release
	// train (see package stripe).
	StripeIgnoreAPIVersion bool `env:"SYNTHOS_STRIPE_IGNORE_API_VERSION, default=false"`
	// MaxBodyBytes bounds a webhook body; larger ones get 413. Firestore
	// documents hold at most 1 MiB, and the raw body is stored.
	MaxBodyBytes int64 `env:"SYNTHOS_BILLING_MAX_BODY_BYTES, default=262144"`
	// SecretTTL is how long a webhook secret is cached before it is read
	// again (so a rotation is picked up within it).
	SecretTTL time.Duration `env:"SYNTHOS_BILLING_SECRET_TTL, default=1m"`
	// BudgetThreshold is the cost/budget ratio at which the guard pauses generation.
	BudgetThreshold float64 `env:"SYNTHOS_BUDGET_PAUSE_THRESHOLD, default=1.0"`
}

// ConfigVariables lists the variables Config reads, for documentation.
var ConfigVariables = []string{
	"SYNTHOS_PADDLE_SECRET_NAME", "SYNTHOS_STRIPE_SECRET_NAME", "SYNTHOS_PADDLE_TOLERANCE",
	"SYNTHOS_STRIPE_TOLERANCE", "SYNTHOS_STRIPE_IGNORE_API_VERSION", "SYNTHOS_BILLING_MAX_BODY_BYTES",
	"SYNTHOS_BILLING_SECRET_TTL", "SYNTHOS_BUDGET_PAUSE_THRESHOLD",
}

// ErrConfig classifies configuration errors.
var ErrConfig = errors.New("billing: invalid configuration")

// LoadConfig reads Config through l (envconfig.OsLookuper() in production,
// envconfig.MapLookuper in tests) and validates it.
func LoadConfig(ctx context.Context, l envconfig.Lookuper) (Config, error) {
	var c Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: l}); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	var errs []error
	if c.PaddleTolerance <= 0 || c.StripeTolerance <= 0 {
		errs = append(errs, errors.New("SYNTHOS_PADDLE_TOLERANCE and SYNTHOS_STRIPE_TOLERANCE must be positive durations"))
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 1<<20 {
		errs = append(errs, fmt.Errorf("SYNTHOS_BILLING_MAX_BODY_BYTES=%d: use 1024 to 1048576 (a Firestore document holds at most 1 MiB)", c.MaxBodyBytes))
	}
	if c.SecretTTL < 0 {
		errs = append(errs, errors.New("SYNTHOS_BILLING_SECRET_TTL must not be negative"))
	}
	if c.BudgetThreshold <= 0 {
		errs = append(errs, fmt.Errorf("SYNTHOS_BUDGET_PAUSE_THRESHOLD=%v: must be positive (1.0 is 100%% of the budget)", c.BudgetThreshold))
	}
	if c.PaddleSecretName == "" || c.StripeSecretName == "" {
		errs = append(errs, errors.New("SYNTHOS_PADDLE_SECRET_NAME and SYNTHOS_STRIPE_SECRET_NAME must not be empty"))
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
	}
	return c, nil
}
