// Package client is the Go client of the Synthos API.
//
// client.gen.go is generated from functions/api/openapi.json by oapi-codegen
// (go generate ./shared/client): every operation of the document is a method
// of ClientWithResponses, named after its operationId. API wraps it with
// what a caller would otherwise write by hand each time: the API key on
// every request, uploads (one multipart request, or the resumable protocol
// for large tables, resuming after a failed chunk), job creation with an
// Idempotency-Key, polling a job with exponential backoff until it ends, and
// error answers as *APIError values carrying the API's error code.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"
)

// APIError is an error answer of the API: its HTTP status and the envelope
// {"error":{"code","message","details"}} (shared/web). Callers act on Code,
// never on Message.
type APIError struct {
	Status  int
	Code    string
	Message string
	Details map[string]any
	// Op names the call that failed ("POST /v1/jobs").
	Op string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Op, e.Status, e.Code, e.Message)
}

// Code returns the API error code of err ("" when err is not an API
// error answer), so callers branch on codes without type assertions.
func Code(err error) string {
	var e *APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// API is a Synthos API client: the generated operations (embedded) and
// the workflows on top of them.
type API struct {
	*ClientWithResponses
	base string
	key  string
	http *http.Client
}

// Options tune New.
type Options struct {
	// HTTPClient sends the requests (http.DefaultClient when nil).
	HTTPClient *http.Client
}

// New returns a client of the API at server (e.g. http://127.0.0.1:8080)
// authenticating with key.
func New(server, key string, o Options) (*API, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("client: the API address %q must be an http(s) URL such as http://127.0.0.1:8080", server)
	}
	if key == "" {
		return nil, errors.New("client: an API key is required (synthos keys create, or POST /v1/keys with an admin key)")
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	base := strings.TrimRight(server, "/")
	a := &API{base: base, key: key, http: hc}
	a.ClientWithResponses, err = NewClientWithResponses(base, WithHTTPClient(hc),
		WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			a.authorize(r)
			return nil
		}))
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return a, nil
}

// authorize adds the API key to a request to this API only: an upload
// session URL of Cloud Storage must never see it.
func (a *API) authorize(r *http.Request) {
	if sameOrigin(a.base, r.URL) {
		r.Header.Set("Authorization", "Bearer "+a.key)
	}
}

func sameOrigin(base string, u *url.URL) bool {
	b, err := url.Parse(base)
	return err == nil && strings.EqualFold(b.Scheme, u.Scheme) && strings.EqualFold(b.Host, u.Host)
}

// Check turns a generated response into an error unless its status is
// one of ok: an *APIError decoded from the envelope, or a plain error naming
// the status when the body is not one.
func Check(op string, status int, body []byte, ok ...int) error {
	for _, s := range ok {
		if status == s {
			return nil
		}
	}
	var env struct {
		Error struct {
			Code    string         `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &env); err != nil || env.Error.Code == "" {
		snippet := strings.TrimSpace(string(body))
		if len(snippet) > 200 {
			snippet = snippet[:200] + "…"
		}
		return &APIError{Op: op, Status: status, Code: "http_" + fmt.Sprint(status), Message: snippet}
	}
	return &APIError{Op: op, Status: status, Code: env.Error.Code, Message: env.Error.Message, Details: env.Error.Details}
}

// Progress is called with the bytes sent so far and the total.
type Progress func(sent, total int64)

// UploadDataset uploads a table: in one multipart request when it fits
// the direct upload limit (64 MiB), else through the resumable protocol.
// name's extension gives the format (insurance.csv, events.parquet).
func (a *API) UploadDataset(ctx context.Context, name string, r io.ReaderAt, size int64, progress Progress) (*Dataset, error) {
	if size <= directUploadLimit {
		return a.UploadDatasetMultipart(ctx, name, io.NewSectionReader(r, 0, size), size, progress)
	}
	return a.UploadDatasetResumable(ctx, name, r, size, ResumableOptions{Progress: progress})
}

// directUploadLimit is the API's default limit of a multipart upload
// (shared/api.DefaultMaxUpload).
const directUploadLimit = 64 << 20

// UploadDatasetMultipart sends the table in one multipart/form-data
// request (POST /v1/datasets, field "file"), streaming it.
func (a *API) UploadDatasetMultipart(ctx context.Context, name string, r io.Reader, size int64, progress Progress) (*Dataset, error) {
	const op = "POST /v1/datasets"
	body, ct := multipartBody(map[string]string{}, name, &countingReader{r: r, total: size, progress: progress})
	res, err := a.UploadDatasetWithBodyWithResponse(ctx, &UploadDatasetParams{}, ct, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := Check(op, res.StatusCode(), res.Body, http.StatusCreated); err != nil {
		return nil, err
	}
	return res.JSON201, nil
}

// multipartBody streams fields and then the file part through a pipe.
func multipartBody(fields map[string]string, filename string, file io.Reader) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for k, v := range fields {
				if err := mw.WriteField(k, v); err != nil {
					return err
				}
			}
			part, err := mw.CreateFormFile("file", filepath.Base(filename))
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, file); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

type countingReader struct {
	r           io.Reader
	sent, total int64
	progress    Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.sent += int64(n)
	if c.progress != nil && n > 0 {
		c.progress(c.sent, c.total)
	}
	return n, err
}

// ResumableOptions tune UploadDatasetResumable.
type ResumableOptions struct {
	// ChunkSize overrides the server's suggested chunk size; it is rounded
	// down to a multiple of 256 KiB (every chunk but the last must be one).
	ChunkSize int64
	// Retries is how many times a failed chunk is retried after asking the
	// server how far the upload got (5 when zero).
	Retries  int
	Progress Progress
}

const chunkGranularity = 256 << 10

// UploadDatasetResumable begins an upload session (POST
// /v1/datasets/uploads) and sends the table to its upload URL in chunks
// with Content-Range. A chunk that fails (network error, 5xx) is retried
// from where the server says the upload stands (PUT with Content-Range:
// bytes */TOTAL answers 308 with Range: bytes=0-LAST), so a lost
// connection costs at most one chunk. The dataset is then completed and
// returned ready (or the invalid_dataset error).
func (a *API) UploadDatasetResumable(ctx context.Context, name string, r io.ReaderAt, size int64, o ResumableOptions) (*Dataset, error) {
	const op = "POST /v1/datasets/uploads"
	isize := int(size)
	res, err := a.BeginUploadWithResponse(ctx, &BeginUploadParams{}, BeginUploadJSONRequestBody{Name: filepath.Base(name), Size: &isize})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := Check(op, res.StatusCode(), res.Body, http.StatusCreated); err != nil {
		return nil, err
	}
	up := res.JSON201
	if fmt.Sprint(up.Protocol) == "put" {
		// A signed URL without sessions: one PUT of the whole file.
		if _, _, err := a.putRange(ctx, up, io.NewSectionReader(r, 0, size), 0, size, size, o.Progress); err != nil {
			return nil, err
		}
		return a.complete(ctx, up.Dataset.Id)
	}
	chunk := o.ChunkSize
	if chunk <= 0 && up.ChunkSize != nil {
		chunk = int64(*up.ChunkSize)
	}
	if chunk = chunk / chunkGranularity * chunkGranularity; chunk <= 0 {
		chunk = chunkGranularity
	}
	retries := o.Retries
	if retries == 0 {
		retries = 5
	}
	var offset int64
	failures := 0
	for offset < size || size == 0 {
		end := min(offset+chunk, size)
		next, done, err := a.putRange(ctx, up, io.NewSectionReader(r, offset, end-offset), offset, end, size, o.Progress)
		if err == nil && done {
			break
		}
		if err == nil {
			offset, failures = next, 0
			continue
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.Status < 500 {
			return nil, err // the server refused the bytes: retrying cannot help
		}
		if failures++; failures > retries || ctx.Err() != nil {
			return nil, fmt.Errorf("upload %s: chunk at byte %d failed %d times: %w", name, offset, failures, err)
		}
		if err := sleep(ctx, backoff(failures, time.Second, 30*time.Second)); err != nil {
			return nil, err
		}
		if offset, err = a.uploadStatus(ctx, up, size); err != nil {
			return nil, err
		}
	}
	return a.complete(ctx, up.Dataset.Id)
}

// putRange PUTs bytes [start, end) of total; it returns where the next
// chunk starts (the server's Range), and done when the upload is whole.
func (a *API) putRange(ctx context.Context, up *Upload, body io.Reader, start, end, total int64, progress Progress) (int64, bool, error) {
	const op = "PUT upload_url"
	cr := &countingReader{r: body, total: total, progress: progress, sent: start}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, up.UploadUrl, cr)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", op, err)
	}
	req.ContentLength = end - start
	if fmt.Sprint(up.Protocol) != "put" && total > 0 {
		req.Header.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, total))
	}
	if up.Headers != nil {
		for k, v := range *up.Headers {
			req.Header.Set(k, v)
		}
	}
	a.authorize(req)
	return a.sendRange(req, op, end)
}

// uploadStatus asks how many bytes the session holds.
func (a *API) uploadStatus(ctx context.Context, up *Upload, total int64) (int64, error) {
	const op = "PUT upload_url (status)"
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, up.UploadUrl, http.NoBody)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Content-Range", fmt.Sprintf("bytes */%d", total))
	a.authorize(req)
	next, _, err := a.sendRange(req, op, 0)
	return next, err
}

func (a *API) sendRange(req *http.Request, op string, end int64) (int64, bool, error) {
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", op, err)
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusCreated:
		return end, true, nil
	case http.StatusPermanentRedirect:
		// Range: bytes=0-LAST names what is stored; none: nothing is.
		rng := resp.Header.Get("Range")
		if rng == "" {
			return 0, false, nil
		}
		var last int64
		if _, err := fmt.Sscanf(rng, "bytes=0-%d", &last); err != nil {
			return 0, false, fmt.Errorf("%s: unreadable Range %q in the 308 answer", op, rng)
		}
		return last + 1, false, nil
	}
	return 0, false, Check(op, resp.StatusCode, body)
}

func (a *API) complete(ctx context.Context, id string) (*Dataset, error) {
	op := "POST /v1/datasets/" + id + "/complete"
	res, err := a.CompleteUploadWithResponse(ctx, id, &CompleteUploadParams{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := Check(op, res.StatusCode(), res.Body, http.StatusOK); err != nil {
		return nil, err
	}
	return res.JSON200, nil
}

// CreateJob creates a job (POST /v1/jobs) with idempotencyKey: a retry
// with the same key and body returns the job the first call created
// instead of a second one. An empty key sends none.
func (a *API) CreateJob(ctx context.Context, req JobCreate, idempotencyKey string) (*Job, error) {
	const op = "POST /v1/jobs"
	params := &CreateJobParams{}
	if idempotencyKey != "" {
		params.IdempotencyKey = &idempotencyKey
	}
	res, err := a.CreateJobWithResponse(ctx, params, req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	// 202: queued; 200/201: an idempotent replay's stored answer.
	if err := Check(op, res.StatusCode(), res.Body, http.StatusAccepted, http.StatusCreated, http.StatusOK); err != nil {
		return nil, err
	}
	var j Job
	if err := json.Unmarshal(res.Body, &j); err != nil {
		return nil, fmt.Errorf("%s: the answer is not a job: %w", op, err)
	}
	return &j, nil
}

// Poll tunes WaitJob: the first wait, its growth (doubling) cap, and a
// callback for each state seen.
type Poll struct {
	Initial, Max time.Duration // 500 ms and 10 s when zero
	OnState      func(j *Job)
}

// terminalStates are the states a job does not leave (shared/jobs'
// State.Terminal; client_test.go checks they agree).
var terminalStates = []string{"succeeded", "failed", "cancelled"}

// Terminal reports whether a job in state s has finished.
func Terminal(s string) bool {
	for _, t := range terminalStates {
		if s == t {
			return true
		}
	}
	return false
}

// WaitJob polls GET /v1/jobs/{id} with exponential backoff until the job
// is succeeded, failed or cancelled, and returns it. It stops early only
// when ctx ends. A failed job is returned without an error: its error and
// reasons are in the job.
func (a *API) WaitJob(ctx context.Context, id string, p Poll) (*Job, error) {
	if p.Initial <= 0 {
		p.Initial = 500 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 10 * time.Second
	}
	last := ""
	for attempt := 0; ; attempt++ {
		j, err := a.Job(ctx, id)
		if err != nil {
			return nil, err
		}
		state := fmt.Sprint(j.State)
		if p.OnState != nil && state != last {
			p.OnState(j)
		}
		last = state
		if Terminal(state) {
			return j, nil
		}
		if err := sleep(ctx, backoff(attempt+1, p.Initial, p.Max)); err != nil {
			return nil, fmt.Errorf("wait for job %s (last %s): %w", id, state, err)
		}
	}
}

// Job returns one job.
func (a *API) Job(ctx context.Context, id string) (*Job, error) {
	op := "GET /v1/jobs/" + id
	res, err := a.GetJobWithResponse(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := Check(op, res.StatusCode(), res.Body, http.StatusOK); err != nil {
		return nil, err
	}
	return res.JSON200, nil
}

// DownloadOutput writes a job's synthetic output to w, through the
// download URL the API hands out (the API key is sent only when that URL
// is the API's own).
func (a *API) DownloadOutput(ctx context.Context, id string, w io.Writer, progress Progress) (int64, error) {
	op := "GET /v1/jobs/" + id + "/output"
	res, err := a.GetOutputWithResponse(ctx, id, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	if err := Check(op, res.StatusCode(), res.Body, http.StatusOK); err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, res.JSON200.Url, nil)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	a.authorize(req)
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download the output of %s: %w", id, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return 0, Check("GET output url", resp.StatusCode, body)
	}
	n, err := io.Copy(w, &countingReader{r: resp.Body, total: resp.ContentLength, progress: progress})
	if err != nil {
		return n, fmt.Errorf("download the output of %s: %w", id, err)
	}
	return n, nil
}

// UploadModel uploads a model file (POST /v1/models, multipart) for a
// dataset and target column (either may be empty).
func (a *API) UploadModel(ctx context.Context, name string, r io.Reader, size int64, dataset, target string, progress Progress) (*Model, error) {
	const op = "POST /v1/models"
	fields := map[string]string{}
	if dataset != "" {
		fields["dataset"] = dataset
	}
	if target != "" {
		fields["target"] = target
	}
	body, ct := multipartBody(fields, name, &countingReader{r: r, total: size, progress: progress})
	res, err := a.UploadModelWithBodyWithResponse(ctx, &UploadModelParams{}, ct, body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := Check(op, res.StatusCode(), res.Body, http.StatusCreated, http.StatusOK, http.StatusAccepted); err != nil {
		return nil, err
	}
	var m Model
	if err := json.Unmarshal(res.Body, &m); err != nil {
		return nil, fmt.Errorf("%s: the answer is not a model: %w", op, err)
	}
	return &m, nil
}

// backoff is the wait before attempt n (1-based): initial doubled each
// attempt, capped at max.
func backoff(n int, initial, max time.Duration) time.Duration {
	d := initial
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ptr returns a pointer to v, for the optional fields of generated request
// types: client.JobCreate{Dataset: client.Ptr(id), Rows: client.Ptr(1000)}.
func Ptr[T any](v T) *T { return &v }
