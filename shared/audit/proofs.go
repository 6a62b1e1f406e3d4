package audit

import (
	"bytes"
	"context"
	"fmt"

	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"

	"synthos.dev/synthos/shared/errs"
)

// RecordProof is what GET /v1/audit/{seq}/proof answers: a record of the
// caller's log, the leaf it is, its inclusion proof and the signed
// checkpoint the proof leads to. With the verifier key (published, and
// repeated here for convenience: pin it, do not trust the copy) a customer
// checks it offline: the checkpoint's signature, then the RFC 6962 leaf
// hash of Leaf, then the proof from that hash to the checkpoint's root.
type RecordProof struct {
	Log         string   `json:"log"`
	Seq         int64    `json:"seq"`
	Index       uint64   `json:"index"`
	TreeSize    uint64   `json:"tree_size"`
	Record      Record   `json:"record"`
	Leaf        string   `json:"leaf"` // the bytes hashed: LeafData(Record)
	LeafHash    []byte   `json:"leaf_hash"`
	Proof       [][]byte `json:"proof"`
	Checkpoint  string   `json:"checkpoint"`
	VerifierKey string   `json:"verifier_key"`
}

// ConsistencyProof proves that a log at size From is a prefix of the log
// at size To, between two signed checkpoints.
type ConsistencyProof struct {
	Log            string   `json:"log"`
	From           uint64   `json:"from"`
	To             uint64   `json:"to"`
	Proof          [][]byte `json:"proof"`
	FromCheckpoint string   `json:"from_checkpoint"`
	ToCheckpoint   string   `json:"to_checkpoint"`
	VerifierKey    string   `json:"verifier_key"`
}

// ProveRecord proves tenant's record seq against the log's current
// checkpoint (signed now with keys if the head moved since the last one).
func (l *Log) ProveRecord(ctx context.Context, tenant string, seq int64, keys Keys) (RecordProof, error) {
	log := LogID(tenant)
	if seq < 1 {
		return RecordProof{}, errs.Public(errs.InvalidArgument, "audit record numbers start at 1, not %d", seq)
	}
	cp, msg, err := l.Checkpoint(ctx, log, keys.Signer)
	if err != nil {
		return RecordProof{}, err
	}
	index := uint64(seq - 1)
	if index >= cp.Size {
		return RecordProof{}, errs.Public(errs.NotFound, "audit record %d does not exist (the log holds %d)", seq, cp.Size)
	}
	rec, _, err := l.RecordAt(ctx, log, index)
	if err != nil {
		return RecordProof{}, err
	}
	p, err := l.InclusionProof(ctx, log, index, cp.Size)
	if err != nil {
		return RecordProof{}, err
	}
	return RecordProof{Log: log, Seq: seq, Index: index, TreeSize: cp.Size, Record: rec, Leaf: string(LeafData(rec)),
		LeafHash: LeafHash(rec), Proof: p, Checkpoint: string(msg), VerifierKey: keys.VerifierKey}, nil
}

// ProveConsistency proves tenant's log at from is a prefix of it at to
// (to 0: the current head), with both checkpoints.
func (l *Log) ProveConsistency(ctx context.Context, tenant string, from, to uint64, keys Keys) (ConsistencyProof, error) {
	log := LogID(tenant)
	h, err := l.head(ctx, log)
	if err != nil {
		return ConsistencyProof{}, err
	}
	if to == 0 {
		to = uint64(h.Seq)
	}
	if from < 1 || from > to || to > uint64(h.Seq) {
		return ConsistencyProof{}, errs.Public(errs.InvalidArgument, "a consistency proof needs 1 <= from <= to <= %d (the log's size), not from=%d to=%d", h.Seq, from, to)
	}
	_, m1, err := l.CheckpointAt(ctx, log, from, keys.Signer)
	if err != nil {
		return ConsistencyProof{}, err
	}
	_, m2, err := l.CheckpointAt(ctx, log, to, keys.Signer)
	if err != nil {
		return ConsistencyProof{}, err
	}
	p, err := l.ConsistencyProof(ctx, log, from, to)
	if err != nil {
		return ConsistencyProof{}, err
	}
	return ConsistencyProof{Log: log, From: from, To: to, Proof: p, FromCheckpoint: string(m1), ToCheckpoint: string(m2), VerifierKey: keys.VerifierKey}, nil
}

// Check verifies p offline with verifier (the pinned key): the
// checkpoint's signature, the leaf's hash and the proof to the root.
func (p RecordProof) Check(verifier note.Verifier) error {
	cp, err := OpenCheckpoint([]byte(p.Checkpoint), verifier)
	if err != nil {
		return err
	}
	if cp.Log() != p.Log || cp.Size != p.TreeSize {
		return errs.Errorf(errs.InvalidArgument, "audit: the proof is for %s at %d but its checkpoint is of %s at %d", p.Log, p.TreeSize, cp.Log(), cp.Size)
	}
	leaf := hasher.HashLeaf([]byte(p.Leaf))
	if !bytes.Equal(leaf, LeafHash(p.Record)) {
		return errs.Errorf(errs.InvalidArgument, "audit: the record is not the leaf it comes with")
	}
	if err := proof.VerifyInclusion(hasher, p.Index, cp.Size, leaf, p.Proof, cp.Root); err != nil {
		return errs.Errorf(errs.InvalidArgument, "audit: record %d is not in the checkpoint of size %d: %w", p.Seq, cp.Size, err)
	}
	return nil
}

// Check verifies p offline with verifier: both checkpoints' signatures and
// that the first tree is a prefix of the second.
func (p ConsistencyProof) Check(verifier note.Verifier) error {
	c1, err := OpenCheckpoint([]byte(p.FromCheckpoint), verifier)
	if err != nil {
		return err
	}
	c2, err := OpenCheckpoint([]byte(p.ToCheckpoint), verifier)
	if err != nil {
		return err
	}
	if c1.Origin != c2.Origin {
		return errs.Errorf(errs.InvalidArgument, "audit: the checkpoints are of two logs (%s, %s)", c1.Origin, c2.Origin)
	}
	if err := proof.VerifyConsistency(hasher, c1.Size, c2.Size, p.Proof, c1.Root, c2.Root); err != nil {
		return fmt.Errorf("audit: %s at %d is not a prefix of it at %d (the log forked or was rewritten): %w", c1.Log(), c1.Size, c2.Size, err)
	}
	return nil
}
