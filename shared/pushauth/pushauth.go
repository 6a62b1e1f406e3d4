// Package pushauth verifies the OIDC tokens that Pub/Sub push subscriptions
// attach to their requests, so that a push function acts only on messages
// Pub/Sub delivered.
//
// Cloud Run already refuses a request to a private function without a token
// of an invoker; checking the token again in the function is defence in
// depth: it holds if the function is ever made public by mistake, and it
// pins the audience and the service account to the ones Terraform gave the
// subscriptions. Tokens are checked with google.golang.org/api/idtoken
// (signature against Google's published keys, expiry, audience), then for
// Google's issuer and a verified email among the allowed service accounts.
package pushauth

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"google.golang.org/api/idtoken"
	"google.golang.org/api/option"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/web"
)

// Options configures a Verifier.
type Options struct {
	// Audience is the audience the subscription puts in its tokens
	// (push_config.oidc_token.audience). Required.
	Audience string
	// ServiceAccounts are the emails whose tokens are accepted
	// (push_config.oidc_token.service_account_email). Required.
	ServiceAccounts []string
	// Logger receives the security events of refused requests; default
	// slog.Default().
	Logger *slog.Logger
	// HTTPClient fetches Google's token-signing keys; default a client
	// without credentials. Tests point it at their own key set.
	HTTPClient *http.Client
}

// Verifier checks push requests' tokens.
type Verifier struct {
	validator *idtoken.Validator
	audience  string
	accounts  []string
	logger    *slog.Logger
}

// issuers are the issuers of Google-signed ID tokens.
var issuers = []string{"https://accounts.google.com", "accounts.google.com"}

// SecurityEvent is the value of the "security_event" attribute of the log
// record of a refused push request.
const SecurityEvent = "push_request_refused"

// New returns a Verifier. It fails with errs.InvalidArgument without an
// audience or a service account.
func New(ctx context.Context, opts Options) (*Verifier, error) {
	if opts.Audience == "" || len(opts.ServiceAccounts) == 0 {
		return nil, errs.Errorf(errs.InvalidArgument, "pushauth.New: an audience and at least one service account are required")
	}
	var copts []option.ClientOption
	if opts.HTTPClient != nil {
		copts = append(copts, option.WithHTTPClient(opts.HTTPClient))
	}
	v, err := idtoken.NewValidator(ctx, copts...)
	if err != nil {
		return nil, fmt.Errorf("pushauth.New: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Verifier{validator: v, audience: opts.Audience, accounts: slices.Clone(opts.ServiceAccounts), logger: opts.Logger}, nil
}

// Verify checks r's bearer token and returns the service account it was
// issued to. A missing, malformed, expired, wrongly signed token, or one for
// another audience or issuer, is errs.Unauthenticated; a valid token of
// another account, or of an unverified email, is errs.PermissionDenied.
func (v *Verifier) Verify(ctx context.Context, r *http.Request) (string, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", errs.New(errs.Unauthenticated, "no bearer token")
	}
	p, err := v.validator.Validate(ctx, strings.TrimSpace(token), v.audience)
	if err != nil {
		return "", errs.Errorf(errs.Unauthenticated, "token refused: %w", err)
	}
	if !slices.Contains(issuers, p.Issuer) {
		return "", errs.Errorf(errs.Unauthenticated, "token issued by %q, not Google", p.Issuer)
	}
	email, _ := p.Claims["email"].(string)
	if verified, _ := p.Claims["email_verified"].(bool); !verified || !slices.Contains(v.accounts, email) {
		return "", errs.Errorf(errs.PermissionDenied, "token of %q (verified %v), which may not push here", email, verified)
	}
	return email, nil
}

// Wrap returns h behind the token check: a refused request answers 401 (403
// for a valid token of another account) with the API's error envelope, is
// logged as a security event, and never reaches h. Pub/Sub retries it like
// any failed push, then dead-letters it.
func (v *Verifier) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := v.Verify(r.Context(), r); err != nil {
			status, code := http.StatusUnauthorized, "unauthenticated"
			if errs.CodeOf(err) == errs.PermissionDenied {
				status, code = http.StatusForbidden, "permission_denied"
			}
			metrics.Default().SecurityEvent(r.Context(), SecurityEvent)
			v.logger.WarnContext(r.Context(), "push request refused", "security_event", SecurityEvent,
				"reason", err.Error(), "path", r.URL.Path, "remote_addr", r.RemoteAddr, "user_agent", r.UserAgent())
			if status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			}
			web.WriteError(w, status, code, "push requests need a valid OIDC token of the push service account", nil)
			return
		}
		h.ServeHTTP(w, r)
	})
}
