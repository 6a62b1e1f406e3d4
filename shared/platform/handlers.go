package platform

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/pushauth"
	"synthos.dev/synthos/shared/web"
)

// Lazy opens the Env once per instance, on first use, from the process
// environment: Cloud Functions instances build their clients lazily rather
// than in init(), so a bad configuration surfaces as a clear error response
// and log line instead of a crash loop.
func Lazy() func(ctx context.Context) (*Env, error) {
	var once sync.Once
	var env *Env
	var err error
	return func(ctx context.Context) (*Env, error) {
		once.Do(func() {
			var cfg *config.Config
			if cfg, err = config.Load(ctx); err != nil {
				return
			}
			// Instances live as long as the process; the Env is not closed.
			env, err = Open(context.WithoutCancel(ctx), cfg, nil)
		})
		return env, err
	}
}

// HTTPFactory builds an HTTP function from an Env.
type HTTPFactory func(env *Env) (http.Handler, error)

// PushFactory builds a Pub/Sub push consumer from an Env.
type PushFactory func(env *Env) (events.Handler, error)

// ServeHTTP adapts an HTTP factory into a Cloud Functions entry point.
func ServeHTTP(getEnv func(context.Context) (*Env, error), f HTTPFactory) func(http.ResponseWriter, *http.Request) {
	var once sync.Once
	var h http.Handler
	var err error
	return func(w http.ResponseWriter, r *http.Request) {
		env, envErr := getEnv(r.Context())
		if envErr != nil {
			web.WriteError(w, http.StatusServiceUnavailable, "misconfigured", envErr.Error(), nil)
			return
		}
		once.Do(func() {
			var inner http.Handler
			if inner, err = f(env); err == nil {
				h = obs.Middleware(env.Logger, inner)
			}
		})
		if err != nil {
			web.WriteError(w, http.StatusServiceUnavailable, "unavailable", err.Error(), nil)
			return
		}
		h.ServeHTTP(w, r)
	}
}

// ServePush adapts a push consumer into a Cloud Functions HTTP entry point
// that checks the push subscription's OIDC token (see PushAuth) and decodes
// the Pub/Sub push envelope.
func ServePush(getEnv func(context.Context) (*Env, error), f PushFactory) func(http.ResponseWriter, *http.Request) {
	return ServeHTTP(getEnv, func(env *Env) (http.Handler, error) {
		h, err := f(env)
		if err != nil {
			return nil, err
		}
		return PushAuth(env, PushHTTP(h), nil)
	})
}

// PushAuth puts h behind the check of the OIDC token Pub/Sub push
// subscriptions attach, configured by SYNTHOS_PUSH_AUTH, SYNTHOS_PUSH_AUDIENCE
// and SYNTHOS_PUSH_SERVICE_ACCOUNTS: a request without a valid token of an
// allowed account answers 401 (403 for another account's token) and is
// logged as a security event. keys fetches Google's signing keys (nil: the
// default client; tests pass their own). With SYNTHOS_PUSH_AUTH=none (for
// emulators) h is returned as it is, with a warning.
func PushAuth(env *Env, h http.Handler, keys *http.Client) (http.Handler, error) {
	on, err := env.Config.PushOIDC()
	if err != nil {
		return nil, err
	}
	if !on {
		env.Logger.Warn("push requests are not authenticated (SYNTHOS_PUSH_AUTH=none); use this with emulators only")
		return h, nil
	}
	v, err := pushauth.New(context.Background(), pushauth.Options{Audience: env.Config.PushAudience,
		ServiceAccounts: env.Config.PushServiceAccounts, Logger: env.Logger, HTTPClient: keys})
	if err != nil {
		return nil, fmt.Errorf("push authentication: %w", err)
	}
	return v.Wrap(h), nil
}

// PushHTTP serves a push consumer over HTTP: the Pub/Sub push envelope is
// decoded, a handler error answers 5xx so Pub/Sub retries and finally
// dead-letters (see events.PushHandler).
func PushHTTP(h events.Handler) http.Handler { return events.PushHandler(h) }
