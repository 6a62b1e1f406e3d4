package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// Every record is a leaf of two RFC 6962 Merkle trees: its tenant's log
// (headID: "tenant-<id>", or "platform" for platform events) and the
// platform-wide log GlobalLog that holds every record. The trees live in
// the state store as their perfect subtrees: one node document per
// (log, level, index), written in the same transaction as the record, so
// proofs are a handful of reads and a concurrent writer can never fork a
// tree (it must read and advance the same head document).

// GlobalLog names the platform-wide log of every record.
const GlobalLog = "global"

// CollNodes holds the trees' perfect-subtree hashes; CollCheckpoints the
// signed checkpoints, one per (log, size).
const (
	CollNodes       = "audit_nodes"
	CollCheckpoints = "audit_checkpoints"
)

// hasher is RFC 6962's SHA-256 tree hasher.
var hasher = rfc6962.DefaultHasher

var rangeFactory = compact.RangeFactory{Hash: hasher.HashChildren}

// node is a stored subtree hash. Leaves (level 0) also name their record,
// so a log position leads to its record without a range query.
type node struct {
	Hash  []byte `json:"h"`
	Event string `json:"id,omitempty"`
}

func nodeID(log string, id compact.NodeID) string {
	return fmt.Sprintf("%s:%d:%d", log, id.Level, id.Index)
}

// LogID names the tenant's own log ("platform" for platform events).
func LogID(tenant string) string { return headID(tenant) }

// leafEntry is what a leaf commits to: the event and when it was stored.
// The position (Seq, Global) is the leaf's place in the tree and Day is
// derived from At, so neither needs to be hashed.
type leafEntry struct {
	V int `json:"v"`
	Event
	StoredAt string `json:"stored_at"`
}

// LeafData returns the bytes rec's leaf hash covers: canonical JSON (struct
// field order, sorted map keys, RFC 3339 times in UTC to the nanosecond,
// which both state drivers round-trip exactly).
func LeafData(rec Record) []byte {
	e := rec.Event
	e.At = e.At.UTC()
	b, err := json.Marshal(leafEntry{V: 1, Event: e, StoredAt: rec.StoredAt.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")})
	if err != nil {
		// An Event holds only strings, a string map and a time: it always encodes.
		panic("audit: encode leaf: " + err.Error())
	}
	return b
}

// LeafHash is RFC 6962's leaf hash of LeafData(rec).
func LeafHash(rec Record) []byte { return hasher.HashLeaf(LeafData(rec)) }

// treeHead is the part of Head that describes a tree.
func (h Head) compactRange() (*compact.Range, error) {
	r, err := rangeFactory.NewRange(0, uint64(h.Seq), h.Range)
	if err != nil {
		return nil, errs.Errorf(errs.Internal, "audit: head of %s is corrupt (%d records, %d subtree hashes): %w", h.Log, h.Seq, len(h.Range), err)
	}
	return r, nil
}

// nodeReader reads stored subtree hashes, remembering them: proofs of
// neighbouring leaves share most nodes.
type nodeReader struct {
	ctx   context.Context
	store state.Store
	log   string
	cache map[compact.NodeID][]byte
}

func newNodeReader(ctx context.Context, st state.Store, log string) *nodeReader {
	return &nodeReader{ctx: ctx, store: st, log: log, cache: map[compact.NodeID][]byte{}}
}

func (r *nodeReader) get(id compact.NodeID) (node, error) {
	var n node
	if err := r.store.Get(r.ctx, CollNodes, nodeID(r.log, id), &n); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return n, errs.Errorf(errs.NotFound, "audit: log %s has no node %d/%d: %w", r.log, id.Level, id.Index, err)
		}
		return n, fmt.Errorf("audit: read node %s: %w", nodeID(r.log, id), err)
	}
	if len(n.Hash) != hasher.Size() {
		return n, errs.Errorf(errs.Internal, "audit: node %s holds %d bytes, not a hash", nodeID(r.log, id), len(n.Hash))
	}
	return n, nil
}

func (r *nodeReader) hashes(ids []compact.NodeID) ([][]byte, error) {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := r.cache[id]
		if !ok {
			n, err := r.get(id)
			if err != nil {
				return nil, err
			}
			h = n.Hash
			r.cache[id] = h
		}
		out[i] = append([]byte(nil), h...) // Rehash works in place
	}
	return out, nil
}

func (r *nodeReader) inclusion(index, size uint64) ([][]byte, error) {
	if index >= size {
		return nil, errs.Errorf(errs.InvalidArgument, "audit: no record %d in a log of %d", index+1, size)
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, errs.Wrap(errs.InvalidArgument, err)
	}
	h, err := r.hashes(nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(h, hasher.HashChildren)
}

func (r *nodeReader) consistency(size1, size2 uint64) ([][]byte, error) {
	if size1 > size2 {
		return nil, errs.Errorf(errs.InvalidArgument, "audit: a consistency proof goes from a smaller tree to a larger one, not %d to %d", size1, size2)
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, errs.Wrap(errs.InvalidArgument, err)
	}
	h, err := r.hashes(nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(h, hasher.HashChildren)
}

// InclusionProof proves that the record at 0-based index is in the first
// size records of log; size must not exceed the log's head.
func (l *Log) InclusionProof(ctx context.Context, log string, index, size uint64) ([][]byte, error) {
	if err := l.within(ctx, log, size); err != nil {
		return nil, err
	}
	p, err := newNodeReader(ctx, l.store, log).inclusion(index, size)
	if err != nil {
		return nil, fmt.Errorf("audit.InclusionProof %s %d/%d: %w", log, index, size, err)
	}
	return p, nil
}

// ConsistencyProof proves that log's first size1 records are the prefix of
// its first size2 records.
func (l *Log) ConsistencyProof(ctx context.Context, log string, size1, size2 uint64) ([][]byte, error) {
	if err := l.within(ctx, log, size2); err != nil {
		return nil, err
	}
	p, err := newNodeReader(ctx, l.store, log).consistency(size1, size2)
	if err != nil {
		return nil, fmt.Errorf("audit.ConsistencyProof %s %d..%d: %w", log, size1, size2, err)
	}
	return p, nil
}

func (l *Log) within(ctx context.Context, log string, size uint64) error {
	h, err := l.head(ctx, log)
	if err != nil {
		return err
	}
	if size > uint64(h.Seq) {
		return errs.Errorf(errs.InvalidArgument, "audit: log %s holds %d records, not %d", log, h.Seq, size)
	}
	return nil
}

// RecordAt returns the record at 0-based index of log, and the leaf hash
// stored for it when it was appended.
func (l *Log) RecordAt(ctx context.Context, log string, index uint64) (Record, []byte, error) {
	n, err := newNodeReader(ctx, l.store, log).get(compact.NewNodeID(0, index))
	if err != nil {
		return Record{}, nil, fmt.Errorf("audit.RecordAt %s %d: %w", log, index, err)
	}
	var rec Record
	if err := l.store.Get(ctx, CollEvents, n.Event, &rec); err != nil {
		return Record{}, n.Hash, fmt.Errorf("audit.RecordAt %s %d: record %s: %w", log, index, n.Event, err)
	}
	return rec, n.Hash, nil
}

// Position is rec's 0-based index in log, as the record itself states it.
func Position(rec Record, log string) int64 {
	if log == GlobalLog {
		return rec.Global - 1
	}
	return rec.Seq - 1
}
