package billing

import (
	"context"
	"errors"
	"testing"

	"github.com/sethvargo/go-envconfig"
)

func TestLoadLinksConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    LinksConfig
		wantErr bool
	}{
		{name: "defaults", env: nil, want: LinksConfig{PaddleAPIURL: "https://api.paddle.com", PaddleAPIKeySecret: "paddle-api-key",
			StripeAPIURL: "https://api.stripe.com", StripeAPIKeySecret: "stripe-api-key"}},
		{name: "sandbox and names", env: map[string]string{"SYNTHOS_PADDLE_API_URL": "https://sandbox-api.paddle.com",
			"SYNTHOS_PADDLE_API_KEY_SECRET": "pk", "SYNTHOS_PADDLE_CHECKOUT_URL": "https://synthos.example/pay", "SYNTHOS_STRIPE_API_KEY_SECRET": "sk"},
			want: LinksConfig{PaddleAPIURL: "https://sandbox-api.paddle.com", PaddleAPIKeySecret: "pk", PaddleCheckoutURL: "https://synthos.example/pay",
				StripeAPIURL: "https://api.stripe.com", StripeAPIKeySecret: "sk"}},
		{name: "empty secret name", env: map[string]string{"SYNTHOS_STRIPE_API_KEY_SECRET": " "}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadLinksConfig(context.Background(), envconfig.MapLookuper(tt.env))
			if tt.wantErr {
				if !errors.Is(err, ErrConfig) {
					t.Fatalf("err = %v, want ErrConfig", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
