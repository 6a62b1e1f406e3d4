package vertex

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"
	"google.golang.org/api/option"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/modelcheck"
)

// fakeVertex speaks the Vertex AI REST wire format for the calls Deploy
// and Predict make, checking each request body the way the service would.
type fakeVertex struct {
	t       *testing.T
	mu      sync.Mutex
	calls   []string
	image   string // the container the upload must name
	polls   int
	failOps bool
}

const loc = "/v1/projects/p/locations/us-central1"

func (f *fakeVertex) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
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
		if !strings.HasPrefix(m["artifactUri"].(string), "gs://artifacts/") || cs["imageUri"] != f.image {
			fail(400, "bad model spec")
			return
		}
		answer(map[string]any{"name": "projects/p/locations/us-central1/operations/upload-1", "done": false})
	case r.Method == "GET" && r.URL.Path == loc+"/operations/upload-1":
		f.polls++
		if f.polls < 3 {
			answer(map[string]any{"name": "projects/p/locations/us-central1/operations/upload-1", "done": false})
			return
		}
		if f.failOps {
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

func newClient(t *testing.T, f *fakeVertex) *Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := New(context.Background(), Config{Project: "p", Region: "us-central1", Bucket: "artifacts", Objects: memblob.OpenBucket(nil), PollEvery: time.Millisecond},
		option.WithEndpoint(srv.URL+"/"), option.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDeployAndPredictSklearn(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "modelcheck", "testdata", "benign", "sk_gbm.joblib"))
	if err != nil {
		t.Fatal(err)
	}
	rep := modelcheck.Check(b, "gbm.joblib", modelcheck.DefaultLimits)
	f := &fakeVertex{t: t, image: "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-2:latest"}
	c := newClient(t, f)
	d, err := c.Deploy(context.Background(), "gbm", "tenants/t1/models/mdl_1/vertex", rep, map[string][]byte{"gbm.joblib": b})
	if err != nil {
		t.Fatalf("%v (calls %v)", err, f.calls)
	}
	if d.Model != "projects/p/locations/us-central1/models/m1" || d.Endpoint != "projects/p/locations/us-central1/endpoints/e1" || d.DeployedModelID != "d1" ||
		d.ArtifactURI != "gs://artifacts/tenants/t1/models/mdl_1/vertex/" {
		t.Errorf("%+v", d)
	}
	// The artifact is staged under the name the container loads.
	if ok, _ := c.cfg.Objects.Exists(context.Background(), "tenants/t1/models/mdl_1/vertex/model.joblib"); !ok {
		t.Error("model.joblib not staged")
	}
	if f.polls != 3 {
		t.Errorf("upload operation polled %d times", f.polls)
	}
	preds, err := c.Predict(context.Background(), d, []any{[]any{1.0, 2.0}, []any{3.0, 4.5}})
	if err != nil || len(preds) != 2 || preds[0] != 3.0 || preds[1] != 7.5 {
		t.Errorf("predict %v %v", preds, err)
	}
}

func TestContainers(t *testing.T) {
	t.Parallel()
	c := &Client{cfg: Config{Region: "europe-west4"}}
	cases := []struct {
		r          modelcheck.Report
		image, art string
		code       errs.Code
	}{
		{modelcheck.Report{Framework: "sklearn", Format: "pickle"}, "europe-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-2:latest", "model.pkl", 0},
		{modelcheck.Report{Framework: "sklearn", Format: "joblib", Details: map[string]any{"estimator_framework": "xgboost"}}, "europe-docker.pkg.dev/vertex-ai/prediction/xgboost-cpu.1-7:latest", "model.joblib", 0},
		{modelcheck.Report{Framework: "tensorflow", Format: "tf-savedmodel"}, "europe-docker.pkg.dev/vertex-ai/prediction/tf2-cpu.2-15:latest", "", 0},
		{modelcheck.Report{Framework: "pytorch"}, "", "", errs.Unimplemented},
		{modelcheck.Report{Framework: "onnx"}, "", "", errs.Unimplemented},
	}
	for _, tc := range cases {
		img, art, err := c.Container(&tc.r)
		if img != tc.image || art != tc.art || errs.CodeOf(err) != tc.code && !(tc.code == 0 && err == nil) {
			t.Errorf("%s: %q %q %v", tc.r.Framework, img, art, err)
		}
	}
}

func TestDeployErrors(t *testing.T) {
	t.Parallel()
	rep := &modelcheck.Report{Framework: "sklearn", Format: "pickle"}
	// The upload operation fails: the operation's error is reported.
	f := &fakeVertex{t: t, image: "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-2:latest", failOps: true}
	if _, err := newClient(t, f).Deploy(context.Background(), "m", "x", rep, map[string][]byte{"m.pkl": {1}}); err == nil || !strings.Contains(err.Error(), "model artifact not found") {
		t.Errorf("failed operation: %v", err)
	}
	// A request Vertex refuses (wrong container): 400 is InvalidArgument, not retried.
	f = &fakeVertex{t: t, image: "something-else"}
	_, err := newClient(t, f).Deploy(context.Background(), "m", "x", rep, map[string][]byte{"m.pkl": {1}})
	if errs.CodeOf(err) != errs.InvalidArgument || errs.Retryable(err) {
		t.Errorf("refused upload: %v (%v)", err, errs.CodeOf(err))
	}
	// An unknown endpoint: NotFound.
	c := newClient(t, &fakeVertex{t: t})
	if _, err := c.Predict(context.Background(), &Deployment{Endpoint: "projects/p/locations/us-central1/endpoints/nope"}, []any{[]any{1.0}}); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("unknown endpoint: %v", err)
	}
}
