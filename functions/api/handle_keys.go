package api

import (
	"net/http"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/web"
)

// createKey: POST /v1/keys {"name","scopes":["read","write"],"test"} →
// 201 with the key, shown this once. Admin scope: the first admin key of a
// tenant comes from `synthos keys create --scope admin`.
func (s *server) createKey(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
		Test   bool     `json:"test"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	if len(body.Name) > 200 {
		writeErr(w, r, &api.FieldError{Field: "name", Reason: "must be at most 200 characters"})
		return
	}
	if len(body.Scopes) == 0 {
		body.Scopes = []string{"read"}
	}
	scopes := make([]apikeys.Scope, 0, len(body.Scopes))
	for _, sc := range body.Scopes {
		parsed, err := apikeys.ParseScopes(sc)
		if err != nil || len(parsed) != 1 {
			writeErr(w, r, &api.FieldError{Field: "scopes", Reason: "each scope must be read, write or admin"})
			return
		}
		scopes = append(scopes, parsed[0])
	}
	key, rec, err := s.svc.CreateKey(r.Context(), principal(r), body.Name, scopes, body.Test)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	web.WriteJSON(w, http.StatusCreated, struct {
		api.Key
		Secret string `json:"key"`
	}{api.KeyView(rec), key})
}

// listKeys: GET /v1/keys, newest first; never the keys themselves.
func (s *server) listKeys(w http.ResponseWriter, r *http.Request) {
	recs, err := s.svc.Keys.List(r.Context(), principal(r).Tenant)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	out := make([]api.Key, len(recs))
	for i := range recs {
		out[i] = api.KeyView(&recs[i])
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"keys": out})
}

// revokeKey: DELETE /v1/keys/{id}; effective at once on this instance, and
// within the auth cache TTL on others.
func (s *server) revokeKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	rec, err := s.svc.RevokeKey(r.Context(), principal(r), id)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	s.auth.Forget(id)
	web.WriteJSON(w, http.StatusOK, api.KeyView(rec))
}
