// Package audit is the Pub/Sub push consumer of audit-events: it stores each
// event append-only, numbered per tenant (shared/audit holds the logic).
//
// The event id is the record's document id, so a redelivered message is
// recognised and acknowledged without a second record.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
)

// New returns the consumer.
func New(env *platform.Env) (events.Handler, error) {
	if env == nil || env.State == nil || env.Logger == nil {
		return nil, errors.New("audit.New: the environment needs State and Logger")
	}
	log := audit.NewLog(env.State)
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
		return nil
	}, nil
}
