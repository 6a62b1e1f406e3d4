package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/state/statetest"
)

// The tests check the log with two verifiers that share no code with it:
// transparency-dev/merkle/proof's Verify functions, and the hand-written
// RFC 6962 (RFC 9162 section 2) functions below.

func leafHash(data []byte) []byte {
	h := sha256.Sum256(append([]byte{0}, data...))
	return h[:]
}

func nodeHash(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// mth is RFC 6962's Merkle Tree Hash of leaf hashes, by its definition:
// split at the largest power of two smaller than n.
func mth(leaves [][]byte) []byte {
	switch len(leaves) {
	case 0:
		h := sha256.Sum256(nil)
		return h[:]
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return nodeHash(mth(leaves[:k]), mth(leaves[k:]))
}

// rootFromPath recomputes the root from an inclusion proof as RFC 9162
// section 2.1.3.2 spells it.
func rootFromPath(index, size uint64, leaf []byte, path [][]byte) ([]byte, bool) {
	if index >= size {
		return nil, false
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range path {
		if sn == 0 {
			return nil, false
		}
		if fn&1 == 1 || fn == sn {
			r = nodeHash(p, r)
			if fn&1 == 0 {
				for fn&1 == 0 && fn != 0 {
					fn >>= 1
					sn >>= 1
				}
			}
		} else {
			r = nodeHash(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	return r, sn == 0
}

func newKeys(t testing.TB) (note.Signer, note.Verifier, string) {
	t.Helper()
	skey, vkey, err := note.GenerateKey(rand.Reader, "synthos-audit-test")
	if err != nil {
		t.Fatal(err)
	}
	s, vk, err := audit.LocalSigner([]byte(skey))
	if err != nil {
		t.Fatal(err)
	}
	if vk != vkey {
		t.Fatalf("LocalSigner derived verifier key %q, note.GenerateKey made %q", vk, vkey)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v, vkey
}

// records returns log's records in log order, read back by position.
func records(t *testing.T, l *audit.Log, log string) []audit.Record {
	t.Helper()
	ctx := context.Background()
	h, err := l.LogHead(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]audit.Record, h.Seq)
	for i := range out {
		r, stored, err := l.RecordAt(ctx, log, uint64(i))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(stored, audit.LeafHash(r)) {
			t.Fatalf("%s %d: stored leaf hash differs from the record's", log, i)
		}
		if !bytes.Equal(stored, leafHash(audit.LeafData(r))) {
			t.Fatalf("%s %d: LeafHash is not RFC 6962's leaf hash", log, i)
		}
		out[i] = r
	}
	return out
}

// checkTree verifies log's root and every inclusion proof and some
// consistency proofs with both independent verifiers.
func checkTree(t *testing.T, l *audit.Log, log string) []audit.Record {
	t.Helper()
	ctx := context.Background()
	recs := records(t, l, log)
	leaves := make([][]byte, len(recs))
	for i, r := range recs {
		if audit.Position(r, log) != int64(i) {
			t.Fatalf("%s: position %d holds record numbered %d", log, i, audit.Position(r, log))
		}
		leaves[i] = leafHash(audit.LeafData(r))
	}
	h, err := l.LogHead(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	if want := mth(leaves); !bytes.Equal(h.Root, want) {
		t.Fatalf("%s: head root %x, RFC 6962 root of its %d records %x", log, h.Root, len(leaves), want)
	}
	size := uint64(len(leaves))
	for i := range size {
		p, err := l.InclusionProof(ctx, log, i, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, size, leaves[i], p, h.Root); err != nil {
			t.Fatalf("%s: inclusion of %d in %d: %v", log, i, size, err)
		}
		if r, ok := rootFromPath(i, size, leaves[i], p); !ok || !bytes.Equal(r, h.Root) {
			t.Fatalf("%s: hand-written check of inclusion %d/%d fails", log, i, size)
		}
	}
	for _, s1 := range []uint64{1, size / 3, size / 2, size - 1, size} {
		if s1 == 0 {
			continue
		}
		p, err := l.ConsistencyProof(ctx, log, s1, size)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, s1, size, p, mth(leaves[:s1]), h.Root); err != nil {
			t.Fatalf("%s: consistency %d..%d: %v", log, s1, size, err)
		}
	}
	return recs
}

func tev(id, tenant string, i int) audit.Event {
	return audit.Event{ID: id, Tenant: tenant, Actor: "system:test", Action: "job.created",
		Resource: fmt.Sprintf("jobs/j%d", i), Outcome: "success", Details: map[string]string{"n": fmt.Sprint(i)},
		At: day1.Add(time.Duration(i) * time.Second)}
}

func TestTreeProofs(t *testing.T) {
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			l := audit.NewLog(st)
			ctx := context.Background()
			run := fmt.Sprintf("%d", time.Now().UnixNano())
			tenants := []string{"ta" + run, "tb" + run}
			for i := range 37 {
				tn := tenants[i%2]
				if i%5 == 4 {
					tn = "" // platform events
				}
				if _, _, err := l.Append(ctx, tev(fmt.Sprintf("p%s-%02d", run, i), tn, i)); err != nil {
					t.Fatal(err)
				}
			}
			for _, tn := range tenants {
				checkTree(t, l, audit.LogID(tn))
			}
			if name == "bolt" { // the emulator's global log is shared with other tests
				recs := checkTree(t, l, audit.GlobalLog)
				if len(recs) != 37 {
					t.Fatalf("global log holds %d records, want 37", len(recs))
				}
			}
			if _, err := l.InclusionProof(ctx, audit.LogID(tenants[0]), 0, 1000); err == nil {
				t.Fatal("a proof for a size beyond the head must fail")
			}
		})
	}
}

// TestConcurrentWritersNeverFork runs three writers, each its own Log (and
// on Firestore its own client, as three function instances would), that
// append and sign checkpoints at once. Every checkpoint any of them signed
// must be a prefix of the final tree.
func TestConcurrentWritersNeverFork(t *testing.T) {
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			stores := []state.Store{open(t)}
			if name == "firestore" {
				stores = append(stores, open(t), open(t))
			} else {
				stores = append(stores, stores[0], stores[0])
			}
			signer, verifier, _ := newKeys(t)
			ctx := context.Background()
			run := fmt.Sprintf("%d", time.Now().UnixNano())
			tenant := "fork" + run
			log := audit.LogID(tenant)
			const per = 25
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				cps  [][]byte
				errs []error
			)
			for w := range 3 {
				l := audit.NewLog(stores[w])
				wg.Go(func() {
					for i := range per {
						if _, _, err := l.Append(ctx, tev(fmt.Sprintf("f%s-w%d-%02d", run, w, i), tenant, i)); err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
							return
						}
						if i%6 == 5 {
							_, msg, err := l.Checkpoint(ctx, log, signer)
							mu.Lock()
							if err != nil {
								errs = append(errs, err)
							} else {
								cps = append(cps, msg)
							}
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("writers failed: %v", errs)
			}
			l := audit.NewLog(stores[0])
			recs := checkTree(t, l, log)
			if len(recs) != 3*per {
				t.Fatalf("log holds %d records, want %d", len(recs), 3*per)
			}
			seen := map[string]bool{}
			for _, r := range recs {
				if seen[r.ID] {
					t.Fatalf("event %s stored twice", r.ID)
				}
				seen[r.ID] = true
			}
			h, _ := l.LogHead(ctx, log)
			if len(cps) < 6 {
				t.Fatalf("only %d checkpoints signed", len(cps))
			}
			for _, msg := range cps {
				cp, err := audit.OpenCheckpoint(msg, verifier)
				if err != nil {
					t.Fatal(err)
				}
				p, err := l.ConsistencyProof(ctx, log, cp.Size, uint64(h.Seq))
				if err != nil {
					t.Fatal(err)
				}
				if err := proof.VerifyConsistency(rfc6962.DefaultHasher, cp.Size, uint64(h.Seq), p, cp.Root, h.Root); err != nil {
					t.Fatalf("checkpoint at %d is not a prefix of the final tree (a fork): %v", cp.Size, err)
				}
			}
		})
	}
}

func TestCheckpointSignature(t *testing.T) {
	t.Parallel()
	l, _ := openLog(t)
	ctx := context.Background()
	signer, verifier, _ := newKeys(t)
	for i := range 5 {
		if _, _, err := l.Append(ctx, tev(fmt.Sprintf("c%d", i), "t1", i)); err != nil {
			t.Fatal(err)
		}
	}
	cp, msg, err := l.Checkpoint(ctx, audit.LogID("t1"), signer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(msg), "synthos.dev/audit/tenant-t1\n5\n") || !strings.Contains(string(msg), "\n\n— synthos-audit-test ") {
		t.Fatalf("checkpoint note:\n%s", msg)
	}
	got, err := audit.OpenCheckpoint(msg, verifier)
	if err != nil || got.Size != 5 || !bytes.Equal(got.Root, cp.Root) {
		t.Fatalf("OpenCheckpoint = %+v, %v", got, err)
	}
	_, other, _ := newKeys(t)
	if _, err := audit.OpenCheckpoint(msg, other); err == nil {
		t.Fatal("a checkpoint must not open with another key")
	}
	forged := bytes.Replace(msg, []byte("\n5\n"), []byte("\n4\n"), 1)
	if _, err := audit.OpenCheckpoint(forged, verifier); err == nil {
		t.Fatal("an edited checkpoint must not verify")
	}
	// A second call at the same size returns the stored note, signer or not.
	_, again, err := l.CheckpointAt(ctx, audit.LogID("t1"), 5, nil)
	if err != nil || !bytes.Equal(again, msg) {
		t.Fatalf("stored checkpoint = %q, %v", again, err)
	}
	// An older size is signed from the stored subtrees.
	old, _, err := l.CheckpointAt(ctx, audit.LogID("t1"), 3, signer)
	if err != nil {
		t.Fatal(err)
	}
	recs := records(t, l, audit.LogID("t1"))
	if want := mth([][]byte{audit.LeafHash(recs[0]), audit.LeafHash(recs[1]), audit.LeafHash(recs[2])}); !bytes.Equal(old.Root, want) {
		t.Fatalf("root at 3 = %x, want %x", old.Root, want)
	}
}

// bundleOf exports log and returns its lines.
func bundleOf(t *testing.T, l *audit.Log, log string, signer note.Signer) []string {
	t.Helper()
	h, _ := l.LogHead(context.Background(), log)
	var buf bytes.Buffer
	if err := l.Export(context.Background(), log, 0, uint64(h.Seq), signer, &buf); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
}

func verifyLines(t *testing.T, lines []string, v note.Verifier, trusted []byte) audit.Report {
	t.Helper()
	rep, err := audit.VerifyBundle(strings.NewReader(strings.Join(lines, "\n")+"\n"), audit.VerifyOptions{Verifier: v, Trusted: trusted})
	if err != nil {
		t.Fatalf("VerifyBundle: %v", err)
	}
	return rep
}

func editLine(t *testing.T, line string, edit func(*audit.BundleLine)) string {
	t.Helper()
	var bl audit.BundleLine
	if err := json.Unmarshal([]byte(line), &bl); err != nil {
		t.Fatal(err)
	}
	edit(&bl)
	b, err := json.Marshal(bl)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestBundleTamper(t *testing.T) {
	t.Parallel()
	l, _ := openLog(t)
	ctx := context.Background()
	signer, verifier, _ := newKeys(t)
	for i := range 12 {
		if _, _, err := l.Append(ctx, tev(fmt.Sprintf("b%02d", i), "t1", i)); err != nil {
			t.Fatal(err)
		}
	}
	lines := bundleOf(t, l, audit.LogID("t1"), signer) // header + 12 records
	if rep := verifyLines(t, lines, verifier, nil); !rep.OK() || rep.Records != 12 || rep.Size != 12 {
		t.Fatalf("untouched bundle: %+v %+v", rep, rep.Problem)
	}
	_, trusted, err := l.Checkpoint(ctx, audit.LogID("t1"), signer)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func([]string) []string) []string { return f(append([]string(nil), lines...)) }
	tests := []struct {
		name    string
		lines   []string
		trusted []byte
		kind    string
		index   uint64
	}{
		{"edit an outcome", with(func(ls []string) []string {
			ls[5] = editLine(t, ls[5], func(b *audit.BundleLine) { b.Record.Outcome = "denied" })
			return ls
		}), nil, audit.Altered, 4},
		{"edit a detail", with(func(ls []string) []string {
			ls[8] = editLine(t, ls[8], func(b *audit.BundleLine) { b.Record.Details["n"] = "x" })
			return ls
		}), nil, audit.Altered, 7},
		{"edit the time (and its day)", with(func(ls []string) []string {
			ls[2] = editLine(t, ls[2], func(b *audit.BundleLine) { b.Record.At = b.Record.At.Add(time.Hour) })
			return ls
		}), nil, audit.Altered, 1},
		{"delete a record", with(func(ls []string) []string { return append(ls[:4], ls[5:]...) }), nil, audit.Removed, 3},
		{"delete a record and renumber the rest", with(func(ls []string) []string {
			out := append([]string(nil), ls[:4]...)
			for _, l := range ls[5:] {
				out = append(out, editLine(t, l, func(b *audit.BundleLine) { b.Index--; b.Record.Seq-- }))
			}
			return out
		}), nil, audit.Altered, 3},
		{"swap two lines", with(func(ls []string) []string { ls[3], ls[6] = ls[6], ls[3]; return ls }), nil, audit.Reordered, 2},
		{"swap two records' contents", with(func(ls []string) []string {
			a, b := ls[3], ls[6]
			ls[3] = editLine(t, a, func(x *audit.BundleLine) { x.Index = 5 })
			ls[6] = editLine(t, b, func(x *audit.BundleLine) { x.Index = 2 })
			ls[3], ls[6] = ls[6], ls[3]
			return ls
		}), nil, audit.Reordered, 2},
		{"truncate", with(func(ls []string) []string { return ls[:10] }), nil, audit.Truncated, 9},
		{"truncate with an older genuine checkpoint, against the trusted one", func() []string {
			var buf bytes.Buffer
			if err := l.Export(ctx, audit.LogID("t1"), 0, 8, signer, &buf); err != nil {
				t.Fatal(err)
			}
			return strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
		}(), trusted, audit.Truncated, 8},
		{"a line that is not JSON", with(func(ls []string) []string { ls[7] = "{oops"; return ls }), nil, audit.Malformed, 6},
	}
	for _, tt := range tests {
		rep := verifyLines(t, tt.lines, verifier, tt.trusted)
		if rep.OK() {
			t.Errorf("%s: not caught", tt.name)
			continue
		}
		if rep.Problem.Kind != tt.kind || rep.Problem.Index != tt.index {
			t.Errorf("%s: %s at %d (%s); want %s at %d", tt.name, rep.Problem.Kind, rep.Problem.Index, rep.Problem.Msg, tt.kind, tt.index)
		}
	}
	// A forged header checkpoint is not a Problem but a refusal.
	bad := append([]string(nil), lines...)
	bad[0] = strings.Replace(bad[0], `\n12\n`, `\n11\n`, 1)
	if _, err := audit.VerifyBundle(strings.NewReader(strings.Join(bad, "\n")), audit.VerifyOptions{Verifier: verifier}); err == nil {
		t.Fatal("a bundle whose checkpoint was edited must be refused")
	}
}

func TestLiveTamper(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	signer, verifier, _ := newKeys(t)
	type tamper struct {
		name  string
		edit  func(t *testing.T, st state.Store, recs []audit.Record)
		kind  string
		index uint64
	}
	tests := []tamper{
		{"untouched", func(*testing.T, state.Store, []audit.Record) {}, "", 0},
		{"edit a record", func(t *testing.T, st state.Store, recs []audit.Record) {
			r := recs[6]
			r.Actor = "key:someone-else"
			if err := st.Set(ctx, audit.CollEvents, r.ID, r); err != nil {
				t.Fatal(err)
			}
		}, audit.Altered, 6},
		{"delete a record", func(t *testing.T, st state.Store, recs []audit.Record) {
			if err := st.Delete(ctx, audit.CollEvents, recs[4].ID); err != nil {
				t.Fatal(err)
			}
		}, audit.Removed, 4},
		{"renumber two records", func(t *testing.T, st state.Store, recs []audit.Record) {
			a, b := recs[2], recs[7]
			a.Seq, b.Seq = b.Seq, a.Seq
			if err := st.Set(ctx, audit.CollEvents, a.ID, a); err != nil {
				t.Fatal(err)
			}
			if err := st.Set(ctx, audit.CollEvents, b.ID, b); err != nil {
				t.Fatal(err)
			}
		}, audit.Reordered, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, st := openLog(t)
			for i := range 10 {
				if _, _, err := l.Append(ctx, tev(fmt.Sprintf("v%02d", i), "t1", i)); err != nil {
					t.Fatal(err)
				}
			}
			_, trusted, err := l.Checkpoint(ctx, audit.LogID("t1"), signer)
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(t, st, records(t, l, audit.LogID("t1")))
			rep, err := l.VerifyLive(ctx, trusted, verifier)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.kind == "" && !rep.OK():
				t.Fatalf("untouched log reported %+v", rep.Problem)
			case tt.kind != "" && rep.OK():
				t.Fatal("not caught")
			case tt.kind != "" && (rep.Problem.Kind != tt.kind || rep.Problem.Index != tt.index):
				t.Fatalf("%s at %d (%s); want %s at %d", rep.Problem.Kind, rep.Problem.Index, rep.Problem.Msg, tt.kind, tt.index)
			}
		})
	}
}

// TestNoPersonalData appends events whose emitters carelessly put personal
// data in them; neither the stored record nor an exported bundle holds it.
func TestNoPersonalData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	raw := []string{"jane.doe@example.com", "203.0.113.77", "2001:db8::1", "+44 20 7946 0958", "4111 1111 1111 1111", "4111111111111111"}
	for _, key := range [][]byte{nil, []byte("0123456789abcdef0123456789abcdef")} {
		l := audit.NewLog(statetest.Bolt(t), audit.WithScrubber(audit.NewScrubber(key)))
		e := audit.Event{ID: "pii1", Tenant: "t1", Actor: "user:jane.doe@example.com", Action: "auth.failed",
			Resource: "ip/203.0.113.77", Outcome: "denied", At: day1,
			Details: map[string]string{"client_ip": "203.0.113.77:5123", "v6": "2001:db8::1", "phone": "call +44 20 7946 0958",
				"card": "4111 1111 1111 1111", "card2": "4111111111111111", "job": "job_0123456789abcdef", "count": "1234567890123"}}
		rec, _, err := l.Append(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		signer, _, _ := newKeys(t)
		var buf bytes.Buffer
		if err := l.Export(ctx, audit.LogID("t1"), 0, 1, signer, &buf); err != nil {
			t.Fatal(err)
		}
		stored, _ := json.Marshal(rec)
		for _, out := range []string{string(stored), buf.String()} {
			for _, r := range raw {
				if strings.Contains(out, r) || strings.Contains(out, strings.ReplaceAll(r, " ", "")) {
					t.Errorf("key %v: %q is stored: %s", key != nil, r, out)
				}
			}
		}
		if rec.Details["job"] != "job_0123456789abcdef" || rec.Details["count"] != "1234567890123" {
			t.Errorf("ids that are not personal data were changed: %v", rec.Details)
		}
		if key != nil {
			if !strings.HasPrefix(rec.Details["client_ip"], "ip:") || rec.Details["client_ip"] == "ip:redacted" {
				t.Errorf("keyed pseudonym of an IP = %q", rec.Details["client_ip"])
			}
			if rec.Resource != "ip/"+strings.Split(rec.Details["client_ip"], ":5123")[0] {
				t.Errorf("the same address must get the same pseudonym: %q vs %q", rec.Resource, rec.Details["client_ip"])
			}
		}
	}
}

// BenchmarkAppend measures appends on the embedded store (bbolt, fsync'd
// per commit) from concurrent callers, as concurrent push deliveries would
// call it: group commit turns many waiting appends into one transaction.
// After the timed loop it checks the tree: records still prove inclusion.
func BenchmarkAppend(b *testing.B) {
	for _, callers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) { benchAppend(b, callers, 1) })
	}
	// AppendBatch: one or a few callers each handing over batches.
	for _, c := range []struct{ callers, batch int }{{1, 64}, {4, 16}} {
		b.Run(fmt.Sprintf("callers=%d/batch=%d", c.callers, c.batch), func(b *testing.B) { benchAppend(b, c.callers, c.batch) })
	}
}

func benchAppend(b *testing.B, callers, batch int) {
	st := statetest.Bolt(b)
	l := audit.NewLog(st)
	ctx := context.Background()
	next := make(chan int, callers)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			var evs []audit.Event
			flush := func() {
				res, err := l.AppendBatch(ctx, evs)
				if err != nil {
					b.Error(err)
				}
				for _, r := range res {
					if r.Err != nil || !r.Stored {
						b.Error(r.Err, r.Stored)
					}
				}
				evs = evs[:0]
			}
			for i := range next {
				ev := tev(fmt.Sprintf("bench-%07d", i), fmt.Sprintf("t%d", i%4), i)
				if batch == 1 {
					if _, _, err := l.Append(ctx, ev); err != nil {
						b.Error(err)
					}
					continue
				}
				if evs = append(evs, ev); len(evs) == batch {
					flush()
				}
			}
			if len(evs) > 0 {
				flush()
			}
		})
	}
	for i := range b.N {
		next <- i
	}
	close(next)
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	h, err := l.LogHead(ctx, audit.GlobalLog)
	if err != nil || h.Seq != int64(b.N) {
		b.Fatalf("global head %d (%v), appended %d", h.Seq, err, b.N)
	}
	size := uint64(h.Seq)
	for _, i := range []uint64{0, size / 2, size - 1} {
		rec, leaf, err := l.RecordAt(ctx, audit.GlobalLog, i)
		if err != nil {
			b.Fatal(err)
		}
		p, err := l.InclusionProof(ctx, audit.GlobalLog, i, size)
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(leaf, audit.LeafHash(rec)) {
			b.Fatalf("record %d does not match its leaf", i)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, size, leaf, p, h.Root); err != nil {
			b.Fatalf("proof of %d after the benchmark: %v", i, err)
		}
	}
}

// AppendBatch keeps the order given, stores a redelivered or repeated event
// once, refuses an invalid batch whole, and leaves proofs intact.
func TestAppendBatch(t *testing.T) {
	st := statetest.Bolt(t)
	l := audit.NewLog(st)
	ctx := context.Background()
	if _, _, err := l.Append(ctx, tev("b-0", "acme", 0)); err != nil {
		t.Fatal(err)
	}
	bad := tev("b-bad", "acme", 9)
	bad.Action = ""
	if _, err := l.AppendBatch(ctx, []audit.Event{tev("b-x", "acme", 8), bad}); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("invalid batch: %v", err)
	}
	if _, err := l.Get(ctx, "b-x"); err == nil {
		t.Fatal("an event of a refused batch was stored")
	}
	// b-0 is a redelivery; b-2 appears twice.
	evs := []audit.Event{tev("b-1", "acme", 1), tev("b-0", "acme", 0), tev("b-2", "other", 2), tev("b-3", "acme", 3), tev("b-2", "other", 2)}
	for i := 4; i < 150; i++ { // more than one transaction's worth
		evs = append(evs, tev(fmt.Sprintf("b-%d", i), "acme", i))
	}
	res, err := l.AppendBatch(ctx, evs)
	if err != nil {
		t.Fatal(err)
	}
	wantStored := map[int]bool{1: false, 4: false}
	var lastGlobal int64 = 1
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("%d: %v", i, r.Err)
		}
		if want, ok := wantStored[i]; ok && r.Stored != want || !ok && !r.Stored {
			t.Errorf("%d (%s): stored %v", i, evs[i].ID, r.Stored)
		}
		if r.Record.ID != evs[i].ID {
			t.Errorf("%d: record of %s, want %s", i, r.Record.ID, evs[i].ID)
		}
		if r.Stored {
			// Stored in the order given: global numbers increase by one.
			if r.Record.Global != lastGlobal+1 {
				t.Errorf("%d: global %d after %d", i, r.Record.Global, lastGlobal)
			}
			lastGlobal = r.Record.Global
		}
	}
	if res[4].Record.Seq != res[2].Record.Seq {
		t.Errorf("the repeated event got another record: %d vs %d", res[4].Record.Seq, res[2].Record.Seq)
	}
	h, err := l.LogHead(ctx, audit.GlobalLog)
	if err != nil || h.Seq != lastGlobal {
		t.Fatalf("global head %d (%v), want %d", h.Seq, err, lastGlobal)
	}
	for _, i := range []uint64{0, 60, uint64(h.Seq) - 1} {
		rec, leaf, err := l.RecordAt(ctx, audit.GlobalLog, i)
		if err != nil {
			t.Fatal(err)
		}
		p, err := l.InclusionProof(ctx, audit.GlobalLog, i, uint64(h.Seq))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(leaf, audit.LeafHash(rec)) {
			t.Fatalf("record %d does not match its leaf", i)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, i, uint64(h.Seq), leaf, p, h.Root); err != nil {
			t.Fatalf("proof of %d: %v", i, err)
		}
	}
	if res, err := l.AppendBatch(ctx, nil); err != nil || res != nil {
		t.Fatalf("empty batch: %v %v", res, err)
	}
}
