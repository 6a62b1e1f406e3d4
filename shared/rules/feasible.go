package rules

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// The static feasibility analysis rejects, before sampling, rule sets that
// no row the model can produce satisfies. A model produces numeric and
// datetime values within the training range, and categorical values seen in
// training; rules that demand anything else are ErrImpossible.
//
// Contradictions are reported even though a row whose cells are missing
// would pass the rules (missing cells pass non-required rules): meeting such
// rules would mean blanking the columns, which is never what the author meant.

// span is the training range of an ordered column.
type span struct{ lo, hi val }

// trainData is what the analysis needs from the training table.
type trainData struct {
	ranges map[int]span
	// values are the distinct non-missing training values of the columns
	// that in and format rules read, in first-seen order.
	values map[int][]string
}

// training gathers ranges and distinct values from t (which may be nil) and
// the profile's numeric bounds.
func (s *Set) training(t *table.Table) trainData {
	tr := trainData{ranges: map[int]span{}, values: map[int][]string{}}
	needRange := map[int]bool{}
	needValues := map[int]bool{}
	for i := range s.rules {
		cr := &s.rules[i]
		switch cr.rule.Type {
		case TypeCompare, TypeRange:
			for _, c := range cr.cols {
				needRange[c.idx] = true
			}
		case TypeIn, TypeFormat:
			needValues[cr.cols[0].idx] = true
			if cr.cols[0].ordered() {
				needRange[cr.cols[0].idx] = true
			}
		}
	}
	for ci := range s.cols {
		c := &s.cols[ci]
		if !needRange[ci] && !needValues[ci] {
			continue
		}
		var sp span
		have := false
		if c.hasP {
			sp, have = span{lo: val{f: c.pmin}, hi: val{f: c.pmax}}, true
		}
		ti := -1
		if t != nil {
			ti = t.Col(c.name)
		}
		var distinct map[string]bool
		if needValues[ci] {
			distinct = map[string]bool{}
			if ti >= 0 {
				tr.values[ci] = []string{}
			}
		}
		dt := c.kind == profile.Datetime
		for _, row := range rowsWith(t, ti) {
			if ti >= len(row) || c.isMissing(row[ti]) {
				continue
			}
			cell := row[ti]
			if distinct != nil && !distinct[cell] {
				distinct[cell] = true
				tr.values[ci] = append(tr.values[ci], cell)
			}
			if !needRange[ci] || !c.ordered() || (dt && c.layout == "") {
				continue
			}
			v, ok := c.parse(cell)
			if !ok {
				continue
			}
			if !have {
				sp, have = span{lo: v, hi: v}, true
				continue
			}
			if cmp(dt, v, sp.lo) < 0 {
				sp.lo = v
			}
			if cmp(dt, v, sp.hi) > 0 {
				sp.hi = v
			}
		}
		if have && needRange[ci] && c.ordered() {
			tr.ranges[ci] = sp
		}
	}
	return tr
}

// rowsWith returns t's rows when t has column ti, or none.
func rowsWith(t *table.Table, ti int) [][]string {
	if t == nil || ti < 0 {
		return nil
	}
	return t.Rows
}

// show renders a value of column c for messages.
func (c *colInfo) show(v val) string {
	if c.kind == profile.Datetime {
		if c.layout != "" {
			return v.t.Format(c.layout)
		}
		return v.t.Format(time.RFC3339Nano)
	}
	return strconv.FormatFloat(v.f, 'g', -1, 64)
}

// staticChecks finds rules that cannot hold on their own or against the
// training data, and contradictions among compare rules between columns.
func (s *Set) staticChecks(tr trainData) error {
	row := make([]string, len(s.cols))
	for i := range s.rules {
		cr := &s.rules[i]
		r := &cr.rule
		switch r.Type {
		case TypeRange:
			if r.Min != nil && r.Max != nil && cmp(cr.cols[0].kind == profile.Datetime, cr.lo, cr.hi) > 0 {
				return fmt.Errorf("%s: min %s > max %s: %w", cr.label, *r.Min, *r.Max, ErrImpossible)
			}
		case TypeCompare:
			if r.Value == nil && r.Left == r.Right {
				switch cr.op {
				case opLT, opGT, opNE:
					return fmt.Errorf("%s: a value cannot be %s itself: %w", cr.label, r.Op, ErrImpossible)
				}
			}
		case TypeIn:
			c := cr.cols[0]
			if c.kind == profile.Numeric {
				sp, ok := tr.ranges[c.idx]
				if !ok {
					continue
				}
				inside := false
				for v := range cr.chk.(*inCheck).nums {
					if v >= sp.lo.f && v <= sp.hi.f {
						inside = true
						break
					}
				}
				if !inside {
					return fmt.Errorf("%s: no value lies in the training range [%s, %s] of %q: %w",
						cr.label, c.show(sp.lo), c.show(sp.hi), c.name, ErrImpossible)
				}
				continue
			}
			// Keys and PII are regenerated, never copied, and datetimes are
			// sampled, so only for these kinds is "seen in training" the domain.
			if c.kind != profile.Categorical && c.kind != profile.Boolean && c.kind != profile.Text {
				continue
			}
			vals, ok := tr.values[c.idx]
			if !ok || len(vals) == 0 {
				continue
			}
			if !slices.ContainsFunc(vals, func(v string) bool { row[c.idx] = v; return cr.chk.ok(row) }) {
				return fmt.Errorf("%s: none of the values was seen in training column %q: %w", cr.label, c.name, ErrImpossible)
			}
		case TypeFormat:
			c := cr.cols[0]
			vals, ok := tr.values[c.idx]
			if !ok || len(vals) == 0 {
				continue
			}
			if !slices.ContainsFunc(vals, func(v string) bool { row[c.idx] = v; return cr.chk.ok(row) }) {
				return fmt.Errorf("%s: no training value of %q matches: %w", cr.label, c.name, ErrImpossible)
			}
		case TypeCombination:
			if r.Required && len(cr.tuples) == 0 {
				return fmt.Errorf("%s: required, but no training row has all of its columns present: %w", cr.label, ErrImpossible)
			}
		}
	}
	if err := s.domainChecks(tr, row); err != nil {
		return err
	}
	return s.compareGraph()
}

// domainChecks finds categorical and boolean columns whose in and format
// rules, taken together, leave no training value.
func (s *Set) domainChecks(tr trainData, row []string) error {
	for ci := range s.cols {
		c := &s.cols[ci]
		if c.kind != profile.Categorical && c.kind != profile.Boolean {
			continue
		}
		vals, ok := tr.values[ci]
		if !ok || len(vals) == 0 {
			continue
		}
		var on []int
		for i := range s.rules {
			cr := &s.rules[i]
			if (cr.rule.Type == TypeIn || cr.rule.Type == TypeFormat) && cr.cols[0].idx == ci {
				on = append(on, i)
			}
		}
		if len(on) < 2 {
			continue
		}
		feasible := slices.ContainsFunc(vals, func(v string) bool {
			row[ci] = v
			for _, i := range on {
				if !s.rules[i].chk.ok(row) {
					return false
				}
			}
			return true
		})
		row[ci] = ""
		if !feasible {
			return fmt.Errorf("no training value of %q satisfies %s together: %w", c.name, s.labels(on), ErrImpossible)
		}
	}
	return nil
}

// labels joins the labels of rules idx.
func (s *Set) labels(idx []int) string {
	parts := make([]string, len(idx))
	for k, i := range idx {
		parts[k] = s.rules[i].label
	}
	return strings.Join(parts, " and ")
}

// Strength of an implied order between two columns.
const (
	relNone = iota
	relLE   // a <= b
	relLT   // a < b
)

// compareGraph finds contradictory compare rules between columns, also
// through chains: a < b, b < c, c <= a. It computes the transitive closure of
// the implied orders (Floyd–Warshall, strict if any step is strict); a column
// strictly below itself, or a != b where a <= b and b <= a, is impossible.
func (s *Set) compareGraph() error {
	node := map[int]int{} // column index -> node
	var cmps, neqs []int
	for i := range s.rules {
		cr := &s.rules[i]
		if cr.rule.Type != TypeCompare || cr.rule.Value != nil {
			continue
		}
		for _, c := range cr.cols {
			if _, ok := node[c.idx]; !ok {
				node[c.idx] = len(node)
			}
		}
		if cr.op == opNE {
			neqs = append(neqs, i)
		} else {
			cmps = append(cmps, i)
		}
	}
	n := len(node)
	if n == 0 {
		return nil
	}
	rel := make([][]int, n)
	why := make([][][]int, n) // rules behind rel[a][b]
	for a := range rel {
		rel[a] = make([]int, n)
		why[a] = make([][]int, n)
	}
	set := func(a, b, strength, rule int) {
		if strength > rel[a][b] {
			rel[a][b], why[a][b] = strength, []int{rule}
		}
	}
	for _, i := range cmps {
		cr := &s.rules[i]
		l, r := node[cr.cols[0].idx], node[cr.cols[1].idx]
		switch cr.op {
		case opLT:
			set(l, r, relLT, i)
		case opLE:
			set(l, r, relLE, i)
		case opGT:
			set(r, l, relLT, i)
		case opGE:
			set(r, l, relLE, i)
		case opEQ:
			set(l, r, relLE, i)
			set(r, l, relLE, i)
		}
	}
	for k := 0; k < n; k++ {
		for a := 0; a < n; a++ {
			if rel[a][k] == relNone {
				continue
			}
			for b := 0; b < n; b++ {
				if rel[k][b] == relNone {
					continue
				}
				if st := max(rel[a][k], rel[k][b]); st > rel[a][b] {
					rel[a][b] = st
					why[a][b] = union(why[a][k], why[k][b])
				}
			}
		}
	}
	for a := 0; a < n; a++ {
		if rel[a][a] == relLT {
			return fmt.Errorf("%s contradict each other: %w", s.labels(why[a][a]), ErrImpossible)
		}
	}
	for _, i := range neqs {
		cr := &s.rules[i]
		l, r := node[cr.cols[0].idx], node[cr.cols[1].idx]
		if l != r && rel[l][r] != relNone && rel[r][l] != relNone {
			return fmt.Errorf("%s contradicts %s, which force equality: %w",
				cr.label, s.labels(union(why[l][r], why[r][l])), ErrImpossible)
		}
	}
	return nil
}

// union merges two rule lists into one sorted list without repeats.
func union(a, b []int) []int {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// bound is one lower or upper limit on an ordered column, with its origin.
type bound struct {
	v      val
	lower  bool
	strict bool
	src    string
	rule   bool // from a rule (true), or from training data or a condition alone
}

// boundsOf turns "column op v" into bounds.
func boundsOf(op opcode, v val, src string, rule bool) []bound {
	switch op {
	case opLT:
		return []bound{{v: v, strict: true, src: src, rule: rule}}
	case opLE:
		return []bound{{v: v, src: src, rule: rule}}
	case opGT:
		return []bound{{v: v, lower: true, strict: true, src: src, rule: rule}}
	case opGE:
		return []bound{{v: v, lower: true, src: src, rule: rule}}
	case opEQ:
		return []bound{{v: v, lower: true, src: src, rule: rule}, {v: v, src: src, rule: rule}}
	}
	return nil
}

// conflict reports whether no value of column c lies above lo and below hi.
// Whole-number columns need a whole number in between.
func (c *colInfo) conflict(lo, hi bound) bool {
	if c.kind == profile.Numeric && c.integer {
		l, h := math.Ceil(lo.v.f), math.Floor(hi.v.f)
		if lo.strict && l == lo.v.f {
			l++
		}
		if hi.strict && h == hi.v.f {
			h--
		}
		return l > h
	}
	d := cmp(c.kind == profile.Datetime, lo.v, hi.v)
	return d > 0 || (d == 0 && (lo.strict || hi.strict))
}

// analyze checks the rules against the training ranges and, when fixed is
// not nil, against the conditions fixed (column index -> value).
func (s *Set) analyze(fixed map[int]string) error {
	cond := func(ci int) string { return fmt.Sprintf("condition %s=%s", s.cols[ci].name, fixed[ci]) }
	isFixed := func(ci int) bool { _, ok := fixed[ci]; return ok }
	row := make([]string, len(s.cols))
	for ci, v := range fixed {
		row[ci] = v
	}

	// Rules whose columns are all fixed are decided by the conditions alone.
	for i := range s.rules {
		cr := &s.rules[i]
		if len(fixed) == 0 || !all(cr.cols, isFixed) {
			continue
		}
		conds := s.condLabels(cr.cols, cond)
		if cr.chk != nil {
			if !cr.chk.ok(row) {
				return fmt.Errorf("%s violates %s: %w", conds, cr.label, ErrImpossible)
			}
			continue
		}
		_, present, bad := s.uniqueKey(i, row)
		if bad {
			return fmt.Errorf("%s violates %s: the cell is required: %w", conds, cr.label, ErrImpossible)
		}
		if present {
			return fmt.Errorf("%s fix every column of %s, so at most one row could be generated: %w", conds, cr.label, ErrImpossible)
		}
	}

	// Bounds on ordered columns must leave room for a value.
	bounds := map[int][]bound{}
	for ci, sp := range s.train {
		c := &s.cols[ci]
		src := fmt.Sprintf("the training range [%s, %s] of %q", c.show(sp.lo), c.show(sp.hi), c.name)
		bounds[ci] = append(bounds[ci], bound{v: sp.lo, lower: true, src: src}, bound{v: sp.hi, src: src})
	}
	for ci, v := range fixed {
		c := &s.cols[ci]
		if !c.ordered() || c.isMissing(v) {
			continue
		}
		if x, ok := c.parse(v); ok {
			bounds[ci] = append(bounds[ci], boundsOf(opEQ, x, cond(ci), false)...)
		}
	}
	for i := range s.rules {
		cr := &s.rules[i]
		r := &cr.rule
		switch {
		case r.Type == TypeRange:
			ci := cr.cols[0].idx
			if r.Min != nil {
				bounds[ci] = append(bounds[ci], bound{v: cr.lo, lower: true, src: cr.label, rule: true})
			}
			if r.Max != nil {
				bounds[ci] = append(bounds[ci], bound{v: cr.hi, src: cr.label, rule: true})
			}
		case r.Type == TypeCompare && r.Value != nil:
			ci := cr.cols[0].idx
			bounds[ci] = append(bounds[ci], boundsOf(cr.op, cr.v, cr.label, true)...)
		case r.Type == TypeCompare && isFixed(cr.cols[0].idx) != isFixed(cr.cols[1].idx):
			// One side fixed: the rule bounds the other side.
			fc, oc, op := cr.cols[0], cr.cols[1], cr.op.flip()
			if isFixed(oc.idx) {
				fc, oc, op = oc, fc, cr.op
			}
			fv := fixed[fc.idx]
			if fc.isMissing(fv) {
				if r.Required {
					return fmt.Errorf("%s violates %s: the cell is required: %w", cond(fc.idx), cr.label, ErrImpossible)
				}
				continue
			}
			x, ok := fc.parse(fv)
			if !ok {
				return fmt.Errorf("%s violates %s: %q is not a %s value: %w", cond(fc.idx), cr.label, fv, fc.kind, ErrImpossible)
			}
			src := fmt.Sprintf("%s with %s", cr.label, cond(fc.idx))
			bounds[oc.idx] = append(bounds[oc.idx], boundsOf(op, x, src, true)...)
		}
	}
	for ci := range s.cols {
		c := &s.cols[ci]
		for _, lo := range bounds[ci] {
			if !lo.lower {
				continue
			}
			for _, hi := range bounds[ci] {
				if hi.lower || !(lo.rule || hi.rule) || !c.conflict(lo, hi) {
					continue
				}
				if lo.src == hi.src {
					return fmt.Errorf("%s leaves no value for %q: %w", lo.src, c.name, ErrImpossible)
				}
				return fmt.Errorf("%s and %s leave no value for %q: %w", lo.src, hi.src, c.name, ErrImpossible)
			}
		}
	}

	// A combination needs a training tuple that the other rules on its
	// columns, and the conditions, allow.
	for i := range s.rules {
		cr := &s.rules[i]
		if cr.rule.Type != TypeCombination {
			continue
		}
		if err := s.comboFeasible(i, fixed, row, cond); err != nil {
			return err
		}
	}
	return nil
}

// comboFeasible checks combination rule ci against the rules whose columns
// lie within its columns and the conditions.
func (s *Set) comboFeasible(ci int, fixed map[int]string, base []string, cond func(int) string) error {
	cr := &s.rules[ci]
	in := map[int]bool{}
	var fixedIn []int
	for _, c := range cr.cols {
		in[c.idx] = true
		if v, ok := fixed[c.idx]; ok {
			if c.isMissing(v) {
				if cr.rule.Required {
					return fmt.Errorf("%s violates %s: the cell is required: %w", cond(c.idx), cr.label, ErrImpossible)
				}
				return nil // the tuple has a missing cell, so the rule passes
			}
			fixedIn = append(fixedIn, c.idx)
		}
	}
	var related []int
	for j := range s.rules {
		o := &s.rules[j]
		if j == ci || o.chk == nil {
			continue
		}
		touches := false
		within := all(o.cols, func(x int) bool {
			if in[x] {
				touches = true
				return true
			}
			_, f := fixed[x]
			return f
		})
		if within && touches {
			related = append(related, j)
		}
	}
	if (len(related) == 0 && len(fixedIn) == 0) || len(cr.tuples) == 0 {
		return nil
	}
	row := slices.Clone(base)
	blame := map[int]bool{}     // rules that ruled out a tuple
	blameCond := map[int]bool{} // conditions that ruled out a tuple
	for _, tuple := range cr.tuples {
		for j, c := range cr.cols {
			row[c.idx] = tuple[j]
		}
		okTuple := true
		for _, x := range fixedIn {
			if row[x] != fixed[x] {
				blameCond[x] = true
				okTuple = false
				break
			}
		}
		if okTuple {
			for _, j := range related {
				if !s.rules[j].chk.ok(row) {
					blame[j] = true
					okTuple = false
					break
				}
			}
		}
		if okTuple {
			return nil
		}
	}
	var why []string
	for _, x := range slices.Sorted(maps.Keys(blameCond)) {
		why = append(why, cond(x))
	}
	for _, j := range slices.Sorted(maps.Keys(blame)) {
		why = append(why, s.rules[j].label)
	}
	return fmt.Errorf("%s: no training combination satisfies %s: %w", cr.label, strings.Join(why, " and "), ErrImpossible)
}

// all reports whether pred holds for every column's index.
func all(cols []*colInfo, pred func(int) bool) bool {
	for _, c := range cols {
		if !pred(c.idx) {
			return false
		}
	}
	return true
}

// condLabels names the conditions on cols.
func (s *Set) condLabels(cols []*colInfo, cond func(int) string) string {
	parts := make([]string, len(cols))
	for k, c := range cols {
		parts[k] = cond(c.idx)
	}
	return strings.Join(parts, " and ")
}

// Conditions checks conditional-sampling values (column -> fixed value, as
// from --where) against the rules: a condition on a column the profile does
// not have is ErrUnknownColumn, and a condition that breaks a rule, or leaves
// a rule no value the model can produce, is ErrImpossible naming both. Fixing
// every column of a unique rule is also ErrImpossible, since at most one row
// could be generated. The Set's state is not changed.
func (s *Set) Conditions(fixed map[string]string) error {
	idx := make(map[int]string, len(fixed))
	for _, name := range slices.Sorted(maps.Keys(fixed)) {
		ci, ok := s.byName[name]
		if !ok {
			return fmt.Errorf("rules.Conditions: condition %s=%s: column %q: %w", name, fixed[name], name, ErrUnknownColumn)
		}
		idx[ci] = fixed[name]
	}
	if err := s.analyze(idx); err != nil {
		return fmt.Errorf("rules.Conditions: %w", err)
	}
	return nil
}
