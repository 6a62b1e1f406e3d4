// Package rules holds business rules (constraints) that synthetic rows must
// obey: inequalities between columns, ranges, allowed combinations seen in the
// training data, uniqueness, formats and allowed sets.
//
// Rules come from a JSON file (Parse, Load), are compiled against the training
// table and its profile (Compile), which resolves column names to indexes and
// rejects rule sets that no row could satisfy before any sampling starts, and
// are then checked row by row by the sampler (Set.Accept, Set.Check) and over a
// whole output by tests and the CLI (Set.Validate).
//
// A missing cell (the empty string or one of the column's profile
// MissingTokens) passes every rule, unless the rule says "required": true, in
// which case a missing cell fails it. Missing data is part of what the models
// reproduce, so a rule constrains values, not their presence, unless asked to.
package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"synthos.dev/synthos/shared/errs"
)

// Errors are classified with these sentinels; test them with errors.Is.
var (
	// ErrInvalid marks a malformed rules file or rule: bad JSON, an unknown
	// field or type, a missing or misplaced field, a bad operator or regexp,
	// or a rule that does not suit its column's kind.
	ErrInvalid = errs.New(errs.InvalidArgument, "invalid rule")
	// ErrUnknownColumn marks a rule or condition naming a column that the
	// profile does not have.
	ErrUnknownColumn = errs.New(errs.InvalidArgument, "unknown column")
	// ErrImpossible marks rules (or rules and conditions) that no row the
	// model can produce could satisfy.
	ErrImpossible = errs.New(errs.InvalidArgument, "rules cannot be satisfied")
	// ErrViolation marks a row that breaks a rule (returned by Set.Check).
	ErrViolation = errs.New(errs.FailedPrecondition, "rule violated")
)

// RuleError is an error about one rule of a file: the Index-th, which Label
// names as messages show it ("rules[2] (range age [18, 65])"). Err holds
// the reason and the sentinel.
type RuleError struct {
	Index int
	Label string
	Err   error
}

func (e *RuleError) Error() string { return e.Label + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *RuleError) Unwrap() error { return e.Err }

// Rule types, as spelled in the file's "type" field.
const (
	TypeCompare     = "compare"
	TypeRange       = "range"
	TypeCombination = "combination"
	TypeUnique      = "unique"
	TypeFormat      = "format"
	TypeIn          = "in"
)

// maxFileSize bounds what Load reads: a rules file is hand-written
// configuration, so anything larger is a mistake, not a rules file.
const maxFileSize = 4 << 20

// File is a parsed rules file: {"rules": [...]}.
type File struct {
	Rules []Rule `json:"rules"`
}

// Rule is one constraint. Which fields apply depends on Type:
//
//	compare      left, op, and either right (a column) or value (a constant)
//	range        column, and min and/or max (inclusive)
//	combination  columns: only value tuples seen in the training table
//	unique       columns: the tuple never repeats in one sampler's output
//	format       column, regex (Go RE2 syntax, unanchored unless ^…$)
//	in           column, values: the allowed set
//
// Name is an optional label used in error messages; Required makes a missing
// cell fail the rule instead of passing it.
type Rule struct {
	Type     string   `json:"type"`
	Name     string   `json:"name,omitempty"`
	Required bool     `json:"required,omitempty"`
	Left     string   `json:"left,omitempty"`
	Op       string   `json:"op,omitempty"`
	Right    string   `json:"right,omitempty"`
	Value    *Scalar  `json:"value,omitempty"`
	Column   string   `json:"column,omitempty"`
	Columns  []string `json:"columns,omitempty"`
	Min      *Scalar  `json:"min,omitempty"`
	Max      *Scalar  `json:"max,omitempty"`
	Regex    string   `json:"regex,omitempty"`
	Values   []Scalar `json:"values,omitempty"`
}

// Scalar is a constant in a rules file. It may be written as a JSON string or
// number (18, "18", "2024-01-31") or boolean; it keeps its text, which is
// interpreted by the kind of the column it is compared with at compile time.
type Scalar string

// UnmarshalJSON accepts a JSON string, number or boolean, and rejects null,
// arrays and objects.
func (s *Scalar) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("empty constant: %w", ErrInvalid)
	}
	switch b[0] {
	case '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("constant %s: %w", b, ErrInvalid)
		}
		*s = Scalar(v)
		return nil
	case 't', 'f':
		var v bool
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("constant %s: %w", b, ErrInvalid)
		}
		*s = Scalar(b)
		return nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var v json.Number
		if err := json.Unmarshal(b, &v); err != nil {
			return fmt.Errorf("constant %s: %w", b, ErrInvalid)
		}
		*s = Scalar(v)
		return nil
	}
	return fmt.Errorf("constant %s: want a string, number or boolean: %w", b, ErrInvalid)
}

// ops are the comparison operators of compare rules.
var ops = map[string]bool{"<": true, "<=": true, ">": true, ">=": true, "==": true, "!=": true}

// Parse decodes and checks a rules file. Unknown fields, trailing data, an
// unknown rule type, fields that do not belong to a rule's type, a bad
// operator and a regexp that does not compile are all ErrInvalid. Column
// names are resolved later, by Compile.
func Parse(data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f File
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, ErrInvalid) {
			return nil, fmt.Errorf("rules.Parse: %w", err)
		}
		return nil, fmt.Errorf("rules.Parse: %v: %w", err, ErrInvalid)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("rules.Parse: data after the rules object: %w", ErrInvalid)
	}
	if f.Rules == nil {
		return nil, fmt.Errorf(`rules.Parse: no "rules" array: %w`, ErrInvalid)
	}
	for i := range f.Rules {
		if err := f.Rules[i].validate(); err != nil {
			return nil, fmt.Errorf("rules.Parse: %w", &RuleError{Index: i, Label: f.Rules[i].label(i), Err: err})
		}
	}
	return &f, nil
}

// Load reads and parses a rules file.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("rules.Load: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("rules.Load %s: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("rules.Load %s: larger than %d bytes: %w", path, maxFileSize, ErrInvalid)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("rules.Load %s: %w", path, err)
	}
	return f, nil
}

// label names rule i in error messages, e.g. `rules[2] (range age)`.
func (r *Rule) label(i int) string {
	if r.Name != "" {
		return fmt.Sprintf("rules[%d] %q (%s)", i, r.Name, r.describe())
	}
	return fmt.Sprintf("rules[%d] (%s)", i, r.describe())
}

// describe renders the rule compactly, e.g. `compare checkout > checkin`.
func (r *Rule) describe() string {
	switch r.Type {
	case TypeCompare:
		if r.Value != nil {
			return fmt.Sprintf("compare %s %s %q", r.Left, r.Op, string(*r.Value))
		}
		return fmt.Sprintf("compare %s %s %s", r.Left, r.Op, r.Right)
	case TypeRange:
		lo, hi := "", ""
		if r.Min != nil {
			lo = string(*r.Min)
		}
		if r.Max != nil {
			hi = string(*r.Max)
		}
		return fmt.Sprintf("range %s [%s, %s]", r.Column, lo, hi)
	case TypeCombination, TypeUnique:
		return r.Type + " " + strings.Join(r.Columns, ",")
	case TypeFormat:
		return fmt.Sprintf("format %s %q", r.Column, r.Regex)
	case TypeIn:
		return "in " + r.Column
	}
	return r.Type
}

// columns lists the columns the rule reads, in a fixed order.
func (r *Rule) columns() []string {
	switch r.Type {
	case TypeCompare:
		if r.Value != nil {
			return []string{r.Left}
		}
		return []string{r.Left, r.Right}
	case TypeCombination, TypeUnique:
		return r.Columns
	}
	return []string{r.Column}
}

// validate checks a rule on its own, without the table: the fields its type
// needs are there, no other type's fields are set, and the regexp compiles.
func (r *Rule) validate() error {
	// set lists which optional fields are present, to reject misplaced ones.
	set := map[string]bool{
		"left": r.Left != "", "op": r.Op != "", "right": r.Right != "", "value": r.Value != nil,
		"column": r.Column != "", "columns": r.Columns != nil, "min": r.Min != nil, "max": r.Max != nil,
		"regex": r.Regex != "", "values": r.Values != nil,
	}
	var allowed []string
	switch r.Type {
	case TypeCompare:
		allowed = []string{"left", "op", "right", "value"}
		if r.Left == "" {
			return fmt.Errorf(`compare needs "left": %w`, ErrInvalid)
		}
		if !ops[r.Op] {
			return fmt.Errorf(`compare op %q: want one of < <= > >= == !=: %w`, r.Op, ErrInvalid)
		}
		if (r.Right == "") == (r.Value == nil) {
			return fmt.Errorf(`compare needs exactly one of "right" (a column) or "value" (a constant): %w`, ErrInvalid)
		}
	case TypeRange:
		allowed = []string{"column", "min", "max"}
		if r.Column == "" {
			return fmt.Errorf(`range needs "column": %w`, ErrInvalid)
		}
		if r.Min == nil && r.Max == nil {
			return fmt.Errorf(`range needs "min", "max" or both: %w`, ErrInvalid)
		}
	case TypeCombination, TypeUnique:
		allowed = []string{"columns"}
		if len(r.Columns) == 0 {
			return fmt.Errorf(`%s needs a non-empty "columns": %w`, r.Type, ErrInvalid)
		}
		seen := make(map[string]bool, len(r.Columns))
		for _, c := range r.Columns {
			if c == "" {
				return fmt.Errorf(`%s: empty column name: %w`, r.Type, ErrInvalid)
			}
			if seen[c] {
				return fmt.Errorf(`%s: column %q listed twice: %w`, r.Type, c, ErrInvalid)
			}
			seen[c] = true
		}
	case TypeFormat:
		allowed = []string{"column", "regex"}
		if r.Column == "" || r.Regex == "" {
			return fmt.Errorf(`format needs "column" and "regex": %w`, ErrInvalid)
		}
		if _, err := regexp.Compile(r.Regex); err != nil {
			return fmt.Errorf("format regex: %v: %w", err, ErrInvalid)
		}
	case TypeIn:
		allowed = []string{"column", "values"}
		if r.Column == "" {
			return fmt.Errorf(`in needs "column": %w`, ErrInvalid)
		}
		if len(r.Values) == 0 {
			return fmt.Errorf(`in needs a non-empty "values": %w`, ErrInvalid)
		}
	case "":
		return fmt.Errorf(`missing "type": %w`, ErrInvalid)
	default:
		return fmt.Errorf("unknown type %q: want compare, range, combination, unique, format or in: %w", r.Type, ErrInvalid)
	}
	for _, a := range allowed {
		delete(set, a)
	}
	for _, k := range []string{"left", "op", "right", "value", "column", "columns", "min", "max", "regex", "values"} {
		if set[k] {
			return fmt.Errorf("field %q does not apply to %s: %w", k, r.Type, ErrInvalid)
		}
	}
	return nil
}
