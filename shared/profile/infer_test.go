package profile

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"synthos.dev/synthos/shared/pii"
	"synthos.dev/synthos/shared/relations"
	"synthos.dev/synthos/shared/table"
)

// gen returns n cells made by f.
func gen(n int, f func(i int) string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// cat concatenates cell lists.
func cat(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// rep repeats cells n times in turn.
func rep(n int, cells ...string) []string {
	return gen(n, func(i int) string { return cells[i%len(cells)] })
}

// single builds a one-column table.
func single(name string, cells []string) *table.Table {
	t := &table.Table{Columns: []string{name}}
	for _, c := range cells {
		t.Rows = append(t.Rows, []string{c})
	}
	return t
}

// luhnify appends the check digit that makes digits pass the Luhn check.
func luhnify(digits string) string {
	for d := '0'; d <= '9'; d++ {
		if s := digits + string(d); pii.IsCard(s) {
			return s
		}
	}
	panic("no Luhn digit for " + digits)
}

var (
	firstNames = []string{"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William", "Barbara"}
	lastNames  = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Wilson", "Moore", "Taylor"}
	words      = []string{"the", "delivery", "arrived", "late", "and", "box", "was", "damaged", "but", "support", "helped", "quickly", "great"}
)

func TestInferKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		col   string
		cells []string
		want  Column // compared on Kind, PII, Integer, Decimals, Min, Max, Format, tokens, IDFormat, Distinct, Missing
		conf  float64
	}{
		{
			name: "integer with ? and spaces", col: "age",
			cells: cat(gen(40, func(i int) string { return fmt.Sprintf(" %d", 17+i) }), []string{"?", " ?", ""}),
			want:  Column{Kind: Numeric, Integer: true, Min: 17, Max: 56, Distinct: 40, Missing: 3, MissingTokens: []string{"", "?"}},
			conf:  1,
		},
		{
			name: "integer with few values stays numeric", col: "education-num",
			cells: rep(200, "9", "10", "13", "14", "16", "1"),
			want:  Column{Kind: Numeric, Integer: true, Min: 1, Max: 16, Distinct: 6},
			conf:  1,
		},
		{
			name: "decimals", col: "bmi",
			cells: rep(30, "27.9", "33.77", "33.0", "22.705", "-1.5"),
			want:  Column{Kind: Numeric, Decimals: 3, Trim: true, Min: -1.5, Max: 33.77, Distinct: 5},
			conf:  1,
		},
		{
			name: "whole numbers written with a point", col: "visits",
			cells: rep(30, "27.0", "3.0", "12.0", "0.0"),
			want:  Column{Kind: Numeric, Integer: true, Decimals: 1, Max: 27, Distinct: 4},
			conf:  1,
		},
		{
			name: "one dirty cell in 40 keeps numeric", col: "amount",
			cells: cat(rep(39, "1", "2", "3", "5", "8"), []string{"n/a?"}),
			want:  Column{Kind: Numeric, Integer: true, Min: 1, Max: 8, Distinct: 6},
			conf:  39.0 / 40,
		},
		{
			name: "ten percent dirty is not numeric", col: "amount",
			cells: cat(rep(36, "1", "2", "3", "5", "8"), rep(4, "unknown")),
			want:  Column{Kind: Categorical, Distinct: 6},
			conf:  1,
		},
		{
			name: "leading zeros are codes", col: "zip",
			cells: rep(100, "02134", "02139", "10001", "94103"),
			want:  Column{Kind: Categorical, Distinct: 4},
			conf:  1,
		},
		{
			name: "yes/no", col: "smoker",
			cells: rep(50, "yes", "no", "no"),
			want:  Column{Kind: Boolean, TrueToken: "yes", FalseToken: "no", Distinct: 2},
			conf:  1,
		},
		{
			name: "True/False keeps spelling", col: "active",
			cells: rep(50, "True", "False", "true"),
			want:  Column{Kind: Boolean, TrueToken: "True", FalseToken: "False", Distinct: 3},
			conf:  1,
		},
		{
			name: "Y/N", col: "flag",
			cells: rep(20, "Y", "N"),
			want:  Column{Kind: Boolean, TrueToken: "Y", FalseToken: "N", Distinct: 2},
			conf:  1,
		},
		{
			name: "0/1", col: "churned",
			cells: rep(20, "0", "1", "0"),
			want:  Column{Kind: Boolean, TrueToken: "1", FalseToken: "0", Distinct: 2},
			conf:  1,
		},
		{
			name: "0/1/2 is numeric", col: "level",
			cells: rep(30, "0", "1", "2"),
			want:  Column{Kind: Numeric, Integer: true, Min: 0, Max: 2, Distinct: 3},
			conf:  1,
		},
		{
			name: "constant Yes borrows No", col: "consent",
			cells: rep(20, "Yes"),
			want:  Column{Kind: Boolean, TrueToken: "Yes", FalseToken: "No", Distinct: 1},
			conf:  1,
		},
		{
			name: "yes/no/maybe is categorical", col: "answer",
			cells: rep(30, "yes", "no", "maybe"),
			want:  Column{Kind: Categorical, Distinct: 3},
			conf:  1,
		},
		{
			name: "none/yes is categorical", col: "telephone",
			cells: rep(30, "none", "yes"),
			want:  Column{Kind: Categorical, Distinct: 2},
			conf:  1,
		},
		{
			name: "ISO dates", col: "dob",
			cells: gen(30, func(i int) string { return fmt.Sprintf("19%02d-%02d-%02d", 50+i, 1+i%12, 1+i%28) }),
			want:  Column{Kind: Datetime, Format: "2006-01-02", Min: -631152000 /* 1950-01-01 */, Max: 297129600 /* 1979-06-02 */, Distinct: 30},
			conf:  1,
		},
		{
			name: "day-first dates", col: "date",
			cells: rep(20, "31/01/2020", "02/03/2020", "15/12/2021"),
			want:  Column{Kind: Datetime, Format: "02/01/2006", Min: 1580428800, Max: 1639526400, Distinct: 3},
			conf:  1,
		},
		{
			name: "ambiguous dates are month-first", col: "date",
			cells: rep(20, "01/02/2020", "03/04/2020"),
			want:  Column{Kind: Datetime, Format: "01/02/2006", Min: 1577923200, Max: 1583280000, Distinct: 2},
			conf:  1,
		},
		{
			name: "datetime", col: "created",
			cells: rep(20, "2024-03-01 10:00:00", "2024-03-02 23:59:59"),
			want:  Column{Kind: Datetime, Format: "2006-01-02 15:04:05", Min: 1709287200, Max: 1709423999, Distinct: 2},
			conf:  1,
		},
		{
			name: "RFC 3339", col: "ts",
			cells: rep(20, "2024-03-01T10:00:00Z", "2024-03-01T10:00:00.5+02:00"),
			want:  Column{Kind: Datetime, Format: "2006-01-02T15:04:05Z07:00", Min: 1709280000.5, Max: 1709287200, Distinct: 2},
			conf:  1,
		},
		{
			name: "month names", col: "day",
			cells: rep(20, "Jan 2, 2006", "Mar 15, 2007"),
			want:  Column{Kind: Datetime, Format: "Jan 2, 2006", Min: 1136160000, Max: 1173916800, Distinct: 2},
			conf:  1,
		},
		{
			name: "email", col: "contact",
			cells: gen(40, func(i int) string { return fmt.Sprintf("user%d@example.com", i) }),
			want:  Column{Kind: PII, PII: Email, Distinct: 40},
			conf:  1,
		},
		{
			name: "phone", col: "contact",
			cells: gen(40, func(i int) string { return fmt.Sprintf("(555) %03d-%04d", 100+i, 1000+i*7) }),
			want:  Column{Kind: PII, PII: Phone, Pattern: `\([0-9]{3}\) [0-9]{3}-[0-9]{4}`, Distinct: 40},
			conf:  1,
		},
		{
			name: "bare digits named phone", col: "phone_number",
			cells: gen(40, func(i int) string { return fmt.Sprintf("555%07d", 1000000+i*7919) }),
			want:  Column{Kind: PII, PII: Phone, Pattern: "[0-9]{10}", Distinct: 40},
			conf:  1,
		},
		{
			name: "same bare digits named amount", col: "amount",
			cells: gen(40, func(i int) string { return fmt.Sprintf("555%07d", 1000000+i*7919) }),
			want:  Column{Kind: Numeric, Integer: true, Min: 5551000000, Max: 5551308841, Distinct: 40},
			conf:  1,
		},
		{
			name: "ssn", col: "tax",
			cells: gen(40, func(i int) string { return fmt.Sprintf("%03d-%02d-%04d", 100+i, 10+i, 1000+i) }),
			want:  Column{Kind: PII, PII: NationalID, Pattern: "[0-9]{3}-[0-9]{2}-[0-9]{4}", Distinct: 40},
			conf:  1,
		},
		{
			name: "uk national insurance numbers", col: "nino",
			cells: gen(40, func(i int) string { return fmt.Sprintf("%c%c%06d%c", "ACEH"[i%4], "BJKL"[i/10], 100000+i*37, 'A'+i%4) }),
			want:  Column{Kind: PII, PII: NationalID, Pattern: "[A-Z]{2}[0-9]{6}[A-Z]", Distinct: 40},
			conf:  1,
		},
		{
			name: "cards", col: "pan",
			cells: gen(40, func(i int) string { return luhnify(fmt.Sprintf("411111111111%03d", i)) }),
			want:  Column{Kind: PII, PII: Card, Pattern: "[0-9]{16}", Distinct: 40},
			conf:  1,
		},
		{
			name: "ibans", col: "account",
			cells: rep(40, "GB82WEST12345698765432", "DE89370400440532013000", "NL91ABNA0417164300"),
			want:  Column{Kind: PII, PII: IBAN, Pattern: "DE[0-9]{20}", Distinct: 3},
			conf:  1,
		},
		{
			name: "ip v4 and v6", col: "client",
			cells: cat(gen(30, func(i int) string { return fmt.Sprintf("10.0.%d.%d", i/7, i) }), rep(10, "2001:db8::1", "::1")),
			want:  Column{Kind: PII, PII: IP, Distinct: 32},
			conf:  1,
		},
		{
			name: "urls", col: "homepage",
			cells: gen(30, func(i int) string { return fmt.Sprintf("https://site%d.example.com/p?id=%d", i%9, i) }),
			want:  Column{Kind: PII, PII: URL, Distinct: 30},
			conf:  1,
		},
		{
			name: "person names", col: "customer",
			cells: gen(60, func(i int) string { return firstNames[i%len(firstNames)] + " " + lastNames[i%len(lastNames)] }),
			want:  Column{Kind: PII, PII: PersonName, Distinct: 60},
			conf:  1,
		},
		{
			name: "first names repeat but are names", col: "first_name",
			cells: rep(100, firstNames...),
			want:  Column{Kind: PII, PII: PersonName, Distinct: len(firstNames)},
			conf:  1,
		},
		{
			name: "capitalised categories are not names", col: "race",
			cells: rep(100, "White", "Black", "Asian-Pac-Islander", "Other", "Amer-Indian-Eskimo"),
			want:  Column{Kind: Categorical, Distinct: 5},
			conf:  1,
		},
		{
			name: "addresses", col: "home",
			cells: gen(40, func(i int) string { return fmt.Sprintf("%d %s Street", 10+i*3, lastNames[i%len(lastNames)]) }),
			want:  Column{Kind: PII, PII: Address, Distinct: 40},
			conf:  1,
		},
		{
			name: "integer sequence is a key", col: "row",
			cells: gen(100, func(i int) string { return fmt.Sprint((i * 37) % 100) }),
			want:  Column{Kind: ID, IDFormat: "%d", Distinct: 100},
			conf:  1,
		},
		{
			name: "sparse distinct integers are numbers", col: "fnlwgt",
			cells: gen(100, func(i int) string { return fmt.Sprint(10000 + i*7919) }),
			want:  Column{Kind: Numeric, Integer: true, Min: 10000, Max: 793981, Distinct: 100},
			conf:  1,
		},
		{
			name: "distinct integers named id", col: "customerID",
			cells: gen(12, func(i int) string { return fmt.Sprint(1000 + i*13) }),
			want:  Column{Kind: ID, IDFormat: "%d", Distinct: 12},
			conf:  1,
		},
		{
			name: "prefixed codes", col: "customer",
			cells: gen(30, func(i int) string { return fmt.Sprintf("CUST-%06d", 1+i*3) }),
			want:  Column{Kind: ID, IDFormat: "CUST-%06d", Distinct: 30},
			conf:  1,
		},
		{
			name: "uuids", col: "ref",
			cells: gen(30, func(i int) string { return fmt.Sprintf("550e8400-e29b-41d4-a716-4466554400%02x", i) }),
			want:  Column{Kind: ID, IDFormat: "uuid", Distinct: 30},
			conf:  1,
		},
		{
			name: "random tokens", col: "token",
			cells: gen(30, func(i int) string { return fmt.Sprintf("k%02dQz%c", i, 'a'+i%26) }),
			want:  Column{Kind: ID, IDFormat: "re:[a-z][0-9]{2}[A-Z][a-z]{2}", Distinct: 30},
			conf:  1,
		},
		{
			name: "distinct words without digits are categories", col: "country",
			cells: gen(30, func(i int) string { return fmt.Sprintf("Land%c%c", 'a'+i%26, 'a'+i/26) }),
			want:  Column{Kind: Categorical, Distinct: 30},
			conf:  1,
		},
		{
			name: "free text", col: "review",
			cells: gen(80, func(i int) string {
				return fmt.Sprintf("%s %s %s %s %s %d", words[i%13], words[(i+3)%13], words[(i+5)%13], words[(i*7)%13], words[(i+11)%13], i)
			}),
			want: Column{Kind: Text, Distinct: 80},
			conf: 1,
		},
		{
			name: "all missing", col: "empty",
			cells: rep(10, "", "NA"),
			want:  Column{Kind: Categorical, Missing: 10, MissingTokens: []string{"", "NA"}},
			conf:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := Infer(single(tt.col, tt.cells), Options{})
			if err != nil {
				t.Fatalf("Infer: %v", err)
			}
			got := p.Columns[0]
			if got.Confidence != tt.conf {
				t.Errorf("confidence = %v, want %v", got.Confidence, tt.conf)
			}
			want := tt.want
			want.Name, want.Confidence = tt.col, got.Confidence
			want.MissingRate = float64(want.Missing) / float64(len(tt.cells))
			got.Mode = ""       // checked in TestInferMode
			got.Quantiles = nil // checked in TestInferQuantiles
			if !reflect.DeepEqual(got, want) {
				t.Errorf("column\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestInferMode(t *testing.T) {
	t.Parallel()
	p, err := Infer(single("workclass", rep(30, "Private", "State-gov", "Private")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c := p.Columns[0]; c.Kind != Categorical || c.Mode != "Private" {
		t.Errorf("kind %s mode %q, want categorical with mode Private", c.Kind, c.Mode)
	}
}

func TestInferSample(t *testing.T) {
	t.Parallel()
	// 1000 rows sampled at every tenth row; the extremes and the missing
	// cells sit on rows the sample skips.
	cells := gen(1000, func(i int) string { return fmt.Sprint(100 + i%50) })
	cells[5], cells[15], cells[25] = "-7", "9999.5", "?"
	p, err := Infer(single("x", cells), Options{Sample: 100})
	if err != nil {
		t.Fatal(err)
	}
	c := p.Columns[0]
	if p.Rows != 1000 || p.Sampled != 100 {
		t.Errorf("rows %d sampled %d, want 1000 and 100", p.Rows, p.Sampled)
	}
	if c.Kind != Numeric || c.Min != -7 || c.Max != 9999.5 || c.Integer || c.Decimals != 1 {
		t.Errorf("got %+v, want numeric -7..9999.5 with 1 decimal", c)
	}
	if c.Missing != 1 || c.MissingRate != 0.001 || !reflect.DeepEqual(c.MissingTokens, []string{"?"}) {
		t.Errorf("missing %d rate %v tokens %q, want 1, 0.001, [?]", c.Missing, c.MissingRate, c.MissingTokens)
	}
	if c.Distinct != 5 {
		t.Errorf("distinct %d, want 5 (in the sample)", c.Distinct)
	}
	// A negative Sample examines every row.
	p, err = Infer(single("x", cells), Options{Sample: -1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Sampled != 0 || p.Columns[0].Distinct != 52 {
		t.Errorf("sampled %d distinct %d, want 0 and 52", p.Sampled, p.Columns[0].Distinct)
	}
}

func TestInferOptions(t *testing.T) {
	t.Parallel()
	cells := cat(rep(36, "1", "2", "3"), rep(4, "x"))
	tests := []struct {
		name string
		opts Options
		want Kind
	}{
		{"default threshold", Options{}, Categorical},
		{"lower threshold", Options{Threshold: 0.9}, Numeric},
		{"custom missing", Options{MissingTokens: []string{"x"}}, Numeric},
	}
	for _, tt := range tests {
		p, err := Infer(single("c", cells), tt.opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := p.Columns[0].Kind; got != tt.want {
			t.Errorf("%s: kind %s, want %s", tt.name, got, tt.want)
		}
	}
	// MaxCategories and CategoryRatio decide between categories and text.
	long := gen(60, func(i int) string { return fmt.Sprintf("a fairly long sentence number %d with words", i%40) })
	short := gen(100, func(i int) string { return fmt.Sprintf("item %d", i%80) })
	for _, tt := range []struct {
		name  string
		cells []string
		opts  Options
		want  Kind
	}{
		{"long", long, Options{}, Text},
		{"long, few", long, Options{MaxCategories: 40}, Text}, // long values that do not repeat stay text
		{"long, repeating", long, Options{CategoryRatio: 0.7}, Categorical},
		{"short", short, Options{}, Text},
		{"short, few", short, Options{MaxCategories: 80}, Categorical},
		{"short, repeating", short, Options{CategoryRatio: 0.8}, Categorical},
	} {
		p, err := Infer(single("note", tt.cells), tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Columns[0].Kind; got != tt.want {
			t.Errorf("%s: kind %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestInferErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		t    *table.Table
		opts Options
		want error
	}{
		{"nil table", nil, Options{}, ErrTable},
		{"no columns", &table.Table{}, Options{}, ErrTable},
		{"duplicate column", &table.Table{Columns: []string{"a", "a"}}, Options{}, ErrTable},
		{"short row", &table.Table{Columns: []string{"a", "b"}, Rows: [][]string{{"1", "2"}, {"1"}}}, Options{}, ErrTable},
		{"long row", &table.Table{Columns: []string{"a"}, Rows: [][]string{{"1", "2"}}}, Options{}, ErrTable},
		{"threshold too low", single("a", nil), Options{Threshold: 0.5}, ErrOptions},
		{"threshold above 1", single("a", nil), Options{Threshold: 1.5}, ErrOptions},
		{"negative categories", single("a", nil), Options{MaxCategories: -1}, ErrOptions},
		{"ratio above 1", single("a", nil), Options{CategoryRatio: 2}, ErrOptions},
	}
	for _, tt := range tests {
		if _, err := Infer(tt.t, tt.opts); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestInferEmptyTable(t *testing.T) {
	t.Parallel()
	p, err := Infer(&table.Table{Columns: []string{"a", "b"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != Version || p.Rows != 0 || len(p.Columns) != 2 || p.Columns[1].Name != "b" {
		t.Errorf("got %+v", p)
	}
}

func BenchmarkInferAdult(b *testing.B) {
	tab := loadCSV(b, filepath.Join(datasets, "adult.train.csv"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Infer(tab, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRelationsAdult is the part of Infer that discovers relations:
// parsing adult's columns for package relations and the search.
func BenchmarkRelationsAdult(b *testing.B) {
	tab := loadCSV(b, filepath.Join(datasets, "adult.train.csv"))
	p, err := Infer(tab, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		relations.Discover(RelationColumns(tab.Rows, p), relations.Options{})
	}
}

// BenchmarkRelationColumnsAdult is the parsing part of relation discovery
// alone, which Stream.ProfileOf and model.Fit's relations both run on the
// training rows.
func BenchmarkRelationColumnsAdult(b *testing.B) {
	tab := loadCSV(b, filepath.Join(datasets, "adult.train.csv"))
	p, err := Infer(tab, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		RelationColumns(tab.Rows, p)
	}
}
