package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/audit"
)

// auditRecords appends n audit records of tenant, as the audit function
// would from audit-events.
func (f *fixture) auditRecords(tenant string, n int) {
	f.t.Helper()
	l := audit.NewLog(f.st)
	h, _ := l.Head(context.Background(), tenant)
	for i := range n {
		seq := int(h.Seq) + i + 1
		_, _, err := l.Append(context.Background(), audit.Event{ID: fmt.Sprintf("%s-ev%d", tenant, seq), Tenant: tenant,
			Actor: "key:k1", Action: "job.created", Resource: fmt.Sprintf("jobs/j%d", seq), Outcome: "success",
			At: time.Date(2026, 5, 4, 10, 0, seq, 0, time.UTC)})
		if err != nil {
			f.t.Fatal(err)
		}
	}
}

// TestAuditProofsOffline fetches proofs over HTTP and checks them as a
// customer would, with nothing but the pinned verifier key.
func TestAuditProofsOffline(t *testing.T) {
	t.Parallel()
	f := newFixture(t, fixtureOptions{})
	reader := f.key("acme", apikeys.Read)
	f.auditRecords("acme", 5)
	f.auditRecords("other", 2)
	v, err := note.NewVerifier(testAuditVerifier)
	if err != nil {
		t.Fatal(err)
	}
	var first audit.ConsistencyProof
	for seq := 1; seq <= 5; seq++ {
		r := f.do(req{method: "GET", path: fmt.Sprintf("/v1/audit/%d/proof", seq), key: reader})
		var p audit.RecordProof
		if err := json.Unmarshal(r.body, &p); err != nil || r.status != 200 {
			t.Fatalf("proof %d: %d %s", seq, r.status, r.body)
		}
		if err := p.Check(v); err != nil {
			t.Fatalf("proof %d does not check offline: %v", seq, err)
		}
		if p.Record.Tenant != "acme" || p.VerifierKey != testAuditVerifier {
			t.Fatalf("proof %d is of %q with key %q", seq, p.Record.Tenant, p.VerifierKey)
		}
		p.Record.Outcome = "denied"
		p.Leaf = string(audit.LeafData(p.Record))
		if err := p.Check(v); err == nil {
			t.Fatalf("proof %d still checks after the record was altered", seq)
		}
	}
	r := f.do(req{method: "GET", path: "/v1/audit/consistency?from=2", key: reader})
	if err := json.Unmarshal(r.body, &first); err != nil || r.status != 200 {
		t.Fatalf("consistency: %d %s", r.status, r.body)
	}
	f.auditRecords("acme", 4)
	r = f.do(req{method: "GET", path: "/v1/audit/consistency?from=5", key: reader})
	var later audit.ConsistencyProof
	if err := json.Unmarshal(r.body, &later); err != nil || r.status != 200 || later.To != 9 {
		t.Fatalf("consistency 5..latest: %d %s", r.status, r.body)
	}
	for _, cp := range []audit.ConsistencyProof{first, later} {
		if err := cp.Check(v); err != nil {
			t.Fatalf("consistency %d..%d does not check: %v", cp.From, cp.To, err)
		}
	}
	// Another tenant's checkpoint does not prove acme's log.
	other := f.do(req{method: "GET", path: "/v1/audit/checkpoint", key: f.key("other", apikeys.Read)})
	if !strings.Contains(string(other.body), "tenant-other") || strings.Contains(string(other.body), "tenant-acme") {
		t.Fatalf("other tenant's checkpoint: %s", other.body)
	}
	later.FromCheckpoint = first.FromCheckpoint // size 2 with a proof made for 5
	if err := later.Check(v); err == nil {
		t.Fatal("a consistency proof checked against the wrong checkpoint")
	}
}

// A failed authentication is audited once, by the security edge
// (security.auth.failed, with the address cut to its /24 and the key kept
// only as a digest): see TestSecurityFailedKeysBanTheAddress.

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
