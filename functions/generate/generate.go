// Package generate is the Pub/Sub push consumer of generate-requests: load, profile, fit and sample a job's table and write its outputs.
package generate

import (
	"fmt"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/platform"
)

// New returns the consumer: a job's first step (Task.Shard -1: holdout
// split, profile, fit, and the sample itself or its fan-out into shards) or
// one shard of a large job. See package pipeline for retries and failures.
func New(env *platform.Env) (events.Handler, error) {
	p, err := pipeline.New(env, pipeline.Options{})
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	return p.Generate, nil
}
