// Package vertextest is a fake Vertex AI speaking the REST wire format
// (google.golang.org/api/aiplatform/v1) for the calls package vertex
// makes: models:upload (a long-running operation done on the third poll),
// endpoints create, :deployModel and :predict (each prediction is the sum of
// its instance's numbers), in project p, region us-central1. It checks
// request bodies the way the service would and answers errors in Google's
// JSON error format.
package vertextest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/option"
)

// Server speaks the Vertex AI REST wire format for the calls Deploy
// and Predict make, checking each request body the way the service would.
type Server struct {
	mu    sync.Mutex
	Calls []string
	// Image is the container an upload must name ("" accepts any).
	Image string
	// Polls counts the polls of the upload operation, which is done on
	// the third.
	Polls int
	// FailOps makes the upload operation end in an error.
	FailOps bool
}

const loc = "/v1/projects/p/locations/us-central1"

func (f *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, r.Method+" "+r.URL.Path)
	var body map[string]any
	if r.Method == "POST" {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, `{"error":{"code":400,"message":"bad json"}}`, 400)
			return
		}
	}
	answer := func(v any) { w.Header().Set("Content-Type", "application/json"); json.NewEncoder(w).Encode(v) }
	fail := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": "INVALID_ARGUMENT"}})
	}
	switch {
	case r.Method == "POST" && r.URL.Path == loc+"/models:upload":
		m, _ := body["model"].(map[string]any)
		cs, _ := m["containerSpec"].(map[string]any)
		if !strings.HasPrefix(m["artifactUri"].(string), "gs://artifacts/") || (f.Image != "" && cs["imageUri"] != f.Image) {
			fail(400, "bad model spec")
			return
		}
		answer(map[string]any{"name": "projects/p/locations/us-central1/operations/upload-1", "done": false})
	case r.Method == "GET" && r.URL.Path == loc+"/operations/upload-1":
		f.Polls++
		if f.Polls < 3 {
			answer(map[string]any{"name": "projects/p/locations/us-central1/operations/upload-1", "done": false})
			return
		}
		if f.FailOps {
			answer(map[string]any{"name": "projects/p/locations/us-central1/operations/upload-1", "done": true,
				"error": map[string]any{"code": 3, "message": "model artifact not found"}})
			return
		}
		answer(map[string]any{"name": "projects/p/locations/us-central1/operations/upload-1", "done": true,
			"response": map[string]any{"@type": "type.googleapis.com/google.cloud.aiplatform.v1.UploadModelResponse", "model": "projects/p/locations/us-central1/models/m1"}})
	case r.Method == "POST" && r.URL.Path == loc+"/endpoints":
		answer(map[string]any{"name": "projects/p/locations/us-central1/operations/ep-1", "done": true,
			"response": map[string]any{"@type": "type.googleapis.com/google.cloud.aiplatform.v1.Endpoint", "name": "projects/p/locations/us-central1/endpoints/e1", "displayName": body["displayName"]}})
	case r.Method == "POST" && r.URL.Path == loc+"/endpoints/e1:deployModel":
		dm, _ := body["deployedModel"].(map[string]any)
		ts, _ := body["trafficSplit"].(map[string]any)
		if dm["model"] != "projects/p/locations/us-central1/models/m1" || ts["0"] != 100.0 {
			fail(400, "bad deploy request")
			return
		}
		answer(map[string]any{"name": "projects/p/locations/us-central1/operations/dep-1", "done": true,
			"response": map[string]any{"@type": "type.googleapis.com/google.cloud.aiplatform.v1.DeployModelResponse", "deployedModel": map[string]any{"id": "d1"}}})
	case r.Method == "POST" && r.URL.Path == loc+"/endpoints/e1:predict":
		var preds []any
		for _, in := range body["instances"].([]any) {
			sum := 0.0
			for _, v := range in.([]any) {
				sum += v.(float64)
			}
			preds = append(preds, sum)
		}
		answer(map[string]any{"predictions": preds, "deployedModelId": "d1"})
	default:
		fail(404, "no route "+r.URL.Path)
	}
}

// Start serves s until the test ends and returns the client options that
// point package vertex at it.
func (s *Server) Start(t testing.TB) []option.ClientOption {
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return []option.ClientOption{option.WithEndpoint(srv.URL + "/"), option.WithHTTPClient(srv.Client())}
}

// CallCount is how many requests the server has answered.
func (s *Server) CallCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.Calls)
}
