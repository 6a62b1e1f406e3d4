// Package sample draws the rows a model is fitted on and the holdout the
// evaluation compares with, in one streaming pass over the input, in
// memory bounded by a byte budget instead of the input's size.
//
// A table whose rows fit the budget is used whole and split by the
// caller's own split function, so small tables (adult and the examples)
// are fitted exactly as before. A larger table is sampled:
//
//   - every row gets two priorities hashed from the seed and its index
//     (not from its content or arrival order), so the draw is a
//     deterministic function of the seed and the input;
//   - the holdout is the rows whose first priority is below the holdout
//     share, capped at HoldoutMax rows by the smallest priorities;
//   - the training sample is the Rows rows with the smallest second
//     priority (a bottom-k sample: uniform without replacement), plus, to
//     keep what a uniform sample loses, the Quota smallest-priority rows
//     of every value of a low-cardinality column (rare categories) and the
//     Tail rows with the smallest and largest values of every numeric
//     column of too many values to stratify (the tails; a stratified
//     column's extremes are its rare values, kept by their quotas).
//
// Because a value's quota rows are its smallest priorities, a common
// value's quota rows are already in the uniform sample: the additions are
// only rows of values too rare to be drawn Quota times, which shifts the
// training distribution by at most Quota rows per such value.
//
// A differentially private fit must not use Draw's sample: its guarantee
// would then need privacy amplification by subsampling, which this
// package does not prove. Callers pass Budget < 0 (All) for DP fits and
// for anonymisation (which transforms every row) to read every row.
package sample

import (
	"cmp"
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

const (
	// DefaultBudget is the memory the training sample may take: about
	// 260K rows of a 15-column table (see Capacity).
	DefaultBudget = 256 << 20
	// All as a Budget reads every row (DP fits, anonymisation).
	All = -1
	// BytesPerCell is the estimated memory of one kept cell and of the
	// row's own bookkeeping (a string header, the cell's bytes, and the
	// fitting's per-cell working set), from the measured ~800 bytes per
	// row of a 15-column table in the whole fit.
	BytesPerCell = 64
	// DefaultQuota is the rows kept of every value of a low-cardinality
	// column, when the uniform sample has fewer.
	DefaultQuota = 20
	// DefaultTail is the rows kept at each end of every numeric column.
	DefaultTail = 50
	// DefaultHoldoutMax caps the holdout of a sampled table when the
	// caller sets no cap.
	DefaultHoldoutMax = 20_000
	// maxStrata is the most distinct values a column may show in the
	// first Capacity rows to be stratified: beyond it the column is an
	// identifier or a measurement, not a category.
	maxStrata = 1000
	// numericShare is the share of non-empty cells in the first rows that
	// must parse as numbers for the column's tails to be kept.
	numericShare = 0.95
)

// Options configure Draw.
type Options struct {
	// Budget is the bytes the training sample may take; 0 means
	// DefaultBudget, All (any negative value) reads every row.
	Budget int64
	// Seed seeds the draw (the job's seed).
	Seed uint64
	// HoldoutShare is the share of a sampled table's rows set aside as the
	// holdout (0: none), capped at HoldoutMax rows (0: DefaultHoldoutMax).
	HoldoutShare float64
	HoldoutMax   int
	// Quota and Tail override DefaultQuota and DefaultTail (negative: none).
	Quota, Tail int
	// Split splits a table used whole into training rows and holdout; nil
	// keeps every row for training. It is the caller's existing split, so
	// tables under the budget are split exactly as without this package.
	Split func(*table.Table) (train, holdout *table.Table)
	// Profile, when set, profiles a sampled table in the same pass with
	// these options (profile.Stream: sketches, memory bounded like the
	// sample), so its profile describes every row, not the sample. A
	// table used whole is left to the caller's profile.Infer, which is
	// exact and what such tables always had.
	Profile *profile.Options

	// serial reads on the calling goroutine only (tests compare it with
	// the pipelined read).
	serial bool
}

// Result is what Draw read.
type Result struct {
	// Train and Holdout are the rows, in input order. Holdout may be nil
	// (no split) or empty.
	Train, Holdout *table.Table
	// Total is the rows read; Sampled says Train is a sample of them
	// rather than all rows outside the holdout.
	Total   int64
	Sampled bool
	// Profile is the profile of every row read, when Options.Profile is
	// set and the table was sampled; nil otherwise.
	Profile *profile.Profile
}

// Seen is the training rows the model sees.
func (r *Result) Seen() int64 { return int64(len(r.Train.Rows)) }

// Capacity is the training rows a budget holds for a table of cols
// columns (at least 1,000, so a very wide table is still sampled
// usefully); 0 for All.
func Capacity(budget int64, cols int) int {
	if budget < 0 {
		return 0
	}
	if budget == 0 {
		budget = DefaultBudget
	}
	per := int64(max(cols, 1)+1) * BytesPerCell
	return int(max(budget/per, 1000))
}

// ErrEmpty is returned for an input without rows.
var ErrEmpty = errors.New("the table has no rows")

// Draw reads r to the end and returns the training rows and the holdout.
//
// Once a table is known not to fit (it is being sampled), its remaining
// rows are read by a second goroutine in batches while this one samples
// and profiles them (see pipe), so parsing and sampling use two cores;
// the rows are offered in the same order, so the result is the same as a
// serial read's.
func Draw(ctx context.Context, r table.Reader, o Options) (*Result, error) {
	cols := slices.Clone(r.Columns())
	capRows := Capacity(o.Budget, len(cols))
	var buf [][]string
	var backing []string
	var s *stream
	var ps *profile.Stream
	var cw *columnWorkers // profile ps's batches
	var n int64
	// next returns a row and, when the pipe profiled it, its cells'
	// identifiers in the profile (profile.Stream.AddIDs).
	next := func() ([]string, []int32, []float64, error) {
		row, err := r.Read()
		return row, nil, nil, err
	}
	piped := false  // the pipe profiles the rows it reads
	var ids []int32 // the serial read's
	for ; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		row, rowIDs, rowNums, err := next()
		if err == io.EOF {
			break
		}
		if err == errCanceled {
			return nil, ctx.Err()
		}
		if pe, ok := err.(profileError); ok {
			// The pipe's profile failed on the row before.
			return nil, fmt.Errorf("sample.Draw: profile: %w", pe.err)
		}
		if err != nil {
			return nil, fmt.Errorf("sample.Draw: row %d: %w", n+1, err)
		}
		if s != nil {
			if ps != nil && !piped {
				ids = slices.Grow(ids[:0], len(row))[:len(row)]
				if err := ps.AddIDs(row, ids); err != nil {
					return nil, fmt.Errorf("sample.Draw: profile: %w", err)
				}
				rowIDs = ids
			}
			s.add(n, row, rowIDs, rowNums, false)
			continue
		}
		// Rows are carved from shared backing arrays (as table.ReadAll
		// does): one allocation per chunk of rows.
		if len(backing) < len(row) {
			backing = make([]string, max(len(row), len(cols))*1024)
		}
		k := copy(backing, row)
		buf = append(buf, backing[:k:k])
		backing = backing[k:]
		if capRows > 0 && len(buf) > capRows {
			// The table does not fit: sample from here on, the rows read
			// so far included (priorities depend on the index only).
			s = newStream(o, capRows, len(cols), buf)
			parallel := !o.serial && runtime.GOMAXPROCS(0) > 1
			if o.Profile != nil {
				// The profile chooses kinds on a uniform part of the
				// training sample rather than a reservoir of its own.
				if ps, err = profile.NewSharedStream(cols, *o.Profile); err != nil {
					return nil, fmt.Errorf("sample.Draw: profile: %w", err)
				}
				// The rows read so far are profiled on the column workers
				// while this one samples them (neither changes them).
				cw = startColumns(ps, s.numeric, parallel, (len(buf)+batchRows-1)/batchRows)
				defer cw.stop()
				for at := 0; at < len(buf); at += batchRows {
					b, err := ps.Begin(buf[at:min(at+batchRows, len(buf))], nil)
					if err != nil {
						return nil, fmt.Errorf("sample.Draw: profile: %w", err)
					}
					cw.add(b, nil, nil, nil)
				}
			}
			if parallel {
				// The rest of a large table is read on another goroutine,
				// and profiled on the column workers, while this one
				// samples the rows read so far (the batches queue behind
				// theirs).
				p := startPipe(ctx, r, ps, cw)
				defer p.stop()
				next, piped = p.read, true
			}
			for i, row := range buf {
				// Copied again when kept: a buffered row shares its
				// backing array with 1,023 others, which it would pin.
				s.add(int64(i), row, nil, nil, false)
			}
			buf, backing = nil, nil
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("sample.Draw: %w", ErrEmpty)
	}
	if s == nil {
		t := &table.Table{Columns: cols, Rows: buf}
		res := &Result{Train: t, Total: n}
		if o.Split != nil {
			res.Train, res.Holdout = o.Split(t)
		}
		return res, nil
	}
	train, holdout := s.result()
	res := &Result{Train: &table.Table{Columns: cols, Rows: train}, Total: n, Sampled: true}
	if ps != nil {
		cw.stop() // every batch is profiled
		var err error
		if res.Profile, err = ps.ProfileOf(s.uniform(ps.SampleSize())); err != nil {
			return nil, fmt.Errorf("sample.Draw: profile: %w", err)
		}
	}
	if o.HoldoutShare > 0 {
		res.Holdout = &table.Table{Columns: cols, Rows: holdout}
	}
	return res, nil
}

const (
	// batchRows is the rows of one batch a pipe hands over: large enough
	// that a channel operation a batch costs nothing per row, small
	// enough that the batches in flight take a few MB.
	batchRows = 4096
	// batches is the batches a pipe owns (one being filled, one being
	// consumed, the rest queued): the memory it holds is bounded by them.
	batches = 4
)

// errCanceled is a pipe's report that the context was canceled.
var errCanceled = errors.New("sample: canceled")

// profileError is a pipe's report that its profile failed on the row
// before (a serial read reports it after sampling that row).
type profileError struct{ err error }

func (e profileError) Error() string { return e.err.Error() }

// batch is rows read ahead: row k is cells[ends[k-1]:ends[k]]. The
// cells are the reader's strings (immutable); only the row slices, which
// a reader may reuse, are copied.
type batch struct {
	cells []string
	ids   []int32 // each cell's identifier in the profile, or -1
	// nums holds each cell of a column of tails as a number (see
	// stream.train), worked out by the column workers.
	nums   []float64
	ends   []int
	rows   [][]string
	starts []int // row k's first cell in cells (and ids)
	err    error // after the rows: the read's error (io.EOF at the end)
	// profiled is done once the column workers set ids.
	profiled sync.WaitGroup
	release  func() // gives rows lent by table.RowsReader back
}

// pipe reads a table.Reader on its own goroutine, batches of rows at a
// time, for one consumer calling read, and begins each batch on a profile
// stream (when not nil) whose columns the column workers profile; the
// consumer must leave the stream alone until the pipe reported the end or
// an error (or stopped) and the workers stopped. The batches circulate
// between a free list and the queue of full ones, so memory stays bounded
// however far the reader could run ahead.
type pipe struct {
	full, free chan *batch
	quit       chan struct{}
	done       chan struct{}
	cur        *batch
	k          int
	profiled   bool // the batches carry profile identifiers
}

func startPipe(ctx context.Context, r table.Reader, ps *profile.Stream, cw *columnWorkers) *pipe {
	p := &pipe{full: make(chan *batch, batches), free: make(chan *batch, batches),
		quit: make(chan struct{}), done: make(chan struct{}), profiled: ps != nil}
	for range batches {
		p.free <- &batch{}
	}
	go p.run(ctx, r, ps, cw)
	return p
}

// run fills batches until the reader fails or ends (the batch carrying the
// error is the last) or the consumer stops.
func (p *pipe) run(ctx context.Context, r table.Reader, ps *profile.Stream, cw *columnWorkers) {
	defer close(p.done)
	width := -1 // any
	if ps != nil {
		width = ps.Columns()
	}
	rr, _ := r.(table.RowsReader)
	for {
		var b *batch
		select {
		case b = <-p.free:
		case <-p.quit:
			return
		}
		b.cells, b.ids, b.ends, b.err = b.cells[:0], b.ids[:0], b.ends[:0], nil
		b.rows, b.starts = b.rows[:0], b.starts[:0]
		if ctx.Err() != nil {
			b.err = errCanceled
		}
		if b.err == nil && rr != nil {
			// A chunk's rows as the reader parsed them, lent until the
			// batch comes back (see read).
			b.rows, b.release, b.err = rr.ReadRows(b.rows)
			if b.err == table.ErrNoBatch {
				rr, b.err = nil, nil // Read from here on
			}
		}
		if b.err == nil && rr == nil {
			p.fill(r, b, width)
		}
		cells := 0
		for _, row := range b.rows {
			b.starts = append(b.starts, cells)
			cells += len(row)
		}
		if ps != nil {
			b.ids = slices.Grow(b.ids, cells)[:cells]
			for i := range b.ids {
				b.ids[i] = -1
			}
			b.nums = slices.Grow(b.nums, cells)[:cells]
			pb, err := ps.Begin(b.rows, b.ids)
			if err != nil {
				// The rows after the one the profile rejects are not
				// read (as a serial read stops there).
				b.rows, b.err = b.rows[:pb.Rows()+1], profileError{err}
			}
			cw.add(pb, b.rows, b.nums, &b.profiled)
		}
		select {
		case p.full <- b:
		case <-p.quit:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// fill reads a batch of rows with Read, copying the cells (a Reader may
// reuse its row), up to a row of other than width cells (when width >= 0).
func (p *pipe) fill(r table.Reader, b *batch, width int) {
	for len(b.ends) < batchRows {
		row, err := r.Read()
		if err != nil {
			b.err = err
			break
		}
		b.cells = append(b.cells, row...)
		b.ends = append(b.ends, len(b.cells))
		if width >= 0 && len(row) != width {
			break // the profile rejects it (see run): the batch's last
		}
	}
	start := 0
	for _, end := range b.ends {
		b.rows = append(b.rows, b.cells[start:end:end])
		start = end
	}
}

// read returns the next row, its cells' identifiers in the profile and
// the numbers of the columns whose tails the sample keeps (number, NaN for
// none; both nil without a profile), lent until the next call, like a
// Reader's row.
func (p *pipe) read() ([]string, []int32, []float64, error) {
	for {
		if p.cur != nil {
			if p.k < len(p.cur.rows) {
				p.k++
				row := p.cur.rows[p.k-1]
				var ids []int32
				var nums []float64
				if p.profiled {
					start := p.cur.starts[p.k-1]
					ids = p.cur.ids[start : start+len(row)]
					nums = p.cur.nums[start : start+len(row)]
				}
				return row, ids, nums, nil
			}
			if p.cur.err != nil {
				return nil, nil, nil, p.cur.err
			}
			if p.cur.release != nil {
				p.cur.release() // the reader's rows, done with
				p.cur.release = nil
			}
			p.free <- p.cur // never blocks: the free list holds every batch
		}
		p.cur, p.k = <-p.full, 0
		p.cur.profiled.Wait()
	}
}

// stop ends the reading goroutine and waits for it: the reader is the
// caller's again (to close) once stop returns.
func (p *pipe) stop() {
	close(p.quit)
	<-p.done
}

// columnWorkers profile the columns of batches begun on a profile stream,
// each worker its stripe of the columns of every batch in the order the
// batches were added, so each column sees its cells in row order.
type columnWorkers struct {
	cols    int
	numeric []bool           // the sample's columns of tails
	in      []chan columnJob // one a worker; none: add profiles inline
	wg      sync.WaitGroup
	once    sync.Once
}

type columnJob struct {
	b *profile.Batch
	// rows and nums: the numbers of rows' cells of numeric columns are
	// parsed into nums (when not nil) while the cells are fresh in the
	// worker's cache.
	rows [][]string
	nums []float64
	done *sync.WaitGroup // nil: nobody waits for this batch alone
}

// startColumns starts the workers for ps, or none when not parallel; the
// first queued batches are added without waiting for the workers.
func startColumns(ps *profile.Stream, numeric []bool, parallel bool, queued int) *columnWorkers {
	w := &columnWorkers{cols: ps.Columns(), numeric: numeric}
	if !parallel {
		return w
	}
	// A worker a core, each a stripe of the columns, a row at a time (a
	// goroutine a column reads every row once for each column: more CPU
	// in cache misses than the spreading saves). Which worker profiles
	// which column changes nothing profiled.
	w.in = make([]chan columnJob, min(w.cols, runtime.GOMAXPROCS(0)))
	for g := range w.in {
		ch := make(chan columnJob, queued+batches)
		w.in[g] = ch
		w.wg.Go(func() {
			for job := range ch {
				job.b.Stripe(g, len(w.in))
				for j := g; j < w.cols; j += len(w.in) {
					w.numbers(job, j)
				}
				if job.done != nil {
					job.done.Done()
				}
			}
		})
	}
	return w
}

// add queues b's columns and, when nums is not nil, the numbers of rows'
// numeric cells; done, when not nil, is done once they are.
func (w *columnWorkers) add(b *profile.Batch, rows [][]string, nums []float64, done *sync.WaitGroup) {
	job := columnJob{b: b, rows: rows, nums: nums, done: done}
	if len(w.in) == 0 {
		b.Stripe(0, 1)
		for j := range w.cols {
			w.numbers(job, j)
		}
		return
	}
	if done != nil {
		done.Add(len(w.in))
	}
	for _, ch := range w.in {
		ch <- job
	}
}

// numbers parses column j of a job's rows into its nums, for a column of
// tails (see stream.train); NaN stands for a cell that is not a number.
func (w *columnWorkers) numbers(job columnJob, j int) {
	if job.nums == nil || !w.numeric[j] {
		return
	}
	at := 0
	for _, row := range job.rows {
		if j < len(row) {
			f, ok := number(row[j])
			if !ok {
				f = math.NaN()
			}
			job.nums[at+j] = f
		}
		at += len(row)
	}
}

// stop waits for the batches added and ends the workers; the stream is
// the caller's again. It may be called more than once.
func (w *columnWorkers) stop() {
	if w == nil {
		return
	}
	w.once.Do(func() {
		for _, ch := range w.in {
			close(ch)
		}
		w.wg.Wait()
	})
}

// entry is one kept row.
type entry struct {
	i   int64   // index in the input
	v   uint64  // training priority: smaller is kept first
	key float64 // heap key (priority, or value for tails)
	row []string
}

// maxHeap keeps the entries with the smallest keys: its top is the
// largest, the first to go. Ties are broken by index so the result does
// not depend on the order rows arrive in.
type maxHeap []*entry

func (h maxHeap) Len() int { return len(h) }
func (h maxHeap) Less(a, b int) bool {
	if h[a].key != h[b].key {
		return h[a].key > h[b].key
	}
	return h[a].i > h[b].i
}
func (h maxHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *maxHeap) Push(x any)   { *h = append(*h, x.(*entry)) }
func (h *maxHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// offer keeps e if it is among the limit smallest keys; it returns the
// entry that left (e itself when it is not kept), or nil.
func (h *maxHeap) offer(e *entry, limit int) *entry {
	if limit <= 0 {
		return e
	}
	if len(*h) < limit {
		heap.Push(h, e)
		return nil
	}
	top := (*h)[0]
	if e.key > top.key || (e.key == top.key && e.i > top.i) {
		return e
	}
	(*h)[0] = e
	heap.Fix(h, 0)
	return top
}

// bottomK keeps the k entries of smallest (v, i). Candidates below the
// current threshold are appended and, at 1.25k, cut back to the k smallest:
// amortised constant work a row, where a heap of k entries pays log k
// comparisons for each of the k·ln(n/k) rows that enter it.
type bottomK struct {
	e    []*entry
	full bool // thrV/thrI hold the k-th smallest so far
	thrV uint64
	thrI int64
}

// admits reports whether (v, i) is below the threshold.
func (b *bottomK) admits(i int64, v uint64) bool {
	return !b.full || v < b.thrV || (v == b.thrV && i < b.thrI)
}

func (b *bottomK) add(e *entry, k int) {
	b.e = append(b.e, e)
	if len(b.e) >= k+k/4+1 {
		b.compact(k, false)
	}
}

// compact keeps the k smallest entries and sets the threshold. They are
// selected, not sorted (linear work where a sort of 1.25k entries was
// most of the sampler's time); sorted sorts them by priority as well.
func (b *bottomK) compact(k int, sorted bool) {
	if len(b.e) < k {
		return
	}
	selectSmallest(b.e, k)
	clear(b.e[k:]) // release the rows dropped
	b.e = b.e[:k]
	if sorted {
		slices.SortFunc(b.e, compareEntries)
	}
	b.full, b.thrV, b.thrI = true, b.e[k-1].v, b.e[k-1].i
}

// compareEntries orders entries by (priority, index): a total order, as
// indices are unique.
func compareEntries(x, y *entry) int {
	if c := cmp.Compare(x.v, y.v); c != 0 {
		return c
	}
	return cmp.Compare(x.i, y.i)
}

// selectSmallest moves the k smallest entries of e (by compareEntries) to
// e[:k], the largest of them to e[k-1] (quickselect; 0 < k <= len(e)).
func selectSmallest(e []*entry, k int) {
	lo, hi := 0, len(e)-1
	target := k - 1
	for lo < hi {
		// The median of three as pivot, moved to hi.
		mid := lo + (hi-lo)/2
		if compareEntries(e[mid], e[lo]) < 0 {
			e[mid], e[lo] = e[lo], e[mid]
		}
		if compareEntries(e[hi], e[lo]) < 0 {
			e[hi], e[lo] = e[lo], e[hi]
		}
		if compareEntries(e[mid], e[hi]) < 0 {
			e[mid], e[hi] = e[hi], e[mid]
		}
		pv, pi := e[hi].v, e[hi].i
		at := lo
		for j := lo; j < hi; j++ {
			if x := e[j]; x.v < pv || (x.v == pv && x.i < pi) {
				e[at], e[j] = e[j], e[at]
				at++
			}
		}
		e[at], e[hi] = e[hi], e[at]
		switch {
		case at == target:
			return
		case at < target:
			lo = at + 1
		default:
			hi = at - 1
		}
	}
}

// stream is the sampling state of a table larger than the budget.
type stream struct {
	seed      uint64
	share     float64
	holdMax   int
	k         int
	quota     int
	tail      int
	holdout   maxHeap
	main      bottomK
	strata    []map[string]*maxHeap // per column; nil: not stratified
	byID      [][]stratumRef        // per column: strata by profile identifier
	quotas    []int                 // per stratified column
	numeric   []bool
	low, high []maxHeap // per numeric column; high's keys are negated
}

func newStream(o Options, k, cols int, first [][]string) *stream {
	s := &stream{seed: o.Seed, share: o.HoldoutShare, holdMax: o.HoldoutMax, k: k,
		quota: o.Quota, tail: o.Tail}
	if s.holdMax <= 0 {
		s.holdMax = DefaultHoldoutMax
	}
	if s.quota == 0 {
		s.quota = DefaultQuota
	}
	if s.tail == 0 {
		s.tail = DefaultTail
	}
	s.strata = make([]map[string]*maxHeap, cols)
	s.byID = make([][]stratumRef, cols)
	s.numeric = make([]bool, cols)
	s.quotas = make([]int, cols)
	s.low, s.high = make([]maxHeap, cols), make([]maxHeap, cols)
	// Which columns are categories and which numbers is judged on the
	// first rows, which are at least the sample's size.
	for c := range cols {
		seen := map[string]bool{}
		var filled, nums int
		for _, row := range first {
			if c >= len(row) {
				continue
			}
			v := row[c]
			if len(seen) <= maxStrata {
				seen[v] = true
			}
			if strings.TrimSpace(v) == "" {
				continue
			}
			filled++
			if _, ok := number(v); ok {
				nums++
			}
		}
		if s.quota > 0 && len(seen) <= maxStrata {
			s.strata[c] = make(map[string]*maxHeap, len(seen))
			// The quotas of all stratified columns together may add at
			// most a tenth of the sample (and at least one row a value):
			// a column of many values keeps fewer rows of each.
			s.quotas[c] = min(s.quota, max(1, k/(10*cols*len(seen))))
		}
		// A stratified numeric column keeps its extremes already: they
		// are its rarest values. Only many-valued ones need their tails
		// (and this spares parsing most numeric cells).
		s.numeric[c] = s.tail > 0 && s.strata[c] == nil && filled > 0 && float64(nums) >= numericShare*float64(filled)
	}
	return s
}

// number parses a numeric cell; NaN and infinities are not tails.
func number(v string) (float64, bool) {
	v = strings.TrimSpace(v)
	// Words are rejected before ParseFloat, whose error allocates.
	if v == "" || !strings.ContainsRune("+-.0123456789", rune(v[0])) {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// mix is SplitMix64's finaliser: a well-mixed 64-bit hash.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

const (
	saltHoldout = 0x686f6c646f7574 // "holdout"
	saltTrain   = 0x747261696e     // "train"
)

// priority is row i's priority for salt, uniform on [0, 2^64).
func (s *stream) priority(i int64, salt uint64) uint64 {
	return mix(mix(s.seed^salt) + uint64(i)*0x9e3779b97f4a7c15)
}

// add offers row i to the holdout or the training stores; owned says the
// row is the stream's to keep (else the caller may reuse it). ids, when
// not nil, are the row's cell identifiers in the profile (see train).
func (s *stream) add(i int64, row []string, ids []int32, nums []float64, owned bool) {
	if s.share > 0 {
		u := float64(s.priority(i, saltHoldout)>>11) / (1 << 53)
		if u < s.share {
			if !owned {
				row = slices.Clone(row)
			}
			e := &entry{i: i, key: u, row: row}
			if out := s.holdout.offer(e, s.holdMax); out != nil {
				s.train(out.i, out.row, nil, nil, true)
			}
			return
		}
	}
	s.train(i, row, ids, nums, owned)
}

// train offers row i to the uniform sample and the strata; owned says the
// row is a copy already.
//
// A stratified column's heap of a cell is found by the cell's profile
// identifier when it has one (ids[c] >= 0; the profile hashed the cell
// already), else by the cell itself; both find the same heap, as an
// identifier stands for one raw cell and byID remembers what the map gave.
func (s *stream) train(i int64, row []string, ids []int32, nums []float64, owned bool) {
	v := s.priority(i, saltTrain)
	p := pending{i: i, v: v, row: row, owned: owned}
	keep := p.entry
	if s.main.admits(i, v) {
		s.main.add(keep(), s.k)
	}
	for c, m := range s.strata {
		if m == nil || c >= len(row) {
			continue
		}
		var h *maxHeap
		id := int32(-1)
		if ids != nil {
			id = ids[c]
		}
		if id >= 0 && int(id) < len(s.byID[c]) && s.byID[c][id].known {
			h = s.byID[c][id].h
		} else {
			h = m[row[c]]
			if h == nil && len(m) < maxStrata {
				h = &maxHeap{}
				m[strings.Clone(row[c])] = h
			}
			// Beyond the first maxStrata values a cell is not a category
			// after all, and never will be: nil is remembered as well.
			if id >= 0 {
				if int(id) >= len(s.byID[c]) {
					s.byID[c] = slices.Grow(s.byID[c], int(id)+1-len(s.byID[c]))[:id+1]
				}
				s.byID[c][id] = stratumRef{h: h, known: true}
			}
		}
		if h == nil {
			continue
		}
		if len(*h) < s.quotas[c] || v < (*h)[0].v {
			h.offer(keep(), s.quotas[c])
		}
	}
	for c, isNum := range s.numeric {
		if !isNum || c >= len(row) {
			continue
		}
		var f float64
		var ok bool
		if nums != nil {
			f = nums[c]
			ok = !math.IsNaN(f)
		} else {
			f, ok = number(row[c])
		}
		if !ok {
			continue
		}
		if len(s.low[c]) < s.tail || f < s.low[c][0].key {
			s.low[c].offer(&entry{i: i, v: v, key: f, row: keep().row}, s.tail)
		}
		if len(s.high[c]) < s.tail || -f < s.high[c][0].key {
			s.high[c].offer(&entry{i: i, v: v, key: -f, row: keep().row}, s.tail)
		}
	}
}

// stratumRef is what a stratified column's map gave for a cell: its heap,
// or nil for a cell beyond the first maxStrata values.
type stratumRef struct {
	h     *maxHeap
	known bool
}

// pending is a row offered to the stores: it is copied (once) only when
// a store keeps it, as most rows of a large table are not kept.
type pending struct {
	i     int64
	v     uint64
	row   []string
	owned bool
	e     *entry
}

func (p *pending) entry() *entry {
	if p.e == nil {
		if !p.owned {
			p.row = slices.Clone(p.row)
		}
		p.e = &entry{i: p.i, v: p.v, key: float64(p.v), row: p.row}
	}
	return p.e
}

// result is the training sample and the holdout, each in input order.
func (s *stream) result() (train, holdout [][]string) {
	kept := map[int64][]string{}
	s.main.compact(s.k, true) // uniform takes the smallest priorities
	for _, e := range s.main.e {
		kept[e.i] = e.row
	}
	for _, m := range s.strata {
		for _, h := range m {
			for _, e := range *h {
				kept[e.i] = e.row
			}
		}
	}
	for c := range s.numeric {
		for _, h := range []maxHeap{s.low[c], s.high[c]} {
			for _, e := range h {
				kept[e.i] = e.row
			}
		}
	}
	return inOrder(kept), inOrder(entries(s.holdout))
}

// uniform is the m rows of the uniform sample with the smallest
// priorities, in input order: a uniform sample of the rows outside the
// holdout (priorities hash the row index, not its content), which is what
// a profile chooses kinds and formats on. Call after result.
func (s *stream) uniform(m int) [][]string {
	e := s.main.e[:min(m, len(s.main.e))] // compacted: by priority
	kept := make(map[int64][]string, len(e))
	for _, x := range e {
		kept[x.i] = x.row
	}
	return inOrder(kept)
}

func entries(h maxHeap) map[int64][]string {
	m := make(map[int64][]string, len(h))
	for _, e := range h {
		m[e.i] = e.row
	}
	return m
}

func inOrder(m map[int64][]string) [][]string {
	idx := make([]int64, 0, len(m))
	for i := range m {
		idx = append(idx, i)
	}
	slices.SortFunc(idx, cmp.Compare[int64])
	rows := make([][]string, len(idx))
	for k, i := range idx {
		rows[k] = m[i]
	}
	return rows
}
