package profile

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/axiomhq/hyperloglog"
	"github.com/influxdata/tdigest"

	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/table"
)

const (
	// headRows is how many first rows choose each column's candidate
	// datetime layout, which the stream then parses every cell with.
	headRows = 1000
	// topK is the counters a column's frequency sketch keeps: the mode is
	// exact for a column of at most topK values, and any value more
	// frequent than 1/(topK+1) of the cells is always among them.
	topK = 64
	// digestCompression trades a t-digest's size (a few hundred
	// centroids) against its accuracy (well under 1% of rank at the tails).
	digestCompression = 100
)

// Stream profiles a table in one pass over its rows in memory that does
// not grow with them, for inputs too large to hold (package sample fits a
// model on a bounded sample of such a table, but the profile must still
// describe every row):
//
//   - kinds, formats, PII detection, ID and PII patterns and relations are
//     chosen, as Infer chooses them, on a seeded reservoir sample of
//     Options.Sample rows (uniform over the whole input, where Infer takes
//     evenly spaced rows of a table it holds);
//   - missing counts and numeric bounds and precision are exact over every
//     row, as Infer's rescan makes them;
//   - distinct counts come from a HyperLogLog sketch (about 1% error),
//     the mode of a categorical column from a Misra-Gries frequency sketch
//     of topK counters, and numeric and datetime quantiles from t-digests;
//   - datetime bounds cover every row when the layout chosen on the first
//     headRows rows is the column's final layout, else the reservoir's.
//
// A table of at most Options.Sample rows is held whole by the reservoir
// and profiled by Infer itself: small inputs keep exact statistics (and
// the profile they always had), since holding them costs no more than the
// reservoir does for a large table.
type Stream struct {
	names []string
	o     Options
	n     int64
	rng   *rand.Rand
	res   [][]string // the reservoir
	resAt []int64    // input index of each reservoir row
	head  int        // rows whose datetime candidates are still buffered
	// shared: the caller keeps the sample (NewSharedStream), res is empty.
	shared bool
	cols   []colStream
}

// colStream is one column's running statistics.
type colStream struct {
	missing int64
	tokens  []string
	hll     *hyperloglog.Sketch
	top     misraGries
	// vals caches what a cell's first occurrence worked out (missing,
	// parsed, inserted in the sketch), for the first maxVals distinct raw
	// cells: a repeated cell, most cells of most columns, then costs one
	// map lookup and a few counters instead of trimming, parsing and
	// hashing it again. Everything done on a first occurrence (the
	// HyperLogLog insert, bounds, precision, missing tokens) is idempotent,
	// so skipping it on repeats changes no statistic.
	vals    cellIndex
	scratch cellVal // an uncached cell's
	misses  int64   // uncached cells of the rows since the last check
	bypass  bool    // the cache is full and most cells miss it: skip it

	nums      int64 // cells that parse as numbers
	lo, hi    float64
	frac      bool // some number written with a point or an exponent
	dec       int
	numHist   map[float64]*int64 // exact counts while at most maxExact values; nil after
	numDigest *tdigest.TDigest   // the numbers once numHist overflowed
	numBuf    []float64          // numbers not yet in numDigest (see flushNums)
	sortKeys  []uint64           // sortFloats's scratch space

	headVals []string // trimmed non-missing cells of the head rows
	layout   string   // candidate datetime layout, chosen on the head
	times    int64
	tlo, thi float64
	tDigest  *tdigest.TDigest
	timeBuf  []float64 // datetimes not yet in tDigest
}

// cellVal is what one distinct raw cell of a column is.
type cellVal struct {
	id      int32  // order of first occurrence among the cached cells
	raw     string // the cell, of a cached cell
	v       string // trimmed
	missing bool
	isNum   bool
	x       float64
	cnt     *int64 // x's counter in numHist; nil once it overflowed
	n       int64  // occurrences, of a cached cell
	// The cell as a datetime of the column's layout, worked out the first
	// time it is seen once the layout is chosen.
	timed, isTime bool
	t             float64
}

// maxVals is the most distinct raw cells a column caches: enough for every
// value of a categorical column, bounded for a column of unique values
// (whose cells then take the uncached path, as they would anyway).
const maxVals = 4096

// bypassWindow is the rows after which a full cache's misses are checked.
const bypassWindow = 8192

// NewStream starts profiling a table with the named columns. Options are
// Infer's; Seed seeds the reservoir.
func NewStream(names []string, opts Options) (*Stream, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := check(&table.Table{Columns: names}); err != nil {
		return nil, err
	}
	if o.Sample < 0 {
		// Every row would have to be held: Stream exists not to.
		return nil, fmt.Errorf("%w: a stream needs a bounded sample, not %d", ErrOptions, o.Sample)
	}
	s := &Stream{names: slices.Clone(names), o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x70726f66696c65)), // "profile"
		cols: make([]colStream, len(names))}
	for j := range s.cols {
		s.cols[j] = colStream{hll: hyperloglog.New14(), top: newMisraGries(), numHist: map[float64]*int64{},
			numDigest: tdigest.NewWithCompression(digestCompression), tDigest: tdigest.NewWithCompression(digestCompression)}
	}
	return s, nil
}

// NewSharedStream is NewStream for a caller that samples the rows itself
// (package sample, for the training sample): the stream keeps no
// reservoir of its own, which would be a second copy of as many rows and a
// random draw and copy a row, and is profiled by ProfileOf with the
// caller's sample.
func NewSharedStream(names []string, opts Options) (*Stream, error) {
	s, err := NewStream(names, opts)
	if err != nil {
		return nil, err
	}
	s.shared = true
	return s, nil
}

// Rows is the rows added so far.
func (s *Stream) Rows() int64 { return s.n }

// Add profiles one row. The stream keeps no reference to row or its cells.
func (s *Stream) Add(row []string) error { return s.AddIDs(row, nil) }

// AddIDs is Add that also sets ids[j] (when ids is not nil) to an
// identifier of cell j among column j's distinct raw cells: the same
// small number (below 4,096) for equal cells, -1 for a cell the column
// does not cache. A caller that keys something by cell (package sample's
// strata) can index by it instead of hashing the cell again.
func (s *Stream) AddIDs(row []string, ids []int32) error {
	if len(row) != len(s.names) {
		return fmt.Errorf("%w: row %d has %d cells, want %d", ErrTable, s.n+1, len(row), len(s.names))
	}
	if !s.shared {
		s.reserve(row)
	}
	s.n++
	head := s.head < headRows
	for j, cell := range row {
		id := s.cols[j].add(cell, s.n, head, s.o.MissingTokens)
		if ids != nil {
			ids[j] = id
		}
	}
	if head {
		s.head++
		if s.head == headRows {
			s.chooseLayouts()
		}
	}
	return nil
}

// add profiles cell, the column's cell of row n (counted from 1; head:
// one of the first headRows), and returns its identifier (see AddIDs).
// It touches only the column's own state, so columns may be added
// concurrently, each in row order.
func (c *colStream) add(cell string, n int64, head bool, missing []string) int32 {
	var cv *cellVal
	ok := false
	if !c.bypass {
		cv = c.vals.get(cell)
		ok = cv != nil
	}
	if !ok {
		if c.vals.len() < maxVals {
			// The key is the column's own copy: the row's cells are lent.
			cv = &cellVal{id: int32(c.vals.len()), raw: strings.Clone(cell)}
			c.first(cv, cell, missing, true)
			c.vals.put(cv.raw, cv)
			ok = true
		} else {
			cv = &c.scratch
			*cv = cellVal{}
			c.first(cv, cell, missing, false)
			c.misses++
		}
	}
	id := int32(-1)
	if ok {
		id = cv.id
	}
	if c.misses > 0 && n%bypassWindow == 0 {
		// A full cache most cells miss (a column of unique values)
		// is a lookup a cell for nothing: the cells go to the
		// sketches uncached instead, which counts them the same
		// (mode adds a value's cached and sketched counts).
		c.bypass = c.misses > bypassWindow/2
		c.misses = 0
	}
	if cv.missing {
		c.missing++
		return id
	}
	if ok {
		cv.n++ // a cached value is counted exactly
	} else {
		c.top.add(cv.v) // the rest in the frequency sketch
	}
	if cv.isNum {
		c.nums++
		if cv.cnt != nil && c.numHist != nil {
			*cv.cnt++
		} else {
			cv.cnt = c.addNum(cv.x)
		}
	}
	if head {
		if !ok {
			cv.v = strings.Clone(cv.v)
		}
		c.headVals = append(c.headVals, cv.v)
	} else if c.layout != "" {
		c.addTime(cv)
	}
	return id
}

// Batch is rows a stream counted (Begin) whose columns are profiled
// separately (Stripe), possibly at the same time on several goroutines:
// each column's statistics depend only on its own cells in row order, so
// the profile is the one AddIDs would make row by row, whatever the
// goroutines and however they interleave.
type Batch struct {
	s     *Stream
	rows  [][]string
	ids   []int32
	first int64 // rows added before rows[0]
	from  int   // rows[:from] were added whole (the head's)
}

// Begin adds rows as AddIDs would, one row at a time, except that the
// cells of rows past the head are left to the batch's Stripe calls; ids,
// when not nil, receives row k's identifiers at ids[k*w:(k+1)*w] for w
// columns. A row of the wrong number of cells fails Begin, and the batch
// returned holds the rows before it. Until every column of every batch
// begun is done, the stream must be left alone but for Begin, and rows and
// ids unchanged.
func (s *Stream) Begin(rows [][]string, ids []int32) (*Batch, error) {
	w := len(s.names)
	b := &Batch{s: s, rows: rows, ids: ids, first: s.n}
	for k, row := range rows {
		if len(row) != w {
			b.rows = rows[:k]
			return b, fmt.Errorf("%w: row %d has %d cells, want %d", ErrTable, s.n+1, len(row), w)
		}
		if s.head < headRows {
			var rowIDs []int32
			if ids != nil {
				rowIDs = ids[k*w : (k+1)*w]
			}
			if err := s.AddIDs(row, rowIDs); err != nil {
				return b, err // unreachable: the row's length was checked
			}
			b.first, b.from = s.n, k+1
			continue
		}
		if !s.shared {
			s.reserve(row)
		}
		s.n++
	}
	return b, nil
}

// Stripe profiles columns g, g+of, g+2·of… of the batch's rows past the
// head a row at a time, as AddIDs does (each column sees its cells in row order), with each
// row's cells read while they are in the cache. Stripes of a batch may be
// profiled concurrently, as columns may.
func (b *Batch) Stripe(g, of int) {
	w, missing := len(b.s.names), b.s.o.MissingTokens
	n := b.first
	for k := b.from; k < len(b.rows); k++ {
		n++
		row := b.rows[k]
		for j := g; j < w; j += of {
			id := b.s.cols[j].add(row[j], n, false, missing)
			if b.ids != nil {
				b.ids[k*w+j] = id
			}
		}
	}
}

// Rows is the rows of the batch.
func (b *Batch) Rows() int { return len(b.rows) }

// Columns is the table's columns.
func (s *Stream) Columns() int { return len(s.names) }

// first works out a raw cell the column has not cached into cv: whether
// it is missing, its number, and its share of the column's order-free
// statistics (distinct sketch, bounds, precision, missing tokens), which a
// repeat of the cell would not change. own says cv is kept, so its value
// must be a copy, not the lent cell.
func (c *colStream) first(cv *cellVal, cell string, missing []string, own bool) {
	v := strings.TrimSpace(cell)
	if v == "" || slices.Contains(missing, v) {
		if !slices.Contains(c.tokens, v) {
			c.tokens = append(c.tokens, strings.Clone(v)) // at most len(MissingTokens)+1
		}
		cv.missing = true
		return
	}
	cv.v = v
	if own {
		cv.v = strings.Clone(v)
	}
	// Insert hashes the bytes and keeps none of them.
	c.hll.Insert(unsafe.Slice(unsafe.StringData(v), len(v)))
	if x, ok := ParseNumber(v); ok {
		cv.isNum, cv.x = true, x
		if c.nums == 0 { // the column's first number: Add counts it after
			c.lo, c.hi = x, x
		}
		c.lo, c.hi = math.Min(c.lo, x), math.Max(c.hi, x)
		// Most numbers are plain integers: only a point or an exponent
		// needs decimals' look.
		if !plainInt(v) {
			if n, frac := decimals(v); frac {
				c.frac = true
				c.dec = max(c.dec, n)
			}
		}
	}
}

// mode is the column's most frequent value: cached values are counted
// exactly, the rest by the frequency sketch (each raw cell is one or the
// other from its first occurrence on), so a value's count is short by at
// most the sketch's n/(topK+1), and exact when the column has at most
// maxVals distinct cells.
func (c *colStream) mode() (string, bool) {
	counts := make(map[string]int64, c.vals.len()+c.top.len())
	for _, cv := range c.vals.all {
		if !cv.missing {
			counts[cv.v] += cv.n // raw cells that trim alike add up
		}
	}
	for _, e := range c.top.list[:c.top.n] {
		counts[strings.Clone(e.v)] += e.c - c.top.off
	}
	best, bestN := "", int64(0)
	for k, n := range counts {
		if n > bestN || n == bestN && k < best {
			best, bestN = k, n
		}
	}
	return best, bestN > 0
}

// reserve keeps row in the reservoir with Algorithm R: row n replaces a
// uniformly chosen one with probability Sample/(n+1), so the reservoir is
// a uniform sample of the rows so far, the same for a seed and an input.
func (s *Stream) reserve(row []string) {
	k := s.o.Sample
	if len(s.res) < k {
		s.res = append(s.res, cloneRow(row))
		s.resAt = append(s.resAt, s.n)
		return
	}
	if i := s.rng.Int64N(s.n + 1); i < int64(k) {
		s.res[i], s.resAt[i] = cloneRow(row), s.n
	}
}

// cloneRow copies a row's cells into one string: one allocation a row.
func cloneRow(row []string) []string {
	size := 0
	for _, v := range row {
		size += len(v)
	}
	var b strings.Builder
	b.Grow(size)
	for _, v := range row {
		b.WriteString(v)
	}
	all := b.String()
	out := make([]string, len(row))
	at := 0
	for i, v := range row {
		out[i] = all[at : at+len(v)]
		at += len(v)
	}
	return out
}

// chooseLayouts picks each column's candidate datetime layout on the head
// rows, as Infer would on them, and replays the head through it.
func (s *Stream) chooseLayouts() {
	for j := range s.cols {
		c := &s.cols[j]
		var sc scan
		sc.reset()
		for _, v := range c.headVals {
			sc.add(v)
		}
		d := detector{vals: sc.vals, counts: sc.counts, n: len(c.headVals), th: s.o.Threshold}
		if len(c.headVals) > 0 {
			c.layout, _ = detectTime(d.vals, d.counts, d.budget())
		}
		if c.layout != "" {
			for _, v := range c.headVals {
				// Head cells are trimmed and non-missing, so the cache
				// holds each (under its raw form when that differs).
				cv := c.vals.get(v)
				if cv == nil || cv.v != v {
					cv = &cellVal{v: v}
				}
				c.addTime(cv)
			}
		}
		c.headVals = nil
	}
}

// plainInt reports that a number cell has neither a point nor an exponent.
func plainInt(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

const (
	// maxExact is the most distinct numbers a column counts exactly (its
	// quantiles are then exact): a t-digest interpolates between
	// centroids, which on a column of few values (ages, hours, zeros)
	// gives values between them.
	maxExact = 2048
	// numBatch is the numbers a column buffers before they enter its
	// digest.
	numBatch = 4096
)

// addNum counts one number; it returns x's exact counter while the column
// counts exactly, for the caller to increment on x's repeats.
func (c *colStream) addNum(x float64) *int64 {
	if c.numHist != nil {
		if n, ok := c.numHist[x]; ok {
			*n++
			return n
		}
		if len(c.numHist) < maxExact {
			n := new(int64)
			*n = 1
			c.numHist[x] = n
			return n
		}
		// One value more than maxExact: from here on the digest.
		for v, n := range c.numHist {
			for range *n {
				c.numBuf = append(c.numBuf, v)
			}
		}
		c.numHist = nil
		c.numBuf = append(c.numBuf, x)
		c.flushNums()
		return nil
	}
	c.numBuf = append(c.numBuf, x)
	if len(c.numBuf) >= numBatch {
		c.flushNums()
	}
	return nil
}

// quantiles of the column's numbers: exact while it counts them exactly.
func (c *colStream) quantiles() []float64 {
	if c.numHist != nil {
		pts := make([]weighted, 0, len(c.numHist))
		for v, n := range c.numHist {
			pts = append(pts, weighted{v, *n})
		}
		return exactQuantiles(pts)
	}
	c.flushNums()
	return digestQuantiles(c.numDigest)
}

// flushNums adds the buffered numbers to the digest sorted and run-length
// merged: a column's values repeat (ages, counts, zeros), and sorted input
// is what the digest's own sort handles fastest, so this costs a fraction
// of adding each number alone.
func (c *colStream) flushNums() {
	c.sortKeys = addSorted(c.numDigest, c.numBuf, c.nums, c.sortKeys)
	c.numBuf = c.numBuf[:0]
}

// premerge is the most rows one pre-merged centroid may hold, as a share
// of the rows counted so far: far below what the digest's own centroids
// hold between the 1st and 99th percentiles (QuantileProbs), so merging
// adds at most that share to a quantile's rank error.
const premerge = 1e-5

// addSorted adds xs to d sorted, with neighbours merged into centroids of
// at most premerge·seen values (runs of one value stay whole): a column of
// unique values (a weight, an amount) otherwise sends the digest one
// centroid a cell, which it must sort and merge again. keys is
// sortFloats's scratch space, returned for the next call.
func addSorted(d *tdigest.TDigest, xs []float64, seen int64, keys []uint64) []uint64 {
	keys = sortFloats(xs, keys)
	w := max(1, float64(seen)*premerge)
	var sum, n float64
	for i := 0; i < len(xs); {
		k := i + 1
		for k < len(xs) && xs[k] == xs[i] {
			k++
		}
		run := float64(k - i)
		if n > 0 && n+run > w {
			d.Add(sum/n, n)
			sum, n = 0, 0
		}
		sum += xs[i] * run
		n += run
		i = k
	}
	if n > 0 {
		d.Add(sum/n, n)
	}
	return keys
}

// addTime counts a cell as a datetime of the column's layout, parsing it
// once however often it repeats.
func (c *colStream) addTime(cv *cellVal) {
	if !cv.timed {
		cv.timed = true
		cv.t, cv.isTime = c.parseTime(cv.v)
		if cv.isTime {
			// Bounds, like the numbers', are worked out once a value.
			if c.times == 0 {
				c.tlo, c.thi = cv.t, cv.t
			}
			c.tlo, c.thi = math.Min(c.tlo, cv.t), math.Max(c.thi, cv.t)
		}
	}
	if !cv.isTime {
		return
	}
	c.times++
	c.timeBuf = append(c.timeBuf, cv.t)
	if len(c.timeBuf) >= numBatch {
		c.flushTimes()
	}
}

func (c *colStream) flushTimes() {
	c.sortKeys = addSorted(c.tDigest, c.timeBuf, c.times, c.sortKeys)
	c.timeBuf = c.timeBuf[:0]
}

func (c *colStream) parseTime(v string) (float64, bool) {
	if !timeLike(v) {
		return 0, false
	}
	t, err := time.Parse(c.layout, v)
	if err != nil {
		return 0, false
	}
	return unix(t), true
}

// Sample returns the reservoir: the rows kinds are chosen on, in input
// order (every row of a table of at most Options.Sample rows).
func (s *Stream) Sample() *table.Table {
	return &table.Table{Columns: s.names, Rows: s.sampleRows()}
}

func (s *Stream) sampleRows() [][]string {
	order := make([]int, len(s.res))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(s.resAt[a], s.resAt[b]) })
	rows := make([][]string, len(order))
	for i, k := range order {
		rows[i] = s.res[k] // input order, as Infer sees rows
	}
	return rows
}

// Profile returns the profile of the rows added so far.
func (s *Stream) Profile() (*Profile, error) {
	if s.shared {
		return nil, fmt.Errorf("%w: a stream sharing its caller's sample is profiled by ProfileOf", ErrOptions)
	}
	return s.profileOf(s.sampleRows())
}

// ProfileOf returns the profile of the rows added so far with rows, in
// input order, as the sample kinds and formats are chosen on: for a stream
// made by NewSharedStream. rows must be a uniform sample of the rows added
// (drawn independently of their content, as a sample by a hash of the row
// index is), or all of them; SampleSize is the rows it should hold.
func (s *Stream) ProfileOf(rows [][]string) (*Profile, error) {
	if !s.shared {
		return nil, fmt.Errorf("%w: a stream with its own sample is profiled by Profile", ErrOptions)
	}
	return s.profileOf(rows)
}

// SampleSize is the rows kinds and formats are chosen on (Options.Sample).
func (s *Stream) SampleSize() int { return s.o.Sample }

func (s *Stream) profileOf(rows [][]string) (*Profile, error) {
	if s.n <= int64(len(rows)) {
		// The reservoir holds every row: profile them exactly.
		return Infer(&table.Table{Columns: s.names, Rows: rows}, s.o)
	}
	if s.head < headRows {
		s.chooseLayouts() // unreachable with Sample >= headRows; kept for small Sample
	}
	p := &Profile{Version: Version, Rows: int(s.n), Sampled: len(rows), Columns: classifyRows(s.names, rows, s.o)}
	for j := range p.Columns {
		c, st := &p.Columns[j], &s.cols[j]
		// Every reservoir cell of the column holds a distinct value.
		sampleUnique := c.Distinct == len(rows)-c.Missing
		c.Missing = int(st.missing)
		c.MissingRate = float64(st.missing) / float64(s.n)
		c.MissingTokens = slices.Sorted(slices.Values(st.tokens))
		// The sketch's estimate, kept between what the reservoir alone
		// shows and the non-missing cells there are.
		c.Distinct = int(min(max(int64(st.hll.Estimate()), int64(c.Distinct)), s.n-st.missing))
		switch c.Kind {
		case Categorical:
			if m, ok := st.mode(); ok {
				c.Mode = m
			}
		case Numeric:
			if st.nums > 0 {
				c.Min, c.Max = math.Min(c.Min, st.lo), math.Max(c.Max, st.hi)
				if st.frac {
					c.Integer = false
					c.Decimals = max(c.Decimals, st.dec)
				}
				if s.key(c, st, sampleUnique) {
					continue
				}
				c.Quantiles = st.quantiles()
				// A t-digest interpolates between centroids; a quantile is
				// written in the column's own precision, as its cells are.
				scale := math.Pow10(c.Decimals)
				for k, x := range c.Quantiles {
					c.Quantiles[k] = math.Round(x*scale) / scale
				}
			}
		case Datetime:
			if c.Format == st.layout && st.times > 0 {
				c.Min, c.Max = math.Min(c.Min, st.tlo), math.Max(c.Max, st.thi)
				st.flushTimes()
				c.Quantiles = digestQuantiles(st.tDigest)
			}
		}
	}
	p.Relations = relations.Discover(RelationColumns(rows, p), relations.Options{})
	return p, nil
}

// key turns a numeric column into an ID the way Infer's numeric does,
// judged over every row: distinct non-negative whole numbers as written
// ("12", not "12.0"), dense in their range. A reservoir of a large key's
// values is too sparse in its range to look dense, so Infer on the sample
// alone would call a key a number. It reports whether c became an ID.
func (s *Stream) key(c *Column, st *colStream, sampleUnique bool) bool {
	filled := s.n - st.missing
	unique := sampleUnique && st.nums == filled && float64(st.hll.Estimate()) >= 0.98*float64(filled)
	if st.frac || !unique || st.lo < 0 || st.hi >= 1<<53 || float64(filled) < 0.5*(st.hi-st.lo+1) {
		return false
	}
	*c = Column{Name: c.Name, Kind: ID, IDFormat: "%d", Confidence: 1, Distinct: int(filled),
		Missing: c.Missing, MissingRate: c.MissingRate, MissingTokens: c.MissingTokens}
	return true
}

func digestQuantiles(d *tdigest.TDigest) []float64 {
	out := make([]float64, len(QuantileProbs))
	for i, q := range QuantileProbs {
		out[i] = d.Quantile(q)
	}
	return out
}

// misraGries counts the frequent values of a stream in at most topK
// counters: a new value when all are taken lowers every counter by one
// (and drops those at zero) instead of being counted. A value's counter
// undercounts it by at most n/(topK+1), so the largest counter is the mode
// whenever the mode leads the runner-up by more than that.
//
// Lowering every counter is done lazily: counters hold count+off, and a
// decrement raises off, so it costs a pass over the counters only when one
// reaches zero (min <= off). On a column of unique values, where every
// other cell decrements, that pass is most of the work: it runs over a
// slice, and a counter keeps the buffer its value is copied into, so a
// value counted costs no allocation.
type misraGries struct {
	slots []mgSlot    // an open-addressing index of list (mgSlots)
	list  []mgCounter // live counters, then free ones
	n     int         // live counters
	off   int64
	min   int64 // at most the smallest counter
}

// mgSlots is the size of a sketch's index: a power of two, a quarter full
// at most, so a lookup of a value not counted (most, on a column of
// unique values) ends at once.
const mgSlots = 4 * topK

// mgSlot is list[i-1]'s value's words (cellWords), length and hash; i 0
// is an empty slot.
type mgSlot struct {
	h, w0, w1 uint64
	n         int
	i         int32
}

// mgCounter is one value's counter, plus off. v is buf's bytes: it is
// changed only once the index no longer holds it.
type mgCounter struct {
	v   string
	c   int64
	buf []byte
}

func newMisraGries() misraGries {
	return misraGries{slots: make([]mgSlot, mgSlots), min: math.MaxInt64}
}

// find is the slot of v (of words w0, w1 and hash h), or the empty slot
// where it would go.
func (g *misraGries) find(v string, h, w0, w1 uint64) (int, bool) {
	n := len(v)
	for s := h & (mgSlots - 1); ; s = (s + 1) & (mgSlots - 1) {
		sl := &g.slots[s]
		if sl.i == 0 {
			return int(s), false
		}
		if sl.h == h && sl.w0 == w0 && sl.w1 == w1 && sl.n == n && (n <= 16 || g.list[sl.i-1].v == v) {
			return int(s), true
		}
	}
}

func (g *misraGries) slotOf(v string) (int, bool) {
	w0, w1 := cellWords(v)
	return g.find(v, slotHash(w0, w1, len(v)), w0, w1)
}

// unslot empties slot s, moving back the entries after it that would
// otherwise no longer be found (deletion from linear probing).
func (g *misraGries) unslot(s int) {
	const mask = mgSlots - 1
	g.slots[s] = mgSlot{}
	for j := (s + 1) & mask; g.slots[j].i != 0; j = (j + 1) & mask {
		home := int(g.slots[j].h & mask)
		// j's entry stays unless its home is cyclically outside (s, j].
		if (s < j && (home <= s || home > j)) || (s > j && home <= s && home > j) {
			g.slots[s], g.slots[j] = g.slots[j], mgSlot{}
			s = j
		}
	}
}

// len is the values counted.
func (g *misraGries) len() int { return g.n }

// add counts one v.
func (g *misraGries) add(v string) {
	w0, w1 := cellWords(v)
	h := slotHash(w0, w1, len(v))
	s, ok := g.find(v, h, w0, w1)
	if ok {
		g.list[g.slots[s].i-1].c++
		return
	}
	if g.n < topK {
		if g.n == len(g.list) {
			g.list = append(g.list, mgCounter{})
		}
		e := &g.list[g.n]
		e.buf = append(e.buf[:0], v...)
		e.v = unsafe.String(unsafe.SliceData(e.buf), len(e.buf))
		e.c = g.off + 1
		g.n++
		g.slots[s] = mgSlot{h: h, w0: w0, w1: w1, n: len(v), i: int32(g.n)}
		g.min = min(g.min, e.c)
		return
	}
	g.off++
	if g.min <= g.off {
		g.min = math.MaxInt64
		for i := 0; i < g.n; {
			e := &g.list[i]
			if e.c > g.off {
				g.min = min(g.min, e.c)
				i++
				continue
			}
			// Dropped: the last live counter takes its place.
			s, _ := g.slotOf(e.v)
			g.unslot(s)
			g.n--
			if i < g.n {
				// Found before the move: a long value is compared with
				// the counter its slot names.
				s, _ := g.slotOf(g.list[g.n].v)
				g.slots[s].i = int32(i + 1)
				g.list[i], g.list[g.n] = g.list[g.n], g.list[i]
			}
		}
	}
}

// mode is the value of the largest counter; ties go to the smaller value,
// so the answer does not depend on map order.
func (g *misraGries) mode() (string, bool) {
	best, bestN := "", int64(0)
	for _, e := range g.list[:g.n] {
		if c := e.c - g.off; c > bestN || c == bestN && e.v < best {
			best, bestN = e.v, c
		}
	}
	return strings.Clone(best), bestN > 0
}
