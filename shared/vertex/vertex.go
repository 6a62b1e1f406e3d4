// Package vertex deploys custom models that Synthos does not serve in
// process (scikit-learn and XGBoost-sklearn pickles, TensorFlow
// SavedModels) to Vertex AI: the model's artifacts are copied to Cloud
// Storage under the file names Vertex's prebuilt prediction containers
// expect, registered in the Model Registry with the matching container,
// deployed to a new endpoint, and predictions are proxied through it.
//
// It uses the REST client google.golang.org/api/aiplatform/v1 rather than
// cloud.google.com/go/aiplatform: the module is already a dependency (the
// storage client needs it), so no gRPC stubs or new modules come in, and
// REST is what the tests' httptest server speaks. Calls go to the regional
// endpoint https://REGION-aiplatform.googleapis.com/.
package vertex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"gocloud.dev/blob"
	aiplatform "google.golang.org/api/aiplatform/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/modelcheck"
	"synthos.dev/synthos/shared/objects"
)

// Config says where models go.
type Config struct {
	Project string
	Region  string // e.g. us-central1
	// Bucket is the Cloud Storage bucket name of the artifacts (the
	// object store's bucket); Objects is the same bucket opened.
	Bucket  string
	Objects *blob.Bucket
	// MachineType of the deployed replicas (default n1-standard-2).
	MachineType string
	// PollEvery is how often long-running operations are polled (default
	// 5 s).
	PollEvery time.Duration
}

// Client deploys models to Vertex AI and predicts with them.
type Client struct {
	cfg Config
	svc *aiplatform.Service
}

// New returns a Client. opts override the endpoint and credentials (tests
// pass option.WithEndpoint to an httptest server).
func New(ctx context.Context, cfg Config, opts ...option.ClientOption) (*Client, error) {
	if cfg.Project == "" || cfg.Region == "" || cfg.Bucket == "" || cfg.Objects == nil {
		return nil, errs.New(errs.FailedPrecondition, "vertex: project, region and artifact bucket are required")
	}
	if cfg.MachineType == "" {
		cfg.MachineType = "n1-standard-2"
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = 5 * time.Second
	}
	base := []option.ClientOption{option.WithEndpoint("https://" + cfg.Region + "-aiplatform.googleapis.com/")}
	svc, err := aiplatform.NewService(ctx, append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("vertex: %w", err)
	}
	return &Client{cfg: cfg, svc: svc}, nil
}

// Container is the prebuilt prediction container for a validated model,
// and the artifact file name it loads; an error says why the model cannot
// go to a prebuilt container.
func (c *Client) Container(r *modelcheck.Report) (image, artifact string, err error) {
	region := "us"
	switch {
	case strings.HasPrefix(c.cfg.Region, "europe"):
		region = "europe"
	case strings.HasPrefix(c.cfg.Region, "asia"), strings.HasPrefix(c.cfg.Region, "australia"):
		region = "asia"
	}
	img := func(fw string) string {
		return region + "-docker.pkg.dev/vertex-ai/prediction/" + fw + ":latest"
	}
	switch r.Framework {
	case modelcheck.FrameworkSklearn:
		file := "model.pkl"
		if r.Format == modelcheck.FormatJoblib {
			file = "model.joblib"
		}
		if r.Details["estimator_framework"] == "xgboost" {
			return img("xgboost-cpu.1-7"), file, nil
		}
		return img("sklearn-cpu.1-2"), file, nil
	case modelcheck.FrameworkTensorFlow:
		return img("tf2-cpu.2-15"), "", nil
	case modelcheck.FrameworkPyTorch:
		return "", "", errs.Public(errs.Unimplemented, "PyTorch models deploy to Vertex AI's prebuilt container only as a TorchServe archive (model.mar); Synthos validates and stores .pt files")
	}
	return "", "", errs.Public(errs.Unimplemented, "no Vertex AI prebuilt container serves %s models", r.Framework)
}

// Deployment is where a model runs on Vertex AI.
type Deployment struct {
	Model           string `json:"model"`    // projects/P/locations/L/models/M
	Endpoint        string `json:"endpoint"` // projects/P/locations/L/endpoints/E
	DeployedModelID string `json:"deployed_model_id"`
	Image           string `json:"image"`
	ArtifactURI     string `json:"artifact_uri"`
}

// Deploy copies the model's artifacts under prefix in the bucket,
// registers the model and deploys it to a new endpoint, waiting for each
// long-running operation. files are the model's files: one for a pickle,
// the members of a SavedModel archive (paths relative to its root).
func (c *Client) Deploy(ctx context.Context, name, prefix string, r *modelcheck.Report, files map[string][]byte) (*Deployment, error) {
	image, artifact, err := c.Container(r)
	if err != nil {
		return nil, err
	}
	prefix = strings.TrimSuffix(prefix, "/") + "/"
	for p, b := range files {
		key := prefix + p
		if artifact != "" {
			key = prefix + artifact
		}
		if err := objects.Put(ctx, c.cfg.Objects, key, func(w io.Writer) error {
			_, err := io.Copy(w, bytes.NewReader(b))
			return err
		}, nil); err != nil {
			return nil, fmt.Errorf("vertex: stage artifact %s: %w", path.Base(key), err)
		}
	}
	d := &Deployment{Image: image, ArtifactURI: "gs://" + c.cfg.Bucket + "/" + prefix}
	parent := "projects/" + c.cfg.Project + "/locations/" + c.cfg.Region
	op, err := c.svc.Projects.Locations.Models.Upload(parent, &aiplatform.GoogleCloudAiplatformV1UploadModelRequest{
		Model: &aiplatform.GoogleCloudAiplatformV1Model{
			DisplayName:   name,
			ArtifactUri:   d.ArtifactURI,
			ContainerSpec: &aiplatform.GoogleCloudAiplatformV1ModelContainerSpec{ImageUri: image},
		},
	}).Context(ctx).Do()
	if err != nil {
		return nil, classify("upload the model to the Model Registry", err)
	}
	var up struct {
		Model string `json:"model"`
	}
	if err := c.wait(ctx, op, &up); err != nil {
		return nil, fmt.Errorf("vertex: upload: %w", err)
	}
	d.Model = up.Model
	op, err = c.svc.Projects.Locations.Endpoints.Create(parent, &aiplatform.GoogleCloudAiplatformV1Endpoint{DisplayName: name}).Context(ctx).Do()
	if err != nil {
		return nil, classify("create an endpoint", err)
	}
	var ep struct {
		Name string `json:"name"`
	}
	if err := c.wait(ctx, op, &ep); err != nil {
		return nil, fmt.Errorf("vertex: create endpoint: %w", err)
	}
	d.Endpoint = ep.Name
	op, err = c.svc.Projects.Locations.Endpoints.DeployModel(d.Endpoint, &aiplatform.GoogleCloudAiplatformV1DeployModelRequest{
		DeployedModel: &aiplatform.GoogleCloudAiplatformV1DeployedModel{
			Model: d.Model, DisplayName: name,
			DedicatedResources: &aiplatform.GoogleCloudAiplatformV1DedicatedResources{
				MachineSpec:     &aiplatform.GoogleCloudAiplatformV1MachineSpec{MachineType: c.cfg.MachineType},
				MinReplicaCount: 1, MaxReplicaCount: 1,
			},
		},
		TrafficSplit: map[string]int64{"0": 100},
	}).Context(ctx).Do()
	if err != nil {
		return nil, classify("deploy the model", err)
	}
	var dep struct {
		DeployedModel struct {
			ID string `json:"id"`
		} `json:"deployedModel"`
	}
	if err := c.wait(ctx, op, &dep); err != nil {
		return nil, fmt.Errorf("vertex: deploy: %w", err)
	}
	d.DeployedModelID = dep.DeployedModel.ID
	return d, nil
}

// wait polls a long-running operation until it is done and decodes its
// response into out.
func (c *Client) wait(ctx context.Context, op *aiplatform.GoogleLongrunningOperation, out any) error {
	for !op.Done {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(c.cfg.PollEvery):
		}
		var err error
		if op, err = c.svc.Projects.Locations.Operations.Get(op.Name).Context(ctx).Do(); err != nil {
			return classify("poll operation", err)
		}
	}
	if op.Error != nil {
		return errs.Errorf(errs.FailedPrecondition, "operation %s failed: %s (code %d)", op.Name, op.Error.Message, op.Error.Code)
	}
	if err := json.Unmarshal(op.Response, out); err != nil {
		return errs.Errorf(errs.Internal, "operation %s: response: %v", op.Name, err)
	}
	return nil
}

// Predict sends instances to the deployed model and returns its
// predictions as Vertex returns them.
func (c *Client) Predict(ctx context.Context, d *Deployment, instances []any) ([]any, error) {
	resp, err := c.svc.Projects.Locations.Endpoints.Predict(d.Endpoint, &aiplatform.GoogleCloudAiplatformV1PredictRequest{Instances: instances}).Context(ctx).Do()
	if err != nil {
		return nil, classify("predict", err)
	}
	if resp.DeployedModelId != "" && d.DeployedModelID != "" && resp.DeployedModelId != d.DeployedModelID {
		return nil, errs.Errorf(errs.FailedPrecondition, "vertex: endpoint %s answered from deployed model %s, not %s", d.Endpoint, resp.DeployedModelId, d.DeployedModelID)
	}
	if len(resp.Predictions) != len(instances) {
		return nil, errs.Errorf(errs.Internal, "vertex: %d predictions for %d instances", len(resp.Predictions), len(instances))
	}
	return resp.Predictions, nil
}

// classify codes a googleapi error: 4xx are the request's fault (permanent),
// 429 and 5xx (and transport failures) are retried.
func classify(what string, err error) error {
	code := errs.Unavailable
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		switch s := ge.Code; {
		case s == 429 || s >= 500:
		case s == 404:
			code = errs.NotFound
		case s == 401 || s == 403:
			code = errs.PermissionDenied
		default:
			code = errs.InvalidArgument
		}
	}
	return errs.Wrap(code, fmt.Errorf("vertex: %s: %w", what, err))
}
