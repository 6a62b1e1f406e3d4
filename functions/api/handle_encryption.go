package api

import (
	"net/http"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/web"
)

// getEncryption: GET /v1/encryption → the tenant's encryption at rest:
// whether datasets and models are encrypted, how many keys its keysets
// hold.
func (s *server) getEncryption(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.Encryption(r.Context(), principal(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, st)
}

// putEncryption: PUT /v1/encryption {"encrypt_data": bool} → turns
// encryption of datasets and models uploaded or fitted from now on on or
// off.
func (s *server) putEncryption(w http.ResponseWriter, r *http.Request) {
	var in struct {
		EncryptData *bool `json:"encrypt_data"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		writeErr(w, r, err)
		return
	}
	if in.EncryptData == nil {
		writeErr(w, r, &api.FieldError{Field: "encrypt_data", Reason: "is required (true or false)"})
		return
	}
	st, err := s.svc.SetEncryption(r.Context(), principal(r), *in.EncryptData)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, st)
}

// rotateEncryption: POST /v1/encryption/rotate → a new primary key in the
// tenant's keysets; what was encrypted before stays readable.
func (s *server) rotateEncryption(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.RotateKeys(r.Context(), principal(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, st)
}

// deleteTenant: DELETE /v1/tenant?confirm=<tenant id> → destroys the
// tenant's keys (crypto-shredding), revokes its API keys and deletes its
// objects.
func (s *server) deleteTenant(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.DeleteTenant(r.Context(), principal(r), r.URL.Query().Get("confirm"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, d)
}
