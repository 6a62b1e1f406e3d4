package api

import (
	"net/http"
	"strconv"
	"time"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/web"
	"synthos.dev/synthos/shared/webhooks"
)

// createWebhook: POST /v1/webhooks {"url","description","event_types"} →
// 201 with the endpoint and its signing secret, shown this once. Admin.
func (s *server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var body webhooks.EndpointInput
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	ep, secret, err := s.svc.CreateWebhook(r.Context(), principal(r), body)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", "/v1/webhooks/"+ep.ID)
	web.WriteJSON(w, http.StatusCreated, struct {
		api.WebhookEndpoint
		Secret string `json:"secret"`
	}{ep, secret})
}

// listWebhooks: GET /v1/webhooks, oldest first; never the secrets.
func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	eps, err := s.svc.ListWebhooks(r.Context(), principal(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"webhooks": eps})
}

// getWebhook: GET /v1/webhooks/{id}.
func (s *server) getWebhook(w http.ResponseWriter, r *http.Request) {
	ep, err := s.svc.Webhook(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, ep)
}

// patchWebhook: PATCH /v1/webhooks/{id} {"enabled": bool}. Admin.
func (s *server) patchWebhook(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	if body.Enabled == nil {
		writeErr(w, r, &api.FieldError{Field: "enabled", Reason: "is required: true or false"})
		return
	}
	ep, err := s.svc.SetWebhookEnabled(r.Context(), principal(r), r.PathValue("id"), *body.Enabled)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, ep)
}

// deleteWebhook: DELETE /v1/webhooks/{id} → 200 with the endpoint as it
// was. Admin.
func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	ep, err := s.svc.DeleteWebhook(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, ep)
}

// rotateWebhookSecret: POST /v1/webhooks/{id}/rotate {"grace_seconds": N}
// → the new secret, shown this once. An empty body is grace 0. Admin.
func (s *server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	var body struct {
		GraceSeconds int64 `json:"grace_seconds"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &body); err != nil {
			writeErr(w, r, err)
			return
		}
	}
	maxGrace := int64(webhooks.MaxGrace / time.Second)
	if body.GraceSeconds < 0 || body.GraceSeconds > maxGrace {
		writeErr(w, r, &api.FieldError{Field: "grace_seconds", Reason: "must be from 0 to " + strconv.FormatInt(maxGrace, 10)})
		return
	}
	out, err := s.svc.RotateWebhookSecret(r.Context(), principal(r), r.PathValue("id"), time.Duration(body.GraceSeconds)*time.Second)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.WriteJSON(w, http.StatusOK, out)
}

// listWebhookDeliveries: GET /v1/webhooks/deliveries?endpoint=&limit= →
// the delivery log with each delivery's latest attempts, latest first.
func (s *server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			writeErr(w, r, &api.FieldError{Field: "limit", Reason: "must be an integer from 1 to 500"})
			return
		}
		limit = n
	}
	ds, err := s.svc.WebhookDeliveries(r.Context(), principal(r), r.URL.Query().Get("endpoint"), limit)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}

// getWebhookDelivery: GET /v1/webhooks/deliveries/{id}.
func (s *server) getWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.WebhookDelivery(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, d)
}

// replayWebhookDelivery: POST /v1/webhooks/deliveries/{id}/replay → 200
// with the delivery and the new attempt logged, whatever the endpoint
// answered (see its status and log). Write.
func (s *server) replayWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.ReplayWebhookDelivery(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, d)
}
