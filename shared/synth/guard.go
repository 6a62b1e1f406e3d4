package synth

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"

	"synthos.dev/synthos/internal/parallel"
)

// The near-copy guard. The exact-copy guard (Schema.RowHashes) only rejects
// a synthetic row equal to a training row; one a cell away from a real
// record reveals just as much. So the fit holds out a slice of the training
// rows, measures how far each held-out row lies from its nearest remaining
// training row (a Gower distance on the modelled columns: per number column
// the range-scaled difference capped at 1, per level column 0 or 1, 1
// between a missing and a present cell), and takes a low quantile of those
// distances as the threshold: a synthetic row closer than that to some
// training row is closer than almost any genuinely new record would be, and
// is redrawn. A model that generalises draws such rows about as often as
// the quantile says; one that memorises is stopped.
//
// Finding "some training row within t" must cost far less than a sample's
// 2.5 µs per row, so the guard never scans all rows. A row closer than t
// differs in at most m = ceil(t)-1 level columns, so (pigeonhole) if the
// level columns are split into m+1 blocks it matches the query exactly on
// at least one block: the training rows are grouped once per block by the
// hash of that block's level cells (and their missing-number pattern), a
// query probes one group per block and, inside it, only the rows whose sort
// column (the number column with the most distinct values) lies within t of
// its own once t is below 1. Large tables have thresholds below 1 (exact
// level match, a narrow number window); small wide ones have larger
// thresholds, few rows and more candidates.

// Guard is the serialized part of the near-copy guard.
type Guard struct {
	// Threshold is the distance below which a synthetic row is redrawn
	// (Gower distance times the number of modelled columns); 0 disables
	// the guard.
	Threshold float64
	// Quantile and Holdout say how Threshold was measured: the Quantile of
	// the nearest-row distances of Holdout held-out training rows.
	Quantile float64
	Holdout  int
	// Lo and Scale map a number column's values onto [0, 1] (Scale 0 for a
	// level column, whose value is its level code).
	Lo, Scale []float64
	// Rows holds the training rows encoded so, row-major, one float32 per
	// modelled column.
	Rows []float32

	idx *guardIndex // built by prepare
}

// DefaultGuardQuantile is the holdout quantile the guard's threshold is set
// at: a genuinely new record is closer than it to a training row one time
// in twenty.
const DefaultGuardQuantile = 0.05

// LargeTableGuardQuantile is the default quantile on tables of more than
// largeTableRows rows: there a tree's leaves hold many rows and its samples
// sit no closer to training rows than new records do (adult: DCR share
// 0.51 unguarded), so redrawing a twentieth of the rows would only cost
// fidelity (adult's Column Pair Trends 0.974 against 0.975 at 0.05).
const (
	LargeTableGuardQuantile = 0.01
	largeTableRows          = 5000
)

func defaultGuardQuantile(rows int) float64 {
	if rows > largeTableRows {
		return LargeTableGuardQuantile
	}
	return DefaultGuardQuantile
}

// guardMinRows is the smallest table the guard is fitted on: below it the
// held-out slice is too small to estimate a quantile.
const guardMinRows = 60

// maxGuardHoldout bounds the held-out slice (the quantile's precision does
// not need more, and fitting stays fast on large tables).
const maxGuardHoldout = 2000

// guardCap is the distance up to which the fit measures held-out rows with
// the index; beyond it (small, wide tables) it measures them by brute force
// on at most bruteQueries rows.
const (
	guardCap     = 2
	bruteQueries = 400
)

// guardIndex groups row numbers per probe (one per level column, or a single
// probe without level columns) by the probe's key, sorted by the sort
// column within a group.
type guardIndex struct {
	nm      int
	nums    []int  // modelled indexes of number columns, compared first
	levels  []int  // modelled indexes of level columns
	isLevel []bool // per modelled column
	sortK   int    // modelled index of the sort column, -1 if none
	rows    []float32
	probes  []guardProbe
}

type guardProbe struct {
	block []int // level columns in the key
	order []int32
	sv    []float32 // sort values in order's order
	// rows holds the indexed rows in order's order, so that a query reads
	// its candidates without the extra dependent load through order (nil
	// beyond maxGuardCopy cells: the query then goes through order).
	rows  []float32
	spans spanTable
}

// maxGuardCopy bounds the cells of the reordered copies of the indexed
// rows (see guardProbe.rows): 16M cells, 64 MB.
const maxGuardCopy = 1 << 24

// spanTable maps a probe key to its rows' span [lo, hi) in order: open
// addressing with linear probing, one or two cache lines per lookup where
// a Go map costs several times more on the sampling path.
//
// A bit filter in front (4 bits per slot, a 32nd of the slots' bytes, so
// it stays in cache) answers most lookups of a key no row has without
// touching the slots: a sampled row often has a combination of levels no
// training row has.
type spanTable struct {
	slots  []spanSlot
	mask   uint64
	shift  uint // 64 - log2(len(slots)): see home
	filter []uint64
	fshift uint // 64 - log2(filter bits)
}

type spanSlot struct {
	key    uint64
	lo, hi int32 // hi == 0: empty (a span is never empty)
}

func newSpanTable(n int) spanTable {
	size := uint64(8)
	for size < uint64(2*n) {
		size <<= 1
	}
	fbits := max(4*size, 64)
	return spanTable{slots: make([]spanSlot, size), mask: size - 1, shift: uint(64 - bits.TrailingZeros64(size)),
		filter: make([]uint64, fbits/64), fshift: uint(64 - bits.TrailingZeros64(fbits))}
}

// home is a key's first slot: the top bits of the key times an odd
// constant (Fibonacci hashing), one multiply where mix takes three.
func (t *spanTable) home(key uint64) uint64 { return key * keyMul >> t.shift }

func (t *spanTable) put(key uint64, lo, hi int32) {
	f := key * keyMul >> t.fshift
	t.filter[f/64] |= 1 << (f % 64)
	for i := t.home(key); ; i = (i + 1) & t.mask {
		if s := &t.slots[i]; s.hi == 0 || s.key == key {
			*s = spanSlot{key: key, lo: lo, hi: hi}
			return
		}
	}
}

func (t *spanTable) get(key uint64) (lo, hi int32, ok bool) {
	if f := key * keyMul >> t.fshift; t.filter[f/64]>>(f%64)&1 == 0 {
		return 0, 0, false
	}
	for i := t.home(key); ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if s.hi == 0 {
			return 0, 0, false
		}
		if s.key == key {
			return s.lo, s.hi, true
		}
	}
}

// newGuard measures the threshold on a held-out slice of e and keeps the
// encoded training rows for sampling. q <= 0 disables the guard.
func newGuard(s *Schema, e *encoded, q float64, salt uint64) Guard {
	nm := len(s.Modelled)
	if q <= 0 || nm == 0 || e.n < guardMinRows {
		return Guard{}
	}
	g := Guard{Quantile: q, Lo: make([]float64, nm), Scale: make([]float64, nm)}
	for k, j := range s.Modelled {
		if c := &s.Cols[j]; c.isNumber() && c.Hi > c.Lo {
			g.Lo[k], g.Scale[k] = c.Lo, 1/(c.Hi-c.Lo)
		}
	}
	g.Rows = make([]float32, e.n*nm)
	for i := range e.n {
		row := g.Rows[i*nm : (i+1)*nm]
		for k := range nm {
			if e.num[k] != nil {
				row[k] = g.scale(k, e.num[k][i])
			} else {
				row[k] = float32(e.cat[k][i])
			}
		}
	}
	// Hold out a random slice; index the rest; measure.
	perm, h := guardSplit(e.n, salt)
	rest := make([]float32, 0, (e.n-h)*nm)
	for _, i := range perm[h:] {
		rest = append(rest, g.Rows[i*nm:(i+1)*nm]...)
	}
	// Distances below 1 need an exact match on every level column, which
	// the cheapest index answers; only when the quantile lies beyond does
	// the fit measure again with the wider one.
	var idx *guardIndex
	d := make([]float64, h)
	for _, limit := range []float32{1, guardCap} {
		idx = newGuardIndex(s, rest, nm, limit)
		for r, i := range perm[:h] {
			d[r] = float64(idx.nearest(g.Rows[i*nm:(i+1)*nm], limit))
		}
		slices.Sort(d)
		g.Holdout = h
		g.Threshold = d[min(h-1, int(q*float64(h)))]
		if g.Threshold < float64(limit) {
			break
		}
	}
	if g.Threshold >= guardCap {
		// Held-out rows lie two or more categories from every training
		// row: measure their distances exactly, on a subset.
		h = min(h, bruteQueries)
		d = d[:h]
		restN := len(rest) / nm
		for r, i := range perm[:h] {
			qr := g.Rows[i*nm : (i+1)*nm]
			best := float32(math.Inf(1))
			for k := range restN {
				best = min(best, idx.dist(qr, rest[k*nm:(k+1)*nm], best))
			}
			d[r] = float64(best)
		}
		slices.Sort(d)
		g.Holdout = h
		g.Threshold = d[min(h-1, int(q*float64(h)))]
	}
	if g.Threshold <= 0 {
		return Guard{} // held-out rows repeat training rows: only exact copies are telling, and the exact-copy guard handles them
	}
	return g
}

// guardSplit is the fit's random order of n training rows; the first h are
// the held-out slice.
func guardSplit(n int, salt uint64) (perm []int, h int) {
	rng := rand.New(rand.NewPCG(salt, 0x6775617264))
	return rng.Perm(n), min(n/5, maxGuardHoldout)
}

func (g *Guard) scale(k int, v float64) float32 {
	if v != v {
		return float32(math.NaN())
	}
	return float32((v - g.Lo[k]) * g.Scale[k])
}

// prepare builds the index from the serialized rows.
func (g *Guard) prepare(s *Schema) {
	if g.Threshold > 0 && len(s.Modelled) > 0 && len(g.Rows) > 0 {
		g.idx = newGuardIndex(s, g.Rows, len(s.Modelled), float32(g.Threshold))
	}
}

// near encodes a drawn row's values (into enc) and reports whether some
// training row lies closer than t.
func (g *Guard) near(vals []float64, enc []float32, t float32) bool {
	for k, v := range vals {
		if g.idx.isLevel[k] {
			enc[k] = float32(v)
		} else {
			enc[k] = g.scale(k, v)
		}
	}
	return g.idx.within(enc, t)
}

// on says whether sampling checks rows against the guard.
func (g *Guard) on() bool { return g.idx != nil }

// newGuardIndex indexes rows for queries of radius below t.
func newGuardIndex(s *Schema, rows []float32, nm int, t float32) *guardIndex {
	x := &guardIndex{nm: nm, rows: rows, sortK: -1, isLevel: make([]bool, nm)}
	n := len(rows) / nm
	// The sort column is the number column whose window of ±t holds the
	// fewest rows (measured at every 64th row), so that a query reads few
	// candidates.
	for k, j := range s.Modelled {
		if s.Cols[j].isNumber() {
			x.nums = append(x.nums, k)
		} else {
			x.levels = append(x.levels, k)
			x.isLevel[k] = true
		}
	}
	// Each number column's window share is measured on any core; the
	// first column of the least share wins, as in column order.
	frac := make([]float64, len(x.nums))
	parallel.Each(len(x.nums), func(q int) { frac[q] = windowShare(rows, nm, x.nums[q], t) })
	bestFrac := math.Inf(1)
	for q, k := range x.nums {
		if frac[q] < bestFrac {
			bestFrac, x.sortK = frac[q], k
		}
	}
	// m+1 blocks of level columns, dealt round-robin; more blocks than
	// level columns means no level column can be required to match.
	m := max(int(math.Ceil(float64(t)))-1, 0)
	blocks := [][]int{nil}
	if m+1 <= len(x.levels) {
		blocks = make([][]int, m+1)
		for i, k := range x.levels {
			blocks[i%(m+1)] = append(blocks[i%(m+1)], k)
		}
	}
	// The probes are independent: each block's on any core.
	x.probes = make([]guardProbe, len(blocks))
	parallel.Each(len(blocks), func(b int) { x.probes[b] = x.newProbe(rows, blocks[b], n, len(blocks)) })
	return x
}

// windowShare is the mean share of rows whose cell of number column k lies
// within ±t of a cell's (measured at every 64th non-missing cell), missing
// cells counting as within every window; +Inf when every cell is missing.
func windowShare(rows []float32, nm, k int, t float32) float64 {
	n := len(rows) / nm
	col := make([]float32, 0, n)
	for i := range n {
		if v := rows[i*nm+k]; v == v {
			col = append(col, v)
		}
	}
	if len(col) == 0 {
		return math.Inf(1)
	}
	slices.Sort(col)
	var within float64
	probes := 0
	for i := 0; i < len(col); i += 64 {
		lo, _ := slices.BinarySearch(col, col[i]-t)
		hi, _ := slices.BinarySearch(col, col[i]+t)
		within += float64(hi - lo)
		probes++
	}
	// Missing cells of the column are candidates in every window.
	return within/float64(probes*n) + float64(n-len(col))/float64(n)
}

// newProbe indexes the n rows by their key on block (one of nBlocks).
func (x *guardIndex) newProbe(rows []float32, block []int, n, nBlocks int) guardProbe {
	nm := x.nm
	// Rows are sorted by (key, sort value) as records holding both, so
	// that a comparison reads no other memory; the records move as the
	// rows' indexes would, comparison for comparison.
	type keyed struct {
		key uint64
		sv  float32
		row int32
	}
	ks := make([]keyed, n)
	for i := range n {
		ks[i] = keyed{x.key(rows[i*nm:(i+1)*nm], block), x.sortVal(i), int32(i)}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return cmpSort(a.sv, b.sv)
	})
	p := guardProbe{block: block, order: make([]int32, n), sv: make([]float32, n)}
	keys := make([]uint64, n) // by position in order
	for i, k := range ks {
		p.order[i], p.sv[i], keys[i] = k.row, k.sv, k.key
	}
	if n*nm*nBlocks <= maxGuardCopy {
		p.rows = make([]float32, 0, n*nm)
		for _, r := range p.order {
			p.rows = append(p.rows, rows[int(r)*nm:(int(r)+1)*nm]...)
		}
	}
	groups := 0
	for i := range n {
		if i == 0 || keys[i] != keys[i-1] {
			groups++
		}
	}
	p.spans = newSpanTable(groups)
	for lo := 0; lo < n; {
		hi := lo + 1
		for hi < n && keys[hi] == keys[lo] {
			hi++
		}
		p.spans.put(keys[lo], int32(lo), int32(hi))
		lo = hi
	}
	return p
}

// cmpSort orders sort values with NaN last.
func cmpSort(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	case a != a && b == b:
		return 1
	case a == a && b != b:
		return -1
	}
	return 0
}

func (x *guardIndex) sortVal(i int) float32 {
	if x.sortK < 0 {
		return 0
	}
	return x.rows[i*x.nm+x.sortK]
}

// key hashes a row's level codes in block and which of its number cells
// are missing.
func (x *guardIndex) key(row []float32, block []int) uint64 {
	return x.blockKey(x.missingKey(row), row, block)
}

// missingKey is the part of key every probe shares: which number cells
// are missing.
func (x *guardIndex) missingKey(row []float32) uint64 {
	var h uint64 = 0x9e3779b97f4a7c15
	for _, k := range x.nums {
		if v := row[k]; v != v {
			h = (h ^ uint64(k+1)) * keyMul // a missing number
		}
	}
	return h
}

// blockKey completes key from missingKey's h with the block's level codes.
// A step is one multiply: the span table mixes the key before using it,
// and two rows whose keys collide only share a group, which costs a query
// some extra candidates, never a wrong answer (dist compares every cell).
func (x *guardIndex) blockKey(h uint64, row []float32, block []int) uint64 {
	for _, k := range block {
		h = (h ^ uint64(math.Float32bits(row[k]))) * keyMul
	}
	return h
}

// keyMul is an odd 64-bit constant (2⁶⁴ over the golden ratio).
const keyMul = 0x9e3779b97f4a7c15

// dist is the guard's Gower distance (times the column count) between two
// encoded rows, stopping once it reaches limit.
func (x *guardIndex) dist(a, b []float32, limit float32) float32 {
	// Numbers first: within a probe's group most level cells agree, so a
	// far number ends the comparison soonest.
	var s float32
	b = b[:len(a)]
	for _, k := range x.nums {
		av, bv := a[k], b[k]
		d := av - bv
		switch {
		case d != d:
			if av == av || bv == bv {
				s++
			}
		case d < 0:
			s += min(-d, 1)
		default:
			s += min(d, 1)
		}
		if s >= limit {
			return s
		}
	}
	for _, k := range x.levels {
		if a[k] != b[k] {
			s++
			if s >= limit {
				return s
			}
		}
	}
	return s
}

// within reports whether some indexed row lies closer than t to q.
func (x *guardIndex) within(q []float32, t float32) bool {
	return x.search(q, t, true) < t
}

// nearest is the distance from q to its nearest indexed row among those
// the probes reach, or limit if none is closer.
func (x *guardIndex) nearest(q []float32, limit float32) float32 {
	return x.search(q, limit, false)
}

// search scans, per probe, q's group outwards from q's sort value, while
// the sort column alone keeps rows closer than the best distance so far.
func (x *guardIndex) search(q []float32, limit float32, any bool) float32 {
	best := limit
	var qs float32
	if x.sortK >= 0 {
		qs = q[x.sortK]
	}
	miss := x.missingKey(q)
	for pi := range x.probes {
		p := &x.probes[pi]
		lo32, hi32, ok := p.spans.get(x.blockKey(miss, q, p.block))
		if !ok {
			continue
		}
		lo, hi := int(lo32), int(hi32)
		mid := lo
		if x.sortK >= 0 && qs == qs {
			sv := p.sv[lo:hi]
			a, b := 0, len(sv)
			for a < b {
				h := int(uint(a+b) >> 1)
				if sv[h] < qs {
					a = h + 1
				} else {
					b = h
				}
			}
			mid = lo + a
		}
		// Walk down and up from mid.
		for dir := -1; dir <= 1; dir += 2 {
			i := mid
			if dir < 0 {
				i = mid - 1
			}
			for ; i >= lo && i < hi; i += dir {
				if x.sortK >= 0 && qs == qs {
					if d := p.sv[i] - qs; d == d && min(abs32(d), 1) >= best {
						break
					}
				}
				var row []float32
				if p.rows != nil {
					row = p.rows[i*x.nm : (i+1)*x.nm]
				} else {
					r := int(p.order[i])
					row = x.rows[r*x.nm : (r+1)*x.nm]
				}
				if d := x.dist(q, row, best); d < best {
					best = d
					if any {
						return best
					}
				}
			}
		}
	}
	return best
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
