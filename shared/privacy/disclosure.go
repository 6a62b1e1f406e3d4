package privacy

import (
	"strings"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// leakage looks for the values of the real identifier columns (kinds id and
// PII) verbatim, trimmed, in the synthetic table's id, PII and text columns.
// A real email may resurface in a notes column as well as in the email
// column, so every such synthetic column is searched for every identifier.
// Numeric and categorical columns are not searched: their values repeat by
// nature and would match short numeric keys by chance.
func leakage(train, holdout, synth *table.Table, p *profile.Profile) PIILeakage {
	out := PIILeakage{Checked: []string{}, Scanned: []string{}}
	type scanned struct {
		name string
		idx  int
		col  *profile.Column
	}
	var scan []scanned
	for i := range p.Columns {
		c := &p.Columns[i]
		switch c.Kind {
		case profile.ID, profile.PII:
			out.Checked = append(out.Checked, c.Name)
			fallthrough
		case profile.Text:
			out.Scanned = append(out.Scanned, c.Name)
			scan = append(scan, scanned{c.Name, synth.Col(c.Name), c})
		}
	}
	if len(out.Checked) == 0 {
		return out
	}
	// found[v][k]: cells of scanned column k holding value v.
	found := map[string][]int{}
	for _, row := range synth.Rows {
		for k, s := range scan {
			cell := row[s.idx]
			if profile.IsMissing(cell, s.col) {
				continue
			}
			v := strings.TrimSpace(cell)
			f := found[v]
			if f == nil {
				f = make([]int, len(scan))
				found[v] = f
			}
			f[k]++
		}
	}
	for i := range p.Columns {
		c := &p.Columns[i]
		if c.Kind != profile.ID && c.Kind != profile.PII {
			continue
		}
		pc := PIIColumn{Column: c.Name, Kind: c.Kind, PII: c.PII}
		in := make([]bool, len(scan))
		seen := map[string]bool{}
		j := train.Col(c.Name)
		for _, row := range train.Rows {
			if profile.IsMissing(row[j], c) {
				continue
			}
			v := strings.TrimSpace(row[j])
			if seen[v] {
				continue
			}
			seen[v] = true
			if f := found[v]; f != nil {
				pc.LeakedValues++
				for k, n := range f {
					pc.LeakedCells += n
					in[k] = in[k] || n > 0
				}
			}
		}
		j = holdout.Col(c.Name)
		for _, row := range holdout.Rows {
			if profile.IsMissing(row[j], c) {
				continue
			}
			v := strings.TrimSpace(row[j])
			if seen[v] {
				continue
			}
			seen[v] = true
			if found[v] != nil {
				pc.HoldoutOnlyValues++
			}
		}
		if pc.LeakedCells == 0 {
			continue
		}
		pc.FoundIn = []string{}
		for k, s := range scan {
			if in[k] {
				pc.FoundIn = append(pc.FoundIn, s.name)
			}
		}
		out.LeakedCells += pc.LeakedCells
		out.Columns = append(out.Columns, pc)
	}
	return out
}

// kAnonymity groups the synthetic rows by their exact quasi-identifier
// values and checks the combinations unique in synth against train.
func kAnonymity(train, synth *matrix, quasi colSet, k int) *KAnonymity {
	qs := synth.project(quasi.num, quasi.cat)
	gs := groupRows(qs)
	out := &KAnonymity{Quasi: quasi.names, K: k, Classes: len(gs.rep), MinClassSize: synth.n}
	qt := train.project(quasi.num, quasi.cat)
	gt := groupRows(qt)
	below, matched := 0, 0
	for gi, m := range gs.mult {
		out.MinClassSize = min(out.MinClassSize, int(m))
		if int(m) < k {
			below += int(m)
		}
		if m == 1 {
			out.Unique++
			if t := gt.find(qt, qs, int(gs.rep[gi])); t >= 0 && gt.mult[t] == 1 {
				matched++
			}
		}
	}
	out.ShareBelowK = float64(below) / float64(synth.n)
	if out.Unique > 0 {
		out.UniqueMatchShare = float64(matched) / float64(out.Unique)
	}
	return out
}

// Leakage reports the real identifier values of train (id and PII columns)
// found verbatim in synth, with holdout-only matches counted as chance
// collisions. It is the PII part of Evaluate, for callers (the compliance
// report) that need it without the distance metrics.
func Leakage(train, holdout, synth *table.Table, p *profile.Profile) PIILeakage {
	return leakage(train, holdout, synth, p)
}
