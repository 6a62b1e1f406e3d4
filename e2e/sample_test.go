package e2e

import (
	"bytes"
	"encoding/json"
	"testing"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/pipeline"
)

// TestEmbeddedSampledFit runs jobs on a dataset larger than the sample
// budget: a tree job is fitted on a sample (the job and its report say how
// many rows it saw, and the stored training copy is the sample, not the
// dataset), a DP job on every row.
func TestEmbeddedSampledFit(t *testing.T) {
	t.Parallel()
	// 1 MiB holds 1 MiB / (16 × 64 B) = 1024 rows of adult's 15 columns.
	e := startEmbedded(t, embeddedOptions{sampleBudget: 1 << 20})
	const n = 6000
	ds := upload(t, e.env, "acme", "ds-big", "adult.csv", adult(t, n))
	skip := skipGate(t)
	tree := &jobs.Job{ID: "job-sampled", Tenant: "acme", Request: jobs.Request{
		Dataset: ds.ID, Rows: 500, Model: "tree", Seed: 3, Format: "csv", Thresholds: skip}}
	dpJob := &jobs.Job{ID: "job-dp-all", Tenant: "acme", Request: jobs.Request{
		Dataset: ds.ID, Rows: 500, Model: "dp", Epsilon: 1, Seed: 3, Format: "csv", Thresholds: skip}}
	submit(t, e.env, tree)
	submit(t, e.env, dpJob)
	e.drain(t)

	for _, tc := range []struct {
		id      string
		sampled bool
	}{{tree.ID, true}, {dpJob.ID, false}} {
		t.Run(tc.id, func(t *testing.T) {
			got := loadJob(t, e.env, tc.id)
			if got.State != jobs.Succeeded {
				t.Fatalf("job is %s (%s; %v), want succeeded", got.State, got.Error, got.Reasons)
			}
			trainRows := bytes.Count(readObject(t, e.env.Objects, datasets.TrainKey("acme", tc.id)), []byte("\n")) - 1
			holdRows := bytes.Count(readObject(t, e.env.Objects, datasets.HoldoutKey("acme", tc.id)), []byte("\n")) - 1
			if got.RowsTotal != n || got.RowsSeen != int64(trainRows) {
				t.Fatalf("job says %d of %d rows seen; the training copy has %d, the dataset %d", got.RowsSeen, got.RowsTotal, trainRows, n)
			}
			var rep struct {
				Inputs struct {
					Sampling *struct {
						RowsSeen  int64 `json:"rows_seen"`
						RowsTotal int64 `json:"rows_total"`
					} `json:"sampling"`
				} `json:"inputs"`
			}
			if err := json.Unmarshal(readObject(t, e.env.Objects, got.Outputs[pipeline.OutputReportJSON]), &rep); err != nil {
				t.Fatal(err)
			}
			s := rep.Inputs.Sampling
			if !tc.sampled {
				if trainRows+holdRows != n || s != nil {
					t.Fatalf("train %d + holdout %d rows, report sampling %+v; want every one of %d rows and no sampling", trainRows, holdRows, s, n)
				}
				return
			}
			if trainRows < 1024 || trainRows+holdRows >= n {
				t.Fatalf("train %d + holdout %d rows; want a sample of at least 1024 and fewer than %d in all", trainRows, holdRows, n)
			}
			if s == nil || s.RowsSeen != got.RowsSeen || s.RowsTotal != n {
				t.Fatalf("report sampling %+v, want %d of %d", s, got.RowsSeen, n)
			}
		})
	}
}
