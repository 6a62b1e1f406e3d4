// Package privacy is the Pub/Sub push consumer of privacy-checks: quality and privacy-risk evaluation and the release gate.
package privacy

import (
	"fmt"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/platform"
)

// New returns the consumer: it evaluates a sampled job, stores the JSON and
// HTML reports, and releases the output (job succeeded) or quarantines it
// (job failed with the gate's reasons). See package pipeline.
func New(env *platform.Env) (events.Handler, error) {
	p, err := pipeline.New(env, pipeline.Options{})
	if err != nil {
		return nil, fmt.Errorf("privacy: %w", err)
	}
	return p.Evaluate, nil
}
