// Package synthos registers every Cloud Functions entry point with
// functions-framework-go. Cloud Functions' Go buildpack builds only the
// module's root package, so every function ships this same source and is
// selected by its entry point (FUNCTION_TARGET); see functions/registry.
package synthos

import (
	"context"
	"fmt"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	cloudevents "github.com/cloudevents/sdk-go/v2"

	"synthos.dev/synthos/functions/registry"
	"synthos.dev/synthos/shared/platform"
)

// init only registers: registration is the one global the framework needs.
// Clients are built lazily, once per instance, on the first request.
func init() {
	env := platform.Lazy()
	for _, e := range registry.All() {
		switch e.Kind {
		case registry.HTTP:
			functions.HTTP(e.Name, platform.ServeHTTP(env, e.HTTP))
		case registry.Push:
			functions.HTTP(e.Name, platform.ServePush(env, e.Push))
		case registry.CloudEvent:
			functions.CloudEvent(e.Name, cloudEvent(env, e))
		}
	}
}

func cloudEvent(getEnv func(context.Context) (*platform.Env, error), e registry.Entry) func(context.Context, cloudevents.Event) error {
	return func(ctx context.Context, ev cloudevents.Event) error {
		env, err := getEnv(ctx)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		fn, err := e.Event(env)
		if err != nil {
			return fmt.Errorf("%s: %w", e.Name, err)
		}
		return fn(ctx, ev)
	}
}
