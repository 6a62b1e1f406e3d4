// Package ingest is the CloudEvent function triggered when a file lands in
// the uploads bucket (google.cloud.storage.object.v1.finalized): the file
// becomes a dataset and a job.
package ingest

import (
	"context"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
)

// Func is a CloudEvent function.
type Func func(ctx context.Context, e cloudevents.Event) error

// New returns the function. It decodes and validates the event today; turning
// the upload into a job arrives with the pipeline, and until then the event
// is refused with an error that says so.
func New(env *platform.Env) (Func, error) {
	return func(ctx context.Context, e cloudevents.Event) error {
		obj, err := events.DecodeStorageEvent(e)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		env.Logger.InfoContext(ctx, "upload received", "bucket", obj.Bucket, "object", obj.Name, "size", obj.Size)
		return platform.NotAvailable("upload ingestion", "the pipeline issue turns gs://"+obj.Bucket+"/"+obj.Name+" into a dataset and a job")
	}, nil
}
