package design

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	piigen "synthos.dev/synthos/shared/pii"
	"time"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/rules"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// quantPoints is the size of the quantile tables built from distributions:
// fine enough that interpolating between points is invisible in a
// histogram of a million rows.
const quantPoints = 1025

// profileOf is the table as the rules package sees it: one column per spec
// column, in spec order, with the kind of value it holds once derived.
func profileOf(t *Table) *profile.Profile {
	p := &profile.Profile{Version: 1, Rows: int(t.Rows)}
	for i := range t.Columns {
		c := &t.Columns[i]
		pc := profile.Column{Name: c.Name, Confidence: 1}
		switch c.Kind {
		case KindNumeric:
			pc.Kind, pc.Integer, pc.Decimals = profile.Numeric, c.Integer, c.Decimals
			if lo, hi, err := numBounds(c.Dist); err == nil {
				pc.Min, pc.Max = lo, hi
			}
		case KindDatetime:
			pc.Kind, pc.Format = profile.Datetime, c.Format
		case KindCategorical:
			pc.Kind = profile.Categorical
		case KindBoolean:
			pc.Kind = profile.Boolean
		case KindID, KindRef:
			pc.Kind = profile.ID
		case KindPII:
			pc.Kind, pc.PII = profile.PII, profile.PIIKind(c.PII)
		case KindText:
			pc.Kind = profile.Text
		case KindDerived:
			if valueKind(t, c.Name) == KindDatetime {
				pc.Kind, pc.Format = profile.Datetime, derivedFormat(t, c)
			} else {
				pc.Kind, pc.Decimals = profile.Numeric, c.Expr.Decimals
			}
		}
		p.Columns = append(p.Columns, pc)
	}
	return p
}

// compileRules compiles a table's rules against its profile.
func compileRules(t *Table) (*rules.Set, error) {
	set, err := rules.Compile(&rules.File{Rules: t.Rules}, nil, profileOf(t))
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return set, nil
}

// plan is a table ready to sample: the engine model over its sampled
// columns, and what turns a sampled row into an output row.
type plan struct {
	t      *Table
	model  synth.Model
	cols   []table.Column // output columns, spec order
	src    []int          // output column -> sampled column, or -1
	refs   []refCol
	derive []int // output indexes of derived columns, in order
	when   []whenCol
	texts  []int // output indexes of text columns
	set    *rules.Set
	pos    map[string]int
}

type refCol struct {
	out    int
	prefix string
	width  int
	start  int64
}

type whenCol struct {
	out, cond int
	equals    []string
}

// compilePlan builds the engine model of one table of s (already scaled).
func compilePlan(s *Spec, t *Table) (*plan, error) {
	p := &plan{t: t, pos: map[string]int{}}
	var sch synth.Schema
	var margins []synth.Marginal
	modelIdx := map[string]int{} // column name -> index in margins
	for i := range t.Columns {
		c := &t.Columns[i]
		p.pos[c.Name] = i
		p.src = append(p.src, -1)
		oc := table.Column{Name: c.Name, Kind: table.String}
		sc := synth.Col{Name: c.Name, Writer: table.String, ZoneName: "UTC"}
		sampled := true
		var mg synth.Marginal
		switch c.Kind {
		case KindNumeric:
			lo, hi, err := numBounds(c.Dist)
			if err != nil {
				return nil, err
			}
			sc.Kind, sc.Integer, sc.Decimals, sc.Lo, sc.Hi = profile.Numeric, c.Integer, c.Decimals, lo, hi
			oc.Kind = table.Float
			if c.Integer {
				oc.Kind = table.Int
			}
			sc.Writer = oc.Kind
			mg = synth.Marginal{Quant: quantiles(c.Dist, lo, hi), MissP: c.Missing}
		case KindDatetime:
			lo, hi, err := timeBounds(c.Dist, c.Format)
			if err != nil {
				return nil, err
			}
			sc.Kind, sc.Format, sc.Lo, sc.Hi = profile.Datetime, c.Format, lo, hi
			mg = synth.Marginal{Quant: quantiles(c.Dist, lo, hi), MissP: c.Missing}
		case KindCategorical, KindBoolean:
			sc.Kind = profile.Categorical
			if c.Kind == KindBoolean {
				sc.Kind = profile.Boolean
				oc.Kind = table.Bool
			}
			var total float64
			for _, cat := range c.Categories {
				sc.Levels = append(sc.Levels, cat.Value)
				mg.Weights = append(mg.Weights, cat.Weight)
				total += cat.Weight
				if _, err := strconv.ParseBool(cat.Value); err != nil {
					oc.Kind = table.String
				}
			}
			if c.Missing > 0 {
				sc.Levels = append(sc.Levels, "")
				mg.Weights = append(mg.Weights, total*c.Missing/(1-c.Missing))
			}
			sc.Writer = oc.Kind
		case KindRef:
			pt := s.Table(c.Ref.Table)
			pc := pt.Column(c.Ref.Column)
			n := float64(pt.Rows)
			sc.Kind, sc.Integer, sc.Lo, sc.Hi = profile.Numeric, true, 0, n-1
			d := c.Dist
			if d == nil {
				d = &Distribution{Type: "uniform"}
			}
			mg = synth.Marginal{Quant: quantiles(d, 0, n-1)}
			p.refs = append(p.refs, refCol{out: i, prefix: pc.Prefix, width: pc.Width, start: pc.Start})
		case KindID:
			sc.Kind = profile.ID
			sc.Gen = synth.Generator{ID: piigen.IDFormat{UUID: c.UUID, Numbered: !c.UUID, Prefix: c.Prefix, Width: c.Width, Start: c.Start}}
		case KindPII:
			sc.Kind, sc.PII, sc.MissingRate = profile.PII, profile.PIIKind(c.PII), c.Missing
			pat := c.Pattern
			if pat == "" {
				pat = defaultPattern[c.PII]
			}
			spec, err := piigen.NewSpec(sc.PII, synth.Shape(pat))
			if err != nil {
				return nil, fmt.Errorf("column %s: pattern %q: %w", c.Name, pat, err)
			}
			sc.Gen.PII = spec
		case KindText:
			sampled = false
			p.texts = append(p.texts, i)
		case KindDerived:
			sampled = false
			p.derive = append(p.derive, i)
			if valueKind(t, c.Name) == KindNumeric {
				oc.Kind = table.Float
			}
		}
		if c.When != nil {
			p.when = append(p.when, whenCol{out: i, equals: c.When.Equals})
		}
		p.cols = append(p.cols, oc)
		if !sampled {
			continue
		}
		p.src[i] = len(sch.Cols)
		if synth.IsModelled(sc.Kind) {
			modelIdx[c.Name] = len(margins)
			sch.Modelled = append(sch.Modelled, len(sch.Cols))
			margins = append(margins, mg)
		}
		sch.Cols = append(sch.Cols, sc)
	}
	for k := range p.when {
		p.when[k].cond = p.pos[t.Columns[p.when[k].out].When.Column]
	}
	nm := len(margins)
	corr := make([]float64, nm*nm)
	for i := range nm {
		corr[i*nm+i] = 1
	}
	for _, cr := range t.Correlations {
		a, okA := modelIdx[cr.A]
		b, okB := modelIdx[cr.B]
		if !okA || !okB {
			return nil, bad("correlation %s~%s: both must be sampled columns", cr.A, cr.B)
		}
		corr[a*nm+b], corr[b*nm+a] = cr.Rho, cr.Rho
	}
	if len(sch.Cols) == 0 {
		return nil, bad("table %q has no sampled column (add an id)", t.Name)
	}
	m, err := synth.NewCopula(sch, margins, corr)
	if err != nil {
		return nil, fmt.Errorf("table %q: %w", t.Name, err)
	}
	p.model = m
	set, err := compileRules(t)
	if err != nil {
		return nil, fmt.Errorf("table %q: %w", t.Name, err)
	}
	p.set = set
	return p, nil
}

// defaultPattern shapes PII kinds that keep a layout when none is given.
var defaultPattern = map[string]string{
	"phone":       "+1 ### ### ####",
	"national_id": "###-##-####",
	"card":        "#### #### #### ####",
	"iban":        "DE####################",
}

// quantiles tabulates a distribution truncated to [lo, hi] at evenly
// spaced probabilities.
func quantiles(d *Distribution, lo, hi float64) []float64 {
	q := make([]float64, quantPoints)
	inv := quantileFunc(d, lo, hi)
	prev := lo
	for i := range q {
		v := inv(float64(i) / float64(quantPoints-1))
		if math.IsNaN(v) {
			v = prev
		}
		v = min(max(v, lo, prev), hi)
		q[i], prev = v, v
	}
	q[0], q[len(q)-1] = max(q[0], lo), hi
	return q
}

// normInv is the standard normal quantile function.
func normInv(p float64) float64 { return math.Sqrt2 * math.Erfinv(2*p-1) }

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// quantileFunc is the inverse CDF of d truncated to [lo, hi].
func quantileFunc(d *Distribution, lo, hi float64) func(float64) float64 {
	span := hi - lo
	switch d.Type {
	case "normal":
		pa, pb := normCDF((lo-d.Mean)/d.SD), normCDF((hi-d.Mean)/d.SD)
		return func(p float64) float64 { return d.Mean + d.SD*normInv(pa+p*(pb-pa)) }
	case "lognormal":
		mu := math.Log(d.Median)
		llo := math.Log(max(lo, d.Median*1e-9))
		pa, pb := normCDF((llo-mu)/d.Sigma), normCDF((math.Log(hi)-mu)/d.Sigma)
		return func(p float64) float64 { return math.Exp(mu + d.Sigma*normInv(pa+p*(pb-pa))) }
	case "exponential":
		tail := 1 - math.Exp(-span/d.Mean)
		return func(p float64) float64 { return lo - d.Mean*math.Log(1-p*tail) }
	case "growth":
		// density ∝ a + x on [0, 1]: a quarter of the peak at the start.
		const a = 0.25
		return func(p float64) float64 { return lo + span*(-a+math.Sqrt(a*a+2*p*(a+0.5))) }
	case "zipf":
		// continuous power law ∝ (x+1)^-s on [0, span+1)
		n1 := span + 1
		if d.S == 1 {
			return func(p float64) float64 { return lo + math.Pow(n1+1, p) - 1 }
		}
		e := 1 - d.S
		return func(p float64) float64 {
			return lo + math.Pow((1-p)+p*math.Pow(n1+1, e), 1/e) - 1
		}
	}
	return func(p float64) float64 { return lo + p*span }
}

// finisher turns the engine's sampled row into an output row (keys of
// parents, derived values, conditional blanks, text) and checks the rules.
// One per sampler: it keeps the output row and the rules' unique state.
type finisher struct {
	p    *plan
	set  *rules.Set
	full []string
	buf  []byte
	text func(full []string, col int) string
}

func (p *plan) newFinisher(text func(full []string, col int) string) *finisher {
	return &finisher{p: p, set: p.set.Clone(), full: make([]string, len(p.cols)), text: text}
}

// accept is the engine's Accept hook: it builds f.full from row and
// reports whether it satisfies the rules.
func (f *finisher) accept(row []string) bool {
	p := f.p
	for i, s := range p.src {
		if s >= 0 {
			f.full[i] = row[s]
		} else {
			f.full[i] = ""
		}
	}
	for _, r := range p.refs {
		idx, err := strconv.ParseInt(f.full[r.out], 10, 64)
		if err != nil {
			return false
		}
		f.full[r.out] = formatKey(r.prefix, r.width, r.start+idx)
	}
	// Blanks apply before derivation (a blanked input blanks what derives
	// from it) and again after (to derived columns themselves); conditions
	// read categorical columns, which derivation never changes.
	f.blank()
	for _, i := range p.derive {
		f.full[i] = f.derive(&p.t.Columns[i])
	}
	f.blank()
	for _, i := range p.texts {
		if w := p.t.Columns[i].When; w != nil && !contains(w.Equals, f.full[p.pos[w.Column]]) {
			continue
		}
		f.full[i] = f.text(f.full, i)
	}
	return f.set.Accept(f.full)
}

func (f *finisher) blank() {
	for _, w := range f.p.when {
		if !contains(w.equals, f.full[w.cond]) {
			f.full[w.out] = ""
		}
	}
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// formatKey writes a numbered key as the id generator does.
func formatKey(prefix string, width int, n int64) string {
	num := strconv.FormatInt(n, 10)
	if pad := width - len(num); pad > 0 {
		num = strings.Repeat("0", pad) + num
	}
	return prefix + num
}

// derive computes one derived cell from the row built so far.
func (f *finisher) derive(c *Column) string {
	e := c.Expr
	a, b := f.full[f.p.pos[e.Args[0]]], f.full[f.p.pos[e.Args[1]]]
	if a == "" || b == "" {
		return ""
	}
	y, err := strconv.ParseFloat(b, 64)
	if err != nil {
		return ""
	}
	if e.Op == "add_days" {
		in := f.p.t.Column(e.Args[0])
		layout := in.Format
		if in.Kind == KindDerived {
			layout = derivedFormat(f.p.t, in)
		}
		ts, err := time.Parse(layout, a)
		if err != nil {
			return ""
		}
		out := ts.Add(time.Duration(y * float64(24*time.Hour)))
		f.buf = out.AppendFormat(f.buf[:0], derivedFormat(f.p.t, c))
		return string(f.buf)
	}
	x, err := strconv.ParseFloat(a, 64)
	if err != nil {
		return ""
	}
	var v float64
	switch e.Op {
	case "mul":
		v = x * y
	case "add":
		v = x + y
	case "sub":
		v = x - y
	}
	f.buf = strconv.AppendFloat(f.buf[:0], v, 'f', e.Decimals, 64)
	return string(f.buf)
}

// Profile is the table's profile as rules see its rows (spec column order):
// what a caller needs to compile the table's rules and check an output.
func (t *Table) Profile() *profile.Profile { return profileOf(t) }
