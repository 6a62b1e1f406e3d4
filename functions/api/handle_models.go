package api

import (
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/table"
	"synthos.dev/synthos/shared/web"
)

// uploadModel: POST /v1/models, multipart/form-data with the model file in
// field "file" and optional fields "dataset" (the dataset it belongs to)
// and "target" (the column it predicts). The model is stored and validated
// before the answer: 201 ready, or 400 model_rejected with the reason (the
// model is kept, rejected, for GET to show). Fields must come before the
// file part.
func (s *server) uploadModel(w http.ResponseWriter, r *http.Request) {
	s.readUpload(w, r, uploadForm{
		what:     "the model",
		notMulti: "send the model as multipart/form-data in the field \"file\" (curl -F dataset=ds_... -F file=@model.json)",
		fields:   []string{"dataset", "target"},
		limit:    s.svc.Models.Limits.MaxBytes,
		noName:   "must be a file part with a file name",
	}, func(name string, fields map[string]string, body io.Reader) {
		m, err := s.svc.UploadModel(r.Context(), principal(r), name, fields["dataset"], fields["target"], body)
		if m == nil {
			writeErr(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/models/"+m.ID)
		if err != nil {
			writeErr(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusCreated, api.ModelView(m))
	})
}

// listModels: GET /v1/models, newest first.
func (s *server) listModels(w http.ResponseWriter, r *http.Request) {
	ms, err := s.svc.ListModels(r.Context(), principal(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	out := make([]api.Model, len(ms))
	for i := range ms {
		out[i] = api.ModelView(&ms[i])
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"models": out})
}

// getModel: GET /v1/models/{id}.
func (s *server) getModel(w http.ResponseWriter, r *http.Request) {
	m, err := s.svc.GetModel(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, api.ModelView(m))
}

// deleteModel: DELETE /v1/models/{id}.
func (s *server) deleteModel(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DeleteModel(r.Context(), principal(r), r.PathValue("id")); err != nil {
		writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// modelAction: POST /v1/models/{id}:predict and :deploy (ServeMux wildcards take whole
// segments, so the custom method is split off here, as in Google's APIs).
//
// A JSON body {"rows": [{"feature": value, ...}]} is answered with
// {"outputs": [...names], "predictions": [[...], ...]}; a CSV, JSON Lines or
// Parquet body (Content-Type text/csv, application/x-ndjson,
// application/vnd.apache.parquet) streams back in the same format with
// the prediction as the last column.
func (s *server) modelAction(w http.ResponseWriter, r *http.Request) {
	id, action, _ := strings.Cut(r.PathValue("id"), ":")
	if action == "deploy" || action == "test" {
		// The route admits read keys (for predictions); deploying and
		// testing (which stores a report) need write.
		if p := principal(r); !p.Has(apikeys.Write) {
			s.svc.EmitDenied(r.Context(), p, r.Method+" "+r.URL.Path, "missing scope write")
			web.WriteError(w, http.StatusForbidden, "forbidden", "this key lacks the write scope needed for POST /v1/models/{id}:"+action,
				map[string]any{"required_scope": "write"})
			return
		}
	}
	if action == "test" {
		var body api.ModelTestRequest
		if err := decodeJSON(w, r, &body); err != nil {
			writeModelErr(w, r, err)
			return
		}
		rep, err := s.svc.TestModel(r.Context(), principal(r), id, body)
		if err != nil {
			writeModelErr(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, rep)
		return
	}
	if action == "deploy" {
		m, err := s.svc.DeployModel(r.Context(), principal(r), id)
		if err != nil {
			writeModelErr(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, api.ModelView(m))
		return
	}
	if action != "predict" {
		writeErr(w, r, &api.CodedError{Code: "not_found", Kind: api.ErrNotFound, Msg: "unknown model action " + action + " (POST /v1/models/{id}:predict)"})
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var format table.Format
	switch mt {
	case "application/json":
		var body struct {
			Rows      []map[string]any `json:"rows"`
			Instances []any            `json:"instances"`
		}
		if err := decodeJSON(w, r, &body); err != nil {
			writeModelErr(w, r, err)
			return
		}
		if body.Instances != nil {
			preds, err := s.svc.PredictInstances(r.Context(), principal(r), id, body.Instances)
			if err != nil {
				writeModelErr(w, r, err)
				return
			}
			web.WriteJSON(w, http.StatusOK, map[string]any{"model": id, "predictions": preds})
			return
		}
		names, preds, err := s.svc.PredictRows(r.Context(), principal(r), id, body.Rows)
		if err != nil {
			writeModelErr(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, map[string]any{"model": id, "outputs": names, "predictions": preds})
		return
	case "text/csv":
		format = table.CSV
	case "application/x-ndjson", "application/jsonl":
		format = table.JSONL
	case "application/vnd.apache.parquet":
		format = table.Parquet
	default:
		writeErr(w, r, &api.CodedError{Code: "unsupported_media_type", Kind: api.ErrUnsupported,
			Msg: "send rows as application/json {\"rows\": [...]} or a table as text/csv, application/x-ndjson or application/vnd.apache.parquet"})
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.svc.MaxUpload)
	started := false
	_, err := s.svc.PredictTable(r.Context(), principal(r), id, format, body, w, func() {
		started = true
		w.Header().Set("Content-Type", format.ContentType())
		w.WriteHeader(http.StatusOK)
	})
	if err != nil {
		if !started {
			writeModelErr(w, r, err)
			return
		}
		// The status is sent; cut the stream so the client sees a failure.
		panic(http.ErrAbortHandler)
	}
}

// writeModelErr writes err, with Retry-After when it is a rate limit.
func writeModelErr(w http.ResponseWriter, r *http.Request, err error) {
	if ra := api.RetryAfter(err); ra > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ra))
	}
	writeErr(w, r, err)
}

// getModelTest: GET /v1/jobs/{id}/model-test[?format=html], the test of
// the custom model pinned to the job (model_id), streamed like the report.
func (s *server) getModelTest(w http.ResponseWriter, r *http.Request) {
	format, ctype, ok := reportFormat(w, r)
	if !ok {
		return
	}
	b, key, err := s.svc.ModelTestKey(r.Context(), principal(r), r.PathValue("id"), format)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	s.stream(w, r, b, key, ctype, "")
}

// beginModelUpload: POST /v1/models/uploads {"name":"churn.json","size":N,
// "dataset":"ds_…","target":"churned"} → a pending model version and the
// resumable upload URL to send its bytes to (the protocol of
// POST /v1/datasets/uploads).
func (s *server) beginModelUpload(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name    string `json:"name"`
		Size    int64  `json:"size"`
		Dataset string `json:"dataset"`
		Target  string `json:"target"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	base := baseURL(r)
	up, err := s.svc.BeginModelUpload(r.Context(), principal(r), body.Name, body.Dataset, body.Target, body.Size, func(id string) string {
		return base + "/v1/models/" + id + "/content"
	})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/models/"+up.Model.ID)
	web.WriteJSON(w, http.StatusCreated, up)
}

// putModelContent: PUT /v1/models/{id}/content, the model's bytes, whole
// or one chunk with Content-Range, answered as PUT /v1/datasets/{id}/content
// is: 308 with Range while bytes are missing, 200 with the validated model
// (or 400 model_rejected) once the last one is in.
func (s *server) putModelContent(w http.ResponseWriter, r *http.Request) {
	cr, err := contentRange(w, r, s.svc.Models.Limits.MaxBytes)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	m, received, done, err := s.svc.PutModelContent(r.Context(), principal(r), r.PathValue("id"), cr, partReader{r.Body})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	if !done {
		if received > 0 {
			w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", received-1))
		}
		web.WriteJSON(w, http.StatusPermanentRedirect, api.ModelView(m))
		return
	}
	web.WriteJSON(w, http.StatusOK, api.ModelView(m))
}

// completeModelUpload: POST /v1/models/{id}/complete.
func (s *server) completeModelUpload(w http.ResponseWriter, r *http.Request) {
	m, err := s.svc.CompleteModelUpload(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, api.ModelView(m))
}
