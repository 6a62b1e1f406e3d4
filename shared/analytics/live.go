package analytics

import (
	"context"
	"errors"
	"fmt"
	"time"

	"synthos.dev/synthos/shared/jobs"
)

// LiveJob is one of a tenant's running jobs.
type LiveJob struct {
	ID         string    `json:"id"`
	Dataset    string    `json:"dataset"`
	Model      string    `json:"model"`
	State      string    `json:"state"`
	Rows       int64     `json:"rows"`
	Shards     int       `json:"shards"`
	ShardsDone int       `json:"shards_done"`
	Created    time.Time `json:"created_at"`
	Seconds    float64   `json:"running_seconds"`
}

// Live is one snapshot of the real-time view.
type Live struct {
	At      time.Time `json:"at"`
	Running []LiveJob `json:"running"`
	// Today's figures so far (UTC) and the rates they imply over the day's
	// elapsed hours.
	Today struct {
		Jobs        int64   `json:"jobs"`
		Failed      int64   `json:"failed"`
		Rows        int64   `json:"rows"`
		JobsPerHour float64 `json:"jobs_per_hour"`
		RowsPerHour float64 `json:"rows_per_hour"`
	} `json:"today"`
}

// RunningLister lists a tenant's admitted, unsettled jobs
// (admission.Admitter.RunningJobs).
type RunningLister func(ctx context.Context, tenant string) ([]string, error)

// Snapshot reads the tenant's running jobs and today's aggregates.
func (s *Store) Snapshot(ctx context.Context, js *jobs.Store, running RunningLister, tenant string, now time.Time) (*Live, error) {
	now = now.UTC()
	ids, err := running(ctx, tenant)
	if err != nil {
		return nil, err
	}
	live := &Live{At: now, Running: []LiveJob{}}
	for _, id := range ids {
		j, err := js.Get(ctx, tenant, id)
		if errors.Is(err, jobs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("analytics: live job %s: %w", id, err)
		}
		if j.State.Terminal() {
			continue // finished, not settled yet
		}
		live.Running = append(live.Running, LiveJob{ID: j.ID, Dataset: j.Request.Dataset, Model: j.Request.Model,
			State: string(j.State), Rows: j.Request.Rows, Shards: j.Shards, ShardsDone: len(j.ShardDone),
			Created: j.CreatedAt, Seconds: now.Sub(j.CreatedAt).Round(time.Millisecond).Seconds()})
	}
	days, err := s.Days(ctx, Query{Tenant: tenant, From: now, To: now})
	if err != nil {
		return nil, err
	}
	for _, d := range days {
		live.Today.Jobs += d.Jobs
		live.Today.Failed += d.Failed
		live.Today.Rows += d.Rows
	}
	if hours := now.Sub(truncDay(now)).Hours(); hours > 0 {
		live.Today.JobsPerHour = round(float64(live.Today.Jobs)/hours, 3)
		live.Today.RowsPerHour = round(float64(live.Today.Rows)/hours, 1)
	}
	return live, nil
}
