package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/pii"
	"synthos.dev/synthos/shared/relations"
)

// ErrSchema reports a schema file that cannot be read or applied: bad JSON, an
// unknown field, column, kind or PII kind, or settings that contradict each
// other.
var ErrSchema = errs.New(errs.InvalidArgument, "profile: bad schema")

// Schema overrides what Infer decided about some columns. Its JSON form is
//
//	{"columns": {
//	  "age":   {"kind": "numeric", "integer": true, "min": 17, "max": 90},
//	  "email": {"kind": "pii", "pii": "email"},
//	  "dob":   {"kind": "datetime", "format": "2006-01-02"},
//	  "plan":  {"kind": "categorical", "categories": ["basic", "plus", "pro"]}}}
//
// A public domain: "categories" lists every category of a categorical
// column, and "min" and "max" given together bound a numeric or datetime
// column (a datetime's in seconds since 1970). Both are what the user knows
// without reading the data — a code list, a valid range — and the dp model
// treats them as public: it spends no privacy budget discovering them and
// writes no category outside the list. Values outside a declared domain are
// clamped to the bounds or counted as an unknown category.
//
// "relations" edits the relations Infer discovered (see package relations),
// each written as relations.Relation.String writes it:
//
//	{"relations": {"drop": ["age <= hours"], "add": ["end >= start", "place -> region", "total = net + tax"]}}
//
// "drop" names relations to forget ("*" forgets every discovered one);
// "add" declares relations the models then keep as if discovered. A
// discovered relation whose columns an override makes unfit (a kind
// changed) is dropped.
type Schema struct {
	Columns   map[string]Override `json:"columns,omitempty"`
	Relations *RelationEdits      `json:"relations,omitempty"`
}

// RelationEdits drops and adds relations; see Schema.
type RelationEdits struct {
	Drop []string `json:"drop,omitempty"`
	Add  []string `json:"add,omitempty"`
}

// Override sets a column's kind and the settings of that kind. A field left
// out keeps the inferred value when the kind is unchanged; a new kind starts
// from a clean slate. Kind may be left out to adjust settings only.
type Override struct {
	Kind       Kind     `json:"kind,omitempty"`
	PII        PIIKind  `json:"pii,omitempty"`
	Integer    *bool    `json:"integer,omitempty"`
	Decimals   *int     `json:"decimals,omitempty"`
	Trim       *bool    `json:"trim_zeros,omitempty"`
	Min        *float64 `json:"min,omitempty"`
	Max        *float64 `json:"max,omitempty"`
	Format     string   `json:"format,omitempty"`
	TrueToken  string   `json:"true_token,omitempty"`
	FalseToken string   `json:"false_token,omitempty"`
	IDFormat   string   `json:"id_format,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Pattern    string   `json:"pattern,omitempty"`
}

var (
	kinds    = []Kind{Numeric, Categorical, Boolean, Datetime, ID, Text, PII}
	piiKinds = pii.Kinds
)

// LoadSchema reads a schema file; see ParseSchema.
func LoadSchema(path string) (*Schema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("profile.LoadSchema: %w", err)
	}
	s, err := ParseSchema(b)
	if err != nil {
		return nil, fmt.Errorf("profile.LoadSchema %s: %w", path, err)
	}
	return s, nil
}

// ParseSchema decodes a schema, rejecting unknown fields, trailing data, and
// unknown kinds or PII kinds. Columns are checked against a table only by
// Apply.
func ParseSchema(b []byte) (*Schema, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Schema
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSchema, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: data after the schema object", ErrSchema)
	}
	for _, name := range sortedKeys(s.Columns) {
		o := s.Columns[name]
		if o.Kind != "" && !slices.Contains(kinds, o.Kind) {
			return nil, fmt.Errorf("%w: column %q: unknown kind %q (want one of %v)", ErrSchema, name, o.Kind, kinds)
		}
		if o.PII != "" && !slices.Contains(piiKinds, o.PII) {
			return nil, fmt.Errorf("%w: column %q: unknown pii kind %q (want one of %v)", ErrSchema, name, o.PII, piiKinds)
		}
	}
	if s.Relations != nil {
		for _, a := range s.Relations.Add {
			if _, err := relations.Parse(a); err != nil {
				return nil, fmt.Errorf("%w: relations.add: %w", ErrSchema, err)
			}
		}
		for _, d := range s.Relations.Drop {
			if _, err := relations.Parse(d); err != nil && d != "*" {
				return nil, fmt.Errorf("%w: relations.drop: %w", ErrSchema, err)
			}
		}
	}
	return &s, nil
}

// Apply overrides the columns of p that the schema names and gives them
// Confidence 1. It checks every override before changing anything, so on
// error p is untouched.
func (s *Schema) Apply(p *Profile) error {
	out := make(map[string]Column, len(s.Columns))
	for _, name := range sortedKeys(s.Columns) {
		c := p.Col(name)
		if c == nil {
			return fmt.Errorf("%w: column %q is not in the table", ErrSchema, name)
		}
		nc, err := s.Columns[name].apply(*c)
		if err != nil {
			return fmt.Errorf("%w: column %q: %w", ErrSchema, name, err)
		}
		out[name] = nc
	}
	// Relations are checked against the overridden columns.
	np := *p
	np.Columns = slices.Clone(p.Columns)
	for name, nc := range out {
		*np.Col(name) = nc
	}
	rels, err := s.Relations.apply(&np)
	if err != nil {
		return fmt.Errorf("%w: relations: %w", ErrSchema, err)
	}
	for name, nc := range out {
		*p.Col(name) = nc
	}
	p.Relations = rels
	return nil
}

// apply returns p's relations edited: the dropped ones and those whose
// columns no longer fit left out, the added ones appended (once).
func (e *RelationEdits) apply(p *Profile) ([]relations.Relation, error) {
	drop := map[string]bool{}
	all := false
	var add []relations.Relation
	if e != nil {
		for _, d := range e.Drop {
			if d == "*" {
				all = true
				continue
			}
			r, err := relations.Parse(d)
			if err != nil {
				return nil, err
			}
			drop[r.String()] = true
		}
		for _, a := range e.Add {
			r, err := relations.Parse(a)
			if err != nil {
				return nil, err
			}
			if err := checkRelation(r, p); err != nil {
				return nil, err
			}
			r.Declared = true
			add = append(add, r)
		}
	}
	var out []relations.Relation
	seen := map[string]bool{}
	for _, r := range p.Relations {
		if all && !r.Declared || drop[r.String()] || checkRelation(r, p) != nil {
			continue
		}
		seen[r.String()] = true
		out = append(out, r)
	}
	for _, r := range add {
		if !seen[r.String()] && !drop[r.String()] {
			seen[r.String()] = true
			out = append(out, r)
		}
	}
	return out, nil
}

// apply returns c overridden by o, or an error naming the contradiction.
func (o Override) apply(c Column) (Column, error) {
	if o.Kind != "" && o.Kind != c.Kind {
		c.Kind, c.PII, c.Integer, c.Decimals, c.Trim, c.Min, c.Max = o.Kind, "", false, 0, false, 0, 0
		c.Format, c.TrueToken, c.FalseToken, c.IDFormat, c.Mode, c.Pattern = "", "", "", "", "", ""
		c.Categories, c.PublicBounds = nil, false
	}
	if o.PII != "" && o.PII != c.PII {
		c.Pattern = "" // the inferred layout belonged to the old kind
	}
	c.Confidence = 1
	only := func(k Kind, field string, set bool) error {
		if set && c.Kind != k && !(field == "min/max" && c.Kind == Datetime) {
			return fmt.Errorf("%s applies to kind %s, not %s", field, k, c.Kind)
		}
		return nil
	}
	if err := errors.Join(
		only(PII, "pii", o.PII != ""),
		only(Numeric, "integer", o.Integer != nil),
		only(Numeric, "decimals", o.Decimals != nil),
		only(Numeric, "trim_zeros", o.Trim != nil),
		only(Numeric, "min/max", o.Min != nil || o.Max != nil),
		only(Datetime, "format", o.Format != ""),
		only(Boolean, "true_token/false_token", o.TrueToken != "" || o.FalseToken != ""),
		only(ID, "id_format", o.IDFormat != ""),
		only(Categorical, "categories", o.Categories != nil),
		only(PII, "pattern", o.Pattern != ""),
	); err != nil {
		return c, err
	}
	if o.PII != "" {
		c.PII = o.PII
	}
	if o.Integer != nil {
		c.Integer = *o.Integer
	}
	if o.Decimals != nil {
		c.Decimals = *o.Decimals
	}
	if o.Trim != nil {
		c.Trim = *o.Trim
	}
	if o.Min != nil {
		c.Min = *o.Min
	}
	if o.Max != nil {
		c.Max = *o.Max
	}
	if o.Min != nil && o.Max != nil {
		c.PublicBounds = true
	}
	if o.Categories != nil {
		c.Categories = slices.Clone(o.Categories)
	}
	if o.Format != "" {
		c.Format = o.Format
	}
	if o.TrueToken != "" {
		c.TrueToken = o.TrueToken
	}
	if o.FalseToken != "" {
		c.FalseToken = o.FalseToken
	}
	if o.IDFormat != "" {
		c.IDFormat = o.IDFormat
	}
	if o.Pattern != "" {
		c.Pattern = o.Pattern
	}
	return c, valid(&c)
}

// valid checks that a column's settings fit its kind.
func valid(c *Column) error {
	switch c.Kind {
	case PII:
		if c.PII == "" {
			return errors.New(`kind pii needs "pii" (one of email, phone, name, address, national_id, card, iban, ip, url)`)
		}
		if c.Pattern != "" {
			if !pii.Shaped(c.PII) {
				return fmt.Errorf("pattern applies to the pii kinds phone, national_id, card and iban, not %s", c.PII)
			}
			if _, err := pii.ParsePattern(c.Pattern); err != nil {
				return fmt.Errorf("pattern %q: %w (use literals, [A-Z0-9]-style classes, \\d and {n} or {n,m})", c.Pattern, err)
			}
		}
	case Categorical:
		if c.Categories != nil {
			if len(c.Categories) == 0 {
				return errors.New("categories is empty: list every category, or leave it out to have the dp model discover them")
			}
			seen := make(map[string]bool, len(c.Categories))
			for _, v := range c.Categories {
				switch {
				case v == "" || strings.TrimSpace(v) != v:
					return fmt.Errorf("category %q is blank or has surrounding spaces (cells are compared trimmed)", v)
				case seen[v]:
					return fmt.Errorf("category %q is listed twice", v)
				}
				seen[v] = true
			}
		}
	case Numeric:
		switch {
		case c.Min > c.Max:
			return fmt.Errorf("min %v is above max %v", c.Min, c.Max)
		case c.Decimals < 0:
			return fmt.Errorf("decimals %d is negative", c.Decimals)
		case c.Decimals > 15:
			return fmt.Errorf("decimals %d is above 15", c.Decimals)
		}
	case Datetime:
		if c.Format == "" {
			return errors.New(`kind datetime needs "format", a Go time layout such as "2006-01-02"`)
		}
		if !validLayout(c.Format) {
			return fmt.Errorf("format %q is not a Go time layout that tells times apart (write the reference time Mon Jan 2 15:04:05 MST 2006)", c.Format)
		}
		if c.Min > c.Max {
			return fmt.Errorf("min %v is above max %v", c.Min, c.Max)
		}
	case Boolean:
		if c.TrueToken == "" || c.FalseToken == "" {
			return errors.New(`kind boolean needs "true_token" and "false_token"`)
		}
		if c.TrueToken == c.FalseToken {
			return fmt.Errorf("true_token and false_token are both %q", c.TrueToken)
		}
	case ID:
		if c.IDFormat != "" && !pii.ValidIDFormat(c.IDFormat) {
			return fmt.Errorf(`id_format %q is not "uuid", "hex:N", "alnum:N", "re:PATTERN" or text with one %%d`, c.IDFormat)
		}
	}
	return nil
}

// validLayout reports whether layout formats two different times differently
// and parses its own output, i.e. it holds date or time elements.
func validLayout(layout string) bool {
	a := time.Date(2006, 1, 2, 15, 4, 5, 0, time.UTC)
	b := time.Date(2011, 11, 22, 3, 44, 55, 0, time.UTC)
	sa := a.Format(layout)
	if sa == b.Format(layout) {
		return false
	}
	_, err := time.Parse(layout, sa)
	return err == nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
