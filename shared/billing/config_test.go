package billing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"

	"synthos.dev/synthos/shared/billing"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	c, err := billing.LoadConfig(context.Background(), envconfig.MapLookuper(nil))
	if err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if c.PaddleTolerance != 5*time.Second || c.StripeTolerance != 300*time.Second || c.StripeIgnoreAPIVersion ||
		c.BudgetThreshold != 1.0 || c.PaddleSecretName != "paddle-webhook-secret" || c.StripeSecretName != "stripe-webhook-secret" {
		t.Fatalf("defaults = %+v", c)
	}
	bad := []map[string]string{
		{"SYNTHOS_PADDLE_TOLERANCE": "0s"},
		{"SYNTHOS_BILLING_MAX_BODY_BYTES": "10"},
		{"SYNTHOS_BILLING_MAX_BODY_BYTES": "2000000"},
		{"SYNTHOS_BUDGET_PAUSE_THRESHOLD": "-1"},
		{"SYNTHOS_STRIPE_IGNORE_API_VERSION": "maybe"},
	}
	for _, env := range bad {
		if _, err := billing.LoadConfig(context.Background(), envconfig.MapLookuper(env)); !errors.Is(err, billing.ErrConfig) {
			t.Errorf("LoadConfig(%v) = %v, want ErrConfig", env, err)
		}
	}
}
