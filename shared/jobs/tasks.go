package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/topics"
)

// Task is the body of a pipeline message (generate-requests and
// privacy-checks): which job, and for fanned-out sampling which shard.
// Messages carry ids only; the job document is the source of truth.
type Task struct {
	JobID  string `json:"job_id"`
	Tenant string `json:"tenant"`
	// Shard is the shard to sample, or -1 for the job's first step
	// (load, profile, fit, and sampling itself when the job is small).
	Shard int `json:"shard"`
}

// Submit publishes the first pipeline step of a newly created job.
func Submit(ctx context.Context, pub events.Publisher, j *Job) error {
	return Publish(ctx, pub, topics.GenerateRequests, Task{JobID: j.ID, Tenant: j.Tenant, Shard: -1})
}

// Publish sends a task to topic.
func Publish(ctx context.Context, pub events.Publisher, topic string, t Task) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("jobs: encode task: %w", err)
	}
	attrs := map[string]string{"tenant": t.Tenant, "job": t.JobID, "shard": fmt.Sprint(t.Shard)}
	if _, err := pub.Publish(ctx, topic, b, attrs); err != nil {
		return fmt.Errorf("jobs: publish to %s: %w", topic, err)
	}
	return nil
}

// DecodeTask parses a pipeline message body.
func DecodeTask(data []byte) (Task, error) {
	var t Task
	if err := json.Unmarshal(data, &t); err != nil {
		return t, fmt.Errorf("%w: task: %v", ErrInvalid, err)
	}
	if t.JobID == "" || t.Tenant == "" || t.Shard < -1 {
		return t, fmt.Errorf("%w: task needs job_id, tenant and shard ≥ -1", ErrInvalid)
	}
	return t, nil
}
