package synth

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"

	"synthos.dev/synthos/internal/parallel"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Schema is the part of a fitted model shared by every model kind: how each
// source column is read, modelled or generated, and written back. Its fields
// are exported for serialization (see Save).
type Schema struct {
	Cols []Col
	// Modelled lists, in source order, the indexes of the columns the model
	// learns jointly (numeric, datetime, categorical, boolean).
	Modelled []int
	// Salt keys the hashes in RowHashes and Col.Seen, so that a model file
	// does not carry plain hashes of training values.
	Salt uint64
	// RowHashes holds the salted hashes of every training row's modelled
	// cells, as formatted on output: the exact-copy guard rejects a sampled
	// row whose modelled cells hash into it.
	RowHashes []uint64
	// Guard is the near-copy guard (see guard.go).
	Guard Guard

	guardQ float64 // the guard quantile encode fits at (FitOptions)

	// rows is the exact-copy guard's set, built from RowHashes by the
	// models' prepare so that a parallel sample's tasks (one Sample call
	// each) share it instead of each building its own; read-only after.
	rows hashSet

	// pre holds the modelled cells newSchema decoded, until encode takes
	// them (see fitColumn).
	pre *encoded
}

// Col is one source column as the models see it.
type Col struct {
	Name   string
	Kind   profile.Kind
	PII    profile.PIIKind
	Writer table.Kind

	// Numeric and datetime columns. Values are float64 (datetimes as Unix
	// seconds); NaN is missing.
	Integer  bool
	Decimals int
	Trim     bool    // written without trailing zeros (profile.Column.Trim)
	Lo, Hi   float64 // output bounds
	Format   string  // datetime layout
	ZoneName string  // datetime zone of the first parsed cell
	ZoneOff  int
	// Step is a datetime column's grid in seconds when every source value
	// lies on it in the column's zone — a day, an hour or a minute (data
	// recorded at whole minutes but written with seconds); 0 means whole
	// seconds. For a numeric column it is the lattice its values lie on
	// when coarser than its written unit (see lattice.go); 0 means the
	// unit. Off-grid values would tell synthetic rows from real ones.
	// Grid, when set, lists the only values a numeric column is written
	// with (see valueGrid).
	Step float64
	Grid []float64

	// Missing is the token written for a missing numeric, datetime or
	// generated cell: the commonest missing spelling seen in training.
	Missing     string
	MissingRate float64 // share of missing cells (generated columns)

	// Levels are the distinct cells of a categorical or boolean column,
	// missing tokens included, so missingness is modelled like any level.
	Levels []string

	Gen Generator // PII, ID and text columns
}

// isModelled says whether a profile kind is learnt by the models.
func isModelled(k profile.Kind) bool {
	switch k {
	case profile.Numeric, profile.Datetime, profile.Categorical, profile.Boolean:
		return true
	}
	return false
}

// isNumber says whether a modelled column holds numbers (vs levels).
func (c *Col) isNumber() bool { return c.Kind == profile.Numeric || c.Kind == profile.Datetime }

// encoded is the training table decoded for fitting: per modelled column
// (indexed like Schema.Modelled) either float values or level codes.
type encoded struct {
	n   int
	num [][]float64 // NaN = missing; nil for level columns
	cat [][]int32   // nil for number columns
}

// newSchema reads the profile of every column of t and encodes nothing yet.
func newSchema(t *table.Table, p *profile.Profile, salt uint64) (*Schema, error) {
	if len(t.Columns) == 0 {
		return nil, fmt.Errorf("table has no columns: %w", ErrInvalid)
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Columns) {
			return nil, fmt.Errorf("row %d has %d cells, want %d: %w", i, len(r), len(t.Columns), ErrInvalid)
		}
	}
	s := &Schema{Salt: salt | 1}
	// Columns are fitted independently, on every core; the first error in
	// column order is the one returned, as a serial loop would.
	cols := make([]Col, len(t.Columns))
	errs := make([]error, len(t.Columns))
	num := make([][]float64, len(t.Columns))
	cat := make([][]int32, len(t.Columns))
	parallel.Each(len(t.Columns), func(j int) { cols[j], num[j], cat[j], errs[j] = fitColumn(t, j, p, s.Salt) })
	pre := &encoded{n: len(t.Rows)}
	for j, c := range cols {
		if errs[j] != nil {
			return nil, errs[j]
		}
		s.Cols = append(s.Cols, c)
		if isModelled(c.Kind) {
			s.Modelled = append(s.Modelled, j)
			pre.num = append(pre.num, num[j])
			pre.cat = append(pre.cat, cat[j])
		}
	}
	s.pre = pre
	return s, nil
}

// fitColumn fits column j's schema from its cells and profile. A modelled
// column's cells come back decoded as encode wants them: a number column's
// as parsed (unrounded, NaN when missing), a level column's as level codes.
func fitColumn(t *table.Table, j int, p *profile.Profile, salt uint64) (c Col, num []float64, cat []int32, err error) {
	name := t.Columns[j]
	pc := p.Col(name)
	if pc == nil {
		return Col{}, nil, nil, fmt.Errorf("column %q is not in the profile: %w", name, ErrInvalid)
	}
	c = Col{Name: name, Kind: pc.Kind, PII: pc.PII, Integer: pc.Integer, Decimals: pc.Decimals, Trim: pc.Trim, Format: pc.Format}
	missing := map[string]bool{}
	for _, tok := range pc.MissingTokens {
		missing[tok] = true
	}
	switch pc.Kind {
	case profile.Numeric, profile.Datetime:
		num, err = c.fitNumberMeta(t, j, pc, missing)
	case profile.Categorical, profile.Boolean:
		cat = c.fitLevels(t, j)
	case profile.ID, profile.PII, profile.Text:
		c.Missing, c.MissingRate = missingShare(t, j, missing)
		err = c.Gen.fit(t, j, pc, missing, salt)
		c.Writer = table.String
	default:
		err = fmt.Errorf("column %q has unknown kind %q: %w", name, pc.Kind, ErrInvalid)
	}
	return c, num, cat, err
}

// missingShare returns the commonest missing spelling of column j and the
// share of its cells that are missing ("" always counts as missing).
func missingShare(t *table.Table, j int, missing map[string]bool) (string, float64) {
	counts := map[string]int{}
	total := 0
	for _, r := range t.Rows {
		if v := r[j]; v == "" || missing[v] {
			counts[v]++
			total++
		}
	}
	return commonestMissing(counts, missing), float64(total) / float64(len(t.Rows))
}

// commonestMissing returns the commonest of the missing spellings counted,
// ties to the least; a declared spelling when none was seen.
func commonestMissing(counts map[string]int, missing map[string]bool) string {
	best, bestN := "", -1
	for tok, n := range counts {
		if n > bestN || (n == bestN && tok < best) {
			best, bestN = tok, n
		}
	}
	if bestN < 0 {
		for tok := range missing { // never seen: use a declared spelling
			if best == "" || tok < best {
				best = tok
			}
		}
	}
	return best
}

// fitNumberMeta sets bounds, precision and the missing token of a numeric or
// datetime column, and returns its cells as parsed (NaN for a missing or
// unreadable cell) for encode, so that no cell is parsed twice.
func (c *Col) fitNumberMeta(t *table.Table, j int, pc *profile.Column, missing map[string]bool) ([]float64, error) {
	c.Writer = table.String
	if c.Kind == profile.Numeric {
		c.Writer = table.Float
		if c.Integer && (c.Decimals == 0 || c.Trim) {
			c.Writer = table.Int
		}
	} else if c.Format == "" {
		c.Missing, _ = missingShare(t, j, missing)
		return nil, fmt.Errorf("datetime column %q has no format: %w", c.Name, ErrInvalid)
	}
	// One pass parses every cell and counts the missing spellings (as
	// missingShare does); missing tokens are few, a slice beats a map.
	tokens := slices.Sorted(maps.Keys(missing))
	counts := map[string]int{}
	parsed := make([]float64, len(t.Rows))
	lo, hi := math.Inf(1), math.Inf(-1)
	var vals []float64 // numeric columns: for lattice.go
	if c.Kind == profile.Numeric {
		vals = make([]float64, 0, len(t.Rows))
	}
	for i, r := range t.Rows {
		cell := r[j]
		if cell == "" || slices.Contains(tokens, cell) {
			counts[cell]++
			parsed[i] = math.NaN()
			continue
		}
		v, ok := c.parseFilled(cell)
		if !ok {
			parsed[i] = math.NaN()
			continue
		}
		parsed[i] = v
		lo, hi = min(lo, v), max(hi, v)
		if c.Kind == profile.Numeric {
			vals = append(vals, v)
		}
	}
	c.Missing = commonestMissing(counts, missing)
	if lo > hi {
		lo, hi = 0, 0 // all missing
	}
	// A profile's bounds narrow the data's (a user may tighten them).
	if pc.Kind == profile.Numeric && pc.Max > pc.Min {
		lo, hi = max(lo, pc.Min), min(hi, pc.Max)
		if lo > hi {
			lo, hi = pc.Min, pc.Max
		}
	}
	c.Lo, c.Hi = lo, hi
	if c.Kind == profile.Numeric {
		c.Step = c.lattice(vals) // see lattice.go
		c.Grid = c.valueGrid(vals)
	}
	if c.Kind == profile.Datetime {
		for _, r := range t.Rows {
			if ts, err := time.Parse(c.Format, r[j]); err == nil {
				c.ZoneName, c.ZoneOff = ts.Zone()
				break
			}
		}
		c.Step = c.grid(parsed)
	}
	return parsed, nil
}

// grid returns the coarsest of a day, an hour and a minute that every
// value of a datetime column (its parsed cells, NaN when missing) is a
// whole multiple of in the column's zone, or 0.
func (c *Col) grid(parsed []float64) float64 {
	steps := []float64{86400, 3600, 60}
	for _, v := range parsed {
		if v != v {
			continue
		}
		v += float64(c.ZoneOff)
		for len(steps) > 0 && math.Mod(v, steps[0]) != 0 {
			steps = steps[1:]
		}
		if len(steps) == 0 {
			return 0
		}
	}
	if len(steps) == 0 || c.Lo == c.Hi {
		return 0
	}
	return steps[0]
}

// parse reads a numeric or datetime cell; ok is false for a missing or
// unreadable cell (unreadable cells are treated as missing).
func (c *Col) parse(cell string, missing map[string]bool) (float64, bool) {
	if cell == "" || missing[cell] {
		return 0, false
	}
	return c.parseFilled(cell)
}

// parseFilled is parse of a cell known not to be missing.
func (c *Col) parseFilled(cell string) (float64, bool) {
	if c.Kind == profile.Datetime {
		ts, err := time.Parse(c.Format, cell)
		if err != nil {
			return 0, false
		}
		return float64(ts.Unix()) + float64(ts.Nanosecond())/1e9, true
	}
	return parseFloatCell(cell)
}

// parseFloatCell is strconv.ParseFloat of the trimmed cell, rejecting NaN
// and infinities. A plain run of at most 15 digits with an optional sign
// and ASCII spaces around it (most numeric cells) is read without
// strconv: such a number is exactly representable, so the result is the
// same float.
func parseFloatCell(cell string) (float64, bool) {
	s := cell
	for len(s) > 0 && asciiSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && asciiSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if v, ok := smallInt(s); ok {
		return v, true
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(cell), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func asciiSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\v' || b == '\f' || b == '\r'
}

// smallInt parses an optional sign and 1 to 15 decimal digits; ok is false
// for anything else (left to strconv).
func smallInt(s string) (float64, bool) {
	neg := false
	if len(s) > 0 && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 15 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		d := s[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int64(d)
	}
	v := float64(n)
	if neg {
		v = -v
	}
	return v, true
}

// fitLevels collects the distinct cells of a categorical or boolean column
// and returns each row's level code for encode, so that no cell is looked
// up twice.
func (c *Col) fitLevels(t *table.Table, j int) []int32 {
	index := map[string]int32{}
	codes := make([]int32, len(t.Rows))
	for i, r := range t.Rows {
		code, ok := index[r[j]]
		if !ok {
			code = int32(len(c.Levels))
			index[r[j]] = code
			c.Levels = append(c.Levels, r[j])
		}
		codes[i] = code
	}
	// Levels are stored sorted; codes follow them.
	order := make([]int32, len(c.Levels))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(c.Levels[a], c.Levels[b]) })
	sorted := make([]string, len(c.Levels))
	remap := make([]int32, len(c.Levels))
	for i, code := range order {
		sorted[i] = c.Levels[code]
		remap[code] = int32(i)
	}
	c.Levels = sorted
	for i, code := range codes {
		codes[i] = remap[code]
	}
	c.Writer = table.String
	if c.Kind == profile.Boolean {
		c.Writer = table.Bool
		for _, l := range c.Levels {
			if _, err := strconv.ParseBool(l); err != nil {
				c.Writer = table.String
				break
			}
		}
	}
	return codes
}

// round applies bounds and precision to a number drawn by a model.
func (c *Col) round(v float64) float64 {
	v = min(max(v, c.Lo), c.Hi)
	if c.Kind == profile.Datetime {
		if c.Step > 0 { // on the source's grid, which Lo and Hi lie on
			off := float64(c.ZoneOff)
			return math.Round((v+off)/c.Step)*c.Step - off
		}
		return math.Round(v)
	}
	if c.Step > 0 {
		v = c.onLattice(v)
	}
	if len(c.Grid) > 0 {
		v = c.onGrid(v)
	}
	if c.Integer {
		return math.Round(v)
	}
	if c.Decimals >= 0 && c.Decimals <= 15 {
		p := pow10[c.Decimals]
		return math.Round(v*p) / p
	}
	return v
}

var pow10 = func() [16]float64 {
	var p [16]float64
	p[0] = 1
	for i := 1; i < 16; i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// appendNumber formats a rounded number (not missing) as the source did.
func (c *Col) appendNumber(buf []byte, v float64, loc *time.Location) []byte {
	switch {
	case c.Kind == profile.Datetime:
		sec := math.Floor(v)
		return time.Unix(int64(sec), int64((v-sec)*1e9)).In(loc).AppendFormat(buf, c.Format)
	default:
		return profile.AppendNumber(buf, v, c.Integer, c.Decimals, c.Trim)
	}
}

// location is the zone datetimes are written in.
func (c *Col) location() *time.Location {
	if c.ZoneName == "UTC" && c.ZoneOff == 0 || c.ZoneName == "" && c.ZoneOff == 0 {
		return time.UTC
	}
	return time.FixedZone(c.ZoneName, c.ZoneOff)
}

// encode decodes the modelled columns of t and fills s.RowHashes. The
// cells newSchema decoded are used as they are (numbers rounded here), so
// that each cell is parsed once.
func (s *Schema) encode(t *table.Table, p *profile.Profile) *encoded {
	pre := s.pre
	s.pre = nil
	if pre == nil || pre.n != len(t.Rows) {
		pre = s.decode(t, p)
	}
	e := &encoded{n: len(t.Rows), num: make([][]float64, len(s.Modelled)), cat: make([][]int32, len(s.Modelled))}
	parallel.Each(len(s.Modelled), func(k int) {
		c := &s.Cols[s.Modelled[k]]
		if !c.isNumber() {
			e.cat[k] = pre.cat[k]
			return
		}
		col := pre.num[k] // rounded in place: pre is encode's alone
		for i, v := range col {
			if v == v {
				col[i] = c.round(v)
			}
		}
		e.num[k] = col
	})
	// The row hashes and the near-copy guard read e alone: both at once.
	var wg sync.WaitGroup
	wg.Go(func() { s.RowHashes = s.trainingHashes(e) })
	s.Guard = newGuard(s, e, s.guardQ, s.Salt)
	wg.Wait()
	return e
}

// decode parses the modelled cells of t as newSchema does, for a schema
// that did not decode t itself.
func (s *Schema) decode(t *table.Table, p *profile.Profile) *encoded {
	e := &encoded{n: len(t.Rows), num: make([][]float64, len(s.Modelled)), cat: make([][]int32, len(s.Modelled))}
	parallel.Each(len(s.Modelled), func(k int) {
		j := s.Modelled[k]
		c := &s.Cols[j]
		if c.isNumber() {
			missing := map[string]bool{}
			if pc := p.Col(c.Name); pc != nil {
				for _, tok := range pc.MissingTokens {
					missing[tok] = true
				}
			}
			col := make([]float64, e.n)
			for i, r := range t.Rows {
				if v, ok := c.parse(r[j], missing); ok {
					col[i] = v
				} else {
					col[i] = math.NaN()
				}
			}
			e.num[k] = col
			return
		}
		index := make(map[string]int32, len(c.Levels))
		for i, l := range c.Levels {
			index[l] = int32(i)
		}
		col := make([]int32, e.n)
		for i, r := range t.Rows {
			col[i] = index[r[j]]
		}
		e.cat[k] = col
	})
	return e
}

// trainingHashes hashes each training row's modelled cells as they would be
// written on output, so that the guard compares like with like. Blocks of
// rows are hashed on every core; the sorted set is the same on any number.
func (s *Schema) trainingHashes(e *encoded) []uint64 {
	locs := s.locations()
	out := make([]uint64, e.n)
	blocks := (e.n + hashBlock - 1) / hashBlock
	parallel.Each(blocks, func(b int) {
		h := xxhash.New()
		var buf []byte
		for i := b * hashBlock; i < min((b+1)*hashBlock, e.n); i++ {
			h.Reset()
			for k, j := range s.Modelled {
				c := &s.Cols[j]
				if c.isNumber() {
					if v := e.num[k][i]; math.IsNaN(v) {
						_, _ = h.WriteString(c.Missing)
					} else {
						buf = c.appendNumber(buf[:0], v, locs[j])
						_, _ = h.Write(buf)
					}
				} else {
					_, _ = h.WriteString(c.Levels[e.cat[k][i]])
				}
				_, _ = h.Write(sep)
			}
			out[i] = h.Sum64() ^ s.Salt
		}
	})
	slices.Sort(out)
	return slices.Compact(out)
}

// hashBlock is the number of rows trainingHashes hashes in one piece.
const hashBlock = 1 << 15

var sep = []byte{sepByte}

// sepByte ends every cell of a hashed row.
const sepByte = 0x1f

// locations returns each column's output zone (nil for non-datetimes).
func (s *Schema) locations() []*time.Location {
	locs := make([]*time.Location, len(s.Cols))
	for j := range s.Cols {
		if s.Cols[j].Kind == profile.Datetime {
			locs[j] = s.Cols[j].location()
		}
	}
	return locs
}

// tableColumns lists the output columns with their writer kinds.
func (s *Schema) tableColumns() []table.Column {
	out := make([]table.Column, len(s.Cols))
	for j, c := range s.Cols {
		out[j] = table.Column{Name: c.Name, Kind: c.Writer}
	}
	return out
}
