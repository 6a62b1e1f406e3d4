// Package audit is the Pub/Sub push consumer of audit-events: it appends
// each event to its tenant's and the platform-wide Merkle-tree logs
// (shared/audit holds the logic) and, when SYNTHOS_AUDIT_BUCKET is set,
// archives a signed bundle of a log every SYNTHOS_AUDIT_BUNDLE_RECORDS new
// records to the locked audit bucket.
//
// The event id is the record's document id, so a redelivered message is
// recognised and acknowledged without a second record.
//
// A security event of a tenant (action security.*: WAF blocks and
// detections, security-rule matches, bans, denied addresses, failed keys)
// is also a Standard Webhooks delivery to the tenant's endpoints that
// subscribe to it (event type = the action, e.g. security.waf.blocked;
// security.* takes them all), carrying the stored record, which holds no
// raw personal data. The delivery runs after the append: if an endpoint
// fails, the handler fails, Pub/Sub redelivers, the append recognises the
// record and only the endpoints that have not accepted it are tried again.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/webhooks"
)

// New returns the consumer with production webhook settings.
func New(env *platform.Env) (events.Handler, error) {
	return NewWithOptions(env, webhooks.Options{})
}

// NewWithOptions returns the consumer delivering security events with o
// (tests and the local runner allow loopback receivers).
func NewWithOptions(env *platform.Env, o webhooks.Options) (events.Handler, error) {
	if env == nil || env.State == nil || env.Logger == nil {
		return nil, errors.New("audit.New: the environment needs State and Logger")
	}
	var opts []audit.Option
	if env.Secrets != nil {
		// With the pseudonym key, personal data an emitter let through is
		// replaced by a keyed pseudonym; without it, redacted.
		key, err := env.Secrets.Get(context.Background(), audit.PseudonymKeySecret)
		switch {
		case err == nil:
			opts = append(opts, audit.WithScrubber(audit.NewScrubber(key)))
		case !errors.Is(err, secrets.ErrNotFound):
			return nil, fmt.Errorf("audit.New: read the %s secret: %w", audit.PseudonymKeySecret, err)
		}
	}
	log := audit.NewLog(env.State, opts...)
	arch := newArchiver(env, log)
	var hooks *webhooks.Lazy
	if env.Secrets != nil { // without secrets no endpoint secret can be opened
		var err error
		if hooks, err = webhooks.NewLazy(env, o); err != nil {
			return nil, fmt.Errorf("audit.New: %w", err)
		}
	}
	return func(ctx context.Context, m *events.Message) error {
		var ev audit.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			// Redelivery cannot fix it; the dead-letter topic keeps it.
			return fmt.Errorf("audit: message %s: %w: %w", m.ID, audit.ErrInvalid, err)
		}
		rec, stored, err := log.Append(ctx, ev)
		if err != nil {
			return fmt.Errorf("audit: message %s: %w", m.ID, err)
		}
		if !stored {
			env.Logger.InfoContext(ctx, "audit event already stored", "event", ev.ID, "seq", rec.Seq, "message_id", m.ID)
		}
		arch.run(ctx, rec)
		if err := notifySecurity(ctx, hooks, rec); err != nil {
			return fmt.Errorf("audit: message %s: %w", m.ID, err)
		}
		return nil
	}, nil
}

// SecurityPrefix starts the action of every security event.
const SecurityPrefix = "security."

// notifySecurity delivers rec to its tenant's endpoints when it is a
// security event (see the package comment).
func notifySecurity(ctx context.Context, hooks *webhooks.Lazy, rec audit.Record) error {
	if hooks == nil || rec.Tenant == "" || !strings.HasPrefix(rec.Action, SecurityPrefix) {
		return nil
	}
	svc, err := hooks.Service(ctx)
	if err != nil {
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode security event %s: %w", rec.ID, err)
	}
	if err := svc.Deliver(ctx, webhooks.Event{ID: rec.ID, Tenant: rec.Tenant, Type: rec.Action, At: rec.At, Data: data}); err != nil {
		return fmt.Errorf("security event %s %s: %w", rec.ID, rec.Action, err)
	}
	return nil
}

// archiver writes bundles to the audit bucket.
type archiver struct {
	env *platform.Env
	log *audit.Log
	min int64

	once   sync.Once
	bucket *blob.Bucket
	keys   audit.Keys
	err    error
}

func newArchiver(env *platform.Env, log *audit.Log) *archiver {
	if env.Config == nil || env.Config.AuditBucket == "" {
		return nil
	}
	return &archiver{env: env, log: log, min: env.Config.AuditBundleRecords}
}

// run archives the logs rec joined if a bundle is due. A failure is logged,
// not returned: the record is stored, and the next event retries the
// bundle (it covers everything since the last one).
func (a *archiver) run(ctx context.Context, rec audit.Record) {
	if a == nil {
		return
	}
	a.once.Do(func() {
		cfg := a.env.Config
		if a.keys, a.err = audit.OpenKeys(ctx, cfg.AuditKMSKey, cfg.AuditKeyName, a.env.Secrets); a.err != nil {
			return
		}
		a.bucket, a.err = objects.Open(context.WithoutCancel(ctx), cfg.AuditBucket)
	})
	if a.err != nil {
		a.env.Logger.ErrorContext(ctx, "audit archive unavailable", "bucket", a.env.Config.AuditBucket, "error", a.err)
		return
	}
	for _, log := range []string{audit.LogID(rec.Tenant), audit.GlobalLog} {
		key, err := a.log.Archive(ctx, a.bucket, log, a.min, a.keys.Signer)
		if err != nil {
			a.env.Logger.ErrorContext(ctx, "audit archive", "log", log, "error", err)
			continue
		}
		if key != "" {
			a.env.Logger.InfoContext(ctx, "audit bundle archived", "log", log, "key", key)
		}
	}
}
