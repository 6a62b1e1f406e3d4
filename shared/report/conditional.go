package report

import (
	"fmt"
	"slices"
	"strings"

	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// evaluation is what Build compares the synthetic table with. For a job
// without conditions it is the inputs as given. A conditional job's output
// only holds rows that meet its conditions, so it is compared with the real
// rows that meet them, and the fixed columns are left out of every score:
// their shapes, the pairs they are in and the privacy distances would set a
// constant against the whole column's distribution (trivially broken) or
// against itself (trivially perfect).
type evaluation struct {
	// profile describes the scored columns: the input profile without the
	// fixed columns. The tables keep every column; the evaluations read the
	// profiled ones.
	profile *profile.Profile
	// train and holdout are the real rows fidelity is measured against; a
	// nil train means no real row meets the conditions (fidelity is then
	// unmeasurable), a nil holdout that ML efficacy has no test rows.
	train, holdout *table.Table
	// privTrain and privHoldout are the real rows privacy is measured
	// against.
	privTrain, privHoldout *table.Table
	target                 string
	fixed                  []string
	// unmeasurable are the gate metrics that cannot be computed, and why.
	unmeasurable map[string]string
	notes        []string
}

// conditional works out the evaluation of in (see evaluation).
func conditional(in Inputs, p *profile.Profile) (*evaluation, error) {
	ev := &evaluation{profile: p, train: in.Train, holdout: in.Holdout, privTrain: in.Train, privHoldout: in.Holdout, target: in.Target}
	if len(in.Conditions) == 0 {
		return ev, nil
	}
	ev.fixed = make([]string, 0, len(in.Conditions))
	for c := range in.Conditions {
		ev.fixed = append(ev.fixed, c)
	}
	slices.Sort(ev.fixed)
	conds := make([]string, len(ev.fixed))
	for i, c := range ev.fixed {
		conds[i] = c + "=" + in.Conditions[c]
	}
	cond := strings.Join(conds, ", ")

	trainC, err := meeting(in.Train, in.Conditions, p)
	if err != nil {
		return nil, err
	}
	var holdC *table.Table
	if in.Holdout != nil {
		if holdC, err = meeting(in.Holdout, in.Conditions, p); err != nil {
			return nil, err
		}
	}
	scored := &profile.Profile{Version: p.Version, Rows: p.Rows, Sampled: p.Sampled}
	for _, c := range p.Columns {
		if _, fixed := in.Conditions[c.Name]; !fixed {
			scored.Columns = append(scored.Columns, c)
		}
	}
	if len(scored.Columns) == 0 {
		return nil, fmt.Errorf("the conditions (%s) fix every column: there is nothing to evaluate: %w", cond, ErrInput)
	}
	ev.profile = scored
	if _, fixed := in.Conditions[ev.target]; fixed {
		ev.notes = append(ev.notes, fmt.Sprintf("ML efficacy skipped: the target %q is fixed by the conditions", ev.target))
		ev.target = ""
	}

	nHold := 0
	if holdC != nil {
		nHold = len(holdC.Rows)
	}
	ev.notes = append(ev.notes, fmt.Sprintf("conditional job (%s): the output is judged against the real rows that meet the conditions "+
		"(%d of %d training rows, %d of %d holdout rows); the fixed columns (%s) are left out of every score",
		cond, len(trainC.Rows), len(in.Train.Rows), nHold, rows(in.Holdout), strings.Join(ev.fixed, ", ")))

	if len(trainC.Rows) == 0 {
		why := fmt.Sprintf("no real row meets the job's conditions (%s), so there is no real distribution to compare with", cond)
		ev.train, ev.holdout = nil, nil
		ev.unmeasurable = map[string]string{}
		for _, m := range []string{gate.ColumnShapes, gate.ColumnPairTrends, gate.DiscriminatorAUC, gate.MLEfficacyRatio} {
			ev.unmeasurable[m] = why
		}
		ev.notes = append(ev.notes, "fidelity not evaluated: "+why)
	} else {
		ev.train = trainC
		ev.holdout = nil
		if nHold > 0 {
			ev.holdout = holdC
		} else if in.Holdout != nil && ev.target != "" {
			ev.notes = append(ev.notes, fmt.Sprintf("ML efficacy skipped: no holdout row meets the conditions (%s)", cond))
		}
	}
	if in.Holdout != nil {
		// Privacy needs two training rows and one holdout row; with fewer
		// meeting the conditions, every real row is the reference (the
		// fixed columns still left out).
		if len(trainC.Rows) >= 2 && nHold >= 1 {
			ev.privTrain, ev.privHoldout = trainC, holdC
		} else {
			ev.notes = append(ev.notes, fmt.Sprintf("privacy measured against every real row (the fixed columns left out): too few meet the conditions (%d training, %d holdout)",
				len(trainC.Rows), nHold))
		}
	}
	return ev, nil
}

func rows(t *table.Table) int {
	if t == nil {
		return 0
	}
	return len(t.Rows)
}

// meeting returns the rows of t that meet every condition, read by the
// column's kind in p: numbers and booleans by value ("40" meets "40.0",
// "Yes" meets "yes"), other kinds by exact text, and a missing value
// (empty or a missing token) meets a missing cell.
func meeting(t *table.Table, conds map[string]string, p *profile.Profile) (*table.Table, error) {
	type cond struct {
		idx  int
		want string
		col  *profile.Column
	}
	cs := make([]cond, 0, len(conds))
	for name, want := range conds {
		idx := t.Col(name)
		if idx < 0 {
			return nil, fmt.Errorf("condition %s=%s: the real table has no column %q: %w", name, want, name, ErrInput)
		}
		c := cond{idx: idx, want: want}
		if i := slices.IndexFunc(p.Columns, func(c profile.Column) bool { return c.Name == name }); i >= 0 {
			c.col = &p.Columns[i]
		}
		cs = append(cs, c)
	}
	out := &table.Table{Columns: t.Columns}
	for _, row := range t.Rows {
		ok := true
		for _, c := range cs {
			if c.idx >= len(row) || !meets(row[c.idx], c.want, c.col) {
				ok = false
				break
			}
		}
		if ok {
			out.Rows = append(out.Rows, row)
		}
	}
	return out, nil
}

// meets reports whether a real cell has the value a condition fixes.
func meets(cell, want string, c *profile.Column) bool {
	if c == nil {
		return cell == want
	}
	if profile.IsMissing(want, c) {
		return profile.IsMissing(cell, c)
	}
	switch c.Kind {
	case profile.Numeric:
		a, okA := profile.ParseNumber(cell)
		b, okB := profile.ParseNumber(want)
		return okA && okB && a == b
	case profile.Boolean:
		a, okA := profile.ParseBool(cell, c)
		b, okB := profile.ParseBool(want, c)
		return okA && okB && a == b
	}
	return cell == want
}
