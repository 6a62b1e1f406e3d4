// Package pipeline is the logic behind the generate, privacy and ingest
// functions: a job's first step loads its dataset, splits off
// a holdout, profiles, fits and samples (directly, or fanned out one message
// per shard and composed), and the evaluation step builds the report and
// applies the release gate.
//
// Every step is idempotent under Pub/Sub's at-least-once, out-of-order
// delivery: state changes go through jobs.Store.Update (one transaction that
// also records the message id), objects are written atomically and are
// deterministic functions of the job (the model is written once, with an
// if-not-exists precondition, and every later delivery samples from that
// copy), and a step that finds its work already done acknowledges.
//
// Errors are classified. A failure no retry can fix (a malformed dataset,
// impossible rules, an unknown model, a corrupt artifact) wraps ErrPermanent:
// the handler marks the job failed with the reason and acknowledges. Anything
// else is returned, so Pub/Sub retries and, after the subscription's maximum
// delivery attempts, dead-letters the message; DeadLetter then marks the job
// failed.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"time"

	"cloud.google.com/go/storage"
	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/admission"
	"synthos.dev/synthos/shared/assist"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/sample"
)

// ErrPermanent marks a failure that cannot succeed on retry. The handlers
// mark the job failed with it as the reason and acknowledge the message.
var ErrPermanent = errs.New(errs.FailedPrecondition, "job cannot succeed")

// errStopped reports that the job was found finished or cancelled: the step
// stops and acknowledges.
var errStopped = errors.New("pipeline: job stopped")

// Defaults for Options.
const (
	DefaultHoldoutShare = 0.2
	DefaultHoldoutMax   = 20_000
	DefaultMaxInputRows = 5_000_000
	DefaultEvalRows     = 50_000
)

// Options tune a Pipeline; zero fields take the defaults.
type Options struct {
	// ShardRows is the largest number of rows one function call samples;
	// larger jobs fan out ceil(rows/ShardRows) shard messages. Default:
	// env.Config.ShardRows (SYNTHOS_SHARD_ROWS).
	ShardRows int64
	// HoldoutShare is the share of the dataset's rows set aside, never seen
	// by the model, for the privacy evaluation (default DefaultHoldoutShare),
	// capped at HoldoutMax rows (default DefaultHoldoutMax).
	HoldoutShare float64
	HoldoutMax   int
	// SampleBudget is the bytes of training rows a fit keeps (package
	// sample): a larger dataset is fitted on a seeded, stratified sample
	// of it. Default sample.DefaultBudget; negative keeps every row. DP
	// fits and anonymisation always keep every row.
	SampleBudget int64
	// MaxInputRows bounds the dataset rows a fit loads into memory (default
	// DefaultMaxInputRows); a larger dataset fails its job.
	MaxInputRows int
	// EvalRows bounds the synthetic rows the evaluation reads (default
	// DefaultEvalRows). Rows are independent draws whatever their position,
	// so the first EvalRows rows are a fair sample of a larger output.
	EvalRows int
	// Quality and Privacy tune the evaluation (sample sizes, folds).
	Quality quality.Options
	Privacy privacy.Options
	// Attacks tune the compliance report's GDPR attacks (package
	// compliance), built with the evaluation; the seed is the job's.
	Attacks privacy.AttackOptions
	// Composer concatenates shard parts server-side. Default: Cloud Storage
	// compose when the object store is gs://; nil elsewhere, where parts are
	// stream-concatenated.
	Composer Composer
	// OpenUploads opens the bucket an upload event names (see Ingest).
	// Default: the data bucket itself when the names agree or the object
	// store is not gs://, else gs://<bucket>, opened once and kept.
	OpenUploads func(ctx context.Context, bucket string) (*blob.Bucket, error)
	// Admission admits upload-created jobs and settles every job's
	// reservations (package admission). Default: over the Env's state with
	// the plan catalog of plans.FromEnv (the one the API enforces) and the
	// configured default privacy budget cap (SYNTHOS_DP_BUDGET_*).
	Admission *admission.Admitter
	// Lease is how long a running step is presumed alive without a
	// heartbeat; QueueTimeout how long a job waits for its next step before
	// the reaper presumes its message lost; MaxResumes how many times the
	// reaper resumes a job before failing it; CancelPoll how often a
	// running step looks for a cancel request; ShardWindow how many shards
	// of one job run at once. Defaults: env.Config's (see lease.go).
	Lease, QueueTimeout, CancelPoll time.Duration
	MaxResumes, ShardWindow         int
	// KillAt is a crash point for fault injection (see crash); default
	// SYNTHOS_FAULT_KILL_AT.
	KillAt string
	// Assistant is the AI router and its meter (package assist) that
	// design jobs' text columns, column labels and report narratives use.
	// Default: built from env.Config on first use (the offline provider
	// unless SYNTHOS_AI_PROVIDERS lists others), metered against the
	// tenants' plans.
	Assistant func() (*assist.Assistant, error)
}

// Pipeline runs the steps of jobs against an Env.
type Pipeline struct {
	env      *platform.Env
	jobs     *jobs.Store
	datasets *datasets.Store
	adm      *admission.Admitter
	opts     Options
	uploads  *bucketCache
}

// New returns a Pipeline over env's state, objects and events.
func New(env *platform.Env, opts Options) (*Pipeline, error) {
	if env == nil || env.State == nil || env.Objects == nil || env.Events == nil {
		return nil, errors.New("pipeline.New: env needs State, Objects and Events")
	}
	if opts.ShardRows <= 0 && env.Config != nil {
		opts.ShardRows = env.Config.ShardRows
	}
	if opts.ShardRows <= 0 {
		return nil, errors.New("pipeline.New: ShardRows must be positive (SYNTHOS_SHARD_ROWS)")
	}
	if opts.HoldoutShare == 0 {
		opts.HoldoutShare = DefaultHoldoutShare
	}
	if opts.HoldoutShare < 0 || opts.HoldoutShare >= 1 {
		return nil, fmt.Errorf("pipeline.New: HoldoutShare %v is outside [0, 1)", opts.HoldoutShare)
	}
	if opts.HoldoutMax <= 0 {
		opts.HoldoutMax = DefaultHoldoutMax
	}
	if opts.SampleBudget == 0 {
		opts.SampleBudget = sample.DefaultBudget
	}
	if opts.MaxInputRows <= 0 {
		opts.MaxInputRows = DefaultMaxInputRows
	}
	if opts.EvalRows <= 0 {
		opts.EvalRows = DefaultEvalRows
	}
	dataBucket := gsBucket(env)
	if opts.Composer == nil && dataBucket != "" {
		var client *storage.Client
		if env.Objects.As(&client) {
			opts.Composer = GCSComposer(client.Bucket(dataBucket))
		}
	}
	adm := opts.Admission
	if adm == nil {
		var err error
		if adm, err = NewAdmitter(env); err != nil {
			return nil, fmt.Errorf("pipeline.New: %w", err)
		}
	}
	leaseDefaults(env, &opts)
	if opts.Assistant == nil {
		ent := adm.Entitlements()
		opts.Assistant = assist.Lazy(env, ent.Plan)
	}
	p := &Pipeline{env: env, jobs: jobs.New(env.State), datasets: datasets.New(env.State), adm: adm, opts: opts}
	p.uploads = newBucketCache(env.Objects, dataBucket, opts.OpenUploads)
	return p, nil
}

// gsBucket returns the data bucket's name when the object store is gs://.
func gsBucket(env *platform.Env) string {
	if env.Config == nil {
		return ""
	}
	u, err := url.Parse(env.Config.ObjectsURL)
	if err != nil || u.Scheme != "gs" {
		return ""
	}
	return u.Host
}

// Permanent reports whether err is a failure that cannot succeed on retry:
// its code (package errs) says so. Unclassified errors, unavailable
// dependencies, timeouts and cancellations (a shutdown) are retried.
func Permanent(err error) bool {
	c := errs.CodeOf(err)
	return c != errs.Unknown && c != errs.Canceled && !c.Retryable()
}

// permanent wraps err as ErrPermanent.
func permanent(format string, args ...any) error {
	return fmt.Errorf("%w: %w", ErrPermanent, fmt.Errorf(format, args...))
}

// settle turns a step's outcome into the handler's answer: nil when the work
// is done or the job stopped, nil after marking the job failed for a
// permanent error, and the error itself (retry) otherwise. A job found
// finished has its reservations settled (package admission); a store error
// there is returned, so the message is redelivered and the settlement
// retried (the reaper also settles what a crash left open).
func (p *Pipeline) settle(ctx context.Context, actor string, m *events.Message, j *jobs.Job, err error) error {
	out := p.outcome(ctx, actor, m, j, err)
	if serr := p.settleJob(ctx, j.ID); serr != nil {
		out = errors.Join(out, fmt.Errorf("%s: %w", actor, serr))
	}
	return out
}

// settleJob settles job id's reservations if it has finished. A dp job
// whose budget was refunded keeps no model: one fitted after the refund (a
// step still fitting while the job was cancelled) is removed, so nothing
// computed from the data outlives an unpaid budget.
func (p *Pipeline) settleJob(ctx context.Context, id string) error {
	j, err := p.adm.Settle(ctx, id, p.fittedModel)
	if err != nil {
		return err
	}
	if j.Settled && j.DPReservation != "" && !j.DPCharged {
		key := datasets.ModelKey(j.Tenant, j.ID)
		if err := p.env.Objects.Delete(ctx, key); err != nil && !notFound(err) {
			return fmt.Errorf("remove the unpaid model of job %s: %w", j.ID, err)
		}
	}
	return nil
}

// outcome is settle without the reservations.
func (p *Pipeline) outcome(ctx context.Context, actor string, m *events.Message, j *jobs.Job, err error) error {
	switch {
	case err == nil, errors.Is(err, errStopped):
		return nil
	case errors.Is(err, jobs.ErrTransition):
		p.env.Logger.InfoContext(ctx, "stale pipeline message acknowledged", "job", j.ID, "message_id", m.ID, "reason", err.Error())
		return nil
	case Permanent(err):
		p.env.Logger.WarnContext(ctx, "job failed", "job", j.ID, "tenant", j.Tenant, "code", errs.CodeOf(err).String(), "error", err.Error())
		if ferr := p.fail(ctx, actor, m.ID, j, errs.CodeOf(err), errs.Message(err), nil, nil); ferr != nil {
			return fmt.Errorf("%s: %w (while recording: %w)", actor, ferr, err)
		}
		return nil
	default:
		// Retried. The cause is kept on the job, so that if the retries
		// run out the job says why (see DeadLetter).
		p.noteRetry(ctx, j.ID, err)
		return fmt.Errorf("%s: job %s: %w", actor, j.ID, err)
	}
}

// fail marks the job failed with reason (and outputs, when given), unless
// it already finished, and announces it.
//
// A dp job whose model was fitted gets fittedNote among its reasons: its
// privacy budget is charged, not refunded (see budget.go).
func (p *Pipeline) fail(ctx context.Context, actor, msgID string, j *jobs.Job, code errs.Code, reason string, reasons []string, outputs map[string]string) error {
	fitted := false
	if j.Request.Model == dp.KindDP {
		var err error
		if fitted, err = p.fittedModel(ctx, j); err != nil {
			return fmt.Errorf("mark job %s failed: %w", j.ID, err)
		}
	}
	cur, changed, err := p.jobs.Update(ctx, j.ID, stepID(msgID, jobs.Failed), func(j *jobs.Job) error {
		rs := reasons
		if fitted && j.DPReservation != "" {
			rs = append(slices.Clip(reasons), fittedNote)
		}
		if err := jobs.Fail(j, code, reason, rs...); err != nil {
			return err
		}
		if outputs != nil {
			j.Outputs = outputs
		}
		return nil
	})
	if errors.Is(err, jobs.ErrTransition) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark job %s failed: %w", j.ID, err)
	}
	if changed || cur.State == jobs.Failed {
		return p.announce(ctx, actor, cur)
	}
	return nil
}

// advance moves the job to `to` on behalf of message msgID, applying mutate
// in the same transaction. A job already at or past `to` is returned as it
// is (another delivery got there first); a job found cancel-requested is
// moved to cancelled and, like a finished job, stops the step (errStopped).
func (p *Pipeline) advance(ctx context.Context, actor, msgID string, id string, to jobs.State, mutate func(*jobs.Job)) (*jobs.Job, error) {
	cur, changed, err := p.jobs.Update(ctx, id, stepID(msgID, to), func(j *jobs.Job) error {
		if !j.State.Terminal() && j.Cancel {
			j.State = jobs.Cancelled
			return nil
		}
		if err := jobs.Advance(j, to); err != nil {
			return err
		}
		// Progress: the reaper's count of resumptions without progress
		// starts again.
		j.Attempts = 0
		if mutate != nil {
			mutate(j)
		}
		return nil
	})
	switch {
	case errors.Is(err, jobs.ErrTransition):
		if cur.State.Terminal() {
			return cur, fmt.Errorf("%w: %s is %s", errStopped, id, cur.State)
		}
		return cur, nil
	case err != nil:
		return cur, fmt.Errorf("move job %s to %s: %w", id, to, err)
	}
	// A redelivered message whose transition is recorded announces it again:
	// the first delivery may have died between the commit and the publish.
	if changed || cur.State == to || cur.State == jobs.Cancelled {
		if err := p.announce(ctx, actor, cur); err != nil {
			return cur, err
		}
	}
	if cur.State.Terminal() {
		return cur, fmt.Errorf("%w: %s is %s", errStopped, id, cur.State)
	}
	return cur, nil
}

// stopIfCancelled moves a cancel-requested job to cancelled and stops.
func (p *Pipeline) stopIfCancelled(ctx context.Context, actor, msgID string, j *jobs.Job) error {
	if j.State.Terminal() {
		// The redelivery of the message that finished the job: its first
		// delivery committed the final state and then failed (or died)
		// before announcing it, so announce it now, or the audit trail
		// and the customer's webhooks would never hear of it (audit ids
		// are derived from job and state, so the audit keeps one record).
		if msgID != "" && slices.Contains(j.Applied, stepID(msgID, j.State)) {
			if err := p.announce(ctx, actor, j); err != nil {
				return err
			}
		}
		return fmt.Errorf("%w: %s is %s", errStopped, j.ID, j.State)
	}
	if !j.Cancel {
		return nil
	}
	cur, changed, err := p.jobs.Update(ctx, j.ID, stepID(msgID, jobs.Cancelled), func(j *jobs.Job) error {
		if j.State.Terminal() {
			return fmt.Errorf("%w: %s is %s", jobs.ErrTransition, j.ID, j.State)
		}
		j.State = jobs.Cancelled
		return nil
	})
	if errors.Is(err, jobs.ErrTransition) {
		return fmt.Errorf("%w: %s is %s", errStopped, j.ID, cur.State)
	}
	if err != nil {
		return fmt.Errorf("cancel job %s: %w", j.ID, err)
	}
	if changed || cur.State == jobs.Cancelled {
		if err := p.announce(ctx, actor, cur); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w: %s is %s", errStopped, j.ID, cur.State)
}

// announce publishes the job's state to job-events and audit-events. The
// audit id is derived from the job and state, so redeliveries carry the same
// id and the audit function keeps one record.
func (p *Pipeline) announce(ctx context.Context, actor string, j *jobs.Job) error {
	if err := jobs.PublishEvent(ctx, p.env.Events, j); err != nil {
		return err
	}
	outcome := "success"
	details := map[string]string{"state": string(j.State)}
	switch j.State {
	case jobs.Failed:
		outcome = "failed"
		details["error"] = j.Error
		details["error_code"] = j.ErrorCode
	case jobs.Cancelled:
		outcome = "cancelled"
	}
	if j.Shards > 1 {
		details["shards"] = fmt.Sprint(j.Shards)
	}
	return audit.Emit(ctx, p.env.Events, audit.Event{
		ID:       "job-" + j.ID + "-" + string(j.State),
		Tenant:   j.Tenant,
		Actor:    "system:" + actor,
		Action:   "job." + string(j.State),
		Resource: "jobs/" + j.ID,
		Outcome:  outcome,
		Details:  details,
	})
}

// stepID is the dedupe id of the transition message msgID causes.
func stepID(msgID string, to jobs.State) string {
	if msgID == "" {
		return ""
	}
	return msgID + ":" + string(to)
}

// logger returns the Env's logger.
func (p *Pipeline) logger() *slog.Logger { return p.env.Logger }
