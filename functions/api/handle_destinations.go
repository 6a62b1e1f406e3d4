package api

import (
	"net/http"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/destinations"
	"synthos.dev/synthos/shared/web"
)

// createDestination: POST /v1/destinations {name, url, region, endpoint?,
// credential} → 201 once the bucket is verified; 422
// destination_unverified naming the missing permission otherwise.
func (s *server) createDestination(w http.ResponseWriter, r *http.Request) {
	var sp destinations.Spec
	if err := decodeJSON(w, r, &sp); err != nil {
		writeErr(w, r, err)
		return
	}
	d, err := s.svc.CreateDestination(r.Context(), principal(r), sp)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, d)
}

func (s *server) listDestinations(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.ListDestinations(r.Context(), principal(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"destinations": list})
}

func (s *server) getDestination(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.GetDestination(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, d)
}

func (s *server) verifyDestination(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.VerifyDestination(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, d)
}

func (s *server) deleteDestination(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DeleteDestination(r.Context(), principal(r), r.PathValue("id")); err != nil {
		writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// getStoragePolicy: GET /v1/storage-policy or /v1/datasets/{id}/storage-policy.
func (s *server) getStoragePolicy(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.StoragePolicy(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, p)
}

// putStoragePolicy: PUT /v1/storage-policy or /v1/datasets/{id}/storage-policy
// {residency, primary, secondary, has_secondary}.
func (s *server) putStoragePolicy(w http.ResponseWriter, r *http.Request) {
	var p destinations.Policy
	if err := decodeJSON(w, r, &p); err != nil {
		writeErr(w, r, err)
		return
	}
	out, err := s.svc.SetStoragePolicy(r.Context(), principal(r), r.PathValue("id"), p)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, out)
}

// importDataset: POST /v1/datasets/import {destination, key, name?} → 201
// with the dataset read from the tenant's own bucket.
func (s *server) importDataset(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Destination string `json:"destination"`
		Key         string `json:"key"`
		Name        string `json:"name"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	d, err := s.svc.ImportDataset(r.Context(), principal(r), body.Destination, body.Key, body.Name)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, api.DatasetView(d))
}
