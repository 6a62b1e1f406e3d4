package api

import (
	"fmt"
	"gocloud.dev/blob"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/web"
)

// createJob: POST /v1/jobs → 202 with the queued job.
func (s *server) createJob(w http.ResponseWriter, r *http.Request) {
	if err := requireJSON(r); err != nil {
		writeErr(w, r, err)
		return
	}
	req, seedSet, err := api.DecodeJobRequest(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	j, err := s.svc.CreateJob(r.Context(), principal(r), req, seedSet)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/jobs/"+j.ID)
	web.WriteJSON(w, http.StatusAccepted, api.JobView(j))
}

// getJob: GET /v1/jobs/{id}.
func (s *server) getJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.Jobs.Get(r.Context(), principal(r).Tenant, r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, api.JobView(j))
}

// listJobs: GET /v1/jobs?limit=&cursor=, newest first.
func (s *server) listJobs(w http.ResponseWriter, r *http.Request) {
	limit, err := limitParam(r)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	page, err := s.svc.Jobs.List(r.Context(), principal(r).Tenant, limit, r.URL.Query().Get("cursor"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	out := make([]api.Job, len(page.Jobs))
	for i := range page.Jobs {
		out[i] = api.JobView(&page.Jobs[i])
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"jobs": out, "next_cursor": page.Next})
}

// cancelJob: POST /v1/jobs/{id}/cancel.
func (s *server) cancelJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.svc.CancelJob(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusAccepted, api.JobView(j))
}

// reportFormat reads ?format= of a report route (json, the default, or
// html) and returns it with its content type. An HTML report is
// self-contained; the sandbox policy keeps it from acting with the API's
// origin. A bad format is answered here (ok false).
func reportFormat(w http.ResponseWriter, r *http.Request) (format, ctype string, ok bool) {
	switch format = r.URL.Query().Get("format"); format {
	case "", "json":
		return "json", "application/json", true
	case "html":
		w.Header().Set("Content-Security-Policy", "sandbox allow-scripts; default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
		return format, "text/html; charset=utf-8", true
	}
	writeErr(w, r, &api.FieldError{Field: "format", Reason: "must be json or html"})
	return "", "", false
}

// getReport: GET /v1/jobs/{id}/report[?format=html], streamed from the
// object store.
func (s *server) getReport(w http.ResponseWriter, r *http.Request) {
	format, ctype, ok := reportFormat(w, r)
	if !ok {
		return
	}
	b, key, err := s.svc.ReportKey(r.Context(), principal(r), r.PathValue("id"), format)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	s.stream(w, r, b, key, ctype, "")
}

// getCompliance: GET /v1/jobs/{id}/compliance[?format=html]: the GDPR,
// HIPAA and CCPA evidence of the job's output, built on first request.
func (s *server) getCompliance(w http.ResponseWriter, r *http.Request) {
	format, ctype, ok := reportFormat(w, r)
	if !ok {
		return
	}
	key, err := s.svc.ComplianceKey(r.Context(), principal(r), r.PathValue("id"), format)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	s.stream(w, r, s.svc.Bucket, key, ctype, "")
}

// getOutput: GET /v1/jobs/{id}/output → a time-limited download URL.
func (s *server) getOutput(w http.ResponseWriter, r *http.Request) {
	base := baseURL(r)
	local := func(id string) string { return base + "/v1/jobs/" + id + "/output/content" }
	var dl *api.Download
	var err error
	if tbl := r.URL.Query().Get("table"); tbl != "" {
		// another table of a design job
		dl, err = s.svc.TableOutputURL(r.Context(), principal(r), r.PathValue("id"), tbl, func(id string) string {
			return local(id) + "?table=" + url.QueryEscape(tbl)
		})
	} else {
		dl, err = s.svc.OutputURL(r.Context(), principal(r), r.PathValue("id"), local)
	}
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, dl)
}

// contentTypes of the output formats.
var contentTypes = map[string]string{
	"csv":     "text/csv; charset=utf-8",
	"jsonl":   "application/x-ndjson",
	"parquet": "application/vnd.apache.parquet",
}

// getOutputContent: GET /v1/jobs/{id}/output/content streams the output,
// for object stores that cannot sign URLs (the local file driver).
func (s *server) getOutputContent(w http.ResponseWriter, r *http.Request) {
	j, b, key, err := s.svc.OutputKey(r.Context(), principal(r), r.PathValue("id"))
	name := ""
	if tbl := r.URL.Query().Get("table"); tbl != "" && err == nil {
		j, b, key, err = s.svc.TableOutputKey(r.Context(), principal(r), r.PathValue("id"), tbl)
		name = "-" + tbl
	}
	if err != nil {
		writeErr(w, r, err)
		return
	}
	f := j.Request.Format
	s.stream(w, r, b, key, contentTypes[f], j.ID+name+"."+f)
}

// stream copies an object to the response. Once bytes are sent an error
// can only cut the response short; it is logged.
func (s *server) stream(w http.ResponseWriter, r *http.Request, b *blob.Bucket, key, ctype, filename string) {
	ctx := r.Context()
	rd, err := b.NewReader(ctx, key, nil)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.NotFound {
			err = fmt.Errorf("%w: the object was removed", api.ErrNotFound)
		}
		writeErr(w, r, err)
		return
	}
	defer rd.Close()
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.FormatInt(rd.Size(), 10))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if filename != "" {
		w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, rd); err != nil {
		obs.Logger(ctx).WarnContext(ctx, "stream object cut short", "path", r.URL.Path, "error", err)
	}
}
