package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/topics"
)

// Event is published to job-events on every state change; the notify
// function turns it into the customer's webhook.
type Event struct {
	Type   string `json:"type"` // job.<state>, e.g. job.succeeded
	JobID  string `json:"job_id"`
	Tenant string `json:"tenant"`
	State  State  `json:"state"`
	Error  string `json:"error,omitempty"`
	// ErrorCode classifies Error (see Job.ErrorCode).
	ErrorCode string            `json:"error_code,omitempty"`
	Reasons   []string          `json:"reasons,omitempty"`
	Outputs   map[string]string `json:"outputs,omitempty"`
	At        time.Time         `json:"at"`
}

// EventFor describes j's current state.
func EventFor(j *Job) Event {
	return Event{Type: "job." + string(j.State), JobID: j.ID, Tenant: j.Tenant, State: j.State,
		Error: j.Error, ErrorCode: j.ErrorCode, Reasons: j.Reasons, Outputs: j.Outputs, At: j.UpdatedAt}
}

// PublishEvent publishes j's state to job-events.
func PublishEvent(ctx context.Context, pub events.Publisher, j *Job) error {
	ev := EventFor(j)
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("jobs: encode event: %w", err)
	}
	_, err = pub.Publish(ctx, topics.JobEvents, b, map[string]string{"tenant": j.Tenant, "job": j.ID, "type": ev.Type})
	if err != nil {
		return fmt.Errorf("jobs: publish %s: %w", ev.Type, err)
	}
	// Counted once the change is announced: a redelivered step that
	// announces it again counts again, as the event does.
	metrics.Default().JobState(ctx, string(j.State), j.Request.Model)
	return nil
}
