package jobspec

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/rules"
	"synthos.dev/synthos/shared/table"
)

// Check validates req (see Validate) and checks it against the dataset's
// columns: the target, every condition and every column a rule names must
// be a column (a typo gets a "did you mean"); the target must not be fixed
// by a condition; a condition on a numeric column (Kind Int or Float) must
// be a number (Int: a whole one) or missing; and each rule whose columns'
// kinds are known compiles (see compileKnown). A column's Kind may be
// String when only its name is known: its values are then not checked.
// Prepare checks the rest, with the profile and the training table.
func Check(req jobs.Request, cols []table.Column) error {
	if err := Validate(req); err != nil {
		return err
	}
	return checkColumns(req, cols)
}

func checkColumns(req jobs.Request, cols []table.Column) error {
	names := make([]string, len(cols))
	kinds := make(map[string]table.Kind, len(cols))
	for i, c := range cols {
		names[i], kinds[c.Name] = c.Name, c.Kind
	}
	if req.Policy != nil {
		for _, col := range req.Policy.Referenced() {
			if _, ok := kinds[col]; !ok {
				return fieldErr("policy", "%s", notAColumn(col, names))
			}
		}
	}
	if req.Target != "" {
		if _, ok := kinds[req.Target]; !ok {
			return fieldErr("target", "%s", notAColumn(req.Target, names))
		}
		if _, fixed := req.Conditions[req.Target]; fixed {
			return fieldErr("target", "%q is fixed by conditions, so there is nothing to predict: choose another column or leave target out", req.Target)
		}
	}
	for _, col := range sortedKeys(req.Conditions) {
		k, ok := kinds[col]
		if !ok {
			return fieldErr("conditions."+col, "%s", notAColumn(col, names))
		}
		v := req.Conditions[col]
		if profile.IsMissing(v, nil) || k != table.Int && k != table.Float {
			continue
		}
		x, ok := profile.ParseNumber(v)
		switch {
		case !ok:
			return fieldErr("conditions."+col, "%q is not a number, and %q is a numeric column", v, col)
		case k == table.Int && x != math.Trunc(x):
			return fieldErr("conditions."+col, "%q is not a whole number, and %q holds whole numbers", v, col)
		}
	}
	f, err := parseRules(req.Rules)
	if err != nil || f == nil {
		return err
	}
	for i, r := range f.Rules {
		for _, ref := range ruleColumns(r) {
			if _, ok := kinds[ref.name]; !ok {
				return fieldErr(fmt.Sprintf("rules[%d].%s", i, ref.field), "%s", notAColumn(ref.name, names))
			}
		}
	}
	return compileKnown(f, cols, kinds)
}

// compileKnown compiles with rules.Compile, one by one, the rules whose
// columns' kinds the column list tells: a compare or range rule on Int,
// Float or Bool columns (a String column may be a datetime, which only the
// profile knows), and in, format and unique rules. It catches a rule that
// does not suit its column (a range on a boolean, a constant that is not a
// number) or that no value meets (min above max) before the data is read;
// Prepare later compiles the whole set against the profile.
func compileKnown(f *rules.File, cols []table.Column, kinds map[string]table.Kind) error {
	p := &profile.Profile{Columns: make([]profile.Column, len(cols))}
	for i, c := range cols {
		pc := profile.Column{Name: c.Name, Kind: profile.Categorical}
		switch c.Kind {
		case table.Int:
			pc.Kind, pc.Integer = profile.Numeric, true
		case table.Float:
			pc.Kind = profile.Numeric
		case table.Bool:
			pc.Kind = profile.Boolean
		}
		p.Columns[i] = pc
	}
	for i, r := range f.Rules {
		switch r.Type {
		case rules.TypeCombination:
			continue // needs the training table
		case rules.TypeCompare, rules.TypeRange:
			known := true
			for _, ref := range ruleColumns(r) {
				known = known && kinds[ref.name] != table.String
			}
			if !known {
				continue
			}
		}
		if _, err := rules.Compile(&rules.File{Rules: []rules.Rule{r}}, nil, p); err != nil {
			fe := rulesError(err)
			// The rule was compiled alone, as rules[0].
			at := fmt.Sprintf("rules[%d]", i)
			fe.Field = strings.Replace(fe.Field, "rules[0]", at, 1)
			fe.Reason = strings.ReplaceAll(fe.Reason, "rules[0]", at)
			return fe
		}
	}
	return nil
}

// colRef is a column a rule names, and the rule field that names it.
type colRef struct{ field, name string }

// ruleColumns lists the columns r names, by field.
func ruleColumns(r rules.Rule) []colRef {
	var out []colRef
	switch r.Type {
	case rules.TypeCompare:
		out = append(out, colRef{"left", r.Left})
		if r.Right != "" {
			out = append(out, colRef{"right", r.Right})
		}
	case rules.TypeCombination, rules.TypeUnique:
		for j, c := range r.Columns {
			out = append(out, colRef{fmt.Sprintf("columns[%d]", j), c})
		}
	default:
		out = append(out, colRef{"column", r.Column})
	}
	return out
}

// notAColumn says that name is not one of names, suggesting the closest
// name or, failing that, listing the columns.
func notAColumn(name string, names []string) string {
	if hint := errs.DidYouMean(name, names); hint != "" {
		return fmt.Sprintf("%q is not a column%s", name, hint)
	}
	const show = 20
	list := make([]string, 0, min(len(names), show))
	for _, n := range names[:min(len(names), show)] {
		list = append(list, strconv.Quote(n))
	}
	more := ""
	if len(names) > show {
		more = fmt.Sprintf(" and %d more", len(names)-show)
	}
	return fmt.Sprintf("%q is not a column; the columns are %s%s", name, strings.Join(list, ", "), more)
}

// Columns returns the writer columns of a profile: numeric columns are Int
// (whole numbers) or Float, boolean ones Bool, the rest String.
func Columns(p *profile.Profile) []table.Column {
	out := make([]table.Column, len(p.Columns))
	for i, c := range p.Columns {
		k := table.String
		switch {
		case c.Kind == profile.Numeric && c.Integer:
			k = table.Int
		case c.Kind == profile.Numeric:
			k = table.Float
		case c.Kind == profile.Boolean:
			k = table.Bool
		}
		out[i] = table.Column{Name: c.Name, Kind: k}
	}
	return out
}

// fixable are the column kinds a condition may fix (the models regenerate
// the others, so a fixed value could not be kept).
var fixable = []profile.Kind{profile.Numeric, profile.Datetime, profile.Categorical, profile.Boolean}

// Prepare checks req against the training table t and its profile p (Check,
// plus what the profile tells: conditions only on columns the models can
// fix, boolean conditions spelled as the data spells them) and compiles
// its rules with rules.Compile, whose feasibility analysis rejects rules
// that no row could meet, and Set.Conditions, which checks the rules
// against the conditions. It returns the compiled rules, nil if the job has
// none. t may be nil when the rules have no combination rule.
func Prepare(req jobs.Request, p *profile.Profile, t *table.Table) (*rules.Set, error) {
	if err := Check(req, Columns(p)); err != nil {
		return nil, err
	}
	for _, col := range sortedKeys(req.Conditions) {
		c := &p.Columns[slices.IndexFunc(p.Columns, func(c profile.Column) bool { return c.Name == col })]
		v := req.Conditions[col]
		switch {
		case !slices.Contains(fixable, c.Kind):
			return nil, fieldErr("conditions."+col, "%q is a %s column, which is generated afresh and cannot be fixed; only numeric, datetime, categorical and boolean columns can", col, c.Kind)
		case c.Kind == profile.Boolean && !profile.IsMissing(v, c):
			if _, ok := profile.ParseBool(v, c); !ok {
				return nil, fieldErr("conditions."+col, "%q is not a value of boolean column %q: use %q or %q", v, col, c.TrueToken, c.FalseToken)
			}
		}
	}
	f, err := parseRules(req.Rules)
	if err != nil || f == nil {
		return nil, err
	}
	set, err := rules.Compile(f, t, p)
	if err != nil {
		return nil, rulesError(err)
	}
	if err := set.Conditions(req.Conditions); err != nil {
		fe := rulesError(err)
		fe.Field, fe.Reason = "conditions", "contradict the rules: "+reason(err)
		return nil, fe
	}
	return set, nil
}

// CheckDataset is Check against a validated dataset's recorded columns
// (numeric columns are taken as Float: the record does not say whether
// they hold whole numbers). A dataset recorded before validation existed
// has no columns: only Validate applies then, and the first step checks
// the rest.
func CheckDataset(req jobs.Request, d *datasets.Dataset) error {
	if len(d.Columns) == 0 {
		return Validate(req)
	}
	cols := make([]table.Column, len(d.Columns))
	for i, c := range d.Columns {
		k := table.String
		switch profile.Kind(c.Kind) {
		case profile.Numeric:
			k = table.Float
		case profile.Boolean:
			k = table.Bool
		}
		cols[i] = table.Column{Name: c.Name, Kind: k}
	}
	return Check(req, cols)
}
