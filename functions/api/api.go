// Package api is the HTTPS API function: health and readiness today; the
// REST surface under /v1 (datasets, jobs, reports, outputs) arrives with the
// pipeline and answers 501 until then.
package api

import (
	"net/http"

	"synthos.dev/synthos/shared/health"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/web"
)

// New returns the API's routes.
func New(env *platform.Env) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", health.Healthz())
	mux.Handle("GET /readyz", env.Health.Readyz())
	mux.Handle("/v1/", web.NotAvailable("the jobs API (/v1: datasets, jobs, reports, outputs)",
		"the serverless pipeline issue brings it; use `synthos generate` on the command line meanwhile"))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		web.WriteError(w, http.StatusNotFound, "not_found", "no route for "+r.Method+" "+r.URL.Path,
			map[string]any{"routes": []string{"GET /healthz", "GET /readyz", "/v1/..."}})
	})
	return mux, nil
}
