// Package design is the realism engine: a Spec describes a dataset that does
// not exist yet — several related tables, each column's kind and
// distribution, categories and their weights, correlations between columns,
// derived columns and business rules in the rules language of shared/rules —
// and Generate samples it with the engine of shared/synth (a Gaussian copula
// built from the spec instead of fitted to data), so rows come at the
// engine's speed and no model is called per row.
//
// A spec comes from a description (Designer: one call to a model through the
// llm router, or the offline provider's domain packs), from a real table's
// profile (FromProfile), or by hand; it is validated against the published
// JSON Schema (Schema) and then semantically (Validate: references, kinds,
// rules that compile and can be met). Specs are saved and versioned per
// tenant (Store).
package design

import (
	"encoding/json"
	"fmt"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/rules"
)

// SpecVersion is the spec format version this build reads and writes.
const SpecVersion = 1

// Errors callers act on.
var (
	// ErrInvalid marks a spec that does not follow the schema or whose
	// parts do not fit together.
	ErrInvalid = errs.New(errs.InvalidArgument, "design: invalid spec")
	// ErrNotFound marks a saved spec or version that does not exist.
	ErrNotFound = errs.New(errs.NotFound, "design: spec not found")
)

// Column kinds of a spec. The first seven are the profile's kinds; ref is a
// foreign key to another table's id column; derived is computed from other
// columns of the row after sampling.
const (
	KindNumeric     = "numeric"
	KindCategorical = "categorical"
	KindBoolean     = "boolean"
	KindDatetime    = "datetime"
	KindID          = "id"
	KindPII         = "pii"
	KindText        = "text"
	KindRef         = "ref"
	KindDerived     = "derived"
)

// Spec is a dataset design: one or more tables.
type Spec struct {
	Version     int    `json:"version"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Domain      string `json:"domain,omitempty"`
	// Main names the table the user asked for; -n scales every table by
	// the same factor so that Main gets n rows. Empty: the last table.
	Main   string  `json:"main,omitempty"`
	Tables []Table `json:"tables"`
}

// Table is one table of a spec.
type Table struct {
	Name    string   `json:"name"`
	Rows    int64    `json:"rows"`
	Columns []Column `json:"columns"`
	// Correlations tie modelled columns' normal scores (Spearman-like).
	Correlations []Correlation `json:"correlations,omitempty"`
	// Rules hold in every generated row; they use the rules language.
	Rules []rules.Rule `json:"rules,omitempty"`
}

// Correlation is the normal-score correlation of two modelled columns.
type Correlation struct {
	A   string  `json:"a"`
	B   string  `json:"b"`
	Rho float64 `json:"rho"`
}

// Column is one column of a table. Which fields apply depends on Kind.
type Column struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Meaning is a short human description ("order total in EUR").
	Meaning string `json:"meaning,omitempty"`
	// Missing is the share of empty cells (modelled and generated columns).
	Missing float64 `json:"missing,omitempty"`

	// numeric and datetime
	Dist     *Distribution `json:"dist,omitempty"`
	Integer  bool          `json:"integer,omitempty"`
	Decimals int           `json:"decimals,omitempty"`
	Format   string        `json:"format,omitempty"` // datetime: Go layout

	// categorical and boolean: values and weights (boolean: "true","false").
	Categories []Category `json:"categories,omitempty"`

	// id: Prefix + zero-padded number from Start (Width digits), or UUIDs.
	Prefix string `json:"prefix,omitempty"`
	Width  int    `json:"width,omitempty"`
	Start  int64  `json:"start,omitempty"`
	UUID   bool   `json:"uuid,omitempty"`

	// pii: the kind (email, phone, name, address, national_id, card, iban,
	// ip, url) and for shaped kinds a pattern ('#' a digit, '@' an
	// upper-case letter, anything else literal: "+49 ### #######").
	PII     string `json:"pii,omitempty"`
	Pattern string `json:"pattern,omitempty"`

	// ref: the referenced table's id column; Dist (over 0..1, default
	// uniform) skews how often each parent is referenced.
	Ref *Ref `json:"ref,omitempty"`

	// derived: computed from other columns.
	Expr *Expr `json:"expr,omitempty"`

	// text: a template over the row's other columns ("{rating}-star review
	// of {category}"), written by the offline provider or, when a model
	// provider is configured for the text task, used as its instruction.
	Text *TextSpec `json:"text,omitempty"`

	// When blanks the cell unless another column of the row holds a value:
	// a return date only for returned orders.
	When *Condition `json:"when,omitempty"`
}

// Distribution of a numeric or datetime column, truncated to [Min, Max].
// Datetimes give Min and Max as RFC 3339 or YYYY-MM-DD strings.
type Distribution struct {
	// Type: uniform, normal (Mean, SD), lognormal (Median, Sigma),
	// exponential (Mean), growth (density rising linearly from Min to Max:
	// a growing business), zipf (S: steeper with larger S; refs only).
	Type   string  `json:"type"`
	Min    Bound   `json:"min"`
	Max    Bound   `json:"max"`
	Mean   float64 `json:"mean,omitempty"`
	SD     float64 `json:"sd,omitempty"`
	Median float64 `json:"median,omitempty"`
	Sigma  float64 `json:"sigma,omitempty"`
	S      float64 `json:"s,omitempty"`
}

// Bound is a number or a date/time string.
type Bound string

// UnmarshalJSON accepts a JSON number or string.
func (b *Bound) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		*b = Bound(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return fmt.Errorf("bound must be a number or a string: %w", ErrInvalid)
	}
	*b = Bound(n.String())
	return nil
}

// MarshalJSON writes numbers as numbers and everything else as strings.
func (b Bound) MarshalJSON() ([]byte, error) {
	var n json.Number = json.Number(b)
	if _, err := n.Float64(); err == nil && b != "" {
		return []byte(b), nil
	}
	return json.Marshal(string(b))
}

// Category is one value of a categorical or boolean column and its weight.
type Category struct {
	Value  string  `json:"value"`
	Weight float64 `json:"weight"`
}

// Ref points at a table's id column.
type Ref struct {
	Table  string `json:"table"`
	Column string `json:"column"`
}

// Expr computes a derived column. Op is one of:
//
//	mul       Args[0] × Args[1] (numbers)
//	add, sub  Args[0] ± Args[1] (numbers)
//	add_days  Args[0] (a datetime) + Args[1] (a number of days)
//
// An argument that is missing makes the result missing.
type Expr struct {
	Op       string   `json:"op"`
	Args     []string `json:"args"`
	Decimals int      `json:"decimals,omitempty"`
	Format   string   `json:"format,omitempty"` // add_days: output layout (default: the input's)
}

// Condition holds when Column's cell is one of Equals.
type Condition struct {
	Column string   `json:"column"`
	Equals []string `json:"equals"`
}

// TextSpec describes a free-text column.
type TextSpec struct {
	// Template names other columns in braces; the offline provider fills
	// them in and adds a phrase chosen by the row.
	Template string `json:"template"`
	// Phrases the offline provider picks from, keyed by a value of
	// By (e.g. rating "1" → complaints, "5" → praise).
	By      string              `json:"by,omitempty"`
	Phrases map[string][]string `json:"phrases,omitempty"`
	// MaxLen bounds the text in characters (default 280).
	MaxLen int `json:"max_len,omitempty"`
	// Language is the ISO 639-1 code the text must be in (default "en").
	Language string `json:"language,omitempty"`
}

// Table returns the named table, or nil.
func (s *Spec) Table(name string) *Table {
	for i := range s.Tables {
		if s.Tables[i].Name == name {
			return &s.Tables[i]
		}
	}
	return nil
}

// Column returns the named column, or nil.
func (t *Table) Column(name string) *Column {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

// MainTable is the table -n counts rows of.
func (s *Spec) MainTable() *Table {
	if s.Main != "" {
		return s.Table(s.Main)
	}
	if len(s.Tables) == 0 {
		return nil
	}
	return &s.Tables[len(s.Tables)-1]
}

// Scale returns a copy of s whose main table has n rows and whose other
// tables keep their ratio to it (at least one row each).
func (s *Spec) Scale(n int64) (*Spec, error) {
	out, err := s.clone()
	if err != nil {
		return nil, err
	}
	m := out.MainTable()
	if m == nil || n <= 0 || m.Rows <= 0 {
		return out, nil
	}
	f := float64(n) / float64(m.Rows)
	for i := range out.Tables {
		t := &out.Tables[i]
		if t.Name == m.Name {
			t.Rows = n
			continue
		}
		t.Rows = max(1, int64(float64(t.Rows)*f+0.5))
	}
	return out, nil
}

// clone deep-copies s through JSON (specs are small).
func (s *Spec) clone() (*Spec, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("design: copy spec: %w", err)
	}
	var out Spec
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("design: copy spec: %w", err)
	}
	return &out, nil
}
