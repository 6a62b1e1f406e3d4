// Package audit defines audit events and how every function emits them: one
// JSON message on the audit-events topic per state change or security event.
// The audit function stores them append-only and hash-chained per tenant.
// Events never carry raw personal data: ids, actions and outcomes only.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/topics"
)

// Event is one audit record as emitted.
type Event struct {
	ID       string            `json:"id"`     // unique; the dedupe key
	Tenant   string            `json:"tenant"` // "" for platform-wide events
	Actor    string            `json:"actor"`  // "key:<id>", "system:<function>", "provider:paddle"
	Action   string            `json:"action"` // e.g. job.created, key.revoked, generation.paused
	Resource string            `json:"resource,omitempty"`
	Outcome  string            `json:"outcome,omitempty"` // success, denied, failed
	Details  map[string]string `json:"details,omitempty"`
	TraceID  string            `json:"trace_id,omitempty"`
	At       time.Time         `json:"at"`
}

// Emit publishes ev to audit-events, filling ID, At and TraceID when empty.
func Emit(ctx context.Context, pub events.Publisher, ev Event) error {
	if ev.ID == "" {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		ev.ID = hex.EncodeToString(b)
	}
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	if t, ok := obs.TraceFrom(ctx); ok && ev.TraceID == "" {
		ev.TraceID = t.TraceID
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	if _, err := pub.Publish(ctx, topics.AuditEvents, b, map[string]string{"tenant": ev.Tenant, "action": ev.Action}); err != nil {
		return fmt.Errorf("audit: publish %s: %w", ev.Action, err)
	}
	return nil
}

// JobCreatedID is the event id of a job's job.created record, whichever
// function created the job, so that reports can link to the record.
func JobCreatedID(job string) string { return "job-" + job + "-created" }
