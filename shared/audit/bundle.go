package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"

	"synthos.dev/synthos/shared/errs"
)

// A bundle is a JSON Lines file that proves itself: a header line with the
// signed checkpoint of the log at the bundle's end, then one line per
// record of [from, to) with the record and its inclusion proof against that
// checkpoint. Verify needs nothing but the bundle and the verifier key (or
// a trusted checkpoint), and names the first record altered, removed or
// reordered: a record's proof was computed from the untouched tree, so an
// edit fails at that record and nowhere else.

// BundleHeader is a bundle's first line.
type BundleHeader struct {
	Format     string `json:"format"` // "synthos-audit-bundle/v1"
	Log        string `json:"log"`
	From       uint64 `json:"from"` // first 0-based index
	To         uint64 `json:"to"`   // one past the last; the checkpoint's size
	Checkpoint string `json:"checkpoint"`
}

// BundleLine is one record of a bundle.
type BundleLine struct {
	Index  uint64   `json:"index"`
	Record Record   `json:"record"`
	Proof  [][]byte `json:"proof"`
}

const bundleFormat = "synthos-audit-bundle/v1"

// rootFromNodes is the root of the first size leaves from stored subtrees.
func rootFromNodes(r *nodeReader, size uint64) ([]byte, error) {
	ids := compact.RangeNodes(0, size, nil)
	h, err := r.hashes(ids)
	if err != nil {
		return nil, err
	}
	rng, err := rangeFactory.NewRange(0, size, h)
	if err != nil {
		return nil, errs.Errorf(errs.Internal, "audit: rebuild root of %s at %d: %w", r.log, size, err)
	}
	return rng.GetRootHash(nil)
}

// Export writes the bundle of log's records [from, to) to w, with the
// signed checkpoint at size to (signed now with signer if none is stored).
// Proofs come from the stored tree; each record's leaf hash is recomputed
// from the record itself, so a record edited in the store after it was
// appended shows up in the bundle as what it is: a record whose proof
// fails.
func (l *Log) Export(ctx context.Context, log string, from, to uint64, signer note.Signer, w io.Writer) error {
	if from >= to {
		return errs.Errorf(errs.InvalidArgument, "audit.Export %s: empty range [%d, %d)", log, from, to)
	}
	_, msg, err := l.CheckpointAt(ctx, log, to, signer)
	if err != nil {
		return fmt.Errorf("audit.Export %s: %w", log, err)
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(BundleHeader{Format: bundleFormat, Log: log, From: from, To: to, Checkpoint: string(msg)}); err != nil {
		return fmt.Errorf("audit.Export %s: %w", log, err)
	}
	nr := newNodeReader(ctx, l.store, log)
	for i := from; i < to; i++ {
		leaf, err := nr.get(compact.NewNodeID(0, i))
		if err != nil {
			return fmt.Errorf("audit.Export %s: %w", log, err)
		}
		var rec Record
		if err := l.store.Get(ctx, CollEvents, leaf.Event, &rec); err != nil {
			if errs.CodeOf(err) == errs.NotFound {
				continue // removed from the store: the bundle shows the gap
			}
			return fmt.Errorf("audit.Export %s record %d: %w", log, i, err)
		}
		p, err := nr.inclusion(i, to)
		if err != nil {
			return fmt.Errorf("audit.Export %s: %w", log, err)
		}
		if err := enc.Encode(BundleLine{Index: i, Record: rec, Proof: p}); err != nil {
			return fmt.Errorf("audit.Export %s: %w", log, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("audit.Export %s: %w", log, err)
	}
	return nil
}

// Problem kinds a verification reports.
const (
	Altered   = "altered"
	Removed   = "removed"
	Reordered = "reordered"
	Truncated = "truncated"
	Malformed = "malformed"
)

// Problem is the first thing found wrong with a log or bundle.
type Problem struct {
	Kind  string `json:"kind"`
	Index uint64 `json:"index"` // the 0-based position in the log
	ID    string `json:"id,omitempty"`
	Line  int    `json:"line,omitempty"` // the bundle line (1 is the header), when verifying a bundle
	Msg   string `json:"message"`
}

func (p *Problem) Error() string { return p.Msg }

// Report is the result of a verification.
type Report struct {
	Log        string     `json:"log"`
	Checkpoint Checkpoint `json:"-"`
	Size       uint64     `json:"size"`
	Root       []byte     `json:"root"`
	Records    int        `json:"records"` // records checked
	Problem    *Problem   `json:"problem,omitempty"`
}

// OK reports whether nothing was found wrong.
func (r Report) OK() bool { return r.Problem == nil }

// VerifyOptions say what a bundle is checked against.
type VerifyOptions struct {
	// Verifier checks the bundle's checkpoint signature (and Trusted's).
	Verifier note.Verifier
	// Trusted, when set, is a signed checkpoint the verifier holds from
	// elsewhere (the latest it saw): the bundle must end at its size and
	// root. Without it the bundle's own checkpoint is used, which proves
	// the records are those Synthos signed but not that none was cut off
	// the end together with a newer checkpoint.
	Trusted []byte
}

// VerifyBundle checks a bundle read from r and reports the first problem.
// An error means the verification itself could not run (unreadable input, a
// checkpoint whose signature fails); a tampered bundle is a Report with a
// Problem.
func VerifyBundle(r io.Reader, opt VerifyOptions) (Report, error) {
	if opt.Verifier == nil {
		return Report{}, errs.Errorf(errs.InvalidArgument, "audit: verifying needs the log's verifier key")
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	if !sc.Scan() {
		return Report{}, errs.Errorf(errs.InvalidArgument, "audit: empty bundle: %v", sc.Err())
	}
	var hdr BundleHeader
	if err := json.Unmarshal(sc.Bytes(), &hdr); err != nil || hdr.Format != bundleFormat {
		return Report{}, errs.Errorf(errs.InvalidArgument, "audit: line 1 is not a %s header", bundleFormat)
	}
	cp, err := OpenCheckpoint([]byte(hdr.Checkpoint), opt.Verifier)
	if err != nil {
		return Report{}, fmt.Errorf("audit: the bundle's checkpoint: %w", err)
	}
	if len(opt.Trusted) > 0 {
		tc, err := OpenCheckpoint(opt.Trusted, opt.Verifier)
		if err != nil {
			return Report{}, fmt.Errorf("audit: the trusted checkpoint: %w", err)
		}
		if tc.Origin != cp.Origin {
			return Report{}, errs.Errorf(errs.InvalidArgument, "audit: the trusted checkpoint is of %s, the bundle of %s", tc.Origin, cp.Origin)
		}
		if tc.Size != cp.Size || !bytes.Equal(tc.Root, cp.Root) {
			rep := Report{Log: tc.Log(), Checkpoint: tc, Size: tc.Size, Root: tc.Root}
			if tc.Size > cp.Size {
				rep.Problem = &Problem{Kind: Truncated, Index: cp.Size, Line: 1,
					Msg: fmt.Sprintf("the bundle ends at record %d but the trusted checkpoint holds %d: records from index %d on are missing", cp.Size, tc.Size, cp.Size)}
				return rep, nil
			}
			return Report{}, errs.Errorf(errs.InvalidArgument, "audit: the trusted checkpoint (size %d) does not match the bundle's (size %d); use the checkpoint the bundle ends at", tc.Size, cp.Size)
		}
	}
	if hdr.To != cp.Size || hdr.From > hdr.To || cp.Log() != hdr.Log {
		return Report{}, errs.Errorf(errs.InvalidArgument, "audit: the header says log %s [%d, %d) but its checkpoint is of %s at %d", hdr.Log, hdr.From, hdr.To, cp.Log(), cp.Size)
	}
	rep := Report{Log: hdr.Log, Checkpoint: cp, Size: cp.Size, Root: cp.Root}
	var lines []BundleLine
	lineNo := 1
	for sc.Scan() {
		lineNo++
		var bl BundleLine
		if err := json.Unmarshal(sc.Bytes(), &bl); err != nil {
			rep.Problem = &Problem{Kind: Malformed, Line: lineNo, Index: hdr.From + uint64(len(lines)),
				Msg: fmt.Sprintf("line %d is not a bundle record: %v", lineNo, err)}
			return rep, nil
		}
		lines = append(lines, bl)
	}
	if err := sc.Err(); err != nil {
		return Report{}, fmt.Errorf("audit: read bundle: %w", err)
	}
	rep.Problem = checkLines(hdr.Log, hdr.From, cp, lines, func(i int) int { return i + 2 })
	rep.Records = len(lines)
	return rep, nil
}

// checkLines checks records meant to be positions from, from+1, ... of
// log against cp, in order; lineOf maps a slice index to a line number.
func checkLines(log string, from uint64, cp Checkpoint, lines []BundleLine, lineOf func(int) int) *Problem {
	where := map[uint64]int{} // index -> first line slot holding it
	for k, bl := range lines {
		if _, ok := where[bl.Index]; !ok {
			where[bl.Index] = k
		}
	}
	expect := from
	for k, bl := range lines {
		id := bl.Record.ID
		switch {
		case bl.Index > expect:
			if later, ok := where[expect]; ok && later > k {
				return &Problem{Kind: Reordered, Index: expect, Line: lineOf(k), ID: id,
					Msg: fmt.Sprintf("record %d is out of order: line %d holds record %d, record %d comes later (line %d)", expect, lineOf(k), bl.Index, expect, lineOf(later))}
			}
			return &Problem{Kind: Removed, Index: expect, Line: lineOf(k),
				Msg: fmt.Sprintf("record %d is missing (line %d holds record %d)", expect, lineOf(k), bl.Index)}
		case bl.Index < expect:
			return &Problem{Kind: Reordered, Index: bl.Index, Line: lineOf(k), ID: id,
				Msg: fmt.Sprintf("record %d appears again or out of order at line %d, after record %d", bl.Index, lineOf(k), expect-1)}
		}
		if pos := Position(bl.Record, log); pos != int64(bl.Index) {
			return &Problem{Kind: Reordered, Index: bl.Index, Line: lineOf(k), ID: id,
				Msg: fmt.Sprintf("position %d holds event %s, which the log numbered %d", bl.Index, id, pos)}
		}
		if bl.Record.Day != bl.Record.At.UTC().Format(time.DateOnly) {
			return &Problem{Kind: Altered, Index: bl.Index, Line: lineOf(k), ID: id,
				Msg: fmt.Sprintf("record %d (event %s) was altered: its day %q is not its time's", bl.Index, id, bl.Record.Day)}
		}
		if err := proof.VerifyInclusion(hasher, bl.Index, cp.Size, LeafHash(bl.Record), bl.Proof, cp.Root); err != nil {
			return &Problem{Kind: Altered, Index: bl.Index, Line: lineOf(k), ID: id,
				Msg: fmt.Sprintf("record %d (event %s) was altered: it is not the record the checkpoint of size %d holds there", bl.Index, id, cp.Size)}
		}
		expect++
	}
	if expect < cp.Size {
		return &Problem{Kind: Truncated, Index: expect,
			Msg: fmt.Sprintf("the records end at %d but the checkpoint holds %d: records from index %d on are missing", expect, cp.Size, expect)}
	}
	return nil
}

// VerifyLive checks log's stored records [0, size) against a signed
// checkpoint (trusted, verified with verifier): it exports them with proofs
// from the stored tree and checks that bundle. A record edited, removed or
// moved in the store is named; if an attacker also rewrote the stored
// hashes above it, the failure is still found but may be reported at an
// earlier record whose proof passes through the rewritten subtree (bundles
// exported before the edit pinpoint it exactly).
func (l *Log) VerifyLive(ctx context.Context, trusted []byte, verifier note.Verifier) (Report, error) {
	cp, err := OpenCheckpoint(trusted, verifier)
	if err != nil {
		return Report{}, err
	}
	log := cp.Log()
	h, err := l.head(ctx, log)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Log: log, Checkpoint: cp, Size: cp.Size, Root: cp.Root}
	if uint64(h.Seq) < cp.Size {
		rep.Problem = &Problem{Kind: Truncated, Index: uint64(h.Seq),
			Msg: fmt.Sprintf("the log holds %d records but the checkpoint %d: records from index %d on are missing", h.Seq, cp.Size, h.Seq)}
		return rep, nil
	}
	nr := newNodeReader(ctx, l.store, log)
	var lines []BundleLine
	for i := range cp.Size {
		leaf, err := nr.get(compact.NewNodeID(0, i))
		if err != nil {
			if errs.CodeOf(err) == errs.NotFound {
				continue
			}
			return Report{}, err
		}
		var rec Record
		if err := l.store.Get(ctx, CollEvents, leaf.Event, &rec); err != nil {
			if errs.CodeOf(err) == errs.NotFound {
				continue
			}
			return Report{}, fmt.Errorf("audit.VerifyLive %s record %d: %w", log, i, err)
		}
		// The index is where the record itself says it is, so a record
		// moved in the store shows as reordered.
		idx := i
		if pos := Position(rec, log); pos >= 0 {
			idx = uint64(pos)
		}
		p, err := nr.inclusion(i, cp.Size)
		if err != nil {
			return Report{}, err
		}
		lines = append(lines, BundleLine{Index: idx, Record: rec, Proof: p})
	}
	rep.Records = len(lines)
	rep.Problem = checkLines(log, 0, cp, lines, func(int) int { return 0 })
	return rep, nil
}
