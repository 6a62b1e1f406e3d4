package synth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/table"
)

// Parallel sampling.
//
// A sample's rows come in blocks whose random streams derive only from
// (seed, block index), and Model.Sample(n, i, k) writes exactly the blocks
// of shard i of k. SampleParallel uses only that contract, so it serves
// every Model (tree, copula, DP): it cuts the requested shard into tasks of
// a few consecutive blocks, each expressed as one Sample call (see
// taskCall), samples tasks on all cores into flat buffers, and feeds the
// writer strictly in task order through a reorder window of 2 × workers
// tasks. Memory stays flat (the window, not the sample, is buffered) and
// the output is byte-identical to m.Sample's whatever the number of workers.

// Task sizes. A task pays one Sample call's setup (the drawer, which for the
// tree grows with its leaves, and for models that build it per call the
// exact-copy guard's hash set, which grows with the training rows; tree and
// copula build that set once, in prepare), so tasks grow with the training set (see taskBlocks), from minTaskBlocks to
// maxTaskBlocks blocks, but a task's buffered cells stay within
// MaxTaskBytes (estimated at BytesPerCell a cell) unless one block is
// larger: the reorder window holds at most 2 × workers tasks.
const (
	minTaskBlocks = 4
	maxTaskBlocks = 64
	MaxTaskBytes  = 16 << 20
	BytesPerCell  = 12 // a short cell's bytes and its 4-byte end offset
)

// SampleParallel writes to w the rows m.Sample(ctx, n, shard, shards,
// seed, opts, w) writes, in the same order, sampling on `workers`
// goroutines (GOMAXPROCS when workers ≤ 0). opts.Progress is called from
// the caller's goroutine after each task written. A stateful Accept (rules
// with unique constraints remember the rows they accepted, so what they
// accept depends on row order) cannot be shared by workers, so with
// opts.Accept set, or a single worker, or a shard of one task, it is
// m.Sample itself. The first error (a task's, the writer's or the
// context's) stops every worker and is returned.
func SampleParallel(ctx context.Context, m Model, n int64, shard, shards int, seed uint64, opts SampleOptions, w RowWriter, workers int) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if n < 0 || shards < 1 || shard < 0 || shard >= shards || w == nil || m == nil {
		return fmt.Errorf("synth.SampleParallel: n=%d shard=%d shards=%d: %w", n, shard, shards, ErrInvalid)
	}
	per := taskBlocks(m, len(m.Columns()))
	b0, b1 := shardBlocks(n, shard, shards)
	if workers == 1 || opts.Accept != nil || b1-b0 <= per {
		return m.Sample(ctx, n, shard, shards, seed, opts, w)
	}
	return sampleOrdered(ctx, m, n, b0, b1, per, seed, opts, w, workers)
}

// task is one Sample call whose rows are blocks [b0, b1) of the sample.
type task struct {
	seq           int
	n             int64
	shard, shards int
	rows          int64
}

// taskCall returns the arguments of a Sample call writing exactly blocks
// [t0, t1) of an n-row sample (nb blocks), with 1 ≤ t1-t0 ≤ want. Shard
// k-1 of k of an n'-row sample with n' rows ending at block t1 covers
// [t1 - ⌈t1/k⌉, t1): blocks before t1 are full blocks in both samples and
// the block stream depends only on its index, so those rows are the n-row
// sample's. Not every length is reachable for small t1; a shorter one is
// taken then (length 1, k = t1, always is).
func taskCall(n int64, nb, t0, want uint64) (nn int64, shard, shards int, t1 uint64) {
	for l := want; ; l-- {
		t1 = t0 + l
		nn = n
		if t1 < nb {
			nn = int64(t1) * BlockRows
		}
		k := (t1 + l - 1) / l
		if lo, hi := shardBlocks(nn, int(k-1), int(k)); lo == t0 && hi == t1 {
			return nn, int(k - 1), int(k), t1
		}
	}
}

// taskBlocks picks the blocks per task for m with cols columns: rows at
// least the training rows, so that building the exact-copy guard (about one
// insert per training row) costs a few percent of sampling (a row costs
// some tens of inserts), within the bounds above.
func taskBlocks(m Model, cols int) uint64 {
	var hashes int
	switch m := model.Unwrap(m).(type) {
	case *Tree:
		hashes = len(m.Schema.RowHashes)
	case *Copula:
		hashes = len(m.Schema.RowHashes)
	}
	b := min(max(uint64(hashes)/BlockRows, minTaskBlocks), maxTaskBlocks)
	return max(min(b, MaxTaskBytes/(BlockRows*BytesPerCell*uint64(max(cols, 1)))), 1)
}

// flatRows holds a task's rows as one byte buffer and cell end offsets:
// about the size of the CSV, with no string headers for the collector to
// scan. A buffer is never reused once filled, because a RowWriter may keep
// the strings it is given.
type flatRows struct {
	cells []byte
	ends  []uint32
	ncol  int
	n     int64 // rows
}

var errTaskTooBig = errors.New("synth: a sampling task exceeds 4 GB")

func (f *flatRows) Write(row []string) error {
	if f.n == 0 {
		f.ncol = len(row)
	}
	f.n++
	if len(row) != f.ncol {
		return fmt.Errorf("synth: row of %d cells after rows of %d: %w", len(row), f.ncol, ErrInvalid)
	}
	for _, c := range row {
		f.cells = append(f.cells, c...)
		if len(f.cells) > math.MaxUint32 {
			return errTaskTooBig
		}
		f.ends = append(f.ends, uint32(len(f.cells)))
	}
	return nil
}

// replay writes the rows to w; row is scratch space.
func (f *flatRows) replay(w RowWriter, row []string) error {
	if f.ncol == 0 { // rows of no cells
		for range f.n {
			if err := w.Write(row[:0]); err != nil {
				return err
			}
		}
		return nil
	}
	var s string
	if len(f.cells) > 0 {
		s = unsafe.String(&f.cells[0], len(f.cells))
	}
	row = row[:0]
	start := uint32(0)
	for i, e := range f.ends {
		row = append(row, s[start:e])
		start = e
		if (i+1)%f.ncol == 0 {
			if err := w.Write(row); err != nil {
				return err
			}
			row = row[:0]
		}
	}
	return nil
}

// encodedRows holds a task's rows as the writer's own encoding (CSV, TSV or
// JSON Lines bytes), made by the worker with the writer's RowEncoder, so
// that the ordered writer goroutine only copies bytes. Unlike flatRows its
// buffer is reused: the writer's io.Writer does not keep the bytes.
type encodedRows struct {
	enc table.RowEncoder
	buf []byte
	n   int64
	// bad is a copy of the first row the encoder refused: the writer goroutine
	// passes it to Write, so that the writer fails as it would have in
	// m.Sample, with its own row number and state.
	bad []string
}

// errRefused stops a task at a row the encoder refused (see encodedRows.bad).
var errRefused = errors.New("synth: row refused by the writer's encoder")

func (e *encodedRows) Write(row []string) error {
	if e.bad != nil { // nothing after a refused row
		return errRefused
	}
	b, err := e.enc.AppendRow(e.buf, row, int(e.n)+1)
	if err != nil {
		e.bad = slices.Clone(row)
		return errRefused
	}
	e.buf = b
	e.n++
	return nil
}

type taskResult struct {
	rows *flatRows
	enc  *encodedRows
	err  error
}

// rowCount is the number of rows the result holds (a refused row excluded).
func (r *taskResult) rowCount() int64 {
	if r.enc != nil {
		return r.enc.n
	}
	return r.rows.n
}

// byteLen is the size of the rows' bytes.
func (r *taskResult) byteLen() int {
	if r.enc != nil {
		return len(r.enc.buf)
	}
	return len(r.rows.cells)
}

// writeEncoded hands a task's encoded rows to the writer; a row the
// encoder refused then goes through w.Write, which fails as it would have
// in m.Sample.
func writeEncoded(ew table.Encoding, w RowWriter, e *encodedRows) error {
	if len(e.buf) > 0 || e.n > 0 {
		if err := ew.WriteEncoded(e.buf, int(e.n)); err != nil {
			return err
		}
	}
	if e.bad == nil {
		return nil
	}
	if err := w.Write(e.bad); err != nil {
		return err
	}
	return fmt.Errorf("row refused by the encoder but accepted by Write: %w", ErrInvalid)
}

func sampleOrdered(parent context.Context, m Model, n int64, b0, b1, per uint64, seed uint64, opts SampleOptions, w RowWriter, workers int) error {
	ctx, cancel := context.WithCancelCause(parent)
	window := 2 * workers
	slots := make([]chan taskResult, window)
	for i := range slots {
		slots[i] = make(chan taskResult, 1)
	}
	// tokens bound the tasks dispatched but not yet written to the window,
	// so slot seq%window is free when task seq is dispatched.
	tokens := make(chan struct{}, window)
	jobs := make(chan task)
	nb := (uint64(n) + BlockRows - 1) / BlockRows
	var wg sync.WaitGroup
	defer func() { // no goroutine outlives the call
		cancel(nil)
		wg.Wait()
	}()

	wg.Go(func() {
		defer close(jobs)
		for seq, t0 := 0, b0; t0 < b1; seq++ {
			nn, i, k, t1 := taskCall(n, nb, t0, min(per, b1-t0))
			rows := min(int64(t1)*BlockRows, n) - int64(t0)*BlockRows
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- task{seq: seq, n: nn, shard: i, shards: k, rows: rows}:
			case <-ctx.Done():
				return
			}
			t0 = t1
		}
	})
	topts := opts
	topts.Progress = nil
	ncol := len(m.Columns())
	// perRow is the most bytes a row took in a task so far, at first a
	// short cell's bytes a cell: buffers are made for a task's rows at that
	// rate plus an eighth, so that they rarely grow. Every growth is a copy,
	// and garbage: growing a task's buffer from empty (by a quarter at a
	// time) allocates five times its size, whose collection, with a large
	// live heap, took workers a few percent of their cores.
	perRow := int64(ncol) * (BytesPerCell - 4)
	var hintMu sync.Mutex
	sizeFor := func(rows int64) int {
		hintMu.Lock()
		defer hintMu.Unlock()
		return int(min(rows*perRow+rows*perRow/8, math.MaxInt32))
	}
	// free holds encoded buffers the writer goroutine is done with: at most
	// window+workers buffers ever exist.
	free := make(chan []byte, window+workers)
	var encoder table.RowEncoder
	var ew table.Encoding
	if e, ok := w.(table.Encoding); ok {
		if encoder = e.RowEncoder(); encoder != nil {
			ew = e
		}
	}
	for range workers {
		wg.Go(func() {
			for t := range jobs {
				h := sizeFor(t.rows)
				var res taskResult
				var tw RowWriter
				if encoder != nil {
					var b []byte
					select {
					case b = <-free:
					default:
					}
					if cap(b) < h*8/9 { // too small for the task's rows: it would grow
						b = make([]byte, 0, h)
					}
					res.enc = &encodedRows{enc: encoder, buf: b[:0]}
					tw = res.enc
				} else {
					res.rows = &flatRows{cells: make([]byte, 0, h), ends: make([]uint32, 0, t.rows*int64(ncol))}
					tw = res.rows
				}
				err := m.Sample(ctx, t.n, t.shard, t.shards, seed, topts, tw)
				switch {
				case err != nil && res.enc != nil && res.enc.bad != nil:
					// The sample stopped at a row the encoder refused: the
					// writer goroutine passes it to Write, which reports it.
				case err != nil:
					res.err = fmt.Errorf("synth.SampleParallel: %w", err)
					cancel(res.err)
				case res.rowCount() != t.rows:
					res.err = fmt.Errorf("synth.SampleParallel: task %d wrote %d rows, want %d: %w", t.seq, res.rowCount(), t.rows, ErrInvalid)
					cancel(res.err)
				}
				if n := res.rowCount(); n > 0 {
					used := res.byteLen()
					hintMu.Lock()
					perRow = max(perRow, (int64(used)+n-1)/n)
					hintMu.Unlock()
				}
				slots[t.seq%window] <- res
			}
		})
	}

	total := int64(min(b1*BlockRows, uint64(n)) - b0*BlockRows)
	var done int64
	row := make([]string, 0, ncol)
	for seq := 0; done < total; seq++ {
		var res taskResult
		select {
		case res = <-slots[seq%window]:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if res.err != nil {
			if ctx.Err() != nil {
				// A task canceled because a later one failed reports the
				// cancellation; the failure is the cause.
				return context.Cause(ctx)
			}
			return res.err
		}
		var err error
		if res.enc != nil {
			err = writeEncoded(ew, w, res.enc)
			select {
			case free <- res.enc.buf:
			default:
			}
		} else {
			err = res.rows.replay(w, row)
		}
		if err != nil {
			err = fmt.Errorf("synth.SampleParallel: write: %w", err)
			cancel(err)
			return err
		}
		done += res.rowCount()
		<-tokens
		if opts.Progress != nil {
			opts.Progress(done)
		}
	}
	return nil
}
