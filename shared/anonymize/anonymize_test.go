package anonymize

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/internal/testdata"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

func keyring(t testing.TB) *Keyring {
	t.Helper()
	k, err := NewKeyring()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func op(t *testing.T, r Rule, c *profile.Column, k *Keyring) cellOp {
	t.Helper()
	f, err := compile(r, c, k, "synthos")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func ptr(f float64) *float64 { return &f }

// TestOperators checks each operator on known inputs.
func TestOperators(t *testing.T) {
	k := keyring(t)
	date := &profile.Column{Name: "d", Kind: profile.Datetime, Format: "2006-01-02"}
	age := &profile.Column{Name: "age", Kind: profile.Numeric, Integer: true}
	tests := []struct {
		name string
		rule Rule
		col  *profile.Column
		in   string
		want string
	}{
		{"mask", Rule{Op: OpMask, KeepLast: 4}, nil, "123-45-6789", "***-**-6789"},
		{"mask default", Rule{Op: OpMask}, nil, "4111 1111 1111 1111", "**** **** **** 1111"},
		{"redact", Rule{Op: OpRedact}, nil, "10.0.0.1", "*"},
		{"zip3", Rule{Op: OpGeneralize, ZIP3: true}, nil, "02139", "021"},
		{"zip3 restricted", Rule{Op: OpGeneralize, ZIP3: true}, nil, "03601", "000"},
		{"range", Rule{Op: OpGeneralize, Width: 10}, age, "37", "30-39"},
		{"month", Rule{Op: OpGeneralize, Date: "month"}, date, "2020-03-14", "2020-03"},
		{"year", Rule{Op: OpGeneralize, Date: "year"}, date, "2020-03-14", "2020"},
		{"hierarchy", Rule{Op: OpGeneralize, Hierarchy: map[string]string{"Bachelors": "Higher"}}, nil, "Bachelors", "Higher"},
		{"hierarchy missing", Rule{Op: OpGeneralize, Hierarchy: map[string]string{"Bachelors": "Higher"}}, nil, "9th", "*"},
		{"top code", Rule{Op: OpTopCode, Top: ptr(89)}, age, "93", "89+"},
		{"top code below", Rule{Op: OpTopCode, Top: ptr(89)}, age, "40", "40"},
		{"bottom code", Rule{Op: OpBottomCode, Bottom: ptr(18)}, age, "16", "<=18"},
		{"scan", Rule{Op: OpScan}, nil, "mail jo@example.org", "mail [EMAIL]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := op(t, tt.rule, tt.col, k)(tt.in, ""); got != tt.want {
				t.Errorf("%q -> %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestKeyedOperators: pseudonyms and surrogates are the same for the same
// value under one key, differ between values and between keys; tokens
// decrypt; date shifts are the same for one entity and never zero.
func TestKeyedOperators(t *testing.T) {
	k1, k2 := keyring(t), keyring(t)
	for _, r := range []Rule{{Op: OpPseudonym}, {Op: OpSurrogate, Kind: "name"}, {Op: OpSurrogate, Kind: "email"}} {
		a, b := op(t, r, nil, k1), op(t, r, nil, k2)
		x, y := a("Jane Roe", ""), a("Jane Roe", "")
		if x != y || x == a("John Doe", "") || x == b("Jane Roe", "") || x == "Jane Roe" {
			t.Errorf("%s: %q %q %q %q", r.Op+r.Kind, x, y, a("John Doe", ""), b("Jane Roe", ""))
		}
	}
	tok := op(t, Rule{Op: OpToken}, nil, k1)("123-45-6789", "")
	if got, err := k1.Detokenize(tok, "synthos"); err != nil || got != "123-45-6789" {
		t.Errorf("Detokenize(%q) = %q, %v", tok, got, err)
	}
	if _, err := k2.Detokenize(tok, "synthos"); err == nil {
		t.Error("another keyring decrypted the token")
	}
	date := &profile.Column{Name: "d", Kind: profile.Datetime, Format: "2006-01-02"}
	shift := op(t, Rule{Op: OpDateShift, MaxShiftDays: 30}, date, k1)
	a1, a2 := shift("2020-03-14", "patient-1"), shift("2020-03-15", "patient-1")
	if a1 == "2020-03-14" || a1 >= a2 {
		t.Errorf("shifted %s and %s: want both moved by the same offset", a1, a2)
	}
}

// TestRotate: a rotated keyring has a new version, new pseudonyms, and
// still decrypts tokens made before.
func TestRotate(t *testing.T) {
	k := keyring(t)
	tok := op(t, Rule{Op: OpToken}, nil, k)("secret", "")
	ps := op(t, Rule{Op: OpPseudonym}, nil, k)("secret", "")
	v1 := k.KeyVersion()
	if err := k.Rotate(); err != nil {
		t.Fatal(err)
	}
	b, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	k2, err := ParseKeyring(b)
	if err != nil {
		t.Fatal(err)
	}
	if k2.KeyVersion() == v1 || !strings.HasPrefix(k2.KeyVersion(), "hmac v2") {
		t.Errorf("key version after rotation = %q (before %q)", k2.KeyVersion(), v1)
	}
	if got, err := k2.Detokenize(tok, "synthos"); err != nil || got != "secret" {
		t.Errorf("old token after rotation: %q %v", got, err)
	}
	if op(t, Rule{Op: OpPseudonym}, nil, k2)("secret", "") == ps {
		t.Error("pseudonym unchanged by rotation")
	}
}

// TestScan finds entities with validators and context, and leaves
// look-alikes alone.
func TestScan(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"write to ann.lee@example.com today", []string{EntEmail}},
		{"call me at 617-555-0101", []string{EntPhone}},
		{"order 617-555-0101 shipped", nil}, // no context: a phone-shaped number alone scores 0.4
		{"SSN 123-45-6789", []string{EntSSN}},
		{"SSN 666-45-6789", nil}, // area 666 is never issued
		{"card 4111 1111 1111 1111", []string{EntCard}},
		{"card 4111 1111 1111 1112", nil}, // fails Luhn
		{"IBAN GB82 WEST 1234 5698 7654 32", []string{EntIBAN}},
		{"from 192.168.1.20 via https://example.com/x", []string{EntIP, EntURL}},
		{"admitted 2021-04-05", []string{EntDate}},
		{"seen by Dr. James Smith", []string{EntPerson}},
		{"The Quick Fox", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, f := range Scan(tt.in) {
			got = append(got, f.Kind)
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("Scan(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// adultOpener opens the Adult table from the shared datasets.
func adultOpener(t testing.TB) (Opener, *profile.Profile) {
	t.Helper()
	tab := testdata.Table(t, "adult.csv")
	dir, err := testdata.Dir()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "adult.csv")
	p, err := profile.Infer(tab, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return func() (table.Reader, io.Closer, error) {
		r, err := table.Open(path, table.Options{})
		return r, r, err
	}, p
}

// TestMondrianAdult: adult with k = 5, l = 2 over (age, sex, race,
// native-country, education, marital-status), income sensitive: every
// equivalence class of the output has at least 5 rows and both incomes,
// and at most 5% of rows are suppressed.
func TestMondrianAdult(t *testing.T) {
	open, p := adultOpener(t)
	quasi := []string{"age", "sex", "race", "native-country", "education", "marital-status"}
	out := filepath.Join(t.TempDir(), "out.csv")
	cols := make([]table.Column, 0)
	r0, c0, _ := open()
	for _, c := range r0.Columns() {
		cols = append(cols, table.Column{Name: c})
	}
	c0.Close()
	w, err := table.Create(out, table.CSV, cols)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), open, w, p, Policy{Quasi: quasi, Sensitive: []string{"income"}, K: 5, L: 2}, keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	ka := res.KAnonymity
	t.Logf("rows %d, classes %d, min class %d, min diversity %d, suppressed %d, DM %.3g, GIL %.3f", res.Rows, ka.Classes, ka.MinClass, ka.MinDiversity, ka.SuppressedRows, ka.Discernibility, ka.GIL)
	got, err := table.Open(out, table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	tab, err := table.ReadAll(got)
	if err != nil {
		t.Fatal(err)
	}
	idx := make([]int, len(quasi))
	for i, q := range quasi {
		idx[i] = tab.Col(q)
	}
	inc := tab.Col("income")
	type class struct {
		n       int
		incomes map[string]bool
	}
	classes := map[string]*class{}
	suppressed := 0
	for _, row := range tab.Rows {
		var key []string
		for _, i := range idx {
			key = append(key, row[i])
		}
		if row[idx[0]] == Suppressed && row[idx[1]] == Suppressed {
			suppressed++
		}
		k := strings.Join(key, "\x00")
		if classes[k] == nil {
			classes[k] = &class{incomes: map[string]bool{}}
		}
		classes[k].n++
		classes[k].incomes[row[inc]] = true
	}
	for k, c := range classes {
		if c.n < 5 || len(c.incomes) < 2 {
			t.Fatalf("class %q has %d rows and %d incomes, want ≥ 5 and ≥ 2", strings.ReplaceAll(k, "\x00", ", "), c.n, len(c.incomes))
		}
	}
	if len(tab.Rows) != 32561 || float64(suppressed) > 0.05*float64(len(tab.Rows)) {
		t.Errorf("%d rows, %d suppressed", len(tab.Rows), suppressed)
	}
	if len(classes) != ka.Classes || ka.MinClass < 5 || ka.MinDiversity < 2 || !(ka.GIL > 0 && ka.GIL < 1) {
		t.Errorf("report %+v disagrees with the %d classes found", ka, len(classes))
	}
}

// TestRunDefaults de-identifies a small table with PII by the profile's
// defaults and checks no original identifier survives.
func TestRunDefaults(t *testing.T) {
	csv := "id,name,email,phone,notes,age\n" +
		"C-1001,Maria Garcia,maria.garcia@example.com,617-555-0101,Called Maria at 617-555-0101,34\n" +
		"C-1002,James Smith,james.smith@example.org,617-555-0102,email james.smith@example.org,51\n" +
		"C-1003,Linda Johnson,linda.j@example.net,617-555-0103,no contact,28\n"
	tab, err := table.ReadAll(mustReader(t, csv))
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Infer(tab, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := table.NewWriter(&buf, table.CSV, []table.Column{{Name: "id"}, {Name: "name"}, {Name: "email"}, {Name: "phone"}, {Name: "notes"}, {Name: "age"}})
	if err != nil {
		t.Fatal(err)
	}
	open := func() (table.Reader, io.Closer, error) { return mustReader(t, csv), io.NopCloser(nil), nil }
	res, err := Run(context.Background(), open, w, p, Policy{}, keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, secret := range []string{"C-1001", "Maria Garcia", "maria.garcia@example.com", "617-555-0101", "james.smith@example.org"} {
		if strings.Contains(out, secret) {
			t.Errorf("output keeps %q:\n%s\nactions %+v", secret, out, res.Actions)
		}
	}
	if !strings.Contains(out, "***-***-0101") || !strings.Contains(out, ",34\n") {
		t.Errorf("want masked phones and kept ages:\n%s", out)
	}
}

func mustReader(t testing.TB, s string) table.Reader {
	t.Helper()
	r, err := table.OpenReader(strings.NewReader(s), table.CSV, table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// BenchmarkOperators streams Adult through the operator-only path:
// pseudonyms for two columns, masking, generalisation and top coding.
func BenchmarkOperators(b *testing.B) {
	dir, err := testdata.Dir()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "adult.csv"))
	if err != nil {
		b.Fatal(err)
	}
	k := keyring(b)
	pol := Policy{NoDefaults: true, Columns: map[string]Rule{
		"fnlwgt":         {Op: OpPseudonym},
		"native-country": {Op: OpPseudonym},
		"occupation":     {Op: OpMask, KeepLast: 2},
		"hours-per-week": {Op: OpGeneralize, Width: 10},
		"age":            {Op: OpTopCode, Top: ptr(89)},
		"education":      {Op: OpDrop},
	}}
	rows := strings.Count(string(raw), "\n") - 1
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		open := func() (table.Reader, io.Closer, error) {
			r, err := table.OpenReader(bytes.NewReader(raw), table.CSV, table.Options{})
			return r, io.NopCloser(nil), err
		}
		r, _, _ := open()
		var cols []table.Column
		for _, c := range r.Columns() {
			if c != "education" {
				cols = append(cols, table.Column{Name: c})
			}
		}
		w, err := table.NewWriter(io.Discard, table.CSV, cols)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Run(context.Background(), open, w, nil, pol, k); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkMondrianAdult runs k = 5, l = 2 over six quasi-identifiers of
// Adult, both reads of the input included.
func BenchmarkMondrianAdult(b *testing.B) {
	dir, err := testdata.Dir()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "adult.csv"))
	if err != nil {
		b.Fatal(err)
	}
	pol := Policy{NoDefaults: true, Quasi: []string{"age", "sex", "race", "native-country", "education", "marital-status"},
		Sensitive: []string{"income"}, K: 5, L: 2}
	open := func() (table.Reader, io.Closer, error) {
		r, err := table.OpenReader(bytes.NewReader(raw), table.CSV, table.Options{})
		return r, io.NopCloser(nil), err
	}
	r, _, _ := open()
	var cols []table.Column
	for _, c := range r.Columns() {
		cols = append(cols, table.Column{Name: c})
	}
	b.ReportAllocs()
	for b.Loop() {
		w, err := table.NewWriter(io.Discard, table.CSV, cols)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Run(context.Background(), open, w, nil, pol, nil); err != nil {
			b.Fatal(err)
		}
	}
}
