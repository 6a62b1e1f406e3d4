package profile

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"synthos.dev/synthos/internal/parallel"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/pii"
	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/table"
)

// Version is the version of the Profile format that Infer writes.
const Version = 1

var (
	// ErrTable reports a table Infer cannot profile: nil, without columns,
	// with duplicate column names, or with a row of the wrong width.
	ErrTable = errs.New(errs.InvalidArgument, "profile: bad table")
	// ErrOptions reports Options out of range.
	ErrOptions = errs.New(errs.InvalidArgument, "profile: bad options")
)

// Defaults for the zero Options.
const (
	DefaultSample        = 100_000
	DefaultThreshold     = 0.95
	DefaultMaxCategories = 50
	DefaultCategoryRatio = 0.5
)

// Options tune Infer. The zero value is ready to use.
type Options struct {
	// Sample is how many rows are examined to choose each column's kind and
	// count its distinct values; larger tables are sampled at evenly spaced
	// rows, so the result does not depend on chance. Missing counts and
	// numeric and datetime bounds always cover every row. 0 means
	// DefaultSample; negative means every row.
	Sample int
	// Threshold is the share of non-missing cells that must fit a kind for
	// the column to take it, so that a few dirty cells do not flip a kind.
	// 0 means DefaultThreshold; otherwise it must lie in (0.5, 1].
	Threshold float64
	// MaxCategories: a string column with at most this many distinct values is
	// categorical. 0 means DefaultMaxCategories.
	MaxCategories int
	// CategoryRatio: a string column whose distinct values number at most
	// this share of its non-missing cells (its values repeat) is categorical.
	// 0 means DefaultCategoryRatio; otherwise it must lie in (0, 1].
	CategoryRatio float64
	// MissingTokens are the trimmed spellings that mean missing; nil means
	// DefaultMissing. A blank cell is always missing.
	MissingTokens []string
	// Seed seeds Stream's reservoir sample; Infer's sample is evenly
	// spaced and needs none.
	Seed uint64
}

func (o Options) withDefaults() (Options, error) {
	if o.Sample == 0 {
		o.Sample = DefaultSample
	}
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.MaxCategories == 0 {
		o.MaxCategories = DefaultMaxCategories
	}
	if o.CategoryRatio == 0 {
		o.CategoryRatio = DefaultCategoryRatio
	}
	if o.MissingTokens == nil {
		o.MissingTokens = DefaultMissing
	}
	switch {
	case !(o.Threshold > 0.5 && o.Threshold <= 1):
		return o, fmt.Errorf("%w: threshold %v not in (0.5, 1]", ErrOptions, o.Threshold)
	case o.MaxCategories < 0:
		return o, fmt.Errorf("%w: max categories %d is negative", ErrOptions, o.MaxCategories)
	case !(o.CategoryRatio > 0 && o.CategoryRatio <= 1):
		return o, fmt.Errorf("%w: category ratio %v not in (0, 1]", ErrOptions, o.CategoryRatio)
	}
	return o, nil
}

// Infer profiles every column of t: its kind (with the share of cells that
// agree), PII kind, bounds, format, distinct count and missing values. It
// reads cells trimmed of surrounding whitespace, so " State-gov" and
// "State-gov" are one value. Column names hint at a kind ("email", "phone",
// "ssn", "id", "name", "address") and relax some checks, but the values
// decide.
func Infer(t *table.Table, opts Options) (*Profile, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := check(t); err != nil {
		return nil, err
	}
	rows := t.Rows
	sampled := len(rows)
	if o.Sample > 0 && len(rows) > o.Sample {
		rows = make([][]string, o.Sample)
		for i := range rows {
			rows[i] = t.Rows[int(int64(i)*int64(len(t.Rows))/int64(o.Sample))]
		}
		sampled = o.Sample
	}
	p := &Profile{Version: Version, Rows: len(t.Rows), Columns: classifyRows(t.Columns, rows, o)}
	if sampled < len(t.Rows) {
		p.Sampled = sampled
	}
	for j := range p.Columns {
		c := &p.Columns[j]
		if sampled < len(t.Rows) {
			rescan(c, t.Rows, j, o.MissingTokens)
		}
		if len(t.Rows) > 0 {
			c.MissingRate = float64(c.Missing) / float64(len(t.Rows))
		}
	}
	// Relations are discovered on the rows the kinds were chosen on.
	p.Relations = relations.Discover(RelationColumns(rows, p), relations.Options{})
	return p, nil
}

// classifyRows profiles every column on rows: the rows Infer or Stream
// chose kinds on. Missing, Distinct and the bounds describe those rows
// only; the callers widen them to the whole table.
func classifyRows(names []string, rows [][]string, o Options) []Column {
	cols := make([]Column, len(names))
	// Columns are classified independently, on every core.
	// Cells are counted as they are, then trimmed once per distinct
	// spelling: the trimmed values keep their first-seen order.
	parallel.Each(len(names), func(j int) {
		var raw, s scan
		raw.reset()
		for _, r := range rows {
			raw.add(r[j])
		}
		s.reset()
		for i, v := range raw.vals {
			s.addN(strings.TrimSpace(v), raw.counts[i])
		}
		s.classify(&cols[j], names[j], o)
	})
	return cols
}

// check rejects a table Infer cannot read.
func check(t *table.Table) error {
	if t == nil || len(t.Columns) == 0 {
		return fmt.Errorf("%w: no columns", ErrTable)
	}
	seen := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		if seen[c] {
			return fmt.Errorf("%w: duplicate column %q", ErrTable, c)
		}
		seen[c] = true
	}
	for i, r := range t.Rows {
		if len(r) != len(t.Columns) {
			return fmt.Errorf("%w: row %d has %d cells, want %d", ErrTable, i+1, len(r), len(t.Columns))
		}
	}
	return nil
}

// scan holds one column's distinct trimmed cells in first-seen order with
// their counts. It is reused across columns.
type scan struct {
	index  map[string]int32
	vals   []string
	counts []int32
}

func (s *scan) reset() {
	if s.index == nil {
		s.index = make(map[string]int32)
	}
	clear(s.index)
	s.vals = s.vals[:0]
	s.counts = s.counts[:0]
}

func (s *scan) add(v string) { s.addN(v, 1) }

// addN counts n cells v.
func (s *scan) addN(v string, n int32) {
	if i, ok := s.index[v]; ok {
		s.counts[i] += n
		return
	}
	s.index[v] = int32(len(s.vals))
	s.vals = append(s.vals, v)
	s.counts = append(s.counts, n)
}

// classify fills c from the scanned cells.
func (s *scan) classify(c *Column, name string, o Options) {
	c.Name = name
	// Split off missing values; the rest, still in first-seen order, are
	// the column's values.
	vals := make([]string, 0, len(s.vals))
	counts := make([]int32, 0, len(s.vals))
	n := 0
	for i, v := range s.vals {
		if v == "" || slices.Contains(o.MissingTokens, v) {
			c.Missing += int(s.counts[i])
			c.MissingTokens = append(c.MissingTokens, v)
			continue
		}
		vals = append(vals, v)
		counts = append(counts, s.counts[i])
		n += int(s.counts[i])
	}
	slices.Sort(c.MissingTokens)
	c.Distinct = len(vals)
	d := detector{vals: vals, counts: counts, n: n, th: o.Threshold, words: nameWords(name)}
	d.detect(c, o)
}

// rescan recounts missing cells and widens numeric and datetime bounds over
// every row when Infer chose the kind on a sample.
func rescan(c *Column, rows [][]string, j int, tokens []string) {
	c.Missing = 0
	for _, r := range rows {
		v := strings.TrimSpace(r[j])
		if v == "" || slices.Contains(tokens, v) {
			c.Missing++
			if !slices.Contains(c.MissingTokens, v) {
				c.MissingTokens = append(c.MissingTokens, v)
				slices.Sort(c.MissingTokens)
			}
			continue
		}
		switch c.Kind {
		case Numeric:
			if x, ok := ParseNumber(v); ok {
				widen(c, x)
				if dec, frac := decimals(v); frac {
					c.Integer = false
					c.Decimals = max(c.Decimals, dec)
				}
			}
		case Datetime:
			if t, err := time.Parse(c.Format, v); err == nil {
				widen(c, unix(t))
			}
		}
	}
}

func widen(c *Column, x float64) {
	c.Min = math.Min(c.Min, x)
	c.Max = math.Max(c.Max, x)
}

// unix returns t in seconds since 1970 with its fraction.
func unix(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// detector decides the kind of one column from its distinct non-missing
// values and their counts (n cells in all).
type detector struct {
	vals   []string
	counts []int32
	n      int
	th     float64
	words  []string // lower-case words of the column name
}

// share returns how many cells satisfy f, stopping early (ok false) once
// more than 1-th of them have failed.
func (d *detector) share(f func(string) bool) (hit int, ok bool) {
	budget := d.budget()
	miss := 0
	for i, v := range d.vals {
		if f(v) {
			hit += int(d.counts[i])
			continue
		}
		miss += int(d.counts[i])
		if miss > budget {
			return hit, false
		}
	}
	return hit, true
}

// budget is how many of the n cells may fail a kind's test: n less th×n
// rounded up, with a little slack for floating point (0.9×40 is 36, not 37).
func (d *detector) budget() int {
	return d.n - int(math.Ceil(d.th*float64(d.n)-1e-9))
}

func (d *detector) conf(hit int) float64 { return float64(hit) / float64(d.n) }

func (d *detector) hint(words ...string) bool {
	for _, w := range d.words {
		if slices.Contains(words, w) {
			return true
		}
	}
	return false
}

// detect tries the kinds from the most specific to the least. Strong PII
// validators come first (they cannot match by accident), dates before phones
// ("2020-01-02" has a phone's shape), phones before numbers ("+14155550123"
// and, under a phone-like column name, bare digits are numbers too), and
// shape-based guesses last.
func (d *detector) detect(c *Column, o Options) {
	if d.n == 0 {
		c.Kind = Categorical
		return
	}
	if d.boolean(c) {
		return
	}
	ssn := d.hint("ssn", "social")
	strong := []struct {
		kind PIIKind
		f    func(string) bool
	}{
		{Email, pii.IsEmail},
		{URL, pii.IsURL},
		{IP, pii.IsIP},
		{IBAN, pii.IsIBAN},
		{Card, pii.IsCard},
		{NationalID, func(s string) bool { return pii.IsSSN(s, ssn) }},
		{NationalID, pii.IsNINO},
	}
	for _, k := range strong {
		if hit, ok := d.share(k.f); ok {
			c.Kind, c.PII, c.Confidence = PII, k.kind, d.conf(hit)
			d.pattern(c)
			return
		}
	}
	if f, hit := detectTime(d.vals, d.counts, d.budget()); f != "" {
		c.Kind, c.Format, c.Confidence = Datetime, f, d.conf(hit)
		first := true
		var pts []weighted
		for i, v := range d.vals {
			if t, err := time.Parse(f, v); err == nil {
				if first {
					c.Min, c.Max, first = unix(t), unix(t), false
				}
				widen(c, unix(t))
				pts = append(pts, weighted{unix(t), int64(d.counts[i])})
			}
		}
		c.Quantiles = exactQuantiles(pts)
		return
	}
	bare := d.hint("phone", "tel", "telephone", "mobile", "cell", "fax")
	if hit, ok := d.share(func(s string) bool { return pii.IsPhone(s, bare) }); ok {
		c.Kind, c.PII, c.Confidence = PII, Phone, d.conf(hit)
		d.pattern(c)
		return
	}
	if d.numeric(c) {
		return
	}
	if hit, ok := d.share(pii.IsUUID); ok {
		c.Kind, c.IDFormat, c.Confidence = ID, pii.UUIDFormat, d.conf(hit)
		return
	}
	loose := d.hint("address", "addr", "street")
	if hit, ok := d.share(func(s string) bool { return pii.IsAddress(s, loose) }); ok {
		c.Kind, c.PII, c.Confidence = PII, Address, d.conf(hit)
		return
	}
	if d.name(c) || d.key(c) {
		return
	}
	d.category(c, o)
}

// boolFamilies are the pairs of spellings a boolean column may use, in lower
// case; "0"/"1" is handled apart because it is also a number.
var boolFamilies = [][2]string{{"true", "false"}, {"yes", "no"}, {"y", "n"}, {"t", "f"}}

// boolean detects a column of true/false spellings of one family, keeping the
// most frequent spelling of each side. A column of only "0" and "1" is
// boolean; a column with one side only (all "yes") borrows the other side's
// spelling from the family, in the same case.
func (d *detector) boolean(c *Column) bool {
	if len(d.vals) == 2 && (d.vals[0] == "0" && d.vals[1] == "1" || d.vals[0] == "1" && d.vals[1] == "0") {
		c.Kind, c.TrueToken, c.FalseToken, c.Confidence = Boolean, "1", "0", 1
		return true
	}
	bestHit, best := 0, -1
	var tok [2]string
	for fi, fam := range boolFamilies {
		hit := 0
		var top [2]string
		var topN [2]int32
		for i, v := range d.vals {
			for side := range 2 {
				if strings.EqualFold(v, fam[side]) {
					hit += int(d.counts[i])
					if d.counts[i] > topN[side] {
						top[side], topN[side] = v, d.counts[i]
					}
				}
			}
		}
		if hit > bestHit {
			bestHit, best, tok = hit, fi, top
		}
	}
	if best < 0 || d.n-bestHit > d.budget() {
		return false
	}
	for side := range 2 {
		if tok[side] == "" {
			tok[side] = sameCase(boolFamilies[best][side], tok[1-side])
		}
	}
	c.Kind, c.TrueToken, c.FalseToken, c.Confidence = Boolean, tok[0], tok[1], d.conf(bestHit)
	return true
}

// sameCase spells word (lower case) in the case of like: upper, title or
// lower.
func sameCase(word, like string) string {
	switch {
	case like == strings.ToUpper(like) && like != strings.ToLower(like):
		return strings.ToUpper(word)
	case like != "" && isUpper(like[0]):
		return strings.ToUpper(word[:1]) + word[1:]
	}
	return word
}

// numeric detects a number column, with its bounds and precision, and turns
// a column of distinct integers into an ID when it looks like a key: the
// name says so, or it is dense (at least half the integers in its range) and
// has at least 50 rows.
func (d *detector) numeric(c *Column) bool {
	first := true
	integer, whole := true, true // no fraction written; no fraction in value
	dec, minDec := 0, math.MaxInt
	var lo, hi float64
	var pts []weighted
	at := 0 // index of the value share is testing: it visits d.vals in order
	hit, ok := d.share(func(s string) bool {
		i := at
		at++
		x, ok := ParseNumber(s)
		if !ok {
			return false
		}
		pts = append(pts, weighted{x, int64(d.counts[i])})
		if first {
			lo, hi, first = x, x, false
		}
		lo, hi = math.Min(lo, x), math.Max(hi, x)
		n, frac := decimals(s)
		if frac {
			integer = false
			dec = max(dec, n)
		}
		minDec = min(minDec, n)
		whole = whole && x == math.Trunc(x) && math.Abs(x) < 1<<53
		return true
	})
	if !ok {
		return false
	}
	distinct := len(d.vals) == d.n && hit == d.n
	if integer && distinct && lo >= 0 && hi < 1<<53 {
		dense := d.n >= 50 && float64(d.n) >= 0.5*(hi-lo+1)
		if dense || d.hint("id", "key", "pk") {
			c.Kind, c.IDFormat, c.Confidence = ID, "%d", 1
			return true
		}
	}
	// A column of whole numbers written "12.0" is integer-valued and keeps
	// its written decimals; one whose cells carry different numbers of
	// decimals ("2", "2.5", "2.25") is written without trailing zeros.
	c.Kind, c.Integer, c.Decimals, c.Min, c.Max, c.Confidence = Numeric, whole, dec, lo, hi, d.conf(hit)
	c.Quantiles = exactQuantiles(pts)
	c.Trim = minDec < dec
	return true
}

// name detects a column of person names: name-shaped values, at least ten of
// them distinct, half of which hold a first or last name known to gofakeit.
// A name-like column name relaxes both counts.
func (d *detector) name(c *Column) bool {
	hinted := d.hint("name", "firstname", "lastname", "surname", "fullname", "forename", "first", "last")
	minDistinct, minKnown := 10, 0.5
	if hinted {
		minDistinct, minKnown = 2, 0.3
	}
	if len(d.vals) < minDistinct {
		return false
	}
	known, shapedVals := 0, 0
	hit, ok := d.share(func(s string) bool {
		shaped, k := pii.NameShape(s)
		if shaped {
			shapedVals++
			if k {
				known++
			}
		}
		return shaped
	})
	if !ok || float64(known) < minKnown*float64(shapedVals) {
		return false
	}
	c.Kind, c.PII, c.Confidence = PII, PersonName, d.conf(hit)
	return true
}

// key detects a string key: every value distinct, without whitespace, and
// following one ID format; random tokens must also carry digits. At least ten
// rows are needed unless the column name says "id" or "key".
func (d *detector) key(c *Column) bool {
	hinted := d.hint("id", "key", "uuid", "guid", "pk")
	if len(d.vals) != d.n || (d.n < 10 && !hinted) {
		return false
	}
	digits := 0
	for _, v := range d.vals {
		if len(v) > 64 || strings.ContainsAny(v, " \t\r\n") {
			return false
		}
		if strings.ContainsAny(v, "0123456789") {
			digits++
		}
	}
	f := pii.InferIDFormat(d.vals)
	if f == "" {
		return false
	}
	if pii.IsTokenFormat(f) && float64(digits) < d.th*float64(d.n) {
		return false
	}
	c.Kind, c.IDFormat, c.Confidence = ID, f, 1
	return true
}

// pattern records the layout of a shaped PII column (phone, national id,
// card, IBAN), so that every model generates fresh values in it.
func (d *detector) pattern(c *Column) {
	if pii.Shaped(c.PII) {
		c.Pattern = pii.InferPattern(d.vals, c.PII)
	}
}

// category decides between categorical and free text. Long values with
// spaces (at least 20 bytes on average) that do not repeat (more distinct
// values than CategoryRatio allows) are text, however few; other values that
// repeat or are at most MaxCategories are categories; what remains is text if
// most values hold spaces and categorical (of high cardinality) otherwise.
func (d *detector) category(c *Column, o Options) {
	c.Confidence = 1
	spaced, length := 0, 0
	mode := 0
	for i, v := range d.vals {
		w := int(d.counts[i])
		if strings.ContainsAny(v, " \t\n") {
			spaced += w
		}
		length += w * len(v)
		if d.counts[i] > d.counts[mode] {
			mode = i
		}
	}
	textual := spaced*2 >= d.n && length >= 20*d.n
	ratio := float64(len(d.vals)) <= o.CategoryRatio*float64(d.n)
	repeats := ratio || len(d.vals) <= o.MaxCategories
	switch {
	case textual && !ratio:
		c.Kind = Text
	case repeats:
		c.Kind, c.Mode = Categorical, d.vals[mode]
	case spaced*2 >= d.n:
		c.Kind = Text
	default:
		c.Kind, c.Mode = Categorical, d.vals[mode]
	}
}

// nameWords splits a column name into lower-case words at non-letters and at
// lower-to-upper case changes: "customerID" and "customer_id" both give
// "customer", "id".
func nameWords(name string) []string {
	var words []string
	start := -1
	for i := 0; i <= len(name); i++ {
		boundary := i == len(name) || !isLetter(name[i])
		camel := !boundary && i > 0 && isUpper(name[i]) && !isUpper(name[i-1]) && isLetter(name[i-1])
		if start >= 0 && (boundary || camel) {
			words = append(words, strings.ToLower(name[start:i]))
			start = -1
		}
		if !boundary && start < 0 {
			start = i
		}
	}
	return words
}

func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool  { return c >= '0' && c <= '9' || isLetter(c) }
