package rules

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// testProfile is a hand-built profile of testTable.
func testProfile() *profile.Profile {
	return &profile.Profile{Rows: 6, Columns: []profile.Column{
		{Name: "id", Kind: profile.ID},
		{Name: "checkin", Kind: profile.Datetime, Format: "2006-01-02"},
		{Name: "checkout", Kind: profile.Datetime, Format: "2006-01-02"},
		{Name: "age", Kind: profile.Numeric, Integer: true, Min: 18, Max: 90},
		{Name: "price", Kind: profile.Numeric, Decimals: 2, Min: 10, Max: 500},
		{Name: "city", Kind: profile.Categorical},
		{Name: "country", Kind: profile.Categorical},
		{Name: "status", Kind: profile.Categorical, MissingTokens: []string{"NA"}},
		{Name: "sku", Kind: profile.Text},
		{Name: "email", Kind: profile.PII, PII: profile.Email},
	}}
}

// testTable is the training table.
func testTable() *table.Table {
	return &table.Table{
		Columns: []string{"id", "checkin", "checkout", "age", "price", "city", "country", "status", "sku", "email"},
		Rows: [][]string{
			{"1", "2024-01-01", "2024-01-03", "18", "10.00", "Paris", "FR", "active", "ABC-0001", "a@x.io"},
			{"2", "2024-02-01", "2024-02-05", "30", "99.50", "Lyon", "FR", "paused", "ABC-0002", "b@x.io"},
			{"3", "2024-03-01", "2024-03-02", "45", "250.00", "Berlin", "DE", "active", "XYZ-0003", "c@x.io"},
			{"4", "2024-04-01", "2024-04-09", "60", "500.00", "Munich", "DE", "NA", "XYZ-0004", "d@x.io"},
			{"5", "2024-05-01", "2024-05-02", "90", "", "Paris", "FR", "closed", "QRS-0005", ""},
			{"6", "2024-06-01", "", "33", "42.10", "", "FR", "active", "QRS-0006", "f@x.io"},
		},
	}
}

// row builds a row in profile order from a valid base, with cells replaced.
func row(cells map[string]string) []string {
	p := testProfile()
	base := map[string]string{
		"id": "100", "checkin": "2024-03-01", "checkout": "2024-03-05", "age": "40", "price": "120.00",
		"city": "Paris", "country": "FR", "status": "active", "sku": "ABC-1234", "email": "z@y.io",
	}
	for k, v := range cells {
		base[k] = v
	}
	out := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		out[i] = base[c.Name]
	}
	return out
}

func mustCompile(t testing.TB, js string) *Set {
	t.Helper()
	f, err := Parse([]byte(js))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	s, err := Compile(f, testTable(), testProfile())
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

// wantErr checks err against a sentinel and substrings of its message.
func wantErr(t *testing.T, err, sentinel error, subs ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %q is not %v", err, sentinel)
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

const example = `{"rules": [
  {"type": "compare", "left": "checkout", "op": ">", "right": "checkin"},
  {"type": "range", "column": "age", "min": 18, "max": 65},
  {"type": "combination", "columns": ["city", "country"]},
  {"type": "unique", "columns": ["email"]},
  {"type": "format", "column": "sku", "regex": "^[A-Z]{3}-\\d{4}$"},
  {"type": "in", "column": "status", "values": ["active", "paused"]}
]}`

func TestParse(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte(example))
	if err != nil {
		t.Fatalf("Parse(example): %v", err)
	}
	if len(f.Rules) != 6 || f.Rules[1].Min == nil || *f.Rules[1].Min != "18" || f.Rules[5].Values[1] != "paused" {
		t.Fatalf("Parse(example) = %+v", f.Rules)
	}
	scalars, err := Parse([]byte(`{"rules":[{"type":"in","column":"c","values":[1.5, "x", true, -2]}]}`))
	if err != nil {
		t.Fatalf("Parse(scalars): %v", err)
	}
	if got := scalars.Rules[0].Values; len(got) != 4 || got[0] != "1.5" || got[1] != "x" || got[2] != "true" || got[3] != "-2" {
		t.Errorf("scalars = %q", got)
	}

	bad := []struct {
		name, js string
		subs     []string
	}{
		{"unknown field", `{"rules":[{"type":"range","column":"age","min":1,"colour":"red"}]}`, []string{"colour"}},
		{"unknown top field", `{"rules":[],"extra":1}`, []string{"extra"}},
		{"trailing data", `{"rules":[]} {}`, []string{"after"}},
		{"not json", `{"rules":[`, nil},
		{"no rules key", `{}`, []string{`"rules"`}},
		{"missing type", `{"rules":[{"column":"a"}]}`, []string{"rules[0]", `"type"`}},
		{"unknown type", `{"rules":[{"type":"between","column":"a"}]}`, []string{"between"}},
		{"bad op", `{"rules":[{"type":"compare","left":"a","op":"=>","right":"b"}]}`, []string{`"=>"`}},
		{"right and value", `{"rules":[{"type":"compare","left":"a","op":"<","right":"b","value":3}]}`, []string{"exactly one"}},
		{"neither right nor value", `{"rules":[{"type":"compare","left":"a","op":"<"}]}`, []string{"exactly one"}},
		{"range without bounds", `{"rules":[{"type":"range","column":"a"}]}`, []string{"min"}},
		{"misplaced field", `{"rules":[{"type":"range","column":"a","min":1,"regex":"x"}]}`, []string{`"regex" does not apply`}},
		{"empty in", `{"rules":[{"type":"in","column":"a","values":[]}]}`, []string{"values"}},
		{"empty columns", `{"rules":[{"type":"unique","columns":[]}]}`, []string{"columns"}},
		{"column twice", `{"rules":[{"type":"combination","columns":["a","a"]}]}`, []string{"twice"}},
		{"bad regexp", `{"rules":[{"type":"format","column":"a","regex":"^[A-Z"}]}`, []string{"rules[0]", "missing closing ]"}},
		{"null constant", `{"rules":[{"type":"range","column":"a","min":null}]}`, nil},
		{"object constant", `{"rules":[{"type":"range","column":"a","min":{"x":1}}]}`, []string{"want a string, number or boolean"}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.js))
			wantErr(t, err, ErrInvalid, tc.subs...)
		})
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "rules.json")
	if err := os.WriteFile(path, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil || len(f.Rules) != 6 {
		t.Fatalf("Load = %v, %v", f, err)
	}
	if _, err := Load(filepath.Join(dir, "absent.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(absent) = %v, want ErrNotExist", err)
	}
	badPath := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(badPath, []byte(`{"rules":[{"type":"nope"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(badPath)
	wantErr(t, err, ErrInvalid, "bad.json", "nope")
}

// TestRuleTypes checks each rule type on passing, failing and missing cells.
func TestRuleTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rule  string
		cells map[string]string
		want  bool
	}{
		{"compare cols pass", `{"type":"compare","left":"checkout","op":">","right":"checkin"}`, nil, true},
		{"compare cols fail", `{"type":"compare","left":"checkout","op":">","right":"checkin"}`, map[string]string{"checkout": "2024-03-01"}, false},
		{"compare cols equal >=", `{"type":"compare","left":"checkout","op":">=","right":"checkin"}`, map[string]string{"checkout": "2024-03-01"}, true},
		{"compare cols by value not text", `{"type":"compare","left":"age","op":"<","right":"price"}`, map[string]string{"age": "9", "price": "10"}, true},
		{"compare cols missing", `{"type":"compare","left":"checkout","op":">","right":"checkin"}`, map[string]string{"checkout": ""}, true},
		{"compare cols missing required", `{"type":"compare","left":"checkout","op":">","right":"checkin","required":true}`, map[string]string{"checkin": ""}, false},
		{"compare cols unparsable", `{"type":"compare","left":"checkout","op":">","right":"checkin"}`, map[string]string{"checkout": "soon"}, false},
		{"compare const pass", `{"type":"compare","left":"age","op":">=","value":21}`, map[string]string{"age": "21"}, true},
		{"compare const fail", `{"type":"compare","left":"age","op":">=","value":21}`, map[string]string{"age": "20.5"}, false},
		{"compare const !=", `{"type":"compare","left":"age","op":"!=","value":"40"}`, map[string]string{"age": "40.0"}, false},
		{"compare const datetime ISO", `{"type":"compare","left":"checkin","op":"<","value":"2024-03-01T12:00:00Z"}`, nil, true},
		{"compare const NaN", `{"type":"compare","left":"age","op":"!=","value":1}`, map[string]string{"age": "NaN"}, false},
		{"range pass", `{"type":"range","column":"age","min":18,"max":65}`, map[string]string{"age": "65"}, true},
		{"range fail high", `{"type":"range","column":"age","min":18,"max":65}`, map[string]string{"age": "66"}, false},
		{"range fail low", `{"type":"range","column":"age","min":18}`, map[string]string{"age": "17"}, false},
		{"range only max", `{"type":"range","column":"age","max":65}`, map[string]string{"age": "-3"}, true},
		{"range datetime", `{"type":"range","column":"checkin","min":"2024-01-01","max":"2024-02-28"}`, nil, false},
		{"range missing token", `{"type":"range","column":"age","min":18}`, map[string]string{"age": ""}, true},
		{"range missing required", `{"type":"range","column":"age","min":18,"required":true}`, map[string]string{"age": ""}, false},
		{"range unparsable", `{"type":"range","column":"age","min":18}`, map[string]string{"age": "old"}, false},
		{"combination seen", `{"type":"combination","columns":["city","country"]}`, map[string]string{"city": "Berlin", "country": "DE"}, true},
		{"combination unseen", `{"type":"combination","columns":["city","country"]}`, map[string]string{"city": "Berlin", "country": "FR"}, false},
		{"combination missing", `{"type":"combination","columns":["city","country"]}`, map[string]string{"city": ""}, true},
		{"combination missing required", `{"type":"combination","columns":["city","country"],"required":true}`, map[string]string{"city": ""}, false},
		{"format pass", `{"type":"format","column":"sku","regex":"^[A-Z]{3}-\\d{4}$"}`, nil, true},
		{"format fail", `{"type":"format","column":"sku","regex":"^[A-Z]{3}-\\d{4}$"}`, map[string]string{"sku": "abc-1234"}, false},
		{"format missing", `{"type":"format","column":"sku","regex":"^[A-Z]{3}-\\d{4}$"}`, map[string]string{"sku": ""}, true},
		{"in pass", `{"type":"in","column":"status","values":["active","paused"]}`, map[string]string{"status": "paused"}, true},
		{"in fail", `{"type":"in","column":"status","values":["active","paused"]}`, map[string]string{"status": "closed"}, false},
		{"in missing token", `{"type":"in","column":"status","values":["active","paused"]}`, map[string]string{"status": "NA"}, true},
		{"in missing required", `{"type":"in","column":"status","values":["active"],"required":true}`, map[string]string{"status": "NA"}, false},
		{"in numeric by value", `{"type":"in","column":"age","values":[40, 50]}`, map[string]string{"age": "40.0"}, true},
		{"in numeric fail", `{"type":"in","column":"age","values":[40, 50]}`, map[string]string{"age": "41"}, false},
		{"unique first row", `{"type":"unique","columns":["email"]}`, nil, true},
		{"unique missing required", `{"type":"unique","columns":["email"],"required":true}`, map[string]string{"email": ""}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mustCompile(t, `{"rules":[`+tc.rule+`]}`)
			r := row(tc.cells)
			err := s.Clone().Check(r)
			if got := s.Accept(r); got != tc.want {
				t.Errorf("Accept = %v, want %v", got, tc.want)
			}
			if (err == nil) != tc.want {
				t.Errorf("Check = %v, want pass %v", err, tc.want)
			}
			if err != nil {
				wantErr(t, err, ErrViolation, "rules[0]")
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rules    string
		sentinel error
		subs     []string
	}{
		{"unknown column", `{"type":"range","column":"age","min":20},{"type":"in","column":"colour","values":["red"]}`,
			ErrUnknownColumn, []string{"rules[1]", `"colour"`}},
		{"unknown right column", `{"type":"compare","left":"age","op":"<","right":"height"}`, ErrUnknownColumn, []string{"rules[0]", `"height"`}},
		{"compare categorical", `{"type":"compare","left":"city","op":"<","right":"country"}`, ErrInvalid, []string{"categorical"}},
		{"compare mixed kinds", `{"type":"compare","left":"age","op":"<","right":"checkin"}`, ErrInvalid, []string{"numeric", "datetime"}},
		{"range on text", `{"type":"range","column":"sku","min":1}`, ErrInvalid, []string{"text"}},
		{"bad constant", `{"type":"range","column":"checkin","min":"yesterday"}`, ErrInvalid, []string{"yesterday"}},
		{"non-numeric in", `{"type":"in","column":"age","values":["old"]}`, ErrInvalid, []string{`"old"`}},
		{"min > max", `{"type":"range","column":"age","min":65,"max":18}`, ErrImpossible, []string{"rules[0]", "min 65 > max 18"}},
		{"range above training", `{"type":"range","column":"age","min":100}`, ErrImpossible, []string{"rules[0]", "training range [18, 90]"}},
		{"datetime range before training", `{"type":"range","column":"checkin","max":"2023-12-31"}`, ErrImpossible, []string{"training range [2024-01-01, 2024-06-01]"}},
		{"range vs compare const", `{"type":"range","column":"age","min":20,"max":30},{"type":"compare","left":"age","op":">","value":30}`,
			ErrImpossible, []string{"rules[1]", "rules[0]"}},
		{"integer gap", `{"type":"compare","left":"age","op":">","value":30},{"type":"compare","left":"age","op":"<","value":31}`,
			ErrImpossible, []string{"rules[0]", "rules[1]"}},
		{"a > a", `{"type":"compare","left":"age","op":">","right":"age"}`, ErrImpossible, []string{"itself"}},
		{"a > b and b > a", `{"type":"compare","left":"checkout","op":">","right":"checkin"},{"type":"compare","left":"checkin","op":">","right":"checkout"}`,
			ErrImpossible, []string{"rules[0]", "rules[1]", "contradict"}},
		{"a > b and a < b", `{"type":"compare","left":"checkout","op":">","right":"checkin"},{"type":"compare","left":"checkout","op":"<","right":"checkin"}`,
			ErrImpossible, []string{"rules[0]", "rules[1]"}},
		{"unknown column later in a chain", `{"type":"compare","left":"age","op":"<","right":"price"},{"type":"compare","left":"price","op":"<=","right":"id2"}`,
			ErrUnknownColumn, []string{"id2"}},
		{"== and !=", `{"type":"compare","left":"age","op":"==","right":"price"},{"type":"compare","left":"age","op":"!=","right":"price"}`,
			ErrImpossible, []string{"rules[1]", "rules[0]", "equality"}},
		{"in unseen", `{"type":"in","column":"status","values":["deleted","archived"]}`, ErrImpossible, []string{"rules[0]", "seen"}},
		{"in numeric outside training", `{"type":"in","column":"age","values":[5, 99]}`, ErrImpossible, []string{"training range"}},
		{"format matches nothing", `{"type":"format","column":"sku","regex":"^\\d+$"}`, ErrImpossible, []string{"rules[0]", "no training value"}},
		{"two in rules disjoint", `{"type":"in","column":"status","values":["active"]},{"type":"in","column":"status","values":["paused"]}`,
			ErrImpossible, []string{"rules[0]", "rules[1]"}},
		{"combination vs in", `{"type":"combination","columns":["city","country"]},{"type":"in","column":"city","values":["Lyon"]},{"type":"in","column":"country","values":["DE"]}`,
			ErrImpossible, []string{"rules[0]", "rules[1]", "rules[2]"}},
		{"range below training", `{"type":"combination","columns":["price","email"],"required":true},{"type":"range","column":"price","max":5}`,
			ErrImpossible, []string{"rules[1]"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse([]byte(`{"rules":[` + tc.rules + `]}`))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = Compile(f, testTable(), testProfile())
			wantErr(t, err, tc.sentinel, tc.subs...)
		})
	}
}

func TestCompareChain(t *testing.T) {
	t.Parallel()
	p := &profile.Profile{Columns: []profile.Column{
		{Name: "a", Kind: profile.Numeric}, {Name: "b", Kind: profile.Numeric}, {Name: "c", Kind: profile.Numeric},
	}}
	tests := []struct {
		name, rules string
		ok          bool
	}{
		{"chain", `{"type":"compare","left":"a","op":"<","right":"b"},{"type":"compare","left":"b","op":"<","right":"c"}`, true},
		{"cycle", `{"type":"compare","left":"a","op":"<","right":"b"},{"type":"compare","left":"b","op":"<","right":"c"},{"type":"compare","left":"c","op":"<=","right":"a"}`, false},
		{"non-strict cycle", `{"type":"compare","left":"a","op":"<=","right":"b"},{"type":"compare","left":"b","op":"<=","right":"c"},{"type":"compare","left":"c","op":"<=","right":"a"}`, true},
		{"forced equal then !=", `{"type":"compare","left":"a","op":"<=","right":"b"},{"type":"compare","left":"b","op":"<=","right":"c"},{"type":"compare","left":"c","op":"<=","right":"a"},{"type":"compare","left":"a","op":"!=","right":"c"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse([]byte(`{"rules":[` + tc.rules + `]}`))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			_, err = Compile(f, nil, p)
			if tc.ok && err != nil {
				t.Fatalf("Compile: %v", err)
			}
			if !tc.ok {
				wantErr(t, err, ErrImpossible, "rules[0]", "rules[1]", "rules[2]")
			}
		})
	}
}

func TestCompileNeedsInputs(t *testing.T) {
	t.Parallel()
	f, err := Parse([]byte(`{"rules":[{"type":"combination","columns":["city","country"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(f, nil, testProfile())
	wantErr(t, err, ErrInvalid, "training table")
	_, err = Compile(nil, nil, testProfile())
	wantErr(t, err, ErrInvalid)
	_, err = Compile(f, testTable(), nil)
	wantErr(t, err, ErrInvalid)
	built := &File{Rules: []Rule{{Type: TypeRange, Column: "age"}}}
	_, err = Compile(built, testTable(), testProfile())
	wantErr(t, err, ErrInvalid, "rules[0]", "min")
}

func TestConditions(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, example)
	tests := []struct {
		name     string
		fixed    map[string]string
		sentinel error
		subs     []string
	}{
		{"none", nil, nil, nil},
		{"compatible", map[string]string{"city": "Paris", "status": "active", "age": "30"}, nil, nil},
		{"missing cell is allowed", map[string]string{"status": ""}, nil, nil},
		{"unknown column", map[string]string{"colour": "red"}, ErrUnknownColumn, []string{"colour=red"}},
		{"violates in", map[string]string{"status": "closed"}, ErrImpossible, []string{"condition status=closed", "rules[5]"}},
		{"violates range", map[string]string{"age": "70"}, ErrImpossible, []string{"condition age=70", "rules[1]"}},
		{"violates format", map[string]string{"sku": "nope"}, ErrImpossible, []string{"condition sku=nope", "rules[4]"}},
		{"violates compare", map[string]string{"checkin": "2024-03-05", "checkout": "2024-03-01"}, ErrImpossible,
			[]string{"condition checkin=2024-03-05", "condition checkout=2024-03-01", "rules[0]"}},
		{"compare bounds the other side", map[string]string{"checkin": "2024-07-01"}, ErrImpossible,
			[]string{"rules[0]", "condition checkin=2024-07-01", "training range"}},
		{"compare with unparsable", map[string]string{"checkin": "someday"}, ErrImpossible, []string{"rules[0]", "someday"}},
		{"combination unseen", map[string]string{"city": "Berlin", "country": "FR"}, ErrImpossible, []string{"rules[2]"}},
		{"combination with one side fixed", map[string]string{"city": "Atlantis"}, ErrImpossible, []string{"rules[2]", "condition city=Atlantis"}},
		{"unique fixed", map[string]string{"email": "a@b.c"}, ErrImpossible, []string{"rules[3]", "at most one row"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := s.Conditions(tc.fixed)
			if tc.sentinel == nil {
				if err != nil {
					t.Fatalf("Conditions = %v", err)
				}
				return
			}
			wantErr(t, err, tc.sentinel, tc.subs...)
		})
	}
}

func TestConditionsCombinationAndIn(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, `{"rules":[{"type":"combination","columns":["city","country"]},{"type":"in","column":"country","values":["FR"]}]}`)
	if err := s.Conditions(map[string]string{"city": "Lyon"}); err != nil {
		t.Fatalf("Conditions(Lyon) = %v", err)
	}
	err := s.Conditions(map[string]string{"city": "Berlin"})
	wantErr(t, err, ErrImpossible, "rules[0]", "condition city=Berlin", "rules[1]")
}

func TestUnique(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, `{"rules":[{"type":"unique","columns":["city","country"]},{"type":"range","column":"age","max":65}]}`)
	if s.Len() != 2 || len(s.Columns()) != 10 || s.Columns()[3] != "age" {
		t.Fatalf("Len = %d, Columns = %q", s.Len(), s.Columns())
	}
	steps := []struct {
		cells map[string]string
		want  bool
	}{
		{map[string]string{"city": "Paris", "country": "FR", "age": "70"}, false}, // breaks range: not recorded
		{map[string]string{"city": "Paris", "country": "FR"}, true},
		{map[string]string{"city": "Paris", "country": "FR"}, false},
		{map[string]string{"city": "Paris", "country": "DE"}, true},
		{map[string]string{"city": "ParisF", "country": "R"}, true},
		{map[string]string{"city": "", "country": "FR"}, true},
		{map[string]string{"city": "", "country": "FR"}, true}, // missing: rule does not apply
	}
	for i, st := range steps {
		if got := s.Accept(row(st.cells)); got != st.want {
			t.Errorf("step %d: Accept = %v, want %v", i, got, st.want)
		}
	}
	err := s.Check(row(map[string]string{"city": "Paris", "country": "DE"}))
	wantErr(t, err, ErrViolation, "rules[0]", "duplicate")

	c := s.Clone()
	if !c.Accept(row(map[string]string{"city": "Paris", "country": "FR"})) {
		t.Error("Clone shares unique state with its origin")
	}
	if s.Accept(row(map[string]string{"city": "Paris", "country": "FR"})) {
		t.Error("origin forgot its state after Clone")
	}
	s.Reset()
	if !s.Accept(row(map[string]string{"city": "Paris", "country": "FR"})) {
		t.Error("Reset did not forget the state")
	}
}

// sliceReader is a table.Reader over rows in memory.
type sliceReader struct {
	cols []string
	rows [][]string
	err  error // returned after the rows instead of io.EOF, if set
}

func (r *sliceReader) Columns() []string { return r.cols }

func (r *sliceReader) Read() ([]string, error) {
	if len(r.rows) == 0 {
		if r.err != nil {
			return nil, r.err
		}
		return nil, io.EOF
	}
	row := r.rows[0]
	r.rows = r.rows[1:]
	return row, nil
}

func TestValidate(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, example)
	s.Accept(row(map[string]string{"email": "dup@x.io"}))
	// Input columns in another order, and without the id column.
	cols := []string{"email", "status", "sku", "city", "country", "price", "age", "checkout", "checkin"}
	mk := func(cells map[string]string) []string {
		full := row(cells)
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = full[indexOf(c)]
		}
		return out
	}
	r := &sliceReader{cols: cols, rows: [][]string{
		mk(map[string]string{"email": "dup@x.io"}),
		mk(map[string]string{"email": "dup@x.io", "age": "70"}),                    // unique + range
		mk(map[string]string{"email": "e@x.io", "status": "closed", "sku": "bad"}), // in + format
		mk(map[string]string{"email": "f@x.io", "checkout": "2024-01-01"}),         // compare
		mk(map[string]string{"email": "g@x.io", "city": "Lyon", "country": "DE"}),  // combination
		mk(map[string]string{"email": "h@x.io"}),
	}}
	rep, err := s.Validate(r)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := []int{1, 1, 1, 1, 1, 1}
	if rep.Rows != 6 || rep.BadRows != 4 || rep.OK() {
		t.Errorf("report rows=%d bad=%d ok=%v, want 6, 4, false", rep.Rows, rep.BadRows, rep.OK())
	}
	for i, w := range want {
		if rep.Rules[i].Violations != w || rep.Rules[i].Index != i {
			t.Errorf("rule %d (%s): %d violations, want %d", i, rep.Rules[i].Rule, rep.Rules[i].Violations, w)
		}
	}
	if !s.Clone().Accept(row(map[string]string{"email": "dup@x.io"})) {
		t.Error("fresh clone refused a row")
	}
	if s.Accept(row(map[string]string{"email": "dup@x.io"})) {
		t.Error("Validate changed the set's own unique state")
	}

	_, err = s.Validate(&sliceReader{cols: []string{"age"}})
	wantErr(t, err, ErrUnknownColumn, "checkout")
	_, err = s.Validate(&sliceReader{cols: cols, rows: [][]string{{"x"}}})
	wantErr(t, err, ErrInvalid, "row 1")
	boom := errors.New("disk on fire")
	_, err = s.Validate(&sliceReader{cols: cols, rows: [][]string{mk(nil)}, err: boom})
	if !errors.Is(err, boom) {
		t.Errorf("Validate read error = %v, want %v", err, boom)
	}
	ok, err := s.Clone().Validate(&sliceReader{cols: cols, rows: [][]string{mk(nil)}})
	if err != nil || !ok.OK() || ok.Rows != 1 {
		t.Errorf("Validate(good) = %+v, %v", ok, err)
	}
}

func indexOf(name string) int {
	for i, c := range testProfile().Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func TestWrongWidth(t *testing.T) {
	t.Parallel()
	s := mustCompile(t, example)
	if s.Accept([]string{"1"}) {
		t.Error("Accept took a short row")
	}
	wantErr(t, s.Check(nil), ErrViolation, "0 cells")
}

func TestParseWhere(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, col, value string
		ok             bool
	}{
		{"city=Paris", "city", "Paris", true},
		{"  city =  Paris ", "city", "Paris", true},
		{"formula=a=b+c", "formula", "a=b+c", true},
		{"status=", "status", "", true},
		{"=Paris", "", "", false},
		{"  =x", "", "", false},
		{"city", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		col, value, err := ParseWhere(tc.in)
		if !tc.ok {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseWhere(%q) error = %v, want ErrInvalid", tc.in, err)
			}
			continue
		}
		if err != nil || col != tc.col || value != tc.value {
			t.Errorf("ParseWhere(%q) = %q, %q, %v; want %q, %q", tc.in, col, value, err, tc.col, tc.value)
		}
	}
}

// fiveRules are the stateless rules the benchmark and the allocation test use.
const fiveRules = `{"rules":[
  {"type": "compare", "left": "checkout", "op": ">", "right": "checkin"},
  {"type": "range", "column": "age", "min": 18, "max": 65},
  {"type": "combination", "columns": ["city", "country"]},
  {"type": "format", "column": "sku", "regex": "^[A-Z]{3}-\\d{4}$"},
  {"type": "in", "column": "status", "values": ["active", "paused"]}
]}`

func TestAcceptAllocs(t *testing.T) {
	s := mustCompile(t, fiveRules)
	r := row(nil)
	if !s.Accept(r) {
		t.Fatal("Accept refused a valid row")
	}
	if n := testing.AllocsPerRun(100, func() { s.Accept(r) }); n != 0 {
		t.Errorf("Accept allocates %v times per row, want 0", n)
	}
}

func BenchmarkAccept(b *testing.B) {
	s := mustCompile(b, fiveRules)
	r := row(nil)
	b.ReportAllocs()
	for b.Loop() {
		if !s.Accept(r) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkAcceptUnique adds a unique rule, so every row is new state.
func BenchmarkAcceptUnique(b *testing.B) {
	s := mustCompile(b, strings.Replace(fiveRules, `"rules":[`, `"rules":[{"type":"unique","columns":["id"]},`, 1))
	r := row(nil)
	ids := make([]string, 1<<16)
	for i := range ids {
		ids[i] = "ID-" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(ids) {
			s.Reset()
			i = 0
		}
		r[0] = ids[i]
		i++
		if !s.Accept(r) {
			b.Fatal("refused")
		}
	}
}
