package synth

import (
	"context"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"time"
	"unsafe"

	"github.com/brianvoe/gofakeit/v7"
)

// BlockRows is the number of rows whose random stream derives from one
// (seed, block index) pair. Shards own whole blocks, which is what makes a
// sample independent of the number of shards. Changing it changes samples,
// so it is part of the model format's contract.
const BlockRows = 4096

// arenaChunk is the size of the byte chunks formatted cells live in.
const arenaChunk = 64 << 10

// arena hands out strings backed by large byte chunks, so that formatting a
// number costs no allocation of its own. Bytes are only ever appended to a
// chunk and never rewritten once a string refers to them, so every string
// stays immutable; a full chunk is dropped (the garbage collector frees it
// when no string refers to it any more) and a fresh one started.
type arena struct{ buf []byte }

// reserve makes room for at least n more bytes in the current chunk.
func (a *arena) reserve(n int) {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(arenaChunk, n))
	}
}

// number formats v as column c writes it straight into the chunk (saving
// the copy bytes makes) and returns it as a string. A cell longer than the
// reserved room makes append move the chunk: strings handed out before
// keep the old array, which nothing rewrites, so they stay valid.
func (a *arena) number(c *Col, v float64, loc *time.Location) string {
	a.reserve(maxNumberCell)
	start := len(a.buf)
	a.buf = c.appendNumber(a.buf, v, loc)
	if len(a.buf) == start {
		return ""
	}
	return unsafe.String(&a.buf[start], len(a.buf)-start)
}

// maxNumberCell is the room reserved for one formatted number: more than
// any float's shortest form or a usual datetime layout needs.
const maxNumberCell = 96

// bytes returns a string holding a copy of b.
func (a *arena) bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(a.buf)-len(a.buf) < len(b) {
		a.buf = make([]byte, 0, max(arenaChunk, len(b)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[start], len(b))
}

// drawer draws the modelled cells of one candidate row. It returns false
// when a Fixed condition rejects the candidate. startBlock is called before
// the first row of every block: whatever state a drawer keeps between rows
// must restart there, so that a block's rows depend only on its stream;
// src is the block's source, which rng draws from, for drawers that take
// raw 64-bit draws without rand.Rand's interface call (the stream is the
// same either way).
type drawer interface {
	startBlock(src *rand.PCG)
	draw(rng *rand.Rand, a *arena, row []string) bool
	// values are the last drawn row's modelled values (level codes for
	// level columns, NaN for missing numbers), for the near-copy guard.
	values() []float64
}

// mix is SplitMix64's finalizer: it spreads seeds and block indexes so that
// nearby inputs give unrelated PCG states.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// shardBlocks returns the block range [b0, b1) of shard i of k for n rows.
func shardBlocks(n int64, shard, shards int) (b0, b1 uint64) {
	nb := (uint64(n) + BlockRows - 1) / BlockRows
	at := func(i int) uint64 {
		hi, lo := bits.Mul64(nb, uint64(i))
		q, _ := bits.Div64(hi, lo, uint64(shards))
		return q
	}
	return at(shard), at(shard + 1)
}

// run is the sampling loop every model shares: blocks, shards, rejection,
// key and PII generation, the exact-copy guard, Accept and progress.
func (s *Schema) run(ctx context.Context, n int64, shard, shards int, seed uint64, opts SampleOptions, w RowWriter, d drawer) error {
	if n < 0 || shards < 1 || shard < 0 || shard >= shards {
		return fmt.Errorf("n=%d shard=%d shards=%d: %w", n, shard, shards, ErrInvalid)
	}
	if w == nil {
		return fmt.Errorf("nil writer: %w", ErrInvalid)
	}
	maxTries := opts.MaxTriesPerRow
	if maxTries <= 0 {
		maxTries = DefaultMaxTries
	}
	var generated []int
	for j := range s.Cols {
		if !isModelled(s.Cols[j].Kind) {
			generated = append(generated, j)
		}
	}
	row := make([]string, len(s.Cols))
	st := &genState{a: &arena{}, salt: s.Salt}
	hbuf := new(hashBuf)
	guard := len(s.RowHashes) > 0 && len(s.Modelled) > 0
	set := s.rows
	if set.slots == nil { // a Schema no model prepared
		set = s.rowSet()
	}
	near := s.Guard.on()
	enc := make([]float32, len(s.Modelled))
	thr := float32(s.Guard.Threshold)
	var nearCopies, exactCopies int64
	defer func() {
		if opts.Stats != nil {
			opts.Stats.Add(nearCopies, exactCopies)
		}
	}()
	b0, b1 := shardBlocks(n, shard, shards)
	check := NewCancelCheck(ctx)
	var done int64
	for b := b0; b < b1; b++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("block %d: %w", b, err)
		}
		src := rand.NewPCG(mix(seed), mix(b^0x5eed))
		rng := rand.New(src)
		st.rng = rng
		st.faker = gofakeit.NewFaker(rand.NewPCG(rng.Uint64(), rng.Uint64()), false)
		first := int64(b) * BlockRows
		last := min(first+BlockRows, n)
		d.startBlock(src)
		for r := first; r < last; r++ {
			var fixedRej, guardRej, nearRej, acceptRej int
			for tries := 0; ; tries++ {
				if tries == maxTries {
					return fmt.Errorf("row %d: %d candidates rejected (fixed conditions %d, copies of a training row %d, near-copies %d, Accept %d): %w",
						r, maxTries, fixedRej, guardRej, nearRej, acceptRej, ErrRejected)
				}
				if err := check.Tick(); err != nil {
					return fmt.Errorf("row %d: %w", r, err)
				}
				if !d.draw(rng, st.a, row) {
					fixedRej++
					continue
				}
				if guard && set.has(s.rowHash(hbuf, row)) {
					guardRej++
					exactCopies++
					continue
				}
				if near {
					if s.Guard.near(d.values(), enc, thr) {
						nearRej++
						nearCopies++
						continue
					}
				}
				for _, j := range generated {
					v, err := s.Cols[j].generate(st, r)
					if err != nil {
						return fmt.Errorf("row %d: %w", r, err)
					}
					row[j] = v
				}
				if opts.Accept != nil && !opts.Accept(row) {
					acceptRej++
					continue
				}
				break
			}
			if err := w.Write(row); err != nil {
				return fmt.Errorf("write row %d: %w", r, err)
			}
		}
		done += last - first
		if opts.Progress != nil {
			opts.Progress(done)
		}
	}
	return nil
}

// hashSet is an open-addressing set of training-row hashes: one probe
// sequence, usually one cache line, per lookup. The hashes are salted
// xxhash sums, already uniform, so their low bits index slots unmixed.
// A bit filter in front (the hashes' top bits index it) answers most
// lookups of a sampled row, which is rarely a training row, from a table
// an eighth of the set's size that stays in cache.
type hashSet struct {
	slots  []uint64 // 0 is empty; a zero hash is stored as 1 (a false hit costs one redraw)
	mask   uint64
	filter []uint64 // bit x>>fshift set: some hash in the set has these top bits
	fshift uint
}

// rowSet builds the exact-copy guard's set (once per model, when it is
// prepared: it is not serialized, which keeps the model file small).
func (s *Schema) rowSet() hashSet {
	size := uint64(1)
	for size < uint64(2*len(s.RowHashes)+1) {
		size <<= 1
	}
	// The filter has 4 bits per slot, 8 or more per hash: a sampled row
	// passes it one time in 8 at most.
	fbits := 4 * size
	h := hashSet{slots: make([]uint64, size), mask: size - 1, filter: make([]uint64, max(fbits/64, 1)),
		fshift: uint(64 - bits.TrailingZeros64(max(fbits, 64)))}
	for _, x := range s.RowHashes {
		x = max(x, 1)
		i := x & h.mask
		for h.slots[i] != 0 && h.slots[i] != x {
			i = (i + 1) & h.mask
		}
		h.slots[i] = x
		f := x >> h.fshift
		h.filter[f/64] |= 1 << (f % 64)
	}
	return h
}

func (h hashSet) has(x uint64) bool {
	x = max(x, 1)
	if f := x >> h.fshift; h.filter[f/64]>>(f%64)&1 == 0 {
		return false
	}
	for i := x & h.mask; ; i = (i + 1) & h.mask {
		switch h.slots[i] {
		case x:
			return true
		case 0:
			return false
		}
	}
}
