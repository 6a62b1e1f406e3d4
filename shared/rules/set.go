package rules

import (
	"errors"
	"fmt"
	"io"

	"synthos.dev/synthos/shared/table"
)

// Set is a compiled rule set. Rows passed to it have one cell per profile
// column, in the profile's order.
//
// Unique rules make a Set stateful: Accept and Check remember the tuples of
// the rows they accept, so a Set is not safe for concurrent use and belongs to
// one sampler. Give each shard or goroutine its own with Clone. Uniqueness is
// then guaranteed within each sampler's output only; across shards it holds
// when the engine gives the shards disjoint key spaces (for example, ID
// columns generated per shard with the shard number in them), which is the
// engine's job, not this package's.
type Set struct {
	cols      []colInfo
	byName    map[string]int
	rules     []compiled
	stateless []checker // checkers of the non-unique rules, in file order
	uniques   []int     // indexes into rules of the unique rules
	seen      []map[key]struct{}
	seeds     *seeds
	train     map[int]span // training range of ordered columns, by column index
}

// Len is the number of rules in the set.
func (s *Set) Len() int { return len(s.rules) }

// Columns lists the row layout the set expects: the profile's column names.
func (s *Set) Columns() []string {
	out := make([]string, len(s.cols))
	for i := range s.cols {
		out[i] = s.cols[i].name
	}
	return out
}

// Accept reports whether row satisfies every rule and, if so, records its
// unique tuples so that a later row repeating them is refused. It is the
// sampler's fast path: it allocates nothing, except when a unique rule's
// state grows. A row of the wrong width is refused.
func (s *Set) Accept(row []string) bool {
	if len(row) != len(s.cols) {
		return false
	}
	for _, c := range s.stateless {
		if !c.ok(row) {
			return false
		}
	}
	if len(s.uniques) == 0 {
		return true
	}
	var buf [8]tupleRef
	keys := buf[:0]
	for i, ri := range s.uniques {
		k, ok, bad := s.uniqueKey(ri, row)
		if bad {
			return false
		}
		if ok {
			if _, dup := s.seen[i][k]; dup {
				return false
			}
		}
		keys = append(keys, tupleRef{k: k, ok: ok})
	}
	s.record(keys)
	return true
}

// tupleRef is a row's key for one unique rule; ok is false when the tuple has
// a missing cell, so the rule does not apply and nothing is recorded.
type tupleRef struct {
	k  key
	ok bool
}

// uniqueKey computes the tuple key of unique rule ri. ok is false when a cell
// is missing (the rule then does not apply); bad is true when a missing cell
// breaks a required rule.
func (s *Set) uniqueKey(ri int, row []string) (k key, ok, bad bool) {
	cr := &s.rules[ri]
	k, ok = s.seeds.tupleKey(row, cr.cols)
	return k, ok, !ok && cr.rule.Required
}

// record remembers the unique tuples of an accepted row, one per unique rule.
func (s *Set) record(keys []tupleRef) {
	for i, t := range keys {
		if t.ok {
			s.seen[i][t.k] = struct{}{}
		}
	}
}

// Check is Accept with a reason: nil if row satisfies every rule (its unique
// tuples are then recorded), or an error naming the first rule it breaks,
// wrapping ErrViolation.
func (s *Set) Check(row []string) error {
	if len(row) != len(s.cols) {
		return fmt.Errorf("rules.Check: row has %d cells, want %d: %w", len(row), len(s.cols), ErrViolation)
	}
	for i := range s.rules {
		cr := &s.rules[i]
		if cr.chk != nil && !cr.chk.ok(row) {
			return fmt.Errorf("rules.Check: %s: %w", cr.label, ErrViolation)
		}
	}
	keys := make([]tupleRef, len(s.uniques))
	for i, ri := range s.uniques {
		k, ok, bad := s.uniqueKey(ri, row)
		if bad {
			return fmt.Errorf("rules.Check: %s: required cell missing: %w", s.rules[ri].label, ErrViolation)
		}
		if ok {
			if _, dup := s.seen[i][k]; dup {
				return fmt.Errorf("rules.Check: %s: duplicate of an earlier row: %w", s.rules[ri].label, ErrViolation)
			}
		}
		keys[i] = tupleRef{k: k, ok: ok}
	}
	s.record(keys)
	return nil
}

// Clone returns a Set with the same rules and a fresh, empty unique state.
// The compiled rules are shared (they are read-only), so cloning is cheap;
// give each sampler its own clone.
func (s *Set) Clone() *Set {
	c := *s
	c.seen = make([]map[key]struct{}, len(s.uniques))
	for i := range c.seen {
		c.seen[i] = make(map[key]struct{})
	}
	return &c
}

// Reset forgets the unique tuples recorded so far.
func (s *Set) Reset() {
	for _, m := range s.seen {
		clear(m)
	}
}

// Report counts rule violations over a whole output.
type Report struct {
	Rows    int          `json:"rows"`
	BadRows int          `json:"bad_rows"` // rows that break at least one rule
	Rules   []RuleReport `json:"rules"`    // one per rule, in file order
}

// RuleReport is one rule's count of violating rows.
type RuleReport struct {
	Index      int    `json:"index"`
	Rule       string `json:"rule"`
	Violations int    `json:"violations"`
}

// OK reports whether no row broke any rule.
func (r Report) OK() bool { return r.BadRows == 0 }

// Validate reads r to the end and counts, per rule, the rows that break it.
// Every rule is evaluated on every row (no short cut), and for unique rules
// every occurrence of a tuple after its first counts as a violation. Validate
// uses its own unique state and leaves s's untouched. r's columns are matched
// to the profile's by name, in any order; columns no rule reads may be absent.
func (s *Set) Validate(r table.Reader) (Report, error) {
	rep := Report{Rules: make([]RuleReport, len(s.rules))}
	for i := range s.rules {
		rep.Rules[i] = RuleReport{Index: i, Rule: s.rules[i].label}
	}
	in := r.Columns()
	pos := make(map[string]int, len(in))
	for i, name := range in {
		pos[name] = i
	}
	perm := make([]int, len(s.cols))
	for i := range s.cols {
		p, ok := pos[s.cols[i].name]
		if !ok {
			p = -1
		}
		perm[i] = p
	}
	for i := range s.rules {
		for _, c := range s.rules[i].cols {
			if perm[c.idx] < 0 {
				return rep, fmt.Errorf("rules.Validate: %s: input has no column %q: %w", s.rules[i].label, c.name, ErrUnknownColumn)
			}
		}
	}
	seen := make([]map[key]struct{}, len(s.uniques))
	for i := range seen {
		seen[i] = make(map[key]struct{})
	}
	buf := make([]string, len(s.cols))
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rep, nil
		}
		if err != nil {
			return rep, fmt.Errorf("rules.Validate: row %d: %w", rep.Rows+1, err)
		}
		if len(row) != len(in) {
			return rep, fmt.Errorf("rules.Validate: row %d has %d cells, want %d: %w", rep.Rows+1, len(row), len(in), ErrInvalid)
		}
		for i, p := range perm {
			if p >= 0 {
				buf[i] = row[p]
			} else {
				buf[i] = ""
			}
		}
		rep.Rows++
		bad := false
		u := 0
		for i := range s.rules {
			cr := &s.rules[i]
			ok := true
			if cr.chk != nil {
				ok = cr.chk.ok(buf)
			} else {
				k, present, missBad := s.uniqueKey(i, buf)
				switch {
				case missBad:
					ok = false
				case present:
					if _, dup := seen[u][k]; dup {
						ok = false
					} else {
						seen[u][k] = struct{}{}
					}
				}
				u++
			}
			if !ok {
				rep.Rules[i].Violations++
				bad = true
			}
		}
		if bad {
			rep.BadRows++
		}
	}
}
