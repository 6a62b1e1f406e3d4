package modelcheck

import (
	"fmt"
	"strings"

	"synthos.dev/synthos/shared/profile"
)

// InputMatch says how a model's inputs line up with a dataset's columns.
type InputMatch struct {
	Missing    []string `json:"missing,omitempty"`    // inputs the dataset lacks
	Extra      []string `json:"extra,omitempty"`      // columns the model does not read (informational)
	Mismatched []string `json:"mismatched,omitempty"` // "name: model numeric, dataset text"
}

// OK reports whether every input is present with a usable type.
func (m *InputMatch) OK() bool { return len(m.Missing) == 0 && len(m.Mismatched) == 0 }

func (m *InputMatch) String() string {
	var parts []string
	if len(m.Missing) > 0 {
		parts = append(parts, "missing columns: "+strings.Join(m.Missing, ", "))
	}
	if len(m.Mismatched) > 0 {
		parts = append(parts, "type mismatches: "+strings.Join(m.Mismatched, "; "))
	}
	if len(parts) == 0 {
		return "inputs match the dataset"
	}
	return strings.Join(parts, "; ")
}

// MatchInputs compares a model's inputs with a dataset profile. target is
// the column the model predicts (not an input, not extra). A numeric input
// needs a numeric or boolean column; a categorical input takes categorical,
// boolean or integer columns; framework types ("float32"...) count as
// numeric, "string" as categorical.
func MatchInputs(inputs []Input, p *profile.Profile, target string) InputMatch {
	var m InputMatch
	used := map[string]bool{target: true}
	for _, in := range inputs {
		used[in.Name] = true
		c := p.Col(in.Name)
		if c == nil {
			m.Missing = append(m.Missing, in.Name)
			continue
		}
		want := inputKind(in.Kind)
		ok := true
		switch want {
		case "numeric":
			ok = c.Kind == profile.Numeric || c.Kind == profile.Boolean
		case "categorical":
			ok = c.Kind == profile.Categorical || c.Kind == profile.Boolean || c.Kind == profile.Numeric && c.Integer
		}
		if !ok {
			m.Mismatched = append(m.Mismatched, fmt.Sprintf("%s: model %s, dataset %s", in.Name, want, c.Kind))
		}
	}
	for _, c := range p.Columns {
		if !used[c.Name] {
			m.Extra = append(m.Extra, c.Name)
		}
	}
	return m
}

func inputKind(k string) string {
	switch k {
	case "categorical", "string":
		return "categorical"
	case "":
		return ""
	}
	return "numeric"
}
