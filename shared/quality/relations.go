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
func relationReports(real, syn *table.Table, p *profile.Profile) ([]RelationReport, error) {
	// Parse only the columns a relation or a format check reads.
	sub := &profile.Profile{Columns: slices.Clone(p.Columns)}
	used := map[string]bool{}
	for _, r := range p.Relations {
		for _, c := range r.Columns {
			used[c] = true
		}
	}
	for j := range sub.Columns {
		c := &sub.Columns[j]
		if !used[c.Name] && !(c.Kind == profile.Numeric && c.Integer) {
			c.Kind = profile.Text
		}
	}
	if len(real.Columns) != len(p.Columns) || len(syn.Columns) != len(p.Columns) {
		return nil, fmt.Errorf("relations: tables of %d and %d columns, profile of %d: %w", len(real.Columns), len(syn.Columns), len(p.Columns), ErrInput)
	}
	rc, sc := profile.RelationColumns(real.Rows, sub), profile.RelationColumns(syn.Rows, sub)
	var out []RelationReport
	for _, r := range p.Relations {
		rs, ss, err := relations.Measure(r, rc, sc)
		if err != nil {
			return nil, fmt.Errorf("relation %s: %w", r, err)
		}
		out = append(out, RelationReport{Relation: r.String(), Kind: string(r.Kind), Real: rs, Synthetic: ss})
	}
	whole := func(v []float64) relations.Share {
		held, sup := 0, 0
		for _, x := range v {
			if !math.IsNaN(x) {
				sup++
				if x == math.Trunc(x) {
					held++
				}
			}
		}
		s := relations.Share{Held: held, Support: sup}
		if sup > 0 {
			s.Rate = float64(held) / float64(sup)
		}
		return s
	}
	for j, c := range p.Columns {
		if c.Kind == profile.Numeric && c.Integer {
			out = append(out, RelationReport{Relation: c.Name + " is integer-valued", Kind: KindInteger,
				Real: whole(rc[j].Num), Synthetic: whole(sc[j].Num)})
		}
	}
	return out, nil
}
