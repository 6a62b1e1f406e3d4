package analytics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
)

// reportOutput is the name of the evaluation report in Job.Outputs
// (shared/pipeline.OutputReportJSON).
const reportOutput = "report_json"

// Consumer folds job-events into the aggregates.
type Consumer struct {
	store   *Store
	jobs    *jobs.Store
	objects *blob.Bucket
	prices  Prices
}

// NewConsumer returns the consumer; objects holds the evaluation reports
// (nil: scores are not read). Compute costs are priced at DefaultPrices
// until WithPrices.
func NewConsumer(s *Store, js *jobs.Store, objects *blob.Bucket) *Consumer {
	return &Consumer{store: s, jobs: js, objects: objects, prices: DefaultPrices}
}

// WithPrices sets the prices compute costs are estimated with.
func (c *Consumer) WithPrices(p Prices) (*Consumer, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	c.prices = p
	return c, nil
}

// Handle is the events.Handler of job-events: terminal events are
// recorded once per job; other events and jobs that no longer exist are
// acknowledged without effect.
func (c *Consumer) Handle(ctx context.Context, m *events.Message) error {
	var ev jobs.Event
	if err := json.Unmarshal(m.Data, &ev); err != nil {
		// A malformed event can never succeed: acknowledge it.
		return nil
	}
	if !ev.State.Terminal() || ev.JobID == "" {
		return nil
	}
	j, err := c.jobs.Load(ctx, ev.JobID)
	if errors.Is(err, jobs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("analytics: load job %s: %w", ev.JobID, err)
	}
	f, err := c.fact(ctx, j)
	if err != nil {
		return err
	}
	_, err = c.store.Record(ctx, f)
	return err
}

// fact describes a finished job.
func (c *Consumer) fact(ctx context.Context, j *jobs.Job) (Fact, error) {
	f := Fact{JobID: j.ID, Tenant: j.Tenant, Dataset: j.Request.Dataset, Model: j.Request.Model,
		State: string(j.State), At: j.UpdatedAt, FailureCode: j.ErrorCode}
	if !j.CreatedAt.IsZero() && j.UpdatedAt.After(j.CreatedAt) {
		f.Seconds = j.UpdatedAt.Sub(j.CreatedAt).Seconds()
	}
	f.ComputeCost, f.AICost = c.prices.Compute(f.Seconds), AICost(j)
	if j.State == jobs.Succeeded {
		f.Rows = j.Request.Rows
	}
	if j.DPCharged {
		f.Epsilon = j.Request.Epsilon
	}
	key := j.Outputs[reportOutput]
	if c.objects == nil || key == "" {
		return f, nil
	}
	b, err := c.objects.ReadAll(ctx, key)
	if gcerrors.Code(err) == gcerrors.NotFound {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("analytics: read report of %s: %w", j.ID, err)
	}
	f.Quality, f.Privacy = Scores(b)
	return f, nil
}

// Scores reads the quality and privacy scores of an evaluation report
// (shared/report's JSON): quality is the overall quality score; privacy is
// PrivacyScore of its distance-to-closest-record share.
func Scores(reportJSON []byte) (quality, privacy *float64) {
	var r struct {
		Quality *struct {
			Overall float64 `json:"overall"`
		} `json:"quality"`
		Privacy *struct {
			DCR struct {
				Queries            int     `json:"queries"`
				CloserToTrainShare float64 `json:"closer_to_train_share"`
			} `json:"dcr"`
		} `json:"privacy"`
	}
	if json.Unmarshal(reportJSON, &r) != nil {
		return nil, nil
	}
	if r.Quality != nil {
		q := r.Quality.Overall
		quality = &q
	}
	if r.Privacy != nil && r.Privacy.DCR.Queries > 0 {
		p := PrivacyScore(r.Privacy.DCR.CloserToTrainShare)
		privacy = &p
	}
	return quality, privacy
}

// PrivacyScore maps the share of synthetic rows closer to the training
// data than to the holdout (0.5 ideal, 1 every row on a training record)
// onto 0..1: 1 up to the ideal, falling linearly to 0 at a share of 1.
func PrivacyScore(closerToTrain float64) float64 {
	switch {
	case closerToTrain <= 0.5:
		return 1
	case closerToTrain >= 1:
		return 0
	}
	return 2 * (1 - closerToTrain)
}
