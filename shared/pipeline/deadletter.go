package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/platform"
)

// DeadLetter handles a generate-requests or privacy-checks message that
// exhausted its delivery attempts: the job it names, if any, is marked
// failed (and announced), so a poison message never leaves a job running
// forever. The embedded bus calls it from its dead-letter hook; in
// production a consumer of the dead-letter topics does.
//
// Only bodies that are exactly a pipeline task are acted on (job events and
// other bodies also carry a job id, and must not fail a job); anything else,
// and a task naming no job of its tenant, is logged and acknowledged. The
// error is non-nil only when the failure, or the settlement of the job's
// privacy budget or monthly quota, could not be recorded.
func DeadLetter(ctx context.Context, env *platform.Env, m *events.Message) error {
	var t struct {
		JobID  string `json:"job_id"`
		Tenant string `json:"tenant"`
		Shard  *int   `json:"shard"`
	}
	dec := json.NewDecoder(bytes.NewReader(m.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil || t.JobID == "" || t.Tenant == "" || t.Shard == nil {
		env.Logger.WarnContext(ctx, "dead letter is not a pipeline task; kept in the dead-letter record only", "message_id", m.ID)
		return nil
	}
	adm, err := NewAdmitter(env)
	if err != nil {
		return fmt.Errorf("pipeline.DeadLetter: %w", err)
	}
	p := &Pipeline{env: env, jobs: jobs.New(env.State), adm: adm}
	leaseDefaults(env, &p.opts)
	j, err := p.jobs.Load(ctx, t.JobID)
	if errors.Is(err, jobs.ErrNotFound) || err == nil && j.Tenant != t.Tenant {
		env.Logger.WarnContext(ctx, "dead letter names no job", "message_id", m.ID, "job", t.JobID, "tenant", t.Tenant)
		return nil
	}
	if err != nil {
		return fmt.Errorf("pipeline.DeadLetter: %w", err)
	}
	attempts := m.DeliveryAttempt
	if n, err := strconv.Atoi(m.Attributes[events.AttrDeadLetterDeliveryCount]); err == nil {
		attempts = n
	}
	step := "the first step"
	if *t.Shard >= 0 {
		step = fmt.Sprintf("shard %d", *t.Shard)
	}
	reason := fmt.Sprintf("%s failed %d times and was given up", step, attempts)
	if j.LastError != "" {
		reason += ": " + j.LastError
	}
	if err := p.fail(ctx, "dead-letter", "dead-letter:"+m.ID, j, errs.Unavailable, reason, nil, nil); err != nil {
		return fmt.Errorf("pipeline.DeadLetter: %w", err)
	}
	// The job is finished now: settle its reservations (the privacy budget
	// refunded, or charged if its model was fitted; the rows released).
	return wrapDL(p.settleJob(ctx, j.ID))
}

// wrapDL names DeadLetter in a non-nil err.
func wrapDL(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("pipeline.DeadLetter: %w", err)
}
