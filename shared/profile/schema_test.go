package profile

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// base is a profile that schema tests override.
func base() *Profile {
	return &Profile{Version: Version, Rows: 10, Columns: []Column{
		{Name: "age", Kind: Numeric, Confidence: 0.97, Integer: true, Min: 18, Max: 64, Distinct: 40},
		{Name: "email", Kind: Categorical, Confidence: 1, Mode: "a@b", Distinct: 10},
		{Name: "dob", Kind: Text, Confidence: 1, Distinct: 10},
		{Name: "smoker", Kind: Boolean, Confidence: 1, TrueToken: "yes", FalseToken: "no", Distinct: 2},
		{Name: "ref", Kind: Categorical, Confidence: 1, Distinct: 10},
	}}
}

func TestSchemaApply(t *testing.T) {
	t.Parallel()
	s, err := ParseSchema([]byte(`{"columns": {
		"age":    {"kind": "numeric", "integer": true, "min": 17, "max": 90},
		"email":  {"kind": "pii", "pii": "email"},
		"dob":    {"kind": "datetime", "format": "2006-01-02"},
		"smoker": {"true_token": "Y", "false_token": "N"},
		"ref":    {"kind": "id", "id_format": "REF-%04d"}}}`))
	if err != nil {
		t.Fatalf("ParseSchema: %v", err)
	}
	p := base()
	if err := s.Apply(p); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	want := []Column{
		{Name: "age", Kind: Numeric, Confidence: 1, Integer: true, Min: 17, Max: 90, PublicBounds: true, Distinct: 40},
		{Name: "email", Kind: PII, PII: Email, Confidence: 1, Distinct: 10},
		{Name: "dob", Kind: Datetime, Confidence: 1, Format: "2006-01-02", Distinct: 10},
		{Name: "smoker", Kind: Boolean, Confidence: 1, TrueToken: "Y", FalseToken: "N", Distinct: 2},
		{Name: "ref", Kind: ID, Confidence: 1, IDFormat: "REF-%04d", Distinct: 10},
	}
	if !reflect.DeepEqual(p.Columns, want) {
		t.Errorf("columns\n got %+v\nwant %+v", p.Columns, want)
	}
}

// TestSchemaPublicDomain: categories and min with max declare a column's
// domain public; one bound alone keeps the inferred, private one; a new kind
// forgets the old domain.
func TestSchemaPublicDomain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, schema string
		col          string
		want         Column
	}{
		{"categories", `{"columns": {"email": {"categories": ["x", "y z"]}}}`, "email",
			Column{Name: "email", Kind: Categorical, Confidence: 1, Mode: "a@b", Distinct: 10, Categories: []string{"x", "y z"}}},
		{"both bounds", `{"columns": {"age": {"min": 0, "max": 120}}}`, "age",
			Column{Name: "age", Kind: Numeric, Confidence: 1, Integer: true, Min: 0, Max: 120, PublicBounds: true, Distinct: 40}},
		{"one bound stays private", `{"columns": {"age": {"min": 0}}}`, "age",
			Column{Name: "age", Kind: Numeric, Confidence: 1, Integer: true, Min: 0, Max: 64, Distinct: 40}},
		{"datetime bounds", `{"columns": {"dob": {"kind": "datetime", "format": "2006-01-02", "min": 0, "max": 86400}}}`, "dob",
			Column{Name: "dob", Kind: Datetime, Confidence: 1, Format: "2006-01-02", Min: 0, Max: 86400, PublicBounds: true, Distinct: 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSchema([]byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			p := base()
			if err := s.Apply(p); err != nil {
				t.Fatal(err)
			}
			if got := *p.Col(tt.col); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			// A new kind starts from a clean slate.
			p2 := *p
			p2.Columns = append([]Column(nil), p.Columns...)
			s2, _ := ParseSchema([]byte(`{"columns": {"` + tt.col + `": {"kind": "text"}}}`))
			if err := s2.Apply(&p2); err != nil {
				t.Fatal(err)
			}
			if c := p2.Col(tt.col); c.Categories != nil || c.PublicBounds {
				t.Errorf("kind text kept the public domain: %+v", c)
			}
		})
	}
}

func TestSchemaErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		schema string
		parse  bool   // the error comes from ParseSchema rather than Apply
		substr string // the message names the culprit
	}{
		{"bad json", `{"columns": {`, true, "unexpected EOF"},
		{"unknown top field", `{"cols": {}}`, true, `unknown field "cols"`},
		{"unknown column field", `{"columns": {"age": {"kind": "numeric", "minimum": 1}}}`, true, `unknown field "minimum"`},
		{"trailing data", `{"columns": {}} {}`, true, "data after"},
		{"unknown kind", `{"columns": {"age": {"kind": "number"}}}`, true, `column "age": unknown kind "number"`},
		{"unknown pii", `{"columns": {"email": {"kind": "pii", "pii": "mail"}}}`, true, `column "email": unknown pii kind "mail"`},
		{"unknown column", `{"columns": {"height": {"kind": "numeric"}}}`, false, `column "height" is not in the table`},
		{"pii without kind", `{"columns": {"email": {"kind": "pii"}}}`, false, `column "email": kind pii needs "pii"`},
		{"pii on numeric", `{"columns": {"age": {"pii": "email"}}}`, false, `column "age": pii applies to kind pii, not numeric`},
		{"min above max", `{"columns": {"age": {"min": 90, "max": 17}}}`, false, "min 90 is above max 17"},
		{"too many decimals", `{"columns": {"age": {"decimals": 16}}}`, false, "decimals 16 is above 15"},
		{"trim_zeros on a category", `{"columns": {"ref": {"trim_zeros": true}}}`, false, "trim_zeros applies to kind numeric"},
		{"negative decimals", `{"columns": {"age": {"integer": false, "decimals": -1}}}`, false, "decimals -1 is negative"},
		{"datetime without format", `{"columns": {"dob": {"kind": "datetime"}}}`, false, `kind datetime needs "format"`},
		{"format without time", `{"columns": {"dob": {"kind": "datetime", "format": "yyyy-mm-dd"}}}`, false, `format "yyyy-mm-dd" is not a Go time layout`},
		{"format on text", `{"columns": {"dob": {"format": "2006"}}}`, false, "format applies to kind datetime, not text"},
		{"boolean without tokens", `{"columns": {"ref": {"kind": "boolean"}}}`, false, `kind boolean needs "true_token"`},
		{"same tokens", `{"columns": {"smoker": {"true_token": "no"}}}`, false, `true_token and false_token are both "no"`},
		{"categories on numeric", `{"columns": {"age": {"categories": ["1"]}}}`, false, "categories applies to kind categorical, not numeric"},
		{"empty categories", `{"columns": {"ref": {"categories": []}}}`, false, "categories is empty"},
		{"blank category", `{"columns": {"ref": {"categories": ["a", " b"]}}}`, false, `category " b" is blank or has surrounding spaces`},
		{"duplicate category", `{"columns": {"ref": {"categories": ["a", "a"]}}}`, false, `category "a" is listed twice`},
		{"bad id format", `{"columns": {"ref": {"kind": "id", "id_format": "REF-%s"}}}`, false, `id_format "REF-%s"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseSchema([]byte(tt.schema))
			if (err != nil) != tt.parse {
				t.Fatalf("ParseSchema error %v, want error: %v", err, tt.parse)
			}
			if !tt.parse {
				p := base()
				err = s.Apply(p)
				if err != nil && !reflect.DeepEqual(p, base()) {
					t.Errorf("a failed Apply changed the profile")
				}
			}
			if !errors.Is(err, ErrSchema) {
				t.Fatalf("err = %v, want ErrSchema", err)
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("err = %q, want it to contain %q", err, tt.substr)
			}
		})
	}
}

func TestLoadSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(good, []byte(`{"columns": {"age": {"kind": "categorical"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{"columns": {"age": {"kind": "float"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSchema(good)
	if err != nil {
		t.Fatalf("LoadSchema: %v", err)
	}
	p := base()
	if err := s.Apply(p); err != nil {
		t.Fatal(err)
	}
	if c := p.Col("age"); c.Kind != Categorical || c.Integer || c.Min != 0 || c.Max != 0 || c.Confidence != 1 {
		t.Errorf("age = %+v, want a plain categorical column", c)
	}
	if _, err := LoadSchema(bad); !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad schema: err = %v, want ErrSchema naming the file", err)
	}
	if _, err := LoadSchema(filepath.Join(dir, "absent.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent schema: err = %v, want os.ErrNotExist", err)
	}
}
