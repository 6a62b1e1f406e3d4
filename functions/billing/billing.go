// Package billing is the HTTP function that receives Paddle and Stripe
// webhooks, verifies their signatures and publishes them to billing-events.
package billing

import (
	"net/http"

	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/web"
)

// New returns the webhook routes. Until signature verification lands they
// answer 501: accepting an unverified billing event would be worse than
// refusing it, and Paddle and Stripe retry refused deliveries.
func New(env *platform.Env) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("/webhooks/paddle", web.NotAvailable("Paddle webhooks", "the billing issue brings signature verification and processing"))
	mux.Handle("/webhooks/stripe", web.NotAvailable("Stripe webhooks", "the billing issue brings signature verification and processing"))
	return mux, nil
}
