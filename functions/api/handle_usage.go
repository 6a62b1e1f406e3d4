package api

import (
	"net/http"

	"synthos.dev/synthos/shared/web"
)

// getUsage: GET /v1/usage → the tenant's plan, its limits and this month's
// row usage (used, reserved by accepted jobs, remaining) and when the
// monthly quota resets.
func (s *server) getUsage(w http.ResponseWriter, r *http.Request) {
	u, err := s.svc.Usage(r.Context(), principal(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, u)
}
