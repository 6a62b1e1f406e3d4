package design

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"synthos.dev/synthos/shared/profile"
)

//go:embed spec.schema.json
var schemaJSON []byte

// Schema returns the published JSON Schema (draft 2020-12) of a spec. The
// caller may modify the returned slice.
func Schema() []byte { return append([]byte(nil), schemaJSON...) }

// maxSpecBytes bounds a spec document: specs are configuration.
const maxSpecBytes = 4 << 20

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("spec.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("spec.schema.json")
})

// CheckSchema validates a JSON document against the spec's JSON Schema.
func CheckSchema(data []byte) error {
	if len(data) > maxSpecBytes {
		return fmt.Errorf("design: spec is %d bytes, more than %d: %w", len(data), maxSpecBytes, ErrInvalid)
	}
	sch, err := compiled()
	if err != nil {
		return fmt.Errorf("design: compile the spec schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("design: spec is not JSON: %v: %w", err, ErrInvalid)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("design: spec does not follow the schema: %s: %w", strings.Join(leafErrors(ve), "; "), ErrInvalid)
		}
		return fmt.Errorf("design: spec does not follow the schema: %v: %w", err, ErrInvalid)
	}
	return nil
}

var english = message.NewPrinter(language.English)

// leafErrors flattens a validation error to "location: message" lines,
// which are what a user (or a model repairing its answer) can act on.
func leafErrors(ve *jsonschema.ValidationError) []string {
	if len(ve.Causes) == 0 {
		return []string{"/" + strings.Join(ve.InstanceLocation, "/") + ": " + ve.ErrorKind.LocalizedString(english)}
	}
	var out []string
	for _, c := range ve.Causes {
		out = append(out, leafErrors(c)...)
		if len(out) >= 10 {
			break
		}
	}
	return out
}

// Parse reads a spec document: schema first, then the semantic checks of
// Validate.
func Parse(data []byte) (*Spec, error) {
	if err := CheckSchema(data); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("design: decode spec: %v: %w", err, ErrInvalid)
	}
	if err := Validate(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks what the schema cannot: unique names, references between
// tables and columns, distribution bounds, and that each table's rules
// compile and can be met (rules.Compile's feasibility analysis).
func Validate(s *Spec) error {
	if s.Version != SpecVersion {
		return fmt.Errorf("design: spec version %d, this build reads %d: %w", s.Version, SpecVersion, ErrInvalid)
	}
	if len(s.Tables) == 0 {
		return fmt.Errorf("design: spec has no tables: %w", ErrInvalid)
	}
	seen := map[string]bool{}
	for _, t := range s.Tables {
		if seen[t.Name] {
			return fmt.Errorf("design: table %q appears twice: %w", t.Name, ErrInvalid)
		}
		seen[t.Name] = true
	}
	if s.Main != "" && !seen[s.Main] {
		return fmt.Errorf("design: main table %q is not in the spec: %w", s.Main, ErrInvalid)
	}
	for i := range s.Tables {
		if err := validateTable(s, &s.Tables[i]); err != nil {
			return fmt.Errorf("design: table %q: %w", s.Tables[i].Name, err)
		}
	}
	return nil
}

func bad(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrInvalid)...)
}

var placeholder = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\}`)

func validateTable(s *Spec, t *Table) error {
	if t.Rows < 1 {
		return bad("rows must be at least 1")
	}
	pos := map[string]int{}
	for i, c := range t.Columns {
		if _, dup := pos[c.Name]; dup {
			return bad("column %q appears twice", c.Name)
		}
		pos[c.Name] = i
	}
	for i := range t.Columns {
		c := &t.Columns[i]
		if err := validateColumn(s, t, c, pos, i); err != nil {
			return fmt.Errorf("column %q: %w", c.Name, err)
		}
	}
	for _, cr := range t.Correlations {
		for _, n := range []string{cr.A, cr.B} {
			c := t.Column(n)
			if c == nil || !sampledModelled(c.Kind) {
				return bad("correlation names %q, which is not a numeric, datetime, categorical, boolean or ref column", n)
			}
		}
		if cr.A == cr.B || math.Abs(cr.Rho) >= 1 || math.IsNaN(cr.Rho) {
			return bad("correlation %s~%s must join two columns with |rho| < 1", cr.A, cr.B)
		}
	}
	if _, err := compileRules(t); err != nil {
		return err
	}
	return nil
}

// sampledModelled says whether the engine's copula draws the column.
func sampledModelled(kind string) bool {
	switch kind {
	case KindNumeric, KindDatetime, KindCategorical, KindBoolean, KindRef:
		return true
	}
	return false
}

func validateColumn(s *Spec, t *Table, c *Column, pos map[string]int, i int) error {
	if c.Missing < 0 || c.Missing >= 1 || math.IsNaN(c.Missing) {
		return bad("missing share must be in [0, 1)")
	}
	switch c.Kind {
	case KindNumeric:
		if _, _, err := numBounds(c.Dist); err != nil {
			return err
		}
	case KindDatetime:
		if c.Format == "" {
			return bad("a datetime needs a format (a Go layout)")
		}
		if _, _, err := timeBounds(c.Dist, c.Format); err != nil {
			return err
		}
	case KindCategorical, KindBoolean:
		vals := map[string]bool{}
		var total float64
		for _, cat := range c.Categories {
			if vals[cat.Value] {
				return bad("category %q appears twice", cat.Value)
			}
			vals[cat.Value] = true
			if cat.Weight < 0 || math.IsNaN(cat.Weight) || math.IsInf(cat.Weight, 0) {
				return bad("category %q has a bad weight", cat.Value)
			}
			total += cat.Weight
		}
		if total <= 0 {
			return bad("categories need a positive total weight")
		}
		if c.Kind == KindBoolean && len(c.Categories) != 2 {
			return bad("a boolean has exactly two categories")
		}
	case KindID:
		if !c.UUID && (c.Width < 0 || c.Width > 30) {
			return bad("width must be 0..30")
		}
	case KindPII:
		if !slices.Contains(piiKinds, profile.PIIKind(c.PII)) {
			return bad("unknown pii kind %q", c.PII)
		}
	case KindText:
		if c.Text == nil || c.Text.Template == "" {
			return bad("a text column needs a template")
		}
		for _, m := range placeholder.FindAllStringSubmatch(c.Text.Template, -1) {
			if m[1] == "phrase" {
				continue
			}
			if j, ok := pos[m[1]]; !ok || j == i || t.Columns[j].Kind == KindText {
				return bad("template names %q, which is not another non-text column", m[1])
			}
		}
		if c.Text.By != "" {
			if _, ok := pos[c.Text.By]; !ok {
				return bad("text.by names unknown column %q", c.Text.By)
			}
		}
	case KindRef:
		if c.Ref == nil {
			return bad("a ref needs ref.table and ref.column")
		}
		pt := s.Table(c.Ref.Table)
		if pt == nil || pt.Name == t.Name {
			return bad("ref table %q must be another table of the spec", c.Ref.Table)
		}
		pc := pt.Column(c.Ref.Column)
		if pc == nil || pc.Kind != KindID || pc.UUID {
			return bad("ref column %s.%s must be a numbered (not uuid) id column", c.Ref.Table, c.Ref.Column)
		}
		if c.Dist != nil && c.Dist.Type != "uniform" && c.Dist.Type != "zipf" && c.Dist.Type != "lognormal" && c.Dist.Type != "exponential" {
			return bad("a ref's dist is uniform, zipf, lognormal or exponential")
		}
	case KindDerived:
		e := c.Expr
		if e == nil || len(e.Args) != 2 {
			return bad("a derived column needs expr with two args")
		}
		for _, a := range e.Args {
			j, ok := pos[a]
			if !ok || j >= i {
				return bad("expr arg %q must be a column listed before this one", a)
			}
		}
		k0, k1 := valueKind(t, e.Args[0]), valueKind(t, e.Args[1])
		switch e.Op {
		case "mul", "add", "sub":
			if k0 != KindNumeric || k1 != KindNumeric {
				return bad("%s needs two numeric columns", e.Op)
			}
		case "add_days":
			if k0 != KindDatetime || k1 != KindNumeric {
				return bad("add_days needs a datetime and a numeric column")
			}
		default:
			return bad("unknown op %q", e.Op)
		}
	default:
		return bad("unknown kind %q", c.Kind)
	}
	if c.When != nil {
		j, ok := pos[c.When.Column]
		if !ok || j == i {
			return bad("when names %q, which is not another column", c.When.Column)
		}
		if k := t.Columns[j].Kind; k != KindCategorical && k != KindBoolean {
			return bad("when needs a categorical or boolean column, %q is %s", c.When.Column, k)
		}
		if c.Kind == KindID || c.Kind == KindRef {
			return bad("keys are never blanked: when does not apply to %s columns", c.Kind)
		}
	}
	return nil
}

var piiKinds = []profile.PIIKind{profile.Email, profile.Phone, profile.PersonName, profile.Address,
	profile.NationalID, profile.Card, profile.IBAN, profile.IP, profile.URL}

// valueKind is the kind of values a column holds after derivation:
// numeric, datetime, or its own kind.
func valueKind(t *Table, name string) string {
	c := t.Column(name)
	if c == nil {
		return ""
	}
	if c.Kind != KindDerived || c.Expr == nil {
		return c.Kind
	}
	if c.Expr.Op == "add_days" {
		return KindDatetime
	}
	return KindNumeric
}

// derivedFormat is the layout of an add_days column.
func derivedFormat(t *Table, c *Column) string {
	if c.Expr.Format != "" {
		return c.Expr.Format
	}
	if a := t.Column(c.Expr.Args[0]); a != nil {
		if a.Kind == KindDerived && a.Expr != nil {
			return derivedFormat(t, a)
		}
		return a.Format
	}
	return time.RFC3339
}

// numBounds reads a numeric distribution's bounds.
func numBounds(d *Distribution) (float64, float64, error) {
	if d == nil {
		return 0, 0, bad("a numeric column needs dist")
	}
	lo, err1 := strconv.ParseFloat(string(d.Min), 64)
	hi, err2 := strconv.ParseFloat(string(d.Max), 64)
	if err1 != nil || err2 != nil || math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo > hi {
		return 0, 0, bad("dist needs finite numeric min <= max")
	}
	if err := checkDist(d, lo, hi); err != nil {
		return 0, 0, err
	}
	return lo, hi, nil
}

// timeBounds reads a datetime distribution's bounds as Unix seconds.
func timeBounds(d *Distribution, layout string) (float64, float64, error) {
	if d == nil {
		return 0, 0, bad("a datetime column needs dist")
	}
	lo, err1 := parseTime(string(d.Min), layout)
	hi, err2 := parseTime(string(d.Max), layout)
	if err1 != nil || err2 != nil || lo.After(hi) {
		return 0, 0, bad("dist needs dates min <= max (RFC 3339, YYYY-MM-DD or the column's format)")
	}
	if d.Type != "uniform" && d.Type != "growth" {
		return 0, 0, bad("a datetime's dist is uniform or growth")
	}
	return float64(lo.Unix()), float64(hi.Unix()), nil
}

func parseTime(s, layout string) (time.Time, error) {
	for _, l := range []string{layout, time.RFC3339, time.DateOnly, time.DateTime} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, bad("cannot read date %q", s)
}

// checkDist checks a distribution's parameters.
func checkDist(d *Distribution, lo, hi float64) error {
	switch d.Type {
	case "uniform", "growth":
	case "normal":
		if !(d.SD > 0) {
			return bad("normal needs sd > 0")
		}
	case "lognormal":
		if !(d.Median > 0) || !(d.Sigma > 0) || hi <= 0 {
			return bad("lognormal needs median > 0, sigma > 0 and max > 0")
		}
	case "exponential":
		if !(d.Mean > 0) {
			return bad("exponential needs mean > 0")
		}
	case "zipf":
		if !(d.S > 0) {
			return bad("zipf needs s > 0")
		}
	default:
		return bad("unknown distribution %q", d.Type)
	}
	return nil
}
