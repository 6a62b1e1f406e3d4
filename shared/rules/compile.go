package rules

import (
	"fmt"
	"hash/maphash"
	"math"
	"regexp"
	"strconv"
	"time"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// colInfo is what the checkers need to know about one column of a row.
type colInfo struct {
	name    string
	idx     int // position in a row, which follows the profile's column order
	kind    profile.Kind
	layout  string   // datetime columns: Go time layout of the cells
	missing []string // spellings of missing besides ""
	integer bool     // numeric columns: whole numbers only
	// Numeric columns: the profile's bounds, when it gives any (not both 0).
	pmin, pmax float64
	hasP       bool
}

func (c *colInfo) isMissing(cell string) bool {
	if cell == "" {
		return true
	}
	for _, m := range c.missing {
		if cell == m {
			return true
		}
	}
	return false
}

// ordered reports whether the column's values compare by value (< and >).
func (c *colInfo) ordered() bool { return c.kind == profile.Numeric || c.kind == profile.Datetime }

// val is a parsed value of an ordered column: f for numeric, t for datetime.
type val struct {
	f float64
	t time.Time
}

// parse reads a cell of an ordered column. NaN is not a value: it compares
// false with everything, so it is treated as unparsable and fails the rule.
func (c *colInfo) parse(cell string) (val, bool) {
	if c.kind == profile.Datetime {
		t, err := time.Parse(c.layout, cell)
		return val{t: t}, err == nil
	}
	f, err := strconv.ParseFloat(cell, 64)
	return val{f: f}, err == nil && !math.IsNaN(f)
}

// constLayouts are the layouts tried, after the column's own, for datetime
// constants in a rules file, so that a rule can be written in ISO 8601
// whatever the data's layout.
var constLayouts = []string{time.RFC3339Nano, time.DateTime, time.DateOnly}

// parseConst reads a constant from the rules file for this column.
func (c *colInfo) parseConst(s string) (val, error) {
	if c.kind == profile.Datetime {
		for _, l := range append([]string{c.layout}, constLayouts...) {
			if t, err := time.Parse(l, s); err == nil {
				return val{t: t}, nil
			}
		}
		return val{}, fmt.Errorf("constant %q is not a datetime in layout %q or ISO 8601: %w", s, c.layout, ErrInvalid)
	}
	v, ok := c.parse(s)
	if !ok {
		return val{}, fmt.Errorf("constant %q is not a number: %w", s, ErrInvalid)
	}
	return v, nil
}

// cmp compares two values of the same ordered kind: -1, 0 or +1.
func cmp(datetime bool, a, b val) int {
	if datetime {
		return a.t.Compare(b.t)
	}
	switch {
	case a.f < b.f:
		return -1
	case a.f > b.f:
		return 1
	}
	return 0
}

// opcode is a compare operator, decoded once.
type opcode uint8

const (
	opLT opcode = iota
	opLE
	opGT
	opGE
	opEQ
	opNE
)

var opcodes = map[string]opcode{"<": opLT, "<=": opLE, ">": opGT, ">=": opGE, "==": opEQ, "!=": opNE}

// holds reports whether c (the result of cmp) satisfies the operator.
func (o opcode) holds(c int) bool {
	switch o {
	case opLT:
		return c < 0
	case opLE:
		return c <= 0
	case opGT:
		return c > 0
	case opGE:
		return c >= 0
	case opEQ:
		return c == 0
	}
	return c != 0
}

// flip gives the operator with its sides swapped: a < b is b > a.
func (o opcode) flip() opcode {
	switch o {
	case opLT:
		return opGT
	case opLE:
		return opGE
	case opGT:
		return opLT
	case opGE:
		return opLE
	}
	return o
}

// checker is one compiled stateless rule. ok must not allocate on the
// common path and must not panic on any cell.
type checker interface {
	ok(row []string) bool
}

type compareCols struct {
	l, r     *colInfo
	op       opcode
	required bool
}

func (c *compareCols) ok(row []string) bool {
	a, b := row[c.l.idx], row[c.r.idx]
	if c.l.isMissing(a) || c.r.isMissing(b) {
		return !c.required
	}
	va, okA := c.l.parse(a)
	vb, okB := c.r.parse(b)
	return okA && okB && c.op.holds(cmp(c.l.kind == profile.Datetime, va, vb))
}

type compareConst struct {
	l        *colInfo
	op       opcode
	v        val
	required bool
}

func (c *compareConst) ok(row []string) bool {
	a := row[c.l.idx]
	if c.l.isMissing(a) {
		return !c.required
	}
	va, ok := c.l.parse(a)
	return ok && c.op.holds(cmp(c.l.kind == profile.Datetime, va, c.v))
}

type rangeCheck struct {
	c            *colInfo
	lo, hi       val
	hasLo, hasHi bool
	required     bool
}

func (c *rangeCheck) ok(row []string) bool {
	a := row[c.c.idx]
	if c.c.isMissing(a) {
		return !c.required
	}
	v, ok := c.c.parse(a)
	if !ok {
		return false
	}
	dt := c.c.kind == profile.Datetime
	return (!c.hasLo || cmp(dt, v, c.lo) >= 0) && (!c.hasHi || cmp(dt, v, c.hi) <= 0)
}

// inCheck compares numeric columns by value (so "1.0" is in {1}) and every
// other kind by exact spelling.
type inCheck struct {
	c        *colInfo
	strs     map[string]struct{}
	nums     map[float64]struct{}
	required bool
}

func (c *inCheck) ok(row []string) bool {
	a := row[c.c.idx]
	if c.c.isMissing(a) {
		return !c.required
	}
	if c.nums != nil {
		v, ok := c.c.parse(a)
		if !ok {
			return false
		}
		_, in := c.nums[v.f]
		return in
	}
	_, in := c.strs[a]
	return in
}

type formatCheck struct {
	c        *colInfo
	re       *regexp.Regexp
	required bool
}

func (c *formatCheck) ok(row []string) bool {
	a := row[c.c.idx]
	if c.c.isMissing(a) {
		return !c.required
	}
	return c.re.MatchString(a)
}

// key identifies a tuple of cells by two independent 64-bit hashes. Storing
// keys instead of the cells keeps Accept free of allocation and the unique
// state at 16 bytes a row; two distinct tuples share a key with probability
// about 2^-128, so among n rows a false match has probability below n²/2^129.
type key [2]uint64

// seeds are the hash seeds of one compiled Set, shared by its clones.
type seeds struct{ a, b maphash.Seed }

// tupleKey hashes the cells of cols, each prefixed by its length so that
// ("a|b", "c") and ("a", "b|c") differ. ok is false when a cell is missing.
func (s *seeds) tupleKey(row []string, cols []*colInfo) (k key, ok bool) {
	var ha, hb maphash.Hash
	ha.SetSeed(s.a)
	hb.SetSeed(s.b)
	for _, c := range cols {
		cell := row[c.idx]
		if c.isMissing(cell) {
			return key{}, false
		}
		for n := uint64(len(cell)); ; n >>= 7 {
			b := byte(n & 0x7f)
			if n < 0x80 {
				ha.WriteByte(b)
				hb.WriteByte(b)
				break
			}
			ha.WriteByte(b | 0x80)
			hb.WriteByte(b | 0x80)
		}
		ha.WriteString(cell)
		hb.WriteString(cell)
	}
	return key{ha.Sum64(), hb.Sum64()}, true
}

// comboCheck allows only the tuples seen in the training table.
type comboCheck struct {
	cols     []*colInfo
	seen     map[key]struct{}
	seeds    *seeds
	required bool
}

func (c *comboCheck) ok(row []string) bool {
	k, ok := c.seeds.tupleKey(row, c.cols)
	if !ok {
		return !c.required
	}
	_, in := c.seen[k]
	return in
}

// compiled is one rule of a Set.
type compiled struct {
	rule  Rule
	label string
	cols  []*colInfo
	chk   checker // nil for unique rules, whose state lives in the Set
	// Ordered-rule details kept for the static feasibility analysis.
	op     opcode
	v      val // compare constant
	lo, hi val // range bounds
	// tuples are a combination's distinct training tuples, in table order.
	tuples [][]string
}

// Compile resolves the rules of f against the profile p (whose column order
// is the order of cells in the rows later checked) and the training table t,
// and rejects rule sets that cannot be met (ErrImpossible) before sampling
// starts. t is needed by combination rules and sharpens the feasibility
// checks; it may be nil otherwise.
func Compile(f *File, t *table.Table, p *profile.Profile) (*Set, error) {
	if f == nil || p == nil {
		return nil, fmt.Errorf("rules.Compile: nil rules file or profile: %w", ErrInvalid)
	}
	s := &Set{
		cols:   make([]colInfo, len(p.Columns)),
		byName: make(map[string]int, len(p.Columns)),
		seeds:  &seeds{a: maphash.MakeSeed(), b: maphash.MakeSeed()},
	}
	for i, pc := range p.Columns {
		if _, dup := s.byName[pc.Name]; dup {
			return nil, fmt.Errorf("rules.Compile: profile lists column %q twice: %w", pc.Name, ErrInvalid)
		}
		s.byName[pc.Name] = i
		c := colInfo{name: pc.Name, idx: i, kind: pc.Kind, layout: pc.Format, integer: pc.Integer,
			pmin: pc.Min, pmax: pc.Max, hasP: pc.Kind == profile.Numeric && (pc.Min != 0 || pc.Max != 0)}
		for _, m := range pc.MissingTokens {
			if m != "" {
				c.missing = append(c.missing, m)
			}
		}
		s.cols[i] = c
	}
	for i := range f.Rules {
		r := f.Rules[i]
		label := r.label(i)
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("rules.Compile: %w", &RuleError{Index: i, Label: label, Err: err})
		}
		cr, err := s.compileRule(r, label, t)
		if err != nil {
			return nil, fmt.Errorf("rules.Compile: %w", &RuleError{Index: i, Label: label, Err: err})
		}
		s.rules = append(s.rules, cr)
		if cr.chk != nil {
			s.stateless = append(s.stateless, cr.chk)
		} else {
			s.uniques = append(s.uniques, len(s.rules)-1)
		}
	}
	s.seen = make([]map[key]struct{}, len(s.uniques))
	for i := range s.seen {
		s.seen[i] = make(map[key]struct{})
	}
	tr := s.training(t)
	s.train = tr.ranges
	if err := s.staticChecks(tr); err != nil {
		return nil, fmt.Errorf("rules.Compile: %w", err)
	}
	if err := s.analyze(nil); err != nil {
		return nil, fmt.Errorf("rules.Compile: %w", err)
	}
	return s, nil
}

// compileRule resolves one rule's columns and constants and builds its checker.
func (s *Set) compileRule(r Rule, label string, t *table.Table) (compiled, error) {
	cr := compiled{rule: r, label: label}
	for _, name := range r.columns() {
		i, ok := s.byName[name]
		if !ok {
			return cr, fmt.Errorf("column %q: %w", name, ErrUnknownColumn)
		}
		cr.cols = append(cr.cols, &s.cols[i])
	}
	for _, c := range cr.cols {
		if c.kind == profile.Datetime && c.layout == "" && (r.Type == TypeCompare || r.Type == TypeRange) {
			return cr, fmt.Errorf("datetime column %q has no format in the profile: %w", c.name, ErrInvalid)
		}
	}
	switch r.Type {
	case TypeCompare:
		cr.op = opcodes[r.Op]
		l := cr.cols[0]
		if !l.ordered() {
			return cr, fmt.Errorf("compare needs numeric or datetime columns; %q is %s: %w", l.name, l.kind, ErrInvalid)
		}
		if r.Value != nil {
			v, err := l.parseConst(string(*r.Value))
			if err != nil {
				return cr, err
			}
			cr.v = v
			cr.chk = &compareConst{l: l, op: cr.op, v: v, required: r.Required}
			return cr, nil
		}
		rc := cr.cols[1]
		if rc.kind != l.kind {
			return cr, fmt.Errorf("compare needs two numeric or two datetime columns; %q is %s and %q is %s: %w",
				l.name, l.kind, rc.name, rc.kind, ErrInvalid)
		}
		cr.chk = &compareCols{l: l, r: rc, op: cr.op, required: r.Required}
	case TypeRange:
		c := cr.cols[0]
		if !c.ordered() {
			return cr, fmt.Errorf("range needs a numeric or datetime column; %q is %s: %w", c.name, c.kind, ErrInvalid)
		}
		rc := &rangeCheck{c: c, required: r.Required}
		var err error
		if r.Min != nil {
			if rc.lo, err = c.parseConst(string(*r.Min)); err != nil {
				return cr, fmt.Errorf("min: %w", err)
			}
			rc.hasLo = true
		}
		if r.Max != nil {
			if rc.hi, err = c.parseConst(string(*r.Max)); err != nil {
				return cr, fmt.Errorf("max: %w", err)
			}
			rc.hasHi = true
		}
		cr.lo, cr.hi = rc.lo, rc.hi
		cr.chk = rc
	case TypeIn:
		c := cr.cols[0]
		ic := &inCheck{c: c, required: r.Required}
		if c.kind == profile.Numeric {
			ic.nums = make(map[float64]struct{}, len(r.Values))
			for _, v := range r.Values {
				x, ok := c.parse(string(v))
				if !ok {
					return cr, fmt.Errorf("value %q is not a number: %w", string(v), ErrInvalid)
				}
				ic.nums[x.f] = struct{}{}
			}
		} else {
			ic.strs = make(map[string]struct{}, len(r.Values))
			for _, v := range r.Values {
				ic.strs[string(v)] = struct{}{}
			}
		}
		cr.chk = ic
	case TypeFormat:
		re, err := regexp.Compile(r.Regex)
		if err != nil {
			return cr, fmt.Errorf("regex: %v: %w", err, ErrInvalid)
		}
		cr.chk = &formatCheck{c: cr.cols[0], re: re, required: r.Required}
	case TypeCombination:
		if t == nil {
			return cr, fmt.Errorf("combination needs the training table: %w", ErrInvalid)
		}
		idx := make([]int, len(cr.cols))
		for j, c := range cr.cols {
			if idx[j] = t.Col(c.name); idx[j] < 0 {
				return cr, fmt.Errorf("training table has no column %q: %w", c.name, ErrUnknownColumn)
			}
		}
		cc := &comboCheck{cols: cr.cols, seen: make(map[key]struct{}), seeds: s.seeds, required: r.Required}
		row := make([]string, len(s.cols))
		for _, tr := range t.Rows {
			for j, c := range cr.cols {
				if idx[j] < len(tr) {
					row[c.idx] = tr[idx[j]]
				} else {
					row[c.idx] = ""
				}
			}
			k, ok := s.seeds.tupleKey(row, cr.cols)
			if !ok {
				continue
			}
			if _, dup := cc.seen[k]; dup {
				continue
			}
			cc.seen[k] = struct{}{}
			tuple := make([]string, len(cr.cols))
			for j, c := range cr.cols {
				tuple[j] = row[c.idx]
			}
			cr.tuples = append(cr.tuples, tuple)
		}
		cr.chk = cc
	case TypeUnique:
		// Stateful: checked by the Set against its per-sampler state.
	}
	return cr, nil
}
