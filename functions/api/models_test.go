package api

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/vertex"
	"synthos.dev/synthos/shared/vertex/vertextest"
)

// modelBody is a multipart upload of the file at path with form fields
// before it.
func modelBody(t *testing.T, path, name string, fields map[string]string) ([]byte, map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	return buf.Bytes(), map[string]string{"Content-Type": mw.FormDataContentType()}
}

const (
	ensembleData = "../../shared/ensemble/testdata"
	corpusData   = "../../shared/modelcheck/testdata"
)

// exerciseModels runs the model routes through f (TestEveryRouteMatchesOpenAPI
// validates every answer against the OpenAPI document): upload (ready,
// rejected, bound to a dataset), list, get, predict as JSON and as CSV,
// predict with a model that is not served, delete.
func exerciseModels(t *testing.T, f *fixture, admin, reader, ds string) {
	body, h := modelBody(t, filepath.Join(ensembleData, "xgb_insurance_regression.json"), "charges.json", nil)
	r := f.do(req{method: "POST", path: "/v1/models", key: admin, body: body, header: h})
	m := r.json(t)
	if r.status != 201 || m["status"] != "ready" || m["serving"] != "in_process" || m["version"].(float64) != 1 {
		t.Fatalf("upload xgboost: %d %s", r.status, r.body)
	}
	id := m["id"].(string)
	// Bound to the sample dataset (age, sex, charges): most inputs missing.
	body, h = modelBody(t, filepath.Join(ensembleData, "xgb_insurance_regression.json"), "charges.json", map[string]string{"dataset": ds, "target": "charges"})
	r = f.do(req{method: "POST", path: "/v1/models", key: admin, body: body, header: h})
	if r.status != 400 || r.errCode(t) != "model_rejected" || !strings.Contains(string(r.body), "missing columns: bmi, children, smoker, region") {
		t.Errorf("mismatched dataset: %d %s", r.status, r.body)
	}
	body, h = modelBody(t, filepath.Join(corpusData, "malicious", "torch_nested_pkl.pt"), "model.pt", nil)
	r = f.do(req{method: "POST", path: "/v1/models", key: admin, body: body, header: h})
	if r.status != 400 || r.errCode(t) != "model_rejected" || !strings.Contains(string(r.body), "payload.pkl") {
		t.Errorf("malicious: %d %s", r.status, r.body)
	}
	body, h = modelBody(t, filepath.Join(corpusData, "benign", "sk_gbm.joblib"), "gbm.joblib", nil)
	r = f.do(req{method: "POST", path: "/v1/models", key: admin, body: body, header: h})
	sk := r.json(t)
	if r.status != 201 || sk["serving"] != "validate_and_store" || sk["framework"] != "sklearn" {
		t.Errorf("sklearn: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/models", key: admin, body: "x", header: map[string]string{"Content-Type": "text/plain"}}); r.status != 415 {
		t.Errorf("not multipart: %d", r.status)
	}
	r = f.do(req{method: "GET", path: "/v1/models", key: reader})
	if list := r.json(t)["models"].([]any); r.status != 200 || len(list) != 4 {
		t.Errorf("list: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/models/" + id, key: reader}); r.status != 200 || r.json(t)["task"] != "regression" {
		t.Errorf("get: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/models/mdl_nope", key: reader}); r.status != 404 {
		t.Errorf("get unknown: %d", r.status)
	}
	if r := f.do(req{method: "GET", path: "/v1/models/" + id, key: f.key("other", "read")}); r.status != 404 {
		t.Errorf("other tenant: %d", r.status)
	}
	// JSON rows: the first fixture row, whose prediction XGBoost gave as
	// 8039.45801 (xgb_insurance_regression.expected.csv).
	rows := map[string]any{"rows": []map[string]any{{"age": 23, "sex": 1, "bmi": 28.31, "children": 0, "smoker": 1, "region": 1}}}
	in := readFirstInput(t)
	rows["rows"] = []map[string]any{in}
	r = f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: reader, body: rows})
	if r.status != 200 {
		t.Fatalf("predict json: %d %s", r.status, r.body)
	}
	pred := r.json(t)["predictions"].([]any)[0].([]any)[0].(float64)
	if d := pred - 8039.45801; d > 1e-2 || d < -1e-2 {
		t.Errorf("prediction %v, XGBoost gave 8039.45801", pred)
	}
	csvIn, err := os.ReadFile(filepath.Join(ensembleData, "xgb_insurance_regression.input.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r = f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: reader, body: csvIn, header: map[string]string{"Content-Type": "text/csv"}})
	lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
	if r.status != 200 || len(lines) != 201 {
		t.Fatalf("predict csv: %d %.300s", r.status, r.body)
	}
	if r.status != 200 || len(lines) != 201 || !strings.HasSuffix(lines[0], ",prediction") || !strings.HasSuffix(lines[1], ",8039.4580078125") {
		t.Errorf("predict csv: %d %d lines, %q %q", r.status, len(lines), lines[0], lines[1])
	}
	if r := f.do(req{method: "POST", path: "/v1/models/" + sk["id"].(string) + ":predict", key: reader, body: rows}); r.status != 409 || r.errCode(t) != "not_served" {
		t.Errorf("predict sklearn: %d %s", r.status, r.body)
	}
	// Without SYNTHOS_VERTEX_REGION a sklearn model is validated and stored only.
	if r := f.do(req{method: "POST", path: "/v1/models/" + sk["id"].(string) + ":deploy", key: admin}); r.status != 409 || r.errCode(t) != "deployment_not_configured" {
		t.Errorf("deploy unconfigured: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/models/" + sk["id"].(string) + ":deploy", key: reader}); r.status != 403 {
		t.Errorf("deploy with a read key: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: reader, body: "x", header: map[string]string{"Content-Type": "text/plain"}}); r.status != 415 {
		t.Errorf("predict text/plain: %d", r.status)
	}
	if r := f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: reader, body: map[string]any{"rows": []map[string]any{{"age": 1}}}}); r.status != 400 {
		t.Errorf("predict missing feature: %d %s", r.status, r.body)
	}
	testModelOnJob(t, f, admin, id)
	exerciseModelUploads(t, f, admin)
	if r := f.do(req{method: "DELETE", path: "/v1/models/" + id, key: admin}); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "DELETE", path: "/v1/models/" + id, key: admin}); r.status != 404 {
		t.Errorf("delete twice: %d", r.status)
	}
	if r := f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: reader, body: rows}); r.status != 404 {
		t.Errorf("predict deleted: %d %s", r.status, r.body)
	}
}

// readFirstInput is the first row of the regression fixture as JSON values.
func readFirstInput(t *testing.T) map[string]any {
	b, err := os.ReadFile(filepath.Join(ensembleData, "xgb_insurance_regression.input.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	head, first := strings.Split(lines[0], ","), strings.Split(lines[1], ",")
	out := map[string]any{}
	for i, h := range head {
		if first[i] == "" {
			out[h] = nil
		} else {
			out[h] = first[i]
		}
	}
	return out
}

// TestDeployToVertex: a scikit-learn model deployed to (a fake) Vertex AI,
// then predictions proxied through POST /v1/models/{id}:predict.
func TestDeployToVertex(t *testing.T) {
	t.Parallel()
	fake := &vertextest.Server{Image: "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-2:latest"}
	bucket := memblob.OpenBucket(nil)
	vc, err := vertex.New(context.Background(), vertex.Config{Project: "p", Region: "us-central1", Bucket: "artifacts", Objects: bucket, PollEvery: time.Millisecond}, fake.Start(t)...)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, fixtureOptions{vertex: vc, bucket: bucket})
	admin := f.key("acme", apikeys.Admin)
	body, h := modelBody(t, filepath.Join(corpusData, "benign", "sk_logreg_p4.pkl"), "logreg.pkl", nil)
	r := f.do(req{method: "POST", path: "/v1/models", key: admin, body: body, header: h})
	if r.status != 201 {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	if r := f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: admin, body: map[string]any{"instances": []any{[]any{1, 2}}}}); r.status != 409 {
		t.Errorf("predict before deploy: %d %s", r.status, r.body)
	}
	r = f.do(req{method: "POST", path: "/v1/models/" + id + ":deploy", key: admin})
	m := r.json(t)
	dep, _ := m["deployment"].(map[string]any)
	if r.status != 200 || m["serving"] != "vertex_ai" || dep["endpoint"] != "projects/p/locations/us-central1/endpoints/e1" {
		t.Fatalf("deploy: %d %s", r.status, r.body)
	}
	if ok, _ := bucket.Exists(context.Background(), "tenants/acme/models/"+id+"/vertex/model.pkl"); !ok {
		t.Error("artifact not staged as model.pkl")
	}
	r = f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: admin, body: map[string]any{"instances": []any{[]any{1, 2}, []any{0.5, 0.25}}}})
	preds, _ := r.json(t)["predictions"].([]any)
	if r.status != 200 || len(preds) != 2 || preds[0] != 3.0 || preds[1] != 0.75 {
		t.Errorf("proxied predict: %d %s", r.status, r.body)
	}
	// Deploying again keeps the first deployment (no second endpoint).
	calls := fake.CallCount()
	if r := f.do(req{method: "POST", path: "/v1/models/" + id + ":deploy", key: admin}); r.status != 200 || fake.CallCount() != calls {
		t.Errorf("redeploy: %d, %d new Vertex calls", r.status, fake.CallCount()-calls)
	}
}

// testModelOnJob tests the insurance regression model on a finished job
// whose holdout, training rows and output are real insurance rows (the
// output being the training rows, a copy), after refusing an unfinished job.
func testModelOnJob(t *testing.T, f *fixture, admin, model string) {
	ds := f.upload(admin)
	job := f.createJob(admin, ds)
	body := map[string]any{"job": job, "target": "charges",
		"categories": map[string]any{"sex": []string{"female", "male"}, "smoker": []string{"no", "yes"}, "region": []string{"northeast", "northwest", "southeast", "southwest"}}}
	if r := f.do(req{method: "POST", path: "/v1/models/" + model + ":test", key: admin, body: body}); r.status != 409 || r.errCode(t) != "job_not_finished" {
		t.Errorf("unfinished job: %d %s", r.status, r.body)
	}
	f.finish("acme", job)
	ctx := context.Background()
	for key, file := range map[string]string{
		datasets.HoldoutKey("acme", job): "insurance.holdout.csv", datasets.TrainKey("acme", job): "insurance.train.csv",
		datasets.OutputKey("acme", job, "csv"): "insurance.train.csv",
	} {
		b, err := os.ReadFile(filepath.Join("../../../shared/datasets", file))
		if err != nil {
			t.Fatalf("dataset missing: %v", err)
		}
		if err := f.bucket.WriteAll(ctx, key, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	r := f.do(req{method: "POST", path: "/v1/models/" + model + ":test", key: admin, body: body})
	rep := r.json(t)
	v, _ := rep["verdict"].(map[string]any)
	if r.status != 200 || v["title"] == nil || rep["tstr"] == nil || len(rep["drift"].([]any)) != 6 {
		t.Fatalf("test: %d %s", r.status, r.body)
	}
	// The model was trained on rows of insurance.train.csv: scored on them
	// it looks better than on the holdout, and the verdict says so.
	if v["faithful"] != false {
		t.Errorf("verdict %v", v)
	}
	for _, ext := range []string{"json", "html"} {
		if ok, _ := f.bucket.Exists(ctx, "tenants/acme/models/"+model+"/tests/"+job+"."+ext); !ok {
			t.Errorf("%s report not stored", ext)
		}
	}
}

// TestPredictRateLimit: a tenant over its prediction rate gets 429 with
// Retry-After; another tenant is not affected.
func TestPredictRateLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{predictRate: 1})
	upload := func(tenant string) (key, id string) {
		key = f.key(tenant, apikeys.Admin)
		body, h := modelBody(t, filepath.Join(ensembleData, "xgb_insurance_regression.json"), "m.json", nil)
		r := f.do(req{method: "POST", path: "/v1/models", key: key, body: body, header: h})
		if r.status != 201 {
			t.Fatalf("upload: %d %s", r.status, r.body)
		}
		return key, r.json(t)["id"].(string)
	}
	rows := func(n int) map[string]any {
		var rs []map[string]any
		for i := 0; i < n; i++ {
			rs = append(rs, map[string]any{"age": 30, "sex": 0, "bmi": 25, "children": 0, "smoker": 0, "region": 1})
		}
		return map[string]any{"rows": rs}
	}
	key, id := upload("t1")
	// The burst is 10 000 rows (MaxPredictRows): the first full request
	// passes, the next is over the rate of 1 row a second.
	if r := f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: key, body: rows(10000)}); r.status != 200 {
		t.Fatalf("first: %d %s", r.status, r.body)
	}
	r := f.do(req{method: "POST", path: "/v1/models/" + id + ":predict", key: key, body: rows(5)})
	if r.status != 429 || r.errCode(t) != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Errorf("over the rate: %d %s %v", r.status, r.body, r.header)
	}
	key2, id2 := upload("t2")
	if r := f.do(req{method: "POST", path: "/v1/models/" + id2 + ":predict", key: key2, body: rows(5)}); r.status != 200 {
		t.Errorf("other tenant: %d %s", r.status, r.body)
	}
}

// exerciseModelUploads runs the resumable model upload routes and the
// model-test route through f (TestResumableModelUpload covers the
// protocol; here every answer meets the OpenAPI document).
func exerciseModelUploads(t *testing.T, f *fixture, admin string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ensembleData, "xgb_insurance_regression.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := f.do(req{method: "POST", path: "/v1/models/uploads", key: admin, body: map[string]any{"name": "charges.json", "size": len(data), "target": "charges"}})
	if r.status != 201 {
		t.Fatalf("begin model upload: %d %s", r.status, r.body)
	}
	id := r.json(t)["model"].(map[string]any)["id"].(string)
	path := "/v1/models/" + id + "/content"
	octet := func(cr string) map[string]string {
		return map[string]string{"Content-Range": cr, "Content-Type": "application/octet-stream"}
	}
	if r := f.do(req{method: "PUT", path: path, key: admin, header: octet(fmt.Sprintf("bytes */%d", len(data)))}); r.status != 308 || r.header.Get("Range") != "" {
		t.Errorf("query an empty upload: %d %v %s", r.status, r.header, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/models/" + id + "/complete", key: admin}); r.status != 409 || r.errCode(t) != "upload_missing" {
		t.Errorf("complete before any byte: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "PUT", path: path, key: admin, body: data, header: octet(fmt.Sprintf("bytes 0-%d/%d", len(data)-1, len(data)))}); r.status != 200 || r.json(t)["status"] != "ready" {
		t.Errorf("the whole model as its one chunk: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "POST", path: "/v1/models/" + id + "/complete", key: admin}); r.status != 200 || r.json(t)["status"] != "ready" {
		t.Errorf("complete a ready model: %d %s", r.status, r.body)
	}
	if r := f.do(req{method: "GET", path: "/v1/jobs/job_nope/model-test", key: admin}); r.status != 404 {
		t.Errorf("model test of an unknown job: %d %s", r.status, r.body)
	}
}
