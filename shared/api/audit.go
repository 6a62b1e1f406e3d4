package api

import (
	"context"
	"fmt"
	"sync"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
)

// AuditProofs answers a tenant's questions about its audit log: its latest
// signed checkpoint, a record's inclusion proof, and the consistency of two
// checkpoints. Each answer can be checked offline with the verifier key.
type AuditProofs struct {
	log  *audit.Log
	open func(ctx context.Context) (audit.Keys, error)

	mu   sync.Mutex
	keys *audit.Keys
}

// NewAuditProofs returns the proofs of the logs in st, signing checkpoints
// with the Cloud KMS key kmsKey, or (empty) the local key in src. The key
// is opened on first use, so a missing key answers 503 on /v1/audit only.
func NewAuditProofs(st state.Store, kmsKey, keyName string, src secrets.Source) *AuditProofs {
	return &AuditProofs{log: audit.NewLog(st), open: func(ctx context.Context) (audit.Keys, error) {
		return audit.OpenKeys(ctx, kmsKey, keyName, src)
	}}
}

func (a *AuditProofs) signer(ctx context.Context) (audit.Keys, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.keys != nil {
		return *a.keys, nil
	}
	k, err := a.open(ctx)
	if err != nil {
		return audit.Keys{}, fmt.Errorf("%w: the audit checkpoint key: %w", ErrUnavailable, err)
	}
	a.keys = &k // kept: a KMS client or a parsed key; retried only until it opens
	return k, nil
}

// CheckpointView is the latest signed checkpoint of the caller's log.
type CheckpointView struct {
	Log         string `json:"log"`
	Size        uint64 `json:"size"`
	Checkpoint  string `json:"checkpoint"`
	VerifierKey string `json:"verifier_key"`
}

// Checkpoint returns the caller's latest checkpoint.
func (a *AuditProofs) Checkpoint(ctx context.Context, p *apikeys.Principal) (CheckpointView, error) {
	k, err := a.signer(ctx)
	if err != nil {
		return CheckpointView{}, err
	}
	log := audit.LogID(p.Tenant)
	cp, msg, err := a.log.Checkpoint(ctx, log, k.Signer)
	if err != nil {
		return CheckpointView{}, classifyAudit(err)
	}
	return CheckpointView{Log: log, Size: cp.Size, Checkpoint: string(msg), VerifierKey: k.VerifierKey}, nil
}

// Proof returns the inclusion proof of the caller's record seq.
func (a *AuditProofs) Proof(ctx context.Context, p *apikeys.Principal, seq int64) (audit.RecordProof, error) {
	k, err := a.signer(ctx)
	if err != nil {
		return audit.RecordProof{}, err
	}
	rp, err := a.log.ProveRecord(ctx, p.Tenant, seq, k)
	return rp, classifyAudit(err)
}

// Consistency proves the caller's log at from is a prefix of it at to.
func (a *AuditProofs) Consistency(ctx context.Context, p *apikeys.Principal, from, to uint64) (audit.ConsistencyProof, error) {
	k, err := a.signer(ctx)
	if err != nil {
		return audit.ConsistencyProof{}, err
	}
	cp, err := a.log.ProveConsistency(ctx, p.Tenant, from, to, k)
	return cp, classifyAudit(err)
}

// classifyAudit maps the audit package's codes onto this package's
// sentinels (and so onto HTTP statuses).
func classifyAudit(err error) error {
	if err == nil {
		return nil
	}
	switch errs.CodeOf(err) {
	case errs.InvalidArgument:
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case errs.NotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errs.Unavailable:
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}
