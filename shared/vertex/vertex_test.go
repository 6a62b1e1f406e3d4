package vertex

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/modelcheck"
	"synthos.dev/synthos/shared/vertex/vertextest"
)

func newClient(t *testing.T, f *vertextest.Server) *Client {
	c, err := New(context.Background(), Config{Project: "p", Region: "us-central1", Bucket: "artifacts", Objects: memblob.OpenBucket(nil), PollEvery: time.Millisecond},
		f.Start(t)...)
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
	f := &vertextest.Server{Image: "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-2:latest"}
	c := newClient(t, f)
	d, err := c.Deploy(context.Background(), "gbm", "tenants/t1/models/mdl_1/vertex", rep, map[string][]byte{"gbm.joblib": b})
	if err != nil {
		t.Fatalf("%v (%d calls)", err, f.CallCount())
	}
	if d.Model != "projects/p/locations/us-central1/models/m1" || d.Endpoint != "projects/p/locations/us-central1/endpoints/e1" || d.DeployedModelID != "d1" ||
		d.ArtifactURI != "gs://artifacts/tenants/t1/models/mdl_1/vertex/" {
		t.Errorf("%+v", d)
	}
	// The artifact is staged under the name the container loads.
	if ok, _ := c.cfg.Objects.Exists(context.Background(), "tenants/t1/models/mdl_1/vertex/model.joblib"); !ok {
		t.Error("model.joblib not staged")
	}
	if f.Polls != 3 {
		t.Errorf("upload operation polled %d times", f.Polls)
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
	f := &vertextest.Server{Image: "us-docker.pkg.dev/vertex-ai/prediction/sklearn-cpu.1-2:latest", FailOps: true}
	if _, err := newClient(t, f).Deploy(context.Background(), "m", "x", rep, map[string][]byte{"m.pkl": {1}}); err == nil || !strings.Contains(err.Error(), "model artifact not found") {
		t.Errorf("failed operation: %v", err)
	}
	// A request Vertex refuses (wrong container): 400 is InvalidArgument, not retried.
	f = &vertextest.Server{Image: "something-else"}
	_, err := newClient(t, f).Deploy(context.Background(), "m", "x", rep, map[string][]byte{"m.pkl": {1}})
	if errs.CodeOf(err) != errs.InvalidArgument || errs.Retryable(err) {
		t.Errorf("refused upload: %v (%v)", err, errs.CodeOf(err))
	}
	// An unknown endpoint: NotFound.
	c := newClient(t, &vertextest.Server{})
	if _, err := c.Predict(context.Background(), &Deployment{Endpoint: "projects/p/locations/us-central1/endpoints/nope"}, []any{[]any{1.0}}); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("unknown endpoint: %v", err)
	}
}
