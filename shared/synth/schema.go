package synth

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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
	parallel.Each(len(t.Columns), func(j int) { cols[j], errs[j] = fitColumn(t, j, p, s.Salt) })
	for j, c := range cols {
		if errs[j] != nil {
			return nil, errs[j]
		}
		s.Cols = append(s.Cols, c)
		if isModelled(c.Kind) {
			s.Modelled = append(s.Modelled, j)
		}
	}
	return s, nil
}

// fitColumn fits column j's schema from its cells and profile.
func fitColumn(t *table.Table, j int, p *profile.Profile, salt uint64) (Col, error) {
	name := t.Columns[j]
	pc := p.Col(name)
	if pc == nil {
		return Col{}, fmt.Errorf("column %q is not in the profile: %w", name, ErrInvalid)
	}
	c := Col{Name: name, Kind: pc.Kind, PII: pc.PII, Integer: pc.Integer, Decimals: pc.Decimals, Trim: pc.Trim, Format: pc.Format}
	missing := map[string]bool{}
	for _, tok := range pc.MissingTokens {
		missing[tok] = true
	}
	var err error
	switch pc.Kind {
	case profile.Numeric, profile.Datetime:
		err = c.fitNumberMeta(t, j, pc, missing)
	case profile.Categorical, profile.Boolean:
		c.fitLevels(t, j)
	case profile.ID, profile.PII, profile.Text:
		c.Missing, c.MissingRate = missingShare(t, j, missing)
		err = c.Gen.fit(t, j, pc, missing, salt)
		c.Writer = table.String
	default:
		err = fmt.Errorf("column %q has unknown kind %q: %w", name, pc.Kind, ErrInvalid)
	}
	return c, err
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
	return best, float64(total) / float64(len(t.Rows))
}

// fitNumberMeta sets bounds, precision and the missing token of a numeric or
// datetime column.
func (c *Col) fitNumberMeta(t *table.Table, j int, pc *profile.Column, missing map[string]bool) error {
	c.Missing, _ = missingShare(t, j, missing)
	c.Writer = table.String
	if c.Kind == profile.Numeric {
		c.Writer = table.Float
		if c.Integer && (c.Decimals == 0 || c.Trim) {
			c.Writer = table.Int
		}
	} else if c.Format == "" {
		return fmt.Errorf("datetime column %q has no format: %w", c.Name, ErrInvalid)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	var vals []float64 // numeric columns: for lattice.go
	for _, r := range t.Rows {
		v, ok := c.parse(r[j], missing)
		if !ok {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
		if c.Kind == profile.Numeric {
			vals = append(vals, v)
		}
	}
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
		c.Step = c.grid(t, j, missing)
	}
	return nil
}

// grid returns the coarsest of a day, an hour and a minute that every
// value of datetime column j is a whole multiple of in the column's zone,
// or 0.
func (c *Col) grid(t *table.Table, j int, missing map[string]bool) float64 {
	steps := []float64{86400, 3600, 60}
	for _, r := range t.Rows {
		v, ok := c.parse(r[j], missing)
		if !ok {
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
	if c.Kind == profile.Datetime {
		ts, err := time.Parse(c.Format, cell)
		if err != nil {
			return 0, false
		}
		return float64(ts.Unix()) + float64(ts.Nanosecond())/1e9, true
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(cell), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// fitLevels collects the distinct cells of a categorical or boolean column.
func (c *Col) fitLevels(t *table.Table, j int) {
	seen := map[string]bool{}
	for _, r := range t.Rows {
		if !seen[r[j]] {
			seen[r[j]] = true
			c.Levels = append(c.Levels, r[j])
		}
	}
	slices.Sort(c.Levels)
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

// encode decodes the modelled columns of t and fills s.RowHashes.
func (s *Schema) encode(t *table.Table, p *profile.Profile) *encoded {
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
					col[i] = c.round(v)
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
	s.RowHashes = s.trainingHashes(e)
	s.Guard = newGuard(s, e, s.guardQ, s.Salt)
	return e
}

// trainingHashes hashes each training row's modelled cells as they would be
// written on output, so that the guard compares like with like.
func (s *Schema) trainingHashes(e *encoded) []uint64 {
	locs := s.locations()
	h := xxhash.New()
	var buf []byte
	out := make([]uint64, 0, e.n)
	for i := 0; i < e.n; i++ {
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
		out = append(out, h.Sum64()^s.Salt)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

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
