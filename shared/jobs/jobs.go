// Package jobs is the job state machine shared by the API and the pipeline
// functions. A job moves
//
//	queued → profiling → fitting → sampling → evaluating → succeeded
//	   ↘ failed | cancelled (from any non-terminal state)
//
// and every transition is one state-store transaction that also records the
// message that caused it, so Pub/Sub's duplicate and out-of-order deliveries
// are harmless: a transition that already happened, or that would move the
// job backwards, is acknowledged and changes nothing.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"synthos.dev/synthos/shared/destinations"
	"time"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// State is where a job is in its life.
type State string

const (
	Queued     State = "queued"
	Profiling  State = "profiling"
	Fitting    State = "fitting"
	Sampling   State = "sampling"
	Evaluating State = "evaluating"
	Succeeded  State = "succeeded"
	Failed     State = "failed"
	Cancelled  State = "cancelled"
)

// order ranks the forward states; terminal states rank last.
var order = map[State]int{Queued: 0, Profiling: 1, Fitting: 2, Sampling: 3, Evaluating: 4, Succeeded: 5, Failed: 5, Cancelled: 5}

// Terminal reports whether s is final.
func (s State) Terminal() bool { return s == Succeeded || s == Failed || s == Cancelled }

// Valid reports whether s is a known state.
func (s State) Valid() bool { _, ok := order[s]; return ok }

// Errors callers act on.
var (
	ErrNotFound   = errs.New(errs.NotFound, "jobs: no such job")                    // 404
	ErrTransition = errors.New("jobs: transition not allowed")                      // stale or backwards: ack and drop
	ErrTerminal   = errs.New(errs.FailedPrecondition, "jobs: job already finished") // e.g. cancel after success: 409
	ErrInvalid    = errs.New(errs.InvalidArgument, "jobs: invalid request")         // 400
)

// Collection holds one document per job; ids are globally unique and every
// query filters on tenant as well.
const Collection = "jobs"

// Request is what the client asked for.
type Request struct {
	Dataset    string            `json:"dataset"`
	Rows       int64             `json:"rows"`
	Model      string            `json:"model"` // tree, copula, dp
	Seed       uint64            `json:"seed"`
	Format     string            `json:"format"` // csv, jsonl, parquet
	Rules      json.RawMessage   `json:"rules,omitempty"`
	Conditions map[string]string `json:"conditions,omitempty"`
	Epsilon    float64           `json:"epsilon,omitempty"`
	Delta      float64           `json:"delta,omitempty"`
	Target     string            `json:"target,omitempty"`
	Thresholds json.RawMessage   `json:"thresholds,omitempty"`
	// Destination and SecondaryDestination are the tenant's storage
	// destinations (ids) the outputs are delivered to, overriding the
	// dataset's and the tenant's storage policy.
	Destination          string `json:"destination,omitempty"`
	SecondaryDestination string `json:"secondary_destination,omitempty"`
	// Kind is what the job makes: synthetic rows ("", KindSynthetic) or
	// the dataset's real rows de-identified by Policy (KindAnonymize),
	// evaluated and reported on like synthetic ones.
	Kind   string            `json:"kind,omitempty"`
	Policy *anonymize.Policy `json:"policy,omitempty"`
	// Design names a saved spec (shared/design) the job samples instead of
	// fitting a dataset: Dataset is then empty, DesignVersion is the
	// version resolved at admission, DesignRows the main table's rows the
	// client asked for (0: the spec's own), and Rows the rows of every
	// table together, which is what the job reserves of the quota.
	Design        string `json:"design_id,omitempty"`
	DesignVersion int64  `json:"design_version,omitempty"`
	DesignRows    int64  `json:"design_rows,omitempty"`
	// Narrative asks for a short reading of the evaluation report, written
	// through the AI router and grounded in the report's numbers.
	Narrative bool `json:"narrative,omitempty"`
	// Labels asks the profiling step to label ambiguous columns through
	// the AI router (shared/semantic: names, kinds and masked samples only).
	Labels bool `json:"labels,omitempty"`
	// ModelID pins one of the tenant's custom models (shared/models) to
	// the job: every output is scored with it (shared/modeleval) and the
	// model-test report is stored with the job. ModelVersion, when set,
	// picks that version of ModelID's model name; admission resolves it
	// and stores the exact version's id in ModelID. ModelCategories lists,
	// per categorical feature (and a class target), the categories in the
	// model's code order.
	ModelID         string              `json:"model_id,omitempty"`
	ModelVersion    int                 `json:"model_version,omitempty"`
	ModelCategories map[string][]string `json:"model_categories,omitempty"`
}

// Job kinds (Request.Kind).
const (
	KindSynthetic = "synthetic"
	KindAnonymize = "anonymize"
)

// Anonymizing reports whether the request is an anonymize job.
func (r Request) Anonymizing() bool { return r.Kind == KindAnonymize }

// Output names in Job.Outputs and Job.Locations.
const (
	OutputData       = "data"
	OutputReportJSON = "report_json"
	OutputReportHTML = "report_html"
	OutputModel      = "model"
	OutputQuarantine = "quarantine"
	// The compliance report (package compliance), built with the
	// evaluation.
	OutputComplianceJSON = "compliance_json"
	OutputComplianceHTML = "compliance_html"
	// OutputLabels is the column labels of a job run with Labels (JSON).
	OutputLabels = "labels"
	// The test of the custom model pinned to the job (Request.ModelID).
	OutputModelTestJSON = "model_test_json"
	OutputModelTestHTML = "model_test_html"
)

// OutputTable names the output of table t of a design job other than its
// main table (which is OutputData).
func OutputTable(t string) string { return "data:" + t }

// Job is the stored document.
type Job struct {
	ID        string            `json:"id"`
	Tenant    string            `json:"tenant"`
	State     State             `json:"state"`
	Request   Request           `json:"request"`
	Shards    int               `json:"shards"`
	ShardDone []int             `json:"shard_done,omitempty"`
	Outputs   map[string]string `json:"outputs,omitempty"` // name → object key
	// Route is where the outputs are delivered, decided at admission;
	// Locations is where each output was written when that is not the
	// platform bucket (after a failover, the secondary).
	Route     destinations.Route               `json:"route,omitzero"`
	Residency string                           `json:"residency,omitempty"`
	Locations map[string]destinations.Location `json:"locations,omitempty"`
	Error     string                           `json:"error,omitempty"`
	// ErrorCode classifies Error (an errs.Code name: invalid_argument,
	// resource_exhausted, unavailable, deadline_exceeded, internal...), so
	// clients act on the code, not the message.
	ErrorCode string   `json:"error_code,omitempty"`
	Reasons   []string `json:"reasons,omitempty"`
	Cancel    bool     `json:"cancel_requested,omitempty"`
	// DPReservation is the privacy budget ledger's reservation of a dp job
	// (shared/dp/ledger), made before the model is fitted; DPRho is the
	// rho-zCDP it holds, which the fit spends.
	DPReservation string  `json:"dp_reservation,omitempty"`
	DPRho         float64 `json:"dp_rho,omitempty"`
	// QuotaReservation is the rows of the tenant's monthly quota held for
	// the job (shared/billing/entitlements), made by the API before the job
	// is stored. The pipeline commits the rows produced when the job
	// succeeds and releases it when the job fails or is cancelled. Its
	// JobID is the reservation's key in the usage document: the job id, or
	// the job id with a suffix when an earlier attempt of the same request
	// released the job id's own reservation. Nil for jobs not metered
	// (created from an upload's metadata, or without entitlements).
	QuotaReservation *entitlements.Reservation `json:"quota_reservation,omitempty"`
	// Settled is set, in the same transaction, once the job's
	// reservations are settled (shared/admission.Settle): the quota
	// committed or released, the privacy budget charged (DPCharged) or
	// refunded, its slot among the tenant's running jobs freed.
	Settled   bool `json:"settled"`
	DPCharged bool `json:"dp_charged,omitempty"`
	// LeaseExpires is when the job stops being presumed alive: every step
	// extends it while it runs (a heartbeat), and the reaper resumes a job
	// found past it (Attempts counts resumptions) or fails it after too
	// many. LeaseOwner names the last step that held it, for the logs.
	LeaseExpires time.Time `json:"lease_expires,omitzero"`
	LeaseOwner   string    `json:"lease_owner,omitempty"`
	Attempts     int       `json:"attempts,omitempty"`
	// LastError is the latest error a step was retried for (the user's
	// view of it), so that a job whose retries run out says why.
	LastError string `json:"last_error,omitempty"`
	// AI is what the job spent on model calls (text columns, labels, the
	// narrative): the estimate made before it ran and what it used.
	AI *AIUsage `json:"ai,omitempty"`
	// AIReservation is the key of the tenant's month of AI use holding
	// AI.EstimateMicros for the job (shared/llm.ReserveTx), made at
	// admission and released when the job is settled.
	AIReservation string `json:"ai_reservation,omitempty"`
	// ShardWindow is how many shards of a fanned-out job sample at once:
	// shards 0..ShardWindow-1 are published first, and shard i, once done,
	// publishes shard i+ShardWindow.
	ShardWindow int       `json:"shard_window,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Created is CreatedAt in Unix nanoseconds, for ordering queries:
	// numbers order the same way in every driver.
	Created int64 `json:"created"`
	// Applied lists the ids of the messages whose effects are in this
	// document (bounded), so redeliveries are recognised.
	Applied []string `json:"applied,omitempty"`

	// Anonymization is what an anonymize job did: the operator per column,
	// the key version, k-anonymity's classes, suppressed rows and
	// information loss. Set when its rows are written.
	Anonymization *anonymize.Result `json:"anonymization,omitempty"`

	// RowsSeen of RowsTotal dataset rows are what the model was fitted on
	// (fewer when the dataset was larger than the sample budget, package
	// sample); set once the dataset is read.
	RowsSeen  int64 `json:"rows_seen,omitempty"`
	RowsTotal int64 `json:"rows_total,omitempty"`
}

const maxApplied = 64

// Store is the jobs view of a state store.
type Store struct {
	st  state.Store
	now func() time.Time
}

// New returns a Store over st.
func New(st state.Store) *Store { return &Store{st: st, now: time.Now} }

// Create stores a new queued job.
func (s *Store) Create(ctx context.Context, j *Job) error {
	if j.ID == "" || j.Tenant == "" {
		return fmt.Errorf("%w: job needs an id and a tenant", ErrInvalid)
	}
	now := s.now().UTC()
	j.State, j.CreatedAt, j.UpdatedAt, j.Created = Queued, now, now, now.UnixNano()
	if j.Shards < 1 {
		j.Shards = 1
	}
	if err := s.st.Create(ctx, Collection, j.ID, j); err != nil {
		return fmt.Errorf("jobs: create %s: %w", j.ID, err)
	}
	return nil
}

// Get returns the tenant's job; another tenant's job is ErrNotFound.
func (s *Store) Get(ctx context.Context, tenant, id string) (*Job, error) {
	var j Job
	if err := s.st.Get(ctx, Collection, id, &j); err != nil {
		if errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrInvalid) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	if j.Tenant != tenant {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return &j, nil
}

// Load returns a job by id regardless of tenant, for the pipeline whose
// messages carry both (and check both).
func (s *Store) Load(ctx context.Context, id string) (*Job, error) {
	var j Job
	if err := s.st.Get(ctx, Collection, id, &j); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		return nil, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	return &j, nil
}

// Page is one page of a listing.
type Page struct {
	Jobs []Job
	Next string // cursor for the next page, "" at the end
}

// List returns the tenant's jobs, newest first, limit per page, after the
// cursor (the Created value of the last job of the previous page, opaque to
// clients).
func (s *Store) List(ctx context.Context, tenant string, limit int, cursor string) (Page, error) {
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	var after int64 = -1
	if cursor != "" {
		if _, err := fmt.Sscanf(cursor, "%d", &after); err != nil {
			return Page{}, fmt.Errorf("%w: bad cursor", ErrInvalid)
		}
	}
	// The state Query has equality filters only, so pages are cut here by
	// reading limit+skip; tenants' job counts are small enough, and the
	// production index is (tenant, created desc).
	docs, err := s.st.Query(ctx, Collection, state.Query{
		Where: []state.Eq{{Field: "tenant", Value: tenant}}, OrderBy: "created", Desc: true,
	})
	if err != nil {
		return Page{}, fmt.Errorf("jobs: list: %w", err)
	}
	var p Page
	for _, d := range docs {
		var j Job
		if err := d.DataTo(&j); err != nil {
			return Page{}, err
		}
		if after >= 0 && j.Created >= after {
			continue
		}
		if len(p.Jobs) == limit {
			p.Next = fmt.Sprint(p.Jobs[len(p.Jobs)-1].Created)
			break
		}
		p.Jobs = append(p.Jobs, j)
	}
	return p, nil
}

// Update applies fn to the job inside a transaction, on behalf of message
// msgID (may be empty for client actions). If msgID was already applied the
// update is skipped and (job, false, nil) is returned. fn may return
// ErrTransition to refuse the change (the caller acks the message).
func (s *Store) Update(ctx context.Context, id, msgID string, fn func(j *Job) error) (*Job, bool, error) {
	var out *Job
	changed := false
	err := s.st.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		changed = false
		var j Job
		if err := tx.Get(Collection, id, &j); err != nil {
			if errors.Is(err, state.ErrNotFound) {
				return fmt.Errorf("%w: %s", ErrNotFound, id)
			}
			return err
		}
		out = &j
		if msgID != "" && slices.Contains(j.Applied, msgID) {
			return nil
		}
		if err := fn(&j); err != nil {
			return err
		}
		if msgID != "" {
			j.Applied = append(j.Applied, msgID)
			if len(j.Applied) > maxApplied {
				j.Applied = j.Applied[len(j.Applied)-maxApplied:]
			}
		}
		j.UpdatedAt = s.now().UTC()
		changed = true
		return tx.Set(Collection, id, &j)
	})
	if err != nil {
		return out, false, err
	}
	return out, changed, nil
}

// DeleteQueued removes the tenant's job if it is still queued, in one
// transaction, and reports whether it did. A job that any pipeline step has
// touched is past queued (the first step moves it to profiling before it
// reads anything), so deleting a queued job withdraws it before it ran;
// a later delivery of its message finds no job.
func (s *Store) DeleteQueued(ctx context.Context, tenant, id string) (bool, error) {
	deleted := false
	err := s.st.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		deleted = false
		var j Job
		if err := tx.Get(Collection, id, &j); err != nil {
			if errors.Is(err, state.ErrNotFound) {
				return fmt.Errorf("%w: %s", ErrNotFound, id)
			}
			return err
		}
		if j.Tenant != tenant {
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		}
		if j.State != Queued {
			return nil
		}
		deleted = true
		return tx.Delete(Collection, id)
	})
	if err != nil {
		return false, fmt.Errorf("jobs: withdraw %s: %w", id, err)
	}
	return deleted, nil
}

// Advance moves the job to state to, if that is forward from where it is.
// Moving to the state it is already in, or backwards, is ErrTransition.
func Advance(j *Job, to State) error {
	if !to.Valid() {
		return fmt.Errorf("%w: unknown state %q", ErrInvalid, to)
	}
	if j.State.Terminal() {
		return fmt.Errorf("%w: %s is %s", ErrTransition, j.ID, j.State)
	}
	if order[to] <= order[j.State] {
		return fmt.Errorf("%w: %s is %s, not moving to %s", ErrTransition, j.ID, j.State, to)
	}
	j.State = to
	return nil
}

// Fail marks the job failed with a reason and its code, unless it already
// finished.
func Fail(j *Job, code errs.Code, reason string, reasons ...string) error {
	if j.State.Terminal() {
		return fmt.Errorf("%w: %s is %s", ErrTransition, j.ID, j.State)
	}
	j.State, j.ErrorCode, j.Error, j.Reasons = Failed, code.String(), reason, reasons
	return nil
}

// RequestCancel records a client's cancel: queued jobs are cancelled at once,
// running ones at their next step (the pipeline checks Cancel between
// shards). Cancelling a finished job is ErrTerminal.
func RequestCancel(j *Job) error {
	if j.State.Terminal() {
		return fmt.Errorf("%w: %s is %s", ErrTerminal, j.ID, j.State)
	}
	j.Cancel = true
	if j.State == Queued {
		j.State = Cancelled
	}
	return nil
}

// AIUsage is a job's model use, in US dollars × 10⁶ and tokens.
type AIUsage struct {
	// EstimateMicros is the most the job's text columns may cost, priced
	// before it ran (admission refuses a job whose estimate would take the
	// tenant past its monthly AI budget).
	EstimateMicros int64 `json:"estimate_micros"`
	CostMicros     int64 `json:"cost_micros"`
	Calls          int64 `json:"calls"`
	CacheHits      int64 `json:"cache_hits"`
	InputTokens    int64 `json:"input_tokens"`
	OutputTokens   int64 `json:"output_tokens"`
}
