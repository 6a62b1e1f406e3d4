package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/web"
)

// ErrNotAvailable marks a capability that this release does not have yet.
// HTTP entry points answer it with 501 and a JSON error naming the
// capability; it is never turned into a fake success.
var ErrNotAvailable = errors.New("not available in this release")

// NotAvailable returns an error naming the missing capability.
func NotAvailable(capability, detail string) error {
	return &notAvailableError{capability: capability, detail: detail}
}

type notAvailableError struct{ capability, detail string }

func (e *notAvailableError) Error() string {
	return fmt.Sprintf("%s is not available in this release (%s)", e.capability, e.detail)
}
func (e *notAvailableError) Unwrap() error { return ErrNotAvailable }

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
// that decodes the Pub/Sub push envelope.
func ServePush(getEnv func(context.Context) (*Env, error), f PushFactory) func(http.ResponseWriter, *http.Request) {
	return ServeHTTP(getEnv, func(env *Env) (http.Handler, error) {
		h, err := f(env)
		if err != nil {
			return nil, err
		}
		return PushHTTP(h), nil
	})
}

// PushHTTP serves a push consumer over HTTP: a handler error that is
// ErrNotAvailable answers 501 with a JSON error; any other error is left to
// events.PushHandler (5xx, so Pub/Sub retries and finally dead-letters).
func PushHTTP(h events.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var notAvail error // per request: the push handler runs h synchronously
		push := events.PushHandler(func(ctx context.Context, m *events.Message) error {
			err := h(ctx, m)
			if errors.Is(err, ErrNotAvailable) {
				notAvail = err
			}
			return err
		})
		rec := &deferredWriter{header: http.Header{}}
		push.ServeHTTP(rec, r)
		if notAvail != nil {
			web.WriteError(w, http.StatusNotImplemented, "not_implemented", notAvail.Error(), nil)
			return
		}
		rec.flush(w)
	})
}

// deferredWriter holds a response so PushHTTP can replace it.
type deferredWriter struct {
	header http.Header
	status int
	body   []byte
}

func (d *deferredWriter) Header() http.Header { return d.header }
func (d *deferredWriter) WriteHeader(s int) {
	if d.status == 0 {
		d.status = s
	}
}
func (d *deferredWriter) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	d.body = append(d.body, b...)
	return len(b), nil
}
func (d *deferredWriter) flush(w http.ResponseWriter) {
	for k, v := range d.header {
		w.Header()[k] = v
	}
	if d.status == 0 {
		d.status = http.StatusOK
	}
	w.WriteHeader(d.status)
	_, _ = w.Write(d.body)
}
