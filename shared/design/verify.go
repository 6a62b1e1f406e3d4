package design

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"synthos.dev/synthos/shared/table"
)

// TableCheck is what Verify found in one generated table.
type TableCheck struct {
	Table string `json:"table"`
	Rows  int64  `json:"rows"`
	// WantRows is the rows the (scaled) spec asked for.
	WantRows int64 `json:"want_rows"`
	Rules    int   `json:"rules"`
	// Violations counts rows that break one of the table's rules;
	// FirstViolation names the first such row and rule.
	Violations     int64  `json:"violations"`
	FirstViolation string `json:"first_violation,omitempty"`
	// Orphans counts cells of ref columns naming no row of their parent.
	Orphans     int64  `json:"orphans"`
	FirstOrphan string `json:"first_orphan,omitempty"`
}

// OK reports whether the table is whole, meets its rules in every row and
// has no orphan foreign key.
func (c TableCheck) OK() bool { return c.Rows == c.WantRows && c.Violations == 0 && c.Orphans == 0 }

// Verify reads back the tables generated from s (as scaled) and checks
// them independently of the sampler: the row counts, every rule of every
// table in every row (compiled afresh from the spec), and every foreign
// key against its parent's keys. open returns a table's reader with the
// output columns in spec order; parents are read before their children.
func Verify(s *Spec, open func(name string) (table.Reader, func() error, error)) ([]TableCheck, error) {
	if err := Validate(s); err != nil {
		return nil, err
	}
	order, err := parentsFirst(s)
	if err != nil {
		return nil, err
	}
	// keys[table][column] holds the values of every column a ref names.
	keys := map[string]map[string]map[string]struct{}{}
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			if c.Kind == KindRef && c.Ref != nil {
				if keys[c.Ref.Table] == nil {
					keys[c.Ref.Table] = map[string]map[string]struct{}{}
				}
				keys[c.Ref.Table][c.Ref.Column] = map[string]struct{}{}
			}
		}
	}
	out := make([]TableCheck, len(s.Tables))
	for _, i := range order {
		t := &s.Tables[i]
		chk, err := verifyTable(t, keys, open)
		if err != nil {
			return nil, fmt.Errorf("design.Verify: table %q: %w", t.Name, err)
		}
		out[i] = chk
	}
	return out, nil
}

func verifyTable(t *Table, keys map[string]map[string]map[string]struct{}, open func(string) (table.Reader, func() error, error)) (TableCheck, error) {
	chk := TableCheck{Table: t.Name, WantRows: t.Rows, Rules: len(t.Rules)}
	set, err := compileRules(t)
	if err != nil {
		return chk, err
	}
	r, closeFn, err := open(t.Name)
	if err != nil {
		return chk, err
	}
	defer closeFn()
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	if got := r.Columns(); !slices.Equal(got, names) {
		return chk, fmt.Errorf("columns %v, want the spec's %v", got, names)
	}
	type refIdx struct {
		col  int
		keys map[string]struct{}
		name string
	}
	var refs []refIdx
	own := keys[t.Name]
	ownIdx := map[int]map[string]struct{}{}
	for i, c := range t.Columns {
		if c.Kind == KindRef && c.Ref != nil {
			refs = append(refs, refIdx{col: i, keys: keys[c.Ref.Table][c.Ref.Column], name: c.Name})
		}
		if k, ok := own[c.Name]; ok {
			ownIdx[i] = k
		}
	}
	for {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return chk, err
		}
		chk.Rows++
		if err := set.Check(row); err != nil {
			chk.Violations++
			if chk.FirstViolation == "" {
				chk.FirstViolation = fmt.Sprintf("row %d: %v", chk.Rows, err)
			}
		}
		for _, rf := range refs {
			v := row[rf.col]
			if v == "" {
				continue // a blank (when) reference names nothing
			}
			if _, ok := rf.keys[v]; !ok {
				chk.Orphans++
				if chk.FirstOrphan == "" {
					chk.FirstOrphan = fmt.Sprintf("row %d: %s %q names no parent row", chk.Rows, rf.name, v)
				}
			}
		}
		for i, k := range ownIdx {
			k[row[i]] = struct{}{}
		}
	}
	return chk, nil
}

// parentsFirst orders the tables so that every table comes after the
// tables its refs name.
func parentsFirst(s *Spec) ([]int, error) {
	idx := map[string]int{}
	for i, t := range s.Tables {
		idx[t.Name] = i
	}
	state := make([]int, len(s.Tables)) // 0 new, 1 visiting, 2 done
	var out []int
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("design: tables %q refer to each other in a cycle: %w", s.Tables[i].Name, ErrInvalid)
		case 2:
			return nil
		}
		state[i] = 1
		for _, c := range s.Tables[i].Columns {
			if c.Kind == KindRef && c.Ref != nil {
				if j, ok := idx[c.Ref.Table]; ok && j != i {
					if err := visit(j); err != nil {
						return err
					}
				}
			}
		}
		state[i] = 2
		out = append(out, i)
		return nil
	}
	for i := range s.Tables {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}
