package design

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	piigen "synthos.dev/synthos/shared/pii"
	"time"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// maxLevels bounds the categories a derived spec lists per column; rarer
// values are left out (their weight goes to the listed ones).
const maxLevels = 200

// FromProfile derives an editable one-table spec from a real table and its
// profile: category weights, distributions fitted to each numeric column
// (normal, or lognormal when the column is positive and right-skewed),
// datetime ranges, key formats, PII kinds, range rules from the observed
// bounds and the rank correlations between modelled columns. Values of key,
// PII and free-text columns are never copied into the spec; categories are
// (they are the vocabulary the spec samples from), so a spec derived from a
// customer's table is as sensitive as its profile and stays in its tenant.
func FromProfile(name string, t *table.Table, p *profile.Profile) (*Spec, error) {
	if t == nil || p == nil || len(t.Rows) == 0 {
		return nil, fmt.Errorf("design.FromProfile: empty table: %w", ErrInvalid)
	}
	tname := sanitize(name)
	tb := Table{Name: tname, Rows: int64(len(t.Rows))}
	var modelled []int
	for j, colName := range t.Columns {
		pc := p.Col(colName)
		if pc == nil {
			return nil, fmt.Errorf("design.FromProfile: column %q not in the profile: %w", colName, ErrInvalid)
		}
		c := Column{Name: sanitize(colName), Missing: min(pc.MissingRate, 0.99)}
		missing := map[string]bool{"": true}
		for _, m := range pc.MissingTokens {
			missing[m] = true
		}
		switch pc.Kind {
		case profile.Numeric:
			vals := numbers(t, j, missing)
			if len(vals) == 0 {
				continue
			}
			c.Kind, c.Integer, c.Decimals = KindNumeric, pc.Integer, min(max(pc.Decimals, 0), 15)
			d := fitDist(vals)
			c.Dist = &d
			tb.Rules = append(tb.Rules, rRange(c.Name, string(d.Min), string(d.Max)))
			modelled = append(modelled, j)
		case profile.Datetime:
			lo, hi, ok := timeRange(t, j, pc.Format, missing)
			if !ok {
				continue
			}
			c.Kind, c.Format = KindDatetime, pc.Format
			c.Dist = &Distribution{Type: "uniform", Min: Bound(lo.UTC().Format(time.RFC3339)), Max: Bound(hi.UTC().Format(time.RFC3339))}
			modelled = append(modelled, j)
		case profile.Categorical, profile.Boolean:
			c.Kind = KindCategorical
			c.Categories = levels(t, j, missing)
			if len(c.Categories) == 0 {
				continue
			}
			if pc.Kind == profile.Boolean && len(c.Categories) == 2 {
				c.Kind = KindBoolean
			}
			c.Missing = 0 // missing cells are a level of their own
			if len(c.Categories) <= 50 {
				tb.Rules = append(tb.Rules, rIn(c))
			}
			modelled = append(modelled, j)
		case profile.ID:
			c.Kind = KindID
			c.Missing = 0
			f := pc.IDFormat
			switch {
			case f == piigen.UUIDFormat || strings.HasPrefix(f, "hex:") || strings.HasPrefix(f, "alnum:") || strings.HasPrefix(f, "re:") || f == "":
				c.UUID = true
			default:
				c.Prefix, c.Width = parseIDFormat(f)
				c.Start = 1
			}
			tb.Rules = append(tb.Rules, rUnique(c.Name))
		case profile.PII:
			c.Kind, c.PII = KindPII, string(pc.PII)
			if !slices.Contains(piiKinds, pc.PII) {
				c.PII = string(profile.Phone)
			}
		case profile.Text:
			c.Kind = KindText
			c.Meaning = "free text: write its template (the source's text is never copied)"
			c.Text = &TextSpec{Template: "{phrase}", Phrases: map[string][]string{"*": {"(text)"}}, MaxLen: DefaultTextLen}
		default:
			continue
		}
		tb.Columns = append(tb.Columns, c)
	}
	tb.Correlations = rankCorrelations(t, p, modelled)
	s := &Spec{Version: SpecVersion, Name: name, Description: "derived from a profile of " + name, Main: tname, Tables: []Table{tb}}
	if err := Validate(s); err != nil {
		return nil, fmt.Errorf("design.FromProfile: %w", err)
	}
	return s, nil
}

// sanitize makes a spec name from a column or table name.
func sanitize(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r >= '0' && r <= '9' && i > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 63 {
			break
		}
	}
	if b.Len() == 0 {
		return "t"
	}
	return b.String()
}

func parseIDFormat(f string) (string, int) {
	i := strings.Index(f, "%")
	if i < 0 {
		return "", 0
	}
	prefix := strings.ReplaceAll(f[:i], "%%", "%")
	w := 0
	spec := strings.TrimSuffix(f[i+1:], "d")
	if n, err := strconv.Atoi(strings.TrimPrefix(spec, "0")); err == nil {
		w = n
	}
	return prefix, w
}

func numbers(t *table.Table, j int, missing map[string]bool) []float64 {
	var out []float64
	for _, r := range t.Rows {
		if missing[r[j]] {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(r[j]), 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	return out
}

// fitDist picks normal or lognormal by the data's skew and bounds it by
// the observed range.
func fitDist(vals []float64) Distribution {
	s := slices.Clone(vals)
	slices.Sort(s)
	lo, hi := s[0], s[len(s)-1]
	var mean float64
	for _, v := range s {
		mean += v
	}
	mean /= float64(len(s))
	var ss float64
	for _, v := range s {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(len(s)))
	median := s[len(s)/2]
	if lo == hi || sd == 0 {
		return Distribution{Type: "uniform", Min: fb(lo), Max: fb(hi)}
	}
	if lo > 0 && mean > 1.15*median {
		var ls, lq float64
		for _, v := range s {
			ls += math.Log(v)
		}
		mu := ls / float64(len(s))
		for _, v := range s {
			lq += (math.Log(v) - mu) * (math.Log(v) - mu)
		}
		sigma := math.Sqrt(lq / float64(len(s)))
		if sigma > 0 {
			return Distribution{Type: "lognormal", Median: round6(math.Exp(mu)), Sigma: round6(sigma), Min: fb(lo), Max: fb(hi)}
		}
	}
	return Distribution{Type: "normal", Mean: round6(mean), SD: round6(sd), Min: fb(lo), Max: fb(hi)}
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

func timeRange(t *table.Table, j int, layout string, missing map[string]bool) (time.Time, time.Time, bool) {
	var lo, hi time.Time
	ok := false
	for _, r := range t.Rows {
		if missing[r[j]] {
			continue
		}
		ts, err := time.Parse(layout, r[j])
		if err != nil {
			continue
		}
		if !ok || ts.Before(lo) {
			lo = ts
		}
		if !ok || ts.After(hi) {
			hi = ts
		}
		ok = true
	}
	return lo, hi, ok
}

func levels(t *table.Table, j int, missing map[string]bool) []Category {
	counts := map[string]int{}
	for _, r := range t.Rows {
		v := r[j]
		if missing[v] {
			v = ""
		}
		counts[v]++
	}
	out := make([]Category, 0, len(counts))
	for v, n := range counts {
		out = append(out, Category{Value: v, Weight: float64(n)})
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Weight != out[b].Weight {
			return out[a].Weight > out[b].Weight
		}
		return out[a].Value < out[b].Value
	})
	if len(out) > maxLevels {
		out = out[:maxLevels]
	}
	return out
}

// rankCorrelations computes Spearman correlations between modelled columns
// (levels ranked by their order in the spec) and keeps |rho| >= 0.1.
func rankCorrelations(t *table.Table, p *profile.Profile, cols []int) []Correlation {
	ranks := make([][]float64, len(cols))
	for k, j := range cols {
		pc := p.Col(t.Columns[j])
		keys := make([]float64, len(t.Rows))
		switch pc.Kind {
		case profile.Categorical, profile.Boolean:
			order := map[string]float64{}
			for i, c := range levels(t, j, map[string]bool{}) {
				order[c.Value] = float64(i)
			}
			for i, r := range t.Rows {
				keys[i] = order[r[j]]
			}
		case profile.Datetime:
			for i, r := range t.Rows {
				if ts, err := time.Parse(pc.Format, r[j]); err == nil {
					keys[i] = float64(ts.Unix())
				}
			}
		default:
			for i, r := range t.Rows {
				v, err := strconv.ParseFloat(strings.TrimSpace(r[j]), 64)
				if err != nil {
					v = math.Inf(-1)
				}
				keys[i] = v
			}
		}
		ranks[k] = rank(keys)
	}
	var out []Correlation
	for a := range cols {
		for b := a + 1; b < len(cols); b++ {
			r := pearsonOf(ranks[a], ranks[b])
			if math.Abs(r) >= 0.1 && !math.IsNaN(r) {
				out = append(out, Correlation{A: sanitize(t.Columns[cols[a]]), B: sanitize(t.Columns[cols[b]]), Rho: math.Round(min(max(r, -0.95), 0.95)*100) / 100})
			}
		}
	}
	return out
}

func rank(keys []float64) []float64 {
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	out := make([]float64, len(keys))
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && keys[idx[j]] == keys[idx[i]] {
			j++
		}
		avg := float64(i+j-1) / 2
		for k := i; k < j; k++ {
			out[idx[k]] = avg
		}
		i = j
	}
	return out
}

func pearsonOf(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}
