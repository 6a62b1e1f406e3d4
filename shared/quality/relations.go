package quality

import (
	"fmt"
	"math"
	"slices"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/table"
)

// KindInteger marks a RelationReport about a column's format: an
// integer-valued numeric column (however the source writes it, "12" or
// "12.0") must stay integer-valued.
const KindInteger = "integer"

// RelationReport is how often one of the profile's relations (see package
// relations) holds in the real and in the synthetic rows. Pairwise scores
// cannot see a broken relation: trips that end before they start, a place
// paired with a region it never belongs to, a total that is not the sum of
// its parts.
type RelationReport struct {
	Relation  string          `json:"relation"`
	Kind      string          `json:"kind"`
	Real      relations.Share `json:"real"`
	Synthetic relations.Share `json:"synthetic"`
}

// relationReports measures p's relations, and the integer-valued format of
// its numeric columns, on every row of both tables.
func relationReports(real, syn *table.Table, p *profile.Profile) ([]RelationReport, []string, error) {
	used := map[string]bool{}
	for _, r := range p.Relations {
		for _, c := range r.Columns {
			used[c] = true
		}
	}
	// aligned is p's columns in t's order, by name, parsing only those a
	// relation or a format check reads (columns p leaves out, such as a
	// conditional job's fixed ones, are skipped).
	aligned := func(t *table.Table) *profile.Profile {
		sub := &profile.Profile{Columns: make([]profile.Column, len(t.Columns))}
		for j, name := range t.Columns {
			sub.Columns[j] = profile.Column{Name: name, Kind: profile.Text}
			if c := p.Col(name); c != nil && (used[name] || c.Kind == profile.Numeric && c.Integer) {
				sub.Columns[j] = *c
			}
		}
		return sub
	}
	rp, sp := aligned(real), aligned(syn)
	rc, sc := profile.RelationColumns(real.Rows, rp), profile.RelationColumns(syn.Rows, sp)
	var out []RelationReport
	var notes []string
	for _, r := range p.Relations {
		if i := slices.IndexFunc(r.Columns, func(name string) bool {
			return p.Col(name) == nil || !slices.Contains(real.Columns, name) || !slices.Contains(syn.Columns, name)
		}); i >= 0 {
			notes = append(notes, fmt.Sprintf("relation %s not measured: column %q is not scored", r, r.Columns[i]))
			continue
		}
		rs, ss, err := relations.Measure(r, rc, sc)
		if err != nil {
			return nil, nil, fmt.Errorf("relation %s: %w: %w", r, err, ErrInput)
		}
		out = append(out, RelationReport{Relation: r.String(), Kind: string(r.Kind), Real: rs, Synthetic: ss})
	}
	whole := func(cols []relations.Column, name string) relations.Share {
		held, sup := 0, 0
		for k := range cols {
			if cols[k].Name != name {
				continue
			}
			for _, x := range cols[k].Num {
				if !math.IsNaN(x) {
					sup++
					if x == math.Trunc(x) {
						held++
					}
				}
			}
		}
		s := relations.Share{Held: held, Support: sup}
		if sup > 0 {
			s.Rate = float64(held) / float64(sup)
		}
		return s
	}
	for _, c := range p.Columns {
		if c.Kind == profile.Numeric && c.Integer {
			out = append(out, RelationReport{Relation: c.Name + " is integer-valued", Kind: KindInteger,
				Real: whole(rc, c.Name), Synthetic: whole(sc, c.Name)})
		}
	}
	return out, notes, nil
}
