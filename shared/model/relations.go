package model

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/table"
)

// Relations are kept in one place for every model: Fit wraps the driver's
// model so that each sampled row is repaired before Accept sees it and
// before it is written — the later column of an order is set to the
// earlier plus a gap drawn from the gap's real distribution when its own
// gap falls outside the real range, a functional dependency's dependent is
// mapped from its determinant, an identity's result (an elapsed time from
// its two datetimes) is recomputed. Rows are
// repaired, never rejected, so relations cost no extra draws. A repair is
// a function of the row's cells and the seed alone (its random draw is a
// hash of them), so determinism and shard independence carry over from the
// driver unchanged.
//
// For a private driver (Driver.Private) the relation statements are part
// of the profile, public input like the columns' kinds and formats (see
// package dp), but their parameters — gap distributions and dependency
// mappings — would read the rows. An order's gap distribution comes from
// the driver when it measured one under its guarantee (GapMeasurer: dp's
// noisy gap histograms, charged to its budget); the later datetime is then
// always set to the earlier plus a drawn gap, since the model's own gap
// between two separately sampled timestamps is not a duration anyone had.
// The other parameters are taken from a pilot sample of the private model
// (post-processing, no privacy cost), and an order without a measured gap
// whose pilot shows too few valid gaps is repaired by swapping the two
// values. The profile's own gap summary (relations.Gap) is never read for
// a private driver.

// pilotRows is the size of a private model's pilot sample.
const pilotRows = 20_000

// pilotSeed draws the pilot sample (a fixed seed: the parameters are part
// of the fitted model, not of a sample).
const pilotSeed = 0x9e1a7

// gapQuantiles is how many quantiles of an order's gap are kept.
const nGapQuantiles = 65

// Repair is one enforced relation with its fitted parameters.
type Repair struct {
	Relation string         `json:"relation"`
	Kind     relations.Kind `json:"kind"`
	Target   int            `json:"target"`
	Sources  []int          `json:"sources"`
	// Gap holds quantiles of an order's valid gaps (target − source,
	// seconds for datetimes) at evenly spaced probabilities; GapStep, when
	// set, is the unit every real gap is a multiple of (a minute, an hour,
	// a day). Swap, without quantiles, swaps a violating pair instead.
	Gap     []float64 `json:"gap,omitempty"`
	GapStep float64   `json:"gap_step,omitempty"`
	Swap    bool      `json:"swap,omitempty"`
	// Always draws the gap for every row, not only for rows whose own gap
	// falls outside the quantiles' range (a datetime gap measured by a
	// private driver).
	Always bool `json:"always,omitempty"`
	// Map sends a determinant's value to its dependent's.
	Map map[string]string `json:"map,omitempty"`
	// Unit is an elapsed time's unit in seconds.
	Unit float64 `json:"unit,omitempty"`
}

// Repairer enforces relations on sampled rows, in dependency order.
type Repairer struct {
	Version int              `json:"version"`
	Cols    []profile.Column `json:"columns"` // the profile of every output column
	Repairs []Repair         `json:"repairs"`
}

// repairerVersion is the Repairer format this build writes and reads.
const repairerVersion = 1

// enforced is a driver's model whose samples keep the relations.
type enforced struct {
	Model
	rep *Repairer
}

// Unwrap returns the driver's model.
func (e *enforced) Unwrap() Model { return e.Model }

// Unwrap returns the driver's own model behind m (m itself when m keeps no
// relations), for callers that read a driver's report.
func Unwrap(m Model) Model {
	for {
		u, ok := m.(interface{ Unwrap() Model })
		if !ok {
			return m
		}
		m = u.Unwrap()
	}
}

// Relations returns the relations m keeps in its samples, in the order it
// repairs them.
func Relations(m Model) []string {
	e, ok := m.(*enforced)
	if !ok {
		return nil
	}
	out := make([]string, len(e.rep.Repairs))
	for i, r := range e.rep.Repairs {
		out[i] = r.Relation
	}
	return out
}

// Sample samples the driver's model and repairs each row. Relations whose
// target column is fixed by a condition are left alone: the condition wins.
func (e *enforced) Sample(ctx context.Context, n int64, shard, shards int, seed uint64, opts SampleOptions, w RowWriter) error {
	skip := make([]bool, len(e.rep.Repairs))
	for i, r := range e.rep.Repairs {
		_, skip[i] = opts.Fixed[e.rep.Cols[r.Target].Name]
	}
	ncol := len(e.rep.Cols)
	if opts.Accept != nil {
		accept, scratch := opts.Accept, make([]string, ncol)
		var buf []byte
		opts.Accept = func(row []string) bool {
			copy(scratch, row)
			e.rep.apply(scratch, seed, skip, &buf)
			return accept(scratch)
		}
	}
	if w == nil {
		return e.Model.Sample(ctx, n, shard, shards, seed, opts, w)
	}
	return e.Model.Sample(ctx, n, shard, shards, seed, opts, &repairWriter{w: w, rep: e.rep, seed: seed, skip: skip, row: make([]string, ncol)})
}

type repairWriter struct {
	w    RowWriter
	rep  *Repairer
	seed uint64
	skip []bool
	row  []string
	buf  []byte
}

func (r *repairWriter) Write(row []string) error {
	if len(row) != len(r.row) {
		return r.w.Write(row) // not a row of the model's columns; let the writer judge
	}
	copy(r.row, row)
	r.rep.apply(r.row, r.seed, r.skip, &r.buf)
	return r.w.Write(r.row)
}

// apply repairs row in place; buf is scratch space.
func (rp *Repairer) apply(row []string, seed uint64, skip []bool, buf *[]byte) {
	var h uint64
	hashed := false
	for i := range rp.Repairs {
		if skip[i] {
			continue
		}
		r := &rp.Repairs[i]
		tc := &rp.Cols[r.Target]
		if profile.IsMissing(row[r.Target], tc) {
			continue
		}
		switch r.Kind {
		case relations.FD:
			sc := &rp.Cols[r.Sources[0]]
			if k, ok := levelKey(row[r.Sources[0]], sc); ok {
				if v, ok := r.Map[k]; ok {
					row[r.Target] = v
				}
			}
		case relations.Order:
			a, ok1 := cellValue(row[r.Sources[0]], &rp.Cols[r.Sources[0]])
			b, ok2 := cellValue(row[r.Target], tc)
			if !ok1 || !ok2 {
				continue
			}
			if r.Swap || len(r.Gap) == 0 {
				if a > b {
					row[r.Sources[0]], row[r.Target] = row[r.Target], row[r.Sources[0]]
				}
				continue
			}
			if g := b - a; !r.Always && g >= r.Gap[0] && g <= r.Gap[len(r.Gap)-1] {
				continue
			}
			if !hashed {
				h, hashed = rowHash(row, seed), true
			}
			g := r.draw(h, i)
			row[r.Target] = formatValue(buf, tc, a+g, row[r.Sources[0]], g)
		case relations.Geodesic:
			var c [4]float64
			ok := true
			for k, src := range r.Sources {
				c[k], ok = cellValue(row[src], &rp.Cols[src])
				if !ok {
					break
				}
			}
			d, good := cellValue(row[r.Target], tc)
			if !ok || !good || r.Unit <= 0 {
				continue
			}
			gc := relations.GreatCircle(c[0], c[1], c[2], c[3])
			if relations.HoldsGeodesic(d, gc, r.Unit, relations.Tolerance(tc.Decimals, d)) {
				continue
			}
			ratio := 1.0
			if len(r.Gap) > 1 {
				if !hashed {
					h, hashed = rowHash(row, seed), true
				}
				ratio = max(1, r.draw(h, i))
			}
			// Rounded up to the column's last digit, so that the bound holds.
			v := gc / r.Unit * ratio
			if !tc.Integer || tc.Decimals > 0 {
				p := math.Pow10(tc.Decimals)
				v = math.Ceil(v*p) / p
			} else {
				v = math.Ceil(v)
			}
			row[r.Target] = formatValue(buf, tc, v, "", 0)
		case relations.Elapsed:
			e, ok1 := cellValue(row[r.Sources[0]], &rp.Cols[r.Sources[0]])
			st, ok2 := cellValue(row[r.Sources[1]], &rp.Cols[r.Sources[1]])
			if ok1 && ok2 && r.Unit > 0 {
				row[r.Target] = formatValue(buf, tc, (e-st)/r.Unit, "", 0)
			}
		default:
			var v float64
			ok := true
			for k, src := range r.Sources {
				x, good := cellValue(row[src], &rp.Cols[src])
				ok = ok && good
				switch {
				case k == 0 || r.Kind == relations.Sum:
					v += x
				case r.Kind == relations.Product:
					v *= x
				case r.Kind == relations.Ratio:
					ok = ok && x != 0
					v /= x
				}
			}
			if !ok {
				continue
			}
			row[r.Target] = formatValue(buf, tc, v, "", 0)
		}
	}
}

// draw returns a gap from the quantiles for the row hashed to h.
func (r *Repair) draw(h uint64, i int) float64 {
	x := h ^ (uint64(i)+1)*0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	u := float64(x>>11) / (1 << 53) * float64(len(r.Gap)-1)
	k := min(int(u), len(r.Gap)-2)
	g := r.Gap[k] + (u-float64(k))*(r.Gap[k+1]-r.Gap[k])
	if r.GapStep > 0 {
		g = math.Round(g/r.GapStep) * r.GapStep
	}
	return min(max(g, r.Gap[0]), r.Gap[len(r.Gap)-1])
}

func rowHash(row []string, seed uint64) uint64 {
	d := xxhash.NewWithSeed(seed)
	for _, c := range row {
		_, _ = d.WriteString(c)
		_, _ = d.Write([]byte{0})
	}
	return d.Sum64()
}

// cellValue parses a numeric or datetime cell (seconds since 1970).
func cellValue(cell string, c *profile.Column) (float64, bool) {
	if profile.IsMissing(cell, c) {
		return 0, false
	}
	switch c.Kind {
	case profile.Numeric:
		return profile.ParseNumber(cell)
	case profile.Datetime:
		t, ok := profile.ParseTime(cell, c.Format)
		if !ok {
			return 0, false
		}
		return float64(t.Unix()) + float64(t.Nanosecond())/1e9, true
	}
	return 0, false
}

// levelKey is a determinant's value as the dependency map keys it: the
// trimmed cell, or for a numeric column its value in shortest form (as
// profile.RelationColumns writes its levels).
func levelKey(cell string, c *profile.Column) (string, bool) {
	if profile.IsMissing(cell, c) {
		return "", false
	}
	if c.Kind == profile.Numeric {
		v, ok := profile.ParseNumber(cell)
		return strconv.FormatFloat(v, 'g', -1, 64), ok
	}
	return strings.TrimSpace(cell), true
}

// formatValue writes v in column c's format. A datetime is written as the
// source cell `from` moved by gap seconds, so that its zone is kept.
func formatValue(buf *[]byte, c *profile.Column, v float64, from string, gap float64) string {
	if c.Kind == profile.Datetime {
		t, _ := profile.ParseTime(from, c.Format)
		return t.Add(time.Duration(gap * float64(time.Second))).Format(c.Format)
	}
	*buf = profile.AppendNumber((*buf)[:0], v, c.Integer, c.Decimals, c.Trim)
	return string(*buf)
}

// newRepairer fits the relations of p on rows (the training rows, or a
// private model's pilot sample), in dependency order; gaps, when not nil,
// are a private driver's measured gap quantiles by relation, and then the
// profile's gap summaries are not read:
// each column is the target of one relation at most, chosen declared
// first, then identities before dependencies before orders, then by
// confidence, then an order by its smallest median gap (the
// nearest predecessor of a chain a ≤ b ≤ c), and a relation that would
// close a cycle (code → label after label → code) is left to follow from
// the others.
func newRepairer(rows [][]string, p *profile.Profile, gaps map[string][]float64) (*Repairer, error) {
	index := make(map[string]int, len(p.Columns))
	for j, c := range p.Columns {
		index[c.Name] = j
	}
	rels := slices.Clone(p.Relations)
	slices.SortStableFunc(rels, func(a, b relations.Relation) int {
		switch {
		case a.Declared != b.Declared:
			if a.Declared {
				return -1
			}
			return 1
		case rank(a.Kind) != rank(b.Kind):
			return rank(a.Kind) - rank(b.Kind)
		case a.Confidence != b.Confidence:
			if a.Confidence > b.Confidence {
				return -1
			}
			return 1
		}
		ma, okA := gapMedian(a, gaps)
		mb, okB := gapMedian(b, gaps)
		switch {
		case okA && okB && ma < mb:
			return -1
		case okA && okB && ma > mb:
			return 1
		}
		return 0
	})
	// Choose one relation per target, without cycles.
	into := map[int][]int{} // target → sources of the chosen relations
	reaches := func(from, to int) bool {
		seen := map[int]bool{}
		var walk func(int) bool
		walk = func(c int) bool {
			if c == to {
				return true
			}
			if seen[c] {
				return false
			}
			seen[c] = true
			for _, s := range into[c] {
				if walk(s) {
					return true
				}
			}
			return false
		}
		return walk(from)
	}
	var chosen []Repair
	for _, rel := range rels {
		t, ok := index[rel.Target()]
		if !ok {
			return nil, fmt.Errorf("relation %s: no column %q", rel, rel.Target())
		}
		if _, taken := into[t]; taken {
			continue
		}
		var src []int
		cycle := false
		for _, s := range rel.Sources() {
			j, ok := index[s]
			if !ok {
				return nil, fmt.Errorf("relation %s: no column %q", rel, s)
			}
			src = append(src, j)
			cycle = cycle || reaches(j, t)
		}
		if cycle {
			continue
		}
		into[t] = src
		chosen = append(chosen, Repair{Relation: rel.String(), Kind: rel.Kind, Target: t, Sources: src, Unit: rel.Unit})
	}
	if len(chosen) == 0 {
		return nil, nil
	}
	// Parse only the columns the chosen relations read.
	sub := &profile.Profile{Columns: slices.Clone(p.Columns)}
	used := map[int]bool{}
	for _, r := range chosen {
		used[r.Target] = true
		for _, s := range r.Sources {
			used[s] = true
		}
	}
	for j := range sub.Columns {
		if !used[j] {
			sub.Columns[j].Kind = profile.Text
		}
	}
	cols := profile.RelationColumns(rows, sub)
	for i := range chosen {
		r := &chosen[i]
		switch r.Kind {
		case relations.Order:
			if q, ok := gaps[r.Relation]; ok && len(q) > 1 {
				// A datetime pair's gap (a trip's length) is drawn for every
				// row: the model's own gap between two timestamps sampled
				// days apart is no duration anyone had, even inside the
				// range. Two numbers keep the model's gap when it lies in
				// the measured range, as for the other models: their gap
				// often depends on the values (net - tax is 0.8 net).
				tc := &p.Columns[r.Target]
				r.Gap, r.GapStep, r.Always = q, formatStep(tc), tc.Kind == profile.Datetime
				break
			}
			r.Gap, r.GapStep = gapQuantiles(&cols[r.Sources[0]], &cols[r.Target])
			r.Swap = r.Gap == nil
		case relations.Geodesic:
			r.Gap = ratioQuantiles(&cols[r.Target], cols, r.Sources, r.Unit)
		case relations.FD:
			x, y := &cols[r.Sources[0]], &cols[r.Target]
			if x.Codes == nil || y.Codes == nil {
				return nil, fmt.Errorf("relation %s: a dependency needs columns of few values", r.Relation)
			}
			r.Map = relations.Dominant(x, y)
			if tc := &p.Columns[r.Target]; tc.Kind == profile.Numeric {
				var buf []byte
				for k, v := range r.Map { // written as the target column writes numbers
					f, _ := strconv.ParseFloat(v, 64)
					buf = profile.AppendNumber(buf[:0], f, tc.Integer, tc.Decimals, tc.Trim)
					r.Map[k] = string(buf)
				}
			}
		}
	}
	// Topological order: a relation runs after those that set its sources.
	var order []Repair
	done := map[int]bool{}
	for len(order) < len(chosen) {
		progress := false
		for _, r := range chosen {
			if done[r.Target] {
				continue
			}
			ready := true
			for _, s := range r.Sources {
				if _, derived := into[s]; derived && !done[s] {
					ready = false
				}
			}
			if ready {
				order = append(order, r)
				done[r.Target] = true
				progress = true
			}
		}
		if !progress {
			return nil, fmt.Errorf("relations form a cycle") // unreachable: cycles are refused above
		}
	}
	return &Repairer{Version: repairerVersion, Cols: slices.Clone(p.Columns), Repairs: order}, nil
}

// rank orders the kinds of relation that may set one target: an identity
// or a dependency fixes the value, an order only bounds it (and total ≥
// part follows from total = part + other).
func rank(k relations.Kind) int {
	switch k {
	case relations.Sum, relations.Product, relations.Ratio, relations.Elapsed:
		return 0
	case relations.FD:
		return 1
	}
	return 2
}

// gapMedian is the median gap of an order relation: the middle of a
// private driver's measured quantiles when gaps is not nil, else the
// profile's summary.
func gapMedian(r relations.Relation, gaps map[string][]float64) (float64, bool) {
	if gaps != nil {
		q, ok := gaps[r.String()]
		if !ok || len(q) == 0 {
			return 0, false
		}
		return q[len(q)/2], true
	}
	if r.Gap == nil {
		return 0, false
	}
	return r.Gap.Median, true
}

// formatStep is the unit a datetime column's format writes: a minute when
// it has no seconds, an hour without minutes, a day without hours (0 for
// numbers and for formats down to the second): a gap drawn from measured
// quantiles is rounded to it, as the column's own values are.
func formatStep(c *profile.Column) float64 {
	if c.Kind != profile.Datetime {
		return 0
	}
	f := c.Format
	switch {
	case strings.Contains(f, "05"):
		return 0
	case strings.Contains(f, "04"):
		return 60
	case strings.Contains(f, "15") || strings.Contains(f, "03") || strings.Contains(f, "3"):
		return 3600
	}
	return 86400
}

// GapMeasurer is a private driver's model that measured order relations'
// gaps under its guarantee: quantiles at evenly spaced probabilities, by
// relation as relations.Relation.String writes it.
type GapMeasurer interface {
	RelationGaps() map[string][]float64
}

// gapQuantiles returns quantiles of the valid gaps b − a (those ≥ 0), and
// the largest of a day, an hour, a minute and a second every gap is a
// multiple of (0 for numbers or when none is); nil without MinSupport
// valid gaps.
func gapQuantiles(a, b *relations.Column) ([]float64, float64) {
	var gaps []float64
	for r := range a.Num {
		if g := b.Num[r] - a.Num[r]; g >= 0 { // NaN compares false
			gaps = append(gaps, g)
		}
	}
	if len(gaps) < relations.MinSupport {
		return nil, 0
	}
	slices.Sort(gaps)
	q := make([]float64, nGapQuantiles)
	for i := range q {
		q[i] = gaps[int(math.Round(float64(i)*float64(len(gaps)-1)/float64(nGapQuantiles-1)))]
	}
	step := 0.0
	if a.Kind == relations.Time {
		for _, s := range []float64{86400, 3600, 60, 1} {
			whole := true
			for _, g := range gaps {
				if math.Abs(g/s-math.Round(g/s)) > 1e-6 {
					whole = false
					break
				}
			}
			if whole {
				step = s
				break
			}
		}
	}
	return q, step
}

// ratioQuantiles returns quantiles of a geodesic relation's ratio, the
// distance d (in unit km) over the great-circle distance between the
// points in the columns src, on the rows whose points lie at least the
// median great-circle distance apart (there the ratio is the route's
// detour, not the noise of two nearby fixes) and that keep the bound (a
// private model's pilot rows that break it say nothing of the detour); nil
// without MinSupport such rows. A violating row's distance is redrawn as its great-circle distance
// times a ratio drawn from them.
func ratioQuantiles(d *relations.Column, cols []relations.Column, src []int, unit float64) []float64 {
	type pair struct{ gc, ratio float64 }
	var ps []pair
	for r, x := range d.Num {
		g := relations.GreatCircle(cols[src[0]].Num[r], cols[src[1]].Num[r], cols[src[2]].Num[r], cols[src[3]].Num[r])
		if g > 0 && x == x { // NaN compares false
			ps = append(ps, pair{g, x * unit / g})
		}
	}
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(a.gc, b.gc) })
	var ratios []float64
	for _, p := range ps[len(ps)/2:] {
		if p.ratio >= 1 {
			ratios = append(ratios, p.ratio)
		}
	}
	if len(ratios) < relations.MinSupport {
		return nil
	}
	slices.Sort(ratios)
	q := make([]float64, nGapQuantiles)
	for i := range q {
		q[i] = ratios[int(math.Round(float64(i)*float64(len(ratios)-1)/float64(nGapQuantiles-1)))]
	}
	return q
}

// withRelations wraps m so that its samples keep p's relations; see above.
func withRelations(ctx context.Context, m Model, t *table.Table, p *profile.Profile, private bool, pre *repairFit) (Model, error) {
	if len(p.Relations) == 0 {
		return m, nil
	}
	if pre != nil && !private {
		return enforce(m, pre.rep, pre.err)
	}
	rows := t.Rows
	var gaps map[string][]float64
	if private {
		var c collector
		if err := m.Sample(ctx, pilotRows, 0, 1, pilotSeed, SampleOptions{}, &c); err != nil {
			return nil, fmt.Errorf("relations: pilot sample: %w", err)
		}
		rows = c.rows
		gaps = map[string][]float64{} // not nil: the profile's gap summaries stay unread
		if gm, ok := m.(GapMeasurer); ok {
			for k, q := range gm.RelationGaps() {
				gaps[k] = q
			}
		}
	}
	rep, err := newRepairer(rows, p, gaps)
	return enforce(m, rep, err)
}

// enforce wraps m to keep rep's relations, as newRepairer returned them.
func enforce(m Model, rep *Repairer, err error) (Model, error) {
	if err != nil || rep == nil {
		return m, err
	}
	if len(rep.Cols) != len(m.Columns()) {
		return nil, fmt.Errorf("relations: profile of %d columns, model of %d", len(rep.Cols), len(m.Columns()))
	}
	return &enforced{Model: m, rep: rep}, nil
}

type collector struct{ rows [][]string }

func (c *collector) Write(row []string) error {
	c.rows = append(c.rows, slices.Clone(row))
	return nil
}

// relMagic starts the relations section a model file of an enforced model
// opens with, before the driver's own file: a big-endian uint32 length and
// the Repairer as JSON follow it. Files without it load as before.
var relMagic = []byte("SYNTHOS-RELATIONS\n")

func saveRelations(w io.Writer, rep *Repairer) error {
	b, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("model.Save: relations: %w", err)
	}
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	for _, part := range [][]byte{relMagic, n[:], b} {
		if _, err := w.Write(part); err != nil {
			return fmt.Errorf("model.Save: relations: %w", err)
		}
	}
	return nil
}

// maxRelationsBytes bounds the relations section a file may claim.
const maxRelationsBytes = 256 << 20

func loadRelations(r io.Reader) (*Repairer, error) {
	head := make([]byte, len(relMagic)+4)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("model.Load: relations: %w: %w", err, ErrFormat)
	}
	n := binary.BigEndian.Uint32(head[len(relMagic):])
	if n > maxRelationsBytes {
		return nil, fmt.Errorf("model.Load: relations section of %d bytes: %w", n, ErrFormat)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("model.Load: relations: %w: %w", err, ErrFormat)
	}
	var rep Repairer
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("model.Load: relations: %w: %w", err, ErrFormat)
	}
	if rep.Version != repairerVersion {
		return nil, fmt.Errorf("model.Load: relations format version %d, this build reads %d: %w", rep.Version, repairerVersion, ErrFormat)
	}
	for _, r := range rep.Repairs {
		want := 2
		switch r.Kind {
		case relations.Order, relations.FD:
			want = 1
		case relations.Geodesic:
			want = 4
		}
		bad := !slices.Contains(relations.Kinds, r.Kind) || r.Target < 0 || r.Target >= len(rep.Cols) ||
			len(r.Sources) != want && !(r.Kind == relations.Sum && len(r.Sources) > want) || len(r.Gap) == 1 ||
			(r.Kind == relations.Elapsed || r.Kind == relations.Geodesic) && !(r.Unit > 0)
		for _, s := range r.Sources {
			bad = bad || s < 0 || s >= len(rep.Cols)
		}
		if bad {
			return nil, fmt.Errorf("model.Load: relations: repair %q out of range: %w", r.Relation, ErrFormat)
		}
	}
	return &rep, nil
}
