package api

import (
	"net/http"
	"strconv"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/web"
)

// getAuditCheckpoint: GET /v1/audit/checkpoint → the latest signed
// checkpoint of the tenant's audit log and the verifier key.
func (s *server) getAuditCheckpoint(w http.ResponseWriter, r *http.Request) {
	v, err := s.audit.Checkpoint(r.Context(), principal(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, v)
}

// getAuditProof: GET /v1/audit/{seq}/proof → the record, its RFC 6962
// inclusion proof and the signed checkpoint it leads to.
func (s *server) getAuditProof(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil || seq < 1 {
		writeErr(w, r, &api.FieldError{Field: "seq", Reason: "must be a record number, 1 or more"})
		return
	}
	p, err := s.audit.Proof(r.Context(), principal(r), seq)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, p)
}

// getAuditConsistency: GET /v1/audit/consistency?from=N[&to=M] → the
// consistency proof between the log's checkpoints at N and M (default: the
// latest).
func (s *server) getAuditConsistency(w http.ResponseWriter, r *http.Request) {
	var size [2]uint64
	for i, name := range []string{"from", "to"} {
		v := r.URL.Query().Get(name)
		if v == "" && name == "to" {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			writeErr(w, r, &api.FieldError{Field: name, Reason: "must be a log size, 1 or more"})
			return
		}
		size[i] = n
	}
	p, err := s.audit.Consistency(r.Context(), principal(r), size[0], size[1])
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, p)
}
