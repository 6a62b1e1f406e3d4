// Package web holds the HTTP conventions every function shares: JSON bodies
// and the error envelope {"error":{"code","message","details"}}.
package web

import (
	"encoding/json"
	"net/http"
)

// Error is the body of every error response.
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the status is sent; a failed write means the client left
}

// WriteError writes the error envelope.
func WriteError(w http.ResponseWriter, status int, code, message string, details map[string]any) {
	WriteJSON(w, status, struct {
		Error Error `json:"error"`
	}{Error{Code: code, Message: message, Details: details}})
}
