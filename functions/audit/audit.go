// Package audit is the Pub/Sub push consumer of audit-events: it appends
// each event to its tenant's and the platform-wide Merkle-tree logs
// (shared/audit holds the logic) and, when SYNTHOS_AUDIT_BUCKET is set,
// archives a signed bundle of a log every SYNTHOS_AUDIT_BUNDLE_RECORDS new
// records to the locked audit bucket.
//
// The event id is the record's document id, so a redelivered message is
// recognised and acknowledged without a second record.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
)

// New returns the consumer.
func New(env *platform.Env) (events.Handler, error) {
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
		return nil
	}, nil
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
