// Package ingest is the CloudEvent function triggered when a file lands in
// the uploads bucket (google.cloud.storage.object.v1.finalized): the file
// becomes a dataset and a job.
package ingest

import (
	"context"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/platform"
)

// Func is a CloudEvent function.
type Func func(ctx context.Context, e cloudevents.Event) error

// New returns the function. An object uploads/<tenant>/<name> is copied
// into the data bucket as a dataset, and a job with the options of the
// object's metadata (jobspec.Meta*) is created and submitted; see
// pipeline.Ingest.
func New(env *platform.Env) (Func, error) { return NewWithOptions(env, pipeline.Options{}) }

// NewWithOptions is New with the pipeline's options (tests give their own
// plan catalog through opts.Admission).
func NewWithOptions(env *platform.Env, opts pipeline.Options) (Func, error) {
	p, err := pipeline.New(env, opts)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return func(ctx context.Context, e cloudevents.Event) error {
		obj, err := events.DecodeStorageEvent(e)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		ctx = events.EventContext(ctx, e)
		env.Logger.InfoContext(ctx, "upload received", "bucket", obj.Bucket, "object", obj.Name, "size", obj.Size)
		return p.Ingest(ctx, obj)
	}, nil
}
