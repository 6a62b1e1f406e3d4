package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/web"
)

// uploadDataset: POST /v1/datasets, multipart/form-data with the table in
// field "file"; the table streams to the object store.
func (s *server) uploadDataset(w http.ResponseWriter, r *http.Request) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		writeErr(w, r, &api.CodedError{Code: "unsupported_media_type", Kind: api.ErrUnsupported,
			Msg: "send the table as multipart/form-data in the field \"file\" (curl -F file=@table.csv), or use POST /v1/datasets/uploads"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.svc.MaxUpload+maxJSONBody)
	mr, err := r.MultipartReader()
	if err != nil {
		writeErr(w, r, &api.FieldError{Field: "file", Reason: "the multipart body is malformed: " + err.Error()})
		return
	}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeErr(w, r, fmt.Errorf("%w: the request is larger than %d bytes", api.ErrTooLarge, mbe.Limit))
				return
			}
			writeErr(w, r, &api.FieldError{Field: "file", Reason: "the multipart body is malformed: " + err.Error()})
			return
		}
		if part.FormName() != "file" {
			continue
		}
		if part.FileName() == "" {
			writeErr(w, r, &api.FieldError{Field: "file", Reason: "must be a file part with a file name (its extension gives the format)"})
			return
		}
		d, err := s.svc.Upload(r.Context(), principal(r), part.FileName(), part)
		if err != nil {
			writeErr(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/datasets/"+d.ID)
		web.WriteJSON(w, http.StatusCreated, api.DatasetView(d))
		return
	}
	writeErr(w, r, &api.FieldError{Field: "file", Reason: "is required: send the table in the multipart field \"file\""})
}

// beginUpload: POST /v1/datasets/uploads {"name":"adult.csv"} → a pending
// dataset and the URL to PUT its bytes to.
func (s *server) beginUpload(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	base := baseURL(r)
	up, err := s.svc.BeginUpload(r.Context(), principal(r), body.Name, func(id string) string {
		return base + "/v1/datasets/" + id + "/content"
	})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/datasets/"+up.Dataset.ID)
	web.WriteJSON(w, http.StatusCreated, up)
}

// putContent: PUT /v1/datasets/{id}/content, the raw table; the local
// stand-in for a signed upload URL.
func (s *server) putContent(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, s.svc.MaxUpload+1)
	d, err := s.svc.PutContent(r.Context(), principal(r), r.PathValue("id"), r.Body)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, api.DatasetView(d))
}

// completeUpload: POST /v1/datasets/{id}/complete.
func (s *server) completeUpload(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.CompleteUpload(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, api.DatasetView(d))
}

// listDatasets: GET /v1/datasets?limit=N, newest first.
func (s *server) listDatasets(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	ds, err := s.svc.Datasets.List(r.Context(), principal(r).Tenant, limit)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	out := make([]api.Dataset, len(ds))
	for i := range ds {
		out[i] = api.DatasetView(&ds[i])
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"datasets": out})
}

// getDataset: GET /v1/datasets/{id}.
func (s *server) getDataset(w http.ResponseWriter, r *http.Request) {
	d, err := s.svc.Datasets.Get(r.Context(), principal(r).Tenant, r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, api.DatasetView(d))
}

// getPrivacyBudget: GET /v1/datasets/{id}/privacy-budget → the dataset's
// differential-privacy budget (cap, spent, reserved, remaining) and its
// charges.
func (s *server) getPrivacyBudget(w http.ResponseWriter, r *http.Request) {
	b, err := s.svc.PrivacyBudget(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, b)
}

// putPrivacyBudget: PUT /v1/datasets/{id}/privacy-budget {"epsilon": 5,
// "delta": 1e-9} sets the dataset's cap (admin scope). A cap below what is
// spent leaves nothing to reserve; it never refunds.
func (s *server) putPrivacyBudget(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Epsilon *float64 `json:"epsilon"`
		Delta   *float64 `json:"delta"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	if body.Epsilon == nil {
		writeErr(w, r, &api.FieldError{Field: "epsilon", Reason: "is required: the cap, e.g. 10"})
		return
	}
	var delta float64
	if body.Delta != nil {
		if *body.Delta == 0 {
			writeErr(w, r, &api.FieldError{Field: "delta", Reason: "must be greater than 0 and less than 1 (e.g. 1e-9); leave it out to keep the current one"})
			return
		}
		delta = *body.Delta
	}
	b, err := s.svc.SetPrivacyBudget(r.Context(), principal(r), r.PathValue("id"), *body.Epsilon, delta)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, b)
}

// decodeJSON reads a JSON object body into dst, refusing unknown fields.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var mbe *http.MaxBytesError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return fmt.Errorf("%w: the body is larger than %d bytes", api.ErrTooLarge, mbe.Limit)
		case errors.As(err, &te) && te.Field != "":
			return &api.FieldError{Field: te.Field, Reason: "has the wrong type"}
		case errors.Is(err, io.EOF):
			return &api.FieldError{Field: "body", Reason: "is empty; send a JSON object"}
		}
		return &api.FieldError{Field: "body", Reason: "is not a valid request: " + err.Error()}
	}
	return nil
}

// requireJSON refuses a body declared as anything but JSON (a missing
// Content-Type is accepted).
func requireJSON(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
		return &api.CodedError{Code: "unsupported_media_type", Kind: api.ErrUnsupported,
			Msg: fmt.Sprintf("send the body as application/json, not %s (curl: -H 'Content-Type: application/json')", ct)}
	}
	return nil
}

// limitParam reads ?limit= (1 to 100, default 20).
func limitParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return 20, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100 {
		return 0, &api.FieldError{Field: "limit", Reason: "must be an integer from 1 to 100"}
	}
	return n, nil
}
