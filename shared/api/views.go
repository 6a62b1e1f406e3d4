package api

import (
	"encoding/json"
	"synthos.dev/synthos/shared/destinations"
	"time"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
)

// Job is a job as the API shows it: no internal bookkeeping (applied
// message ids, object keys, tenant).
type Job struct {
	ID              string     `json:"id"`
	State           jobs.State `json:"state"`
	Request         JobRequest `json:"request"`
	Error           string     `json:"error,omitempty"`
	ErrorCode       string     `json:"error_code,omitempty"`
	Reasons         []string   `json:"reasons,omitempty"`
	CancelRequested bool       `json:"cancel_requested"`
	// DPRho is a dp job's privacy budget reserved on its dataset (rho-zCDP).
	DPRho float64 `json:"dp_rho,omitempty"`
	// RowsSeen of RowsTotal dataset rows are what the model was fitted on
	// (fewer when a large dataset was sampled), once the job read them.
	RowsSeen  int64 `json:"rows_seen,omitempty"`
	RowsTotal int64 `json:"rows_total,omitempty"`
	// Route is where the outputs are delivered (storage destinations; empty
	// ids are the platform bucket) and Locations where each one was
	// written, with failover when the secondary took it.
	Route     *destinations.Route              `json:"route,omitempty"`
	Residency string                           `json:"residency,omitempty"`
	Locations map[string]destinations.Location `json:"locations,omitempty"`
	CreatedAt time.Time                        `json:"created_at"`
	UpdatedAt time.Time                        `json:"updated_at"`
	Links     map[string]string                `json:"links"`

	// Kind is synthetic or anonymize; Anonymization is what an anonymize
	// job did (operators, key version, suppressed rows, information loss).
	Kind          string            `json:"kind"`
	Anonymization *anonymize.Result `json:"anonymization,omitempty"`
	// AI is the job's model use: priced before it ran, used while it ran.
	AI *jobs.AIUsage `json:"ai,omitempty"`
}

// JobRequest is the request a job was created with, seed as decided.
type JobRequest struct {
	Dataset    string            `json:"dataset"`
	Rows       int64             `json:"rows"`
	Model      string            `json:"model"`
	Seed       uint64            `json:"seed"`
	Format     string            `json:"format"`
	Rules      json.RawMessage   `json:"rules,omitempty"`
	Conditions map[string]string `json:"conditions,omitempty"`
	Epsilon    float64           `json:"epsilon,omitempty"`
	Delta      float64           `json:"delta,omitempty"`
	Target     string            `json:"target,omitempty"`
	Thresholds json.RawMessage   `json:"thresholds,omitempty"`

	Destination          string `json:"destination,omitempty"`
	SecondaryDestination string `json:"secondary_destination,omitempty"`

	Policy *anonymize.Policy `json:"policy,omitempty"`
	// A design job's spec (jobs.Request.Design…), and the AI options.
	Design          string              `json:"design_id,omitempty"`
	DesignVersion   int64               `json:"design_version,omitempty"`
	DesignRows      int64               `json:"design_rows,omitempty"`
	Narrative       bool                `json:"narrative,omitempty"`
	Labels          bool                `json:"labels,omitempty"`
	ModelID         string              `json:"model_id,omitempty"`
	ModelVersion    int                 `json:"model_version,omitempty"`
	ModelCategories map[string][]string `json:"model_categories,omitempty"`
}

// JobView returns the API view of j.
func JobView(j *jobs.Job) Job {
	r := j.Request
	base := "/v1/jobs/" + j.ID
	var route *destinations.Route
	if j.Route != (destinations.Route{}) {
		route = &j.Route
	}
	v := Job{Route: route,
		ID: j.ID, State: j.State, Error: j.Error, ErrorCode: j.ErrorCode, Reasons: j.Reasons, CancelRequested: j.Cancel, DPRho: j.DPRho,
		RowsSeen: j.RowsSeen, RowsTotal: j.RowsTotal,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
		Request: JobRequest{Dataset: r.Dataset, Rows: r.Rows, Model: r.Model, Seed: r.Seed, Format: r.Format,
			Rules: r.Rules, Conditions: r.Conditions, Epsilon: r.Epsilon, Delta: r.Delta, Target: r.Target, Thresholds: r.Thresholds,
			Destination: r.Destination, SecondaryDestination: r.SecondaryDestination,
			Design: r.Design, DesignVersion: r.DesignVersion, DesignRows: r.DesignRows, Narrative: r.Narrative, Labels: r.Labels,
			ModelID: r.ModelID, ModelVersion: r.ModelVersion, ModelCategories: r.ModelCategories},
		AI:        j.AI,
		Residency: j.Residency, Locations: j.Locations,
		Links: jobLinks(j, base),
		Kind:  jobs.KindSynthetic, Anonymization: j.Anonymization,
	}
	if r.Anonymizing() {
		v.Kind, v.Request.Policy = r.Kind, r.Policy
	}
	return v
}

// jobLinks are the job's related resources; a job with a pinned model
// links its model-test report.
func jobLinks(j *jobs.Job, base string) map[string]string {
	l := map[string]string{"self": base, "report": base + "/report", "output": base + "/output", "cancel": base + "/cancel",
		"compliance": base + "/compliance"}
	if j.Request.ModelID != "" {
		l["model_test"] = base + "/model-test"
		l["model"] = "/v1/models/" + j.Request.ModelID
	}
	return l
}

// Dataset is a dataset as the API shows it.
type Dataset struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Format string `json:"format"`
	Size   int64  `json:"size"`
	// Status is pending (bytes being uploaded), validating, ready or
	// invalid (Problem says why).
	Status string `json:"status"`
	// Rows and Columns are set once the dataset is ready.
	Rows    int64             `json:"rows,omitempty"`
	Columns []datasets.Column `json:"columns,omitempty"`
	Problem *datasets.Problem `json:"problem,omitempty"`
	// Received is how many bytes of a pending upload the API has stored.
	Received  int64     `json:"received,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// DatasetView returns the API view of d.
func DatasetView(d *datasets.Dataset) Dataset {
	v := Dataset{ID: d.ID, Name: d.Name, Format: d.Format, Size: d.Size, Status: d.Status, Rows: d.Rows,
		Columns: d.Columns, Problem: d.Problem, CreatedAt: d.CreatedAt}
	if d.Status == datasets.Pending {
		v.Received = d.Received
	}
	return v
}

// Key is an API key's record as the API shows it: never the hash.
type Key struct {
	ID        string          `json:"id"`
	Name      string          `json:"name,omitempty"`
	Scopes    []apikeys.Scope `json:"scopes"`
	Live      bool            `json:"live"`
	Display   string          `json:"display"`
	CreatedAt time.Time       `json:"created_at"`
	RevokedAt *time.Time      `json:"revoked_at,omitempty"`
}

// KeyView returns the API view of r.
func KeyView(r *apikeys.Record) Key {
	return Key{ID: r.ID, Name: r.Name, Scopes: r.Scopes, Live: r.Live, Display: r.Display, CreatedAt: r.CreatedAt, RevokedAt: r.RevokedAt}
}
