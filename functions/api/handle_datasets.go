package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/web"
)

// uploadDataset: POST /v1/datasets, multipart/form-data with the table in
// field "file"; the table streams to the object store and is validated
// before the answer: 201 ready, or 400 invalid_dataset naming the row and
// the column (the dataset is kept, invalid, for GET to show).
func (s *server) uploadDataset(w http.ResponseWriter, r *http.Request) {
	s.readUpload(w, r, uploadForm{
		what:     "the table",
		notMulti: "send the table as multipart/form-data in the field \"file\" (curl -F file=@table.csv), or use POST /v1/datasets/uploads",
		limit:    s.svc.MaxUpload,
		tooLarge: s.svc.TooLargeUpload,
		noName:   "must be a file part with a file name (its extension gives the format)",
	}, func(name string, _ map[string]string, body io.Reader) {
		d, err := s.svc.Upload(r.Context(), principal(r), name, body)
		if err != nil {
			writeErr(w, r, err)
			return
		}
		w.Header().Set("Location", "/v1/datasets/"+d.ID)
		web.WriteJSON(w, http.StatusCreated, api.DatasetView(d))
	})
}

// uploadForm describes a multipart upload: a file in the field "file",
// optionally after short text fields.
type uploadForm struct {
	what     string   // "the table", "the model": in messages
	notMulti string   // the 415 message
	fields   []string // text fields read before the file
	limit    int64    // the file's limit (the body may hold maxJSONBody more)
	tooLarge func() error
	noName   string // why a file part needs a file name
}

// readUpload reads a multipart/form-data upload (datasets and models
// alike): the form's text fields, then the file part, streamed to file;
// every error before the file is answered here. A body cut short — even
// inside a part's header, which mime/multipart answers with a bare EOF —
// is told from a complete one by its closing boundary.
func (s *server) readUpload(w http.ResponseWriter, r *http.Request, f uploadForm, file func(name string, fields map[string]string, body io.Reader)) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		writeErr(w, r, &api.CodedError{Code: "unsupported_media_type", Kind: api.ErrUnsupported, Msg: f.notMulti})
		return
	}
	tail := &tailReader{r: http.MaxBytesReader(w, r.Body, f.limit+maxJSONBody)}
	r.Body = tail
	mr, err := r.MultipartReader()
	if err != nil {
		writeErr(w, r, malformed(err))
		return
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			if !tail.contains("--" + params["boundary"] + "--") {
				writeErr(w, r, malformed(io.ErrUnexpectedEOF))
				return
			}
			break
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) && f.tooLarge != nil {
				writeErr(w, r, f.tooLarge())
				return
			}
			writeErr(w, r, malformed(err))
			return
		}
		if slices.Contains(f.fields, part.FormName()) {
			b, err := io.ReadAll(io.LimitReader(part, 256))
			if err != nil {
				writeErr(w, r, malformed(err))
				return
			}
			fields[part.FormName()] = strings.TrimSpace(string(b))
			continue
		}
		if part.FormName() != "file" {
			continue
		}
		if part.FileName() == "" {
			writeErr(w, r, &api.FieldError{Field: "file", Reason: f.noName})
			return
		}
		file(part.FileName(), fields, partReader{part})
		return
	}
	writeErr(w, r, &api.FieldError{Field: "file", Reason: "is required: send " + f.what + " in the multipart field \"file\""})
}

// malformed is the 400 of a multipart body that cannot be parsed.
func malformed(err error) error {
	reason := "the multipart body is malformed"
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		reason = "the multipart body ends before its closing boundary (truncated upload)"
	}
	return &api.FieldError{Field: "file", Reason: reason + ": send the table as multipart/form-data in the field \"file\" (curl -F file=@table.csv)"}
}

// tailReader remembers the last bytes read, to tell a multipart body that
// ends with its closing boundary from one cut short.
type tailReader struct {
	r    io.ReadCloser
	tail []byte
}

func (t *tailReader) Read(b []byte) (int, error) {
	n, err := t.r.Read(b)
	t.tail = append(t.tail, b[:n]...)
	if len(t.tail) > 256 {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-128:]...)
	}
	return n, err
}

func (t *tailReader) Close() error { return t.r.Close() }

// contains reports whether the last bytes read hold s (a short epilogue may
// follow the closing boundary).
func (t *tailReader) contains(s string) bool { return strings.Contains(string(t.tail), s) }

// partReader marks a multipart part that ends before its boundary as a
// truncated body (400), not a storage failure.
type partReader struct{ r io.Reader }

func (p partReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			err = fmt.Errorf("%w: %w", api.ErrTruncated, err)
		}
	}
	return n, err
}

// beginUpload: POST /v1/datasets/uploads {"name":"adult.csv","size":N} →
// a pending dataset and the resumable upload URL to send its bytes to.
func (s *server) beginUpload(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name string `json:"name"`
		Size int64  `json:"size"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	base := baseURL(r)
	up, err := s.svc.BeginUpload(r.Context(), principal(r), body.Name, body.Size, func(id string) string {
		return base + "/v1/datasets/" + id + "/content"
	})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/datasets/"+up.Dataset.ID)
	web.WriteJSON(w, http.StatusCreated, up)
}

// putContent: PUT /v1/datasets/{id}/content, the table's bytes: whole, or
// one chunk with Content-Range: bytes START-END/TOTAL (TOTAL may be * until
// the last chunk; bytes */TOTAL asks how far the upload is). While bytes
// are missing the answer is 308 with Range: bytes=0-LAST (none when
// nothing is stored), as Cloud Storage answers a resumable upload; the
// chunk that completes the file is joined, validated and answered 200 with
// the dataset (or 400 invalid_dataset).
func (s *server) putContent(w http.ResponseWriter, r *http.Request) {
	cr, err := contentRange(w, r, s.svc.MaxResumable)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	pr, err := s.svc.PutContent(r.Context(), principal(r), r.PathValue("id"), cr, partReader{r.Body})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	if !pr.Done {
		if pr.Received > 0 {
			w.Header().Set("Range", fmt.Sprintf("bytes=0-%d", pr.Received-1))
		}
		v := api.DatasetView(pr.Dataset)
		web.WriteJSON(w, http.StatusPermanentRedirect, v)
		return
	}
	web.WriteJSON(w, http.StatusOK, api.DatasetView(pr.Dataset))
}

// contentRange reads the Content-Range of one PUT of a resumable upload
// (datasets and models alike), checks it against Content-Length, and bounds
// the body to max bytes.
func contentRange(w http.ResponseWriter, r *http.Request, max int64) (api.ContentRange, error) {
	cr, err := api.ParseContentRange(r.Header.Get("Content-Range"))
	if err != nil {
		return cr, err
	}
	if !cr.Whole && !cr.Query {
		if r.ContentLength >= 0 && r.ContentLength != cr.End+1-cr.Start {
			return cr, &api.CodedError{Code: "invalid_request", Kind: api.ErrInvalid, Details: map[string]any{"header": "Content-Range"},
				Msg: fmt.Sprintf("Content-Length %d differs from the %d bytes of Content-Range %s", r.ContentLength, cr.End+1-cr.Start, r.Header.Get("Content-Range"))}
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, max+1)
	return cr, nil
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

// anonymizeDataset: POST /v1/datasets/{id}/anonymize with a policy →
// 201 with the new dataset of de-identified real rows and what was done.
func (s *server) anonymizeDataset(w http.ResponseWriter, r *http.Request) {
	var pol anonymize.Policy
	if err := decodeJSON(w, r, &pol); err != nil {
		writeErr(w, r, err)
		return
	}
	a, err := s.svc.Anonymize(r.Context(), principal(r), r.PathValue("id"), pol)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusCreated, map[string]any{"dataset": api.DatasetView(a.Dataset), "result": a.Result})
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

// getAnonymizeKeys: GET /v1/anonymize/keys → the tenant's anonymisation
// keyring without key material: the key version in use, the versions kept,
// where it is stored.
func (s *server) getAnonymizeKeys(w http.ResponseWriter, r *http.Request) {
	info, err := s.svc.AnonymizeKeys(r.Context(), principal(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, info)
}

// rotateAnonymizeKeys: POST /v1/anonymize/keys/rotate → a new key version
// for pseudonyms and tokens (the first keyring when there is none); tokens
// made before stay reversible.
func (s *server) rotateAnonymizeKeys(w http.ResponseWriter, r *http.Request) {
	info, err := s.svc.RotateAnonymizeKeys(r.Context(), principal(r))
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, info)
}

// detokenize: POST /v1/anonymize/detokenize {"tokens":[…],"domain":""} →
// each token's original value (authorised re-identification, audited).
func (s *server) detokenize(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tokens []string `json:"tokens"`
		Domain string   `json:"domain"`
	}
	if err := decodeJSON(w, r, &in); err != nil {
		writeErr(w, r, err)
		return
	}
	out, err := s.svc.Detokenize(r.Context(), principal(r), in.Tokens, in.Domain)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"values": out})
}
