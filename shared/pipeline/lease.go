package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/topics"
)

// Leases and recovery.
//
// A job carries a lease (Job.LeaseExpires): while a step runs it renews the
// lease every third of Options.Lease (a heartbeat), and when a step hands
// the job to the next one (publishes its message) the lease is set to
// Options.QueueTimeout from then, the time the next step has to start. A
// job just admitted has QueueTimeout from its admission. A worker that dies (kill -9, an instance
// recycled, an OOM) stops renewing, so its job's lease runs out; a message
// lost with an in-process dispatcher never starts its step.
//
// The reaper (Reap: a ticker in the local runner, Cloud Scheduler calling
// the Reap function in the cloud) finds unfinished jobs whose lease ran out
// and resumes them: it publishes the step they were in again, which is
// idempotent (every step redoes only what is not recorded as done), and
// counts the resumption; any progress (a state reached, a shard done)
// resets the count. After Options.MaxResumes resumptions without progress
// it fails the job
// (deadline_exceeded) and settles it, so its quota and budget are released
// (per the charge/refund rule) and its slot among the tenant's running jobs
// is freed. It also settles finished jobs a crash left unsettled.
//
// Recover is the local runner's start: its in-process dispatcher lost every
// message with the process, and the state file is locked to one process,
// so every unfinished job is resumed at once, whatever its lease says.
//
// The same heartbeat watches for a cancel request: a running step's
// context is cancelled within Options.CancelPoll of POST /v1/jobs/{id}/cancel,
// and sampling checks its context every block of rows.

// errCancelRequested is the cause of a step context cancelled because the
// job was cancelled (or finished elsewhere) while the step ran.
var errCancelRequested = errors.New("job cancel requested")

// errShutdown is the cause of a step context cancelled because the local
// runner is shutting down (Env.Stopping).
var errShutdown = errors.New("shutting down")

// leaseDefaults fills the lease options from env.Config (or the defaults).
func leaseDefaults(env *platform.Env, o *Options) {
	c := env.Config
	def := func(d *time.Duration, fromCfg, fallback time.Duration) {
		if *d <= 0 {
			*d = fallback
			if c != nil && fromCfg > 0 {
				*d = fromCfg
			}
		}
	}
	defInt := func(d *int, fromCfg, fallback int) {
		if *d <= 0 {
			*d = fallback
			if c != nil && fromCfg > 0 {
				*d = fromCfg
			}
		}
	}
	if c == nil {
		def(&o.Lease, 0, time.Minute)
		def(&o.QueueTimeout, 0, 10*time.Minute)
		def(&o.CancelPoll, 0, 500*time.Millisecond)
		defInt(&o.MaxResumes, 0, 3)
		defInt(&o.ShardWindow, 0, 4)
	} else {
		def(&o.Lease, c.Lease, time.Minute)
		def(&o.QueueTimeout, c.QueueTimeout, 10*time.Minute)
		def(&o.CancelPoll, c.CancelPoll, 500*time.Millisecond)
		defInt(&o.MaxResumes, c.MaxResumes, 3)
		defInt(&o.ShardWindow, c.ShardWindow, 4)
	}
	if o.KillAt == "" {
		o.KillAt = os.Getenv(KillAtEnv)
	}
}

// KillAtEnv names the fault-injection variable: when it names a crash
// point (see crash), the process kills itself with SIGKILL there. The
// fault-injection tests in e2e use it to stop the platform at each step
// boundary; it is never set in production.
const KillAtEnv = "SYNTHOS_FAULT_KILL_AT"

// crash kills the process at point when Options.KillAt names it: a kill -9
// at a precise step boundary, for the fault-injection tests.
func (p *Pipeline) crash(point string) {
	if p.opts.KillAt == "" || p.opts.KillAt != point {
		return
	}
	p.logger().Error("fault injection: killing the process", "point", point)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}

// hold runs a step of job id under its lease: it renews the lease while fn
// runs and cancels fn's context when the job is cancelled or finished
// elsewhere. When fn fails because of that, the job is moved to cancelled
// (if it was a cancel) and the step stops (errStopped).
func (p *Pipeline) hold(ctx context.Context, actor, msgID, id, owner string, fn func(ctx context.Context) error) error {
	p.renew(ctx, id, owner, p.opts.Lease)
	hctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		tick := time.NewTicker(p.opts.CancelPoll)
		defer tick.Stop()
		renewed := time.Now()
		for {
			select {
			case <-done:
				return
			case <-hctx.Done():
				return
			case <-p.env.Stopping:
				cancel(errShutdown)
				return
			case <-tick.C:
			}
			j, err := p.jobs.Load(hctx, id)
			if err == nil && (j.Cancel || j.State.Terminal()) {
				cancel(errCancelRequested)
				return
			}
			if time.Since(renewed) >= p.opts.Lease/3 {
				p.renew(hctx, id, owner, p.opts.Lease)
				renewed = time.Now()
			}
		}
	}()
	err := fn(hctx)
	close(done)
	<-watched
	stopped := errors.Is(context.Cause(hctx), errCancelRequested)
	if err != nil && errors.Is(context.Cause(hctx), errShutdown) {
		// Acknowledged: the runner resumes the job when it starts again
		// (Recover), so the message need not wait for a retry that the
		// shutdown would drop anyway.
		cancel(nil)
		p.logger().InfoContext(ctx, "step interrupted by shutdown; the job resumes at the next start", "job", id, "step", owner)
		return fmt.Errorf("%w: %s interrupted by shutdown", errStopped, id)
	}
	cancel(nil)
	if err != nil && stopped && ctx.Err() == nil {
		cur, lerr := p.jobs.Load(ctx, id)
		if lerr != nil {
			return errors.Join(err, lerr)
		}
		if serr := p.stopIfCancelled(ctx, actor, msgID, cur); serr != nil {
			return serr
		}
	}
	if err == nil || errors.Is(err, errStopped) {
		// Handed to the next step (or finished): it has QueueTimeout to
		// start.
		p.renew(ctx, id, "queue", p.opts.QueueTimeout)
	}
	return err
}

// renew sets job id's lease to d from now, unless it has finished. A
// failure is logged: the next heartbeat tries again, and at worst the
// reaper resumes a step that was alive, which is harmless.
func (p *Pipeline) renew(ctx context.Context, id, owner string, d time.Duration) {
	_, _, err := p.jobs.Update(ctx, id, "", func(j *jobs.Job) error {
		if j.State.Terminal() {
			return jobs.ErrTransition
		}
		j.LeaseExpires, j.LeaseOwner = time.Now().UTC().Add(d), owner
		return nil
	})
	if err != nil && !errors.Is(err, jobs.ErrTransition) && ctx.Err() == nil {
		p.logger().WarnContext(ctx, "renew job lease", "job", id, "error", err)
	}
}

// noteRetry keeps on the job the cause of a retried step, in the user's
// words. Best effort: it only improves the message of a job that runs out
// of retries.
func (p *Pipeline) noteRetry(ctx context.Context, id string, err error) {
	msg := errs.Message(err)
	_, _, uerr := p.jobs.Update(ctx, id, "", func(j *jobs.Job) error {
		if j.State.Terminal() || j.LastError == msg {
			return jobs.ErrTransition
		}
		j.LastError = msg
		return nil
	})
	if uerr != nil && !errors.Is(uerr, jobs.ErrTransition) {
		p.logger().WarnContext(ctx, "record retried error", "job", id, "error", uerr)
	}
}

// Reaped counts what one pass of the reaper did.
type Reaped struct {
	Resumed int `json:"resumed"` // unfinished jobs whose step was published again
	Failed  int `json:"failed"`  // jobs failed after MaxResumes resumptions
	Settled int `json:"settled"` // finished jobs whose reservations were settled
}

// unfinished are the states of jobs that still have steps to run.
var unfinished = []jobs.State{jobs.Queued, jobs.Profiling, jobs.Fitting, jobs.Sampling, jobs.Evaluating}

// Reap resumes unfinished jobs whose lease ran out (see the comment at the
// top of this file) and settles finished jobs left unsettled.
func (p *Pipeline) Reap(ctx context.Context) (Reaped, error) {
	r, err := p.reap(ctx, false)
	metrics.Default().Reaped(ctx, "resumed", r.Resumed)
	metrics.Default().Reaped(ctx, "failed", r.Failed)
	return r, err
}

// Recover resumes every unfinished job, whatever its lease says: for a
// process whose in-process dispatcher lost every message (the local
// runner's start). It also settles finished jobs left unsettled.
func (p *Pipeline) Recover(ctx context.Context) (Reaped, error) { return p.reap(ctx, true) }

func (p *Pipeline) reap(ctx context.Context, all bool) (Reaped, error) {
	var out Reaped
	var errList []error
	now := time.Now()
	for _, st := range unfinished {
		docs, err := p.env.State.Query(ctx, jobs.Collection, state.Query{Where: []state.Eq{{Field: "state", Value: string(st)}}})
		if err != nil {
			return out, fmt.Errorf("pipeline.Reap: list %s jobs: %w", st, err)
		}
		for _, d := range docs {
			var j jobs.Job
			if err := d.DataTo(&j); err != nil {
				errList = append(errList, err)
				continue
			}
			if !all && now.Before(p.deadline(&j)) {
				continue
			}
			failed, err := p.resume(ctx, j.ID, all)
			switch {
			case err != nil:
				errList = append(errList, err)
			case failed:
				out.Failed++
			default:
				out.Resumed++
			}
		}
	}
	for _, st := range []jobs.State{jobs.Succeeded, jobs.Failed, jobs.Cancelled} {
		docs, err := p.env.State.Query(ctx, jobs.Collection, state.Query{Where: []state.Eq{{Field: "state", Value: string(st)}, {Field: "settled", Value: false}}})
		if err != nil {
			return out, fmt.Errorf("pipeline.Reap: list unsettled %s jobs: %w", st, err)
		}
		for _, d := range docs {
			if err := p.settleJob(ctx, d.ID); err != nil {
				errList = append(errList, err)
				continue
			}
			out.Settled++
		}
	}
	if len(errList) > 0 {
		return out, fmt.Errorf("pipeline.Reap: %w", errors.Join(errList...))
	}
	return out, nil
}

// resume publishes the current step of job id again, counting the
// resumption, or fails the job once it has been resumed MaxResumes times.
// Without force a job whose lease was renewed meanwhile is left alone.
func (p *Pipeline) resume(ctx context.Context, id string, force bool) (failed bool, err error) {
	now := time.Now().UTC()
	cur, changed, err := p.jobs.Update(ctx, id, "", func(j *jobs.Job) error {
		failed = false
		if j.State.Terminal() || !force && now.Before(p.deadline(j)) {
			return jobs.ErrTransition
		}
		if j.Attempts >= p.opts.MaxResumes {
			failed = true
			why := "its step stopped (the worker died or the message was lost)"
			if j.LastError != "" {
				why = "its step kept failing: " + j.LastError
			}
			msg := fmt.Sprintf("the job made no progress after %d resumptions: %s", j.Attempts, why)
			return jobs.Fail(j, errs.DeadlineExceeded, msg)
		}
		j.Attempts++
		j.LeaseExpires, j.LeaseOwner = now.Add(p.opts.QueueTimeout), "reaper"
		return nil
	})
	switch {
	case errors.Is(err, jobs.ErrTransition):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("resume job %s: %w", id, err)
	}
	if failed {
		if changed {
			p.logger().WarnContext(ctx, "job failed by the reaper", "job", id, "tenant", cur.Tenant, "attempts", cur.Attempts)
			if err := p.announce(ctx, "reaper", cur); err != nil {
				return true, err
			}
		}
		return true, p.settleJob(ctx, id)
	}
	p.logger().InfoContext(ctx, "job resumed", "job", id, "tenant", cur.Tenant, "state", string(cur.State), "attempt", cur.Attempts)
	if cur.State == jobs.Evaluating {
		return false, p.publishEvaluate(ctx, cur)
	}
	return false, jobs.Submit(ctx, p.env.Events, cur)
}

// deadline is when job j is presumed stalled: its lease's expiry, or, for
// a job no step has touched yet (admitted, its first message on its way),
// QueueTimeout after it was last updated.
func (p *Pipeline) deadline(j *jobs.Job) time.Time {
	if j.LeaseExpires.IsZero() {
		return j.UpdatedAt.Add(p.opts.QueueTimeout)
	}
	return j.LeaseExpires
}

// window returns the shards to publish to (re)start a fanned-out job:
// for each residue class of the window, the first shard not done. Each
// shard, once done, publishes the next of its class (i + window), walking
// over shards already done, so these few messages restart every chain.
func window(j *jobs.Job) []int {
	w := max(j.ShardWindow, 1)
	var out []int
	for r := range min(w, j.Shards) {
		for i := r; i < j.Shards; i += w {
			if !slices.Contains(j.ShardDone, i) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// publishShard publishes the generate task of shard i of j.
func (p *Pipeline) publishShard(ctx context.Context, j *jobs.Job, i int) error {
	return jobs.Publish(ctx, p.env.Events, topics.GenerateRequests, jobs.Task{JobID: j.ID, Tenant: j.Tenant, Shard: i})
}

// Reaper runs Reap every interval until ctx ends: the local runner's
// stand-in for Cloud Scheduler.
func (p *Pipeline) Reaper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r, err := p.Reap(ctx)
		if err != nil && ctx.Err() == nil {
			p.logger().ErrorContext(ctx, "reaper", "error", err)
		}
		if r != (Reaped{}) {
			p.logger().InfoContext(ctx, "reaper pass", "resumed", r.Resumed, "failed", r.Failed, "settled", r.Settled)
		}
	}
}
