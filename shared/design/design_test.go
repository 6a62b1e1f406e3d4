package design

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/rules"
	"synthos.dev/synthos/shared/table"
)

// memTables collects generated tables in memory.
type memTables struct {
	mu   sync.Mutex
	cols map[string][]table.Column
	rows map[string][][]string
}

func newMem() *memTables {
	return &memTables{cols: map[string][]table.Column{}, rows: map[string][][]string{}}
}

type memWriter struct {
	m    *memTables
	name string
	rows [][]string
}

func (w *memWriter) Write(row []string) error {
	w.rows = append(w.rows, append([]string(nil), row...))
	return nil
}

func (w *memWriter) Close() error {
	w.m.mu.Lock()
	defer w.m.mu.Unlock()
	w.m.rows[w.name] = w.rows
	return nil
}
func (w *memWriter) Abort() error { return nil }

func (m *memTables) open(name string, cols []table.Column) (table.Writer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cols[name] = cols
	return &memWriter{m: m, name: name}, nil
}

func TestPacksValidateAndRoundTrip(t *testing.T) {
	t.Parallel()
	for _, dom := range Domains {
		t.Run(dom, func(t *testing.T) {
			t.Parallel()
			s, err := Pack(dom, PackOptions{Rows: 1000, Region: "eu", Features: []string{"returns", "reviews", "fraud", "readmissions", "churn", "attrition"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Tables) != 3 {
				t.Fatalf("%s has %d tables, want 3 related tables", dom, len(s.Tables))
			}
			refs := 0
			for _, tb := range s.Tables {
				for _, c := range tb.Columns {
					if c.Kind == KindRef {
						refs++
					}
				}
			}
			if refs < 2 {
				t.Errorf("%s has %d foreign keys, want 2+", dom, refs)
			}
			b, err := json.MarshalIndent(s, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(b)
			if err != nil {
				t.Fatalf("own spec does not parse: %v\n%s", err, b)
			}
			b2, _ := json.MarshalIndent(back, "", " ")
			if !bytes.Equal(b, b2) {
				t.Errorf("round trip changed the spec:\n%s\n---\n%s", b, b2)
			}
		})
	}
}

func TestSchemaRejects(t *testing.T) {
	t.Parallel()
	good, err := Pack("retail", PackOptions{Rows: 100})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(good)
	tests := []struct {
		name   string
		mutate func(m map[string]any)
		want   string
	}{
		{"unknown field", func(m map[string]any) { m["colour"] = "red" }, "schema"},
		{"future version", func(m map[string]any) { m["version"] = 2 }, "schema"},
		{"no tables", func(m map[string]any) { m["tables"] = []any{} }, "schema"},
		{"bad kind", func(m map[string]any) { col(m, 0, 0)["kind"] = "blob" }, "schema"},
		{"numeric without dist", func(m map[string]any) { delete(col(m, 0, 6), "dist") }, "schema"},
		{"bad table name", func(m map[string]any) { tbl(m, 0)["name"] = "drop table;" }, "schema"},
		{"ref to nowhere", func(m map[string]any) { col(m, 2, 1)["ref"] = map[string]any{"table": "ghosts", "column": "id"} }, "ref table"},
		{"rule on unknown column", func(m map[string]any) {
			tbl(m, 0)["rules"] = []any{map[string]any{"type": "range", "column": "nope", "min": 1}}
		}, "unknown column"},
		{"impossible rules", func(m map[string]any) {
			tbl(m, 0)["rules"] = []any{map[string]any{"type": "range", "column": "age", "min": 200, "max": 300}}
		}, "cannot be satisfied"},
		{"derived from later column", func(m map[string]any) { col(m, 2, 6)["expr"].(map[string]any)["args"] = []any{"quantity", "status"} }, "listed before"},
		{"duplicate column", func(m map[string]any) { col(m, 0, 1)["name"] = "customer_id" }, "twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var m map[string]any
			_ = json.Unmarshal(raw, &m)
			tc.mutate(m)
			b, _ := json.Marshal(m)
			_, err := Parse(b)
			if err == nil || !errors.Is(err, ErrInvalid) && !strings.Contains(err.Error(), "rule") {
				t.Fatalf("Parse = %v, want an invalid-spec error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
}

func tbl(m map[string]any, i int) map[string]any { return m["tables"].([]any)[i].(map[string]any) }
func col(m map[string]any, t, c int) map[string]any {
	return tbl(m, t)["columns"].([]any)[c].(map[string]any)
}

// TestEveryRuleHoldsInEveryRow generates every pack and checks each row of
// each table against a freshly compiled copy of the table's rules, every
// foreign key against its parent's keys, and the row counts.
func TestEveryRuleHoldsInEveryRow(t *testing.T) {
	t.Parallel()
	for _, dom := range Domains {
		t.Run(dom, func(t *testing.T) {
			t.Parallel()
			s, err := Pack(dom, PackOptions{Rows: 20000, Region: "eu", Features: []string{"returns", "reviews", "fraud", "readmissions", "churn", "attrition"}})
			if err != nil {
				t.Fatal(err)
			}
			mem := newMem()
			res, err := Generate(context.Background(), s, Options{Seed: 7, Open: mem.open})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res {
				tb := s.Table(r.Name)
				rows := mem.rows[r.Name]
				if int64(len(rows)) != tb.Rows {
					t.Fatalf("%s: %d rows, want %d", r.Name, len(rows), tb.Rows)
				}
				set, err := rules.Compile(&rules.File{Rules: tb.Rules}, nil, profileOf(tb))
				if err != nil {
					t.Fatal(err)
				}
				if set.Len() == 0 {
					t.Fatalf("%s has no rules to check", r.Name)
				}
				for i, row := range rows {
					if err := set.Check(row); err != nil {
						t.Fatalf("%s row %d %v: %v", r.Name, i, row, err)
					}
				}
				for j, c := range tb.Columns {
					if c.Kind != KindRef {
						continue
					}
					pt := s.Table(c.Ref.Table)
					pj := colIndex(pt, c.Ref.Column)
					keys := map[string]bool{}
					for _, pr := range mem.rows[pt.Name] {
						keys[pr[pj]] = true
					}
					for i, row := range rows {
						if !keys[row[j]] {
							t.Fatalf("%s row %d: %s=%q is not a key of %s", r.Name, i, c.Name, row[j], pt.Name)
						}
					}
				}
			}
		})
	}
}

func colIndex(t *Table, name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// TestRealism checks that what the spec says shows in the data: category
// shares, conditional blanks, derived values and correlation signs.
func TestRealism(t *testing.T) {
	t.Parallel()
	s, err := Pack("retail", PackOptions{Rows: 50000, Region: "eu", Features: []string{"returns"}})
	if err != nil {
		t.Fatal(err)
	}
	mem := newMem()
	if _, err := Generate(context.Background(), s, Options{Seed: 1, Open: mem.open}); err != nil {
		t.Fatal(err)
	}
	orders := s.Table("orders")
	rows := mem.rows["orders"]
	ix := func(n string) int { return colIndex(orders, n) }
	status, reason, rdate, qty, price, sub := ix("status"), ix("return_reason"), ix("return_date"), ix("quantity"), ix("unit_price"), ix("subtotal")
	returned := 0
	var xs, ys []float64
	for _, r := range rows {
		if r[status] == "returned" {
			returned++
			if r[reason] == "" || r[rdate] == "" {
				t.Fatalf("returned order without reason or date: %v", r)
			}
		} else if r[reason] != "" || r[rdate] != "" {
			t.Fatalf("%s order with a return reason or date: %v", r[status], r)
		}
		q, _ := strconv.ParseFloat(r[qty], 64)
		p, _ := strconv.ParseFloat(r[price], 64)
		st, _ := strconv.ParseFloat(r[sub], 64)
		if math.Abs(q*p-st) > 0.006 {
			t.Fatalf("subtotal %v != %v × %v", st, q, p)
		}
		xs, ys = append(xs, q), append(ys, math.Log(p))
	}
	// returned weight 9 of 106 = 8.5%; 50,000 rows give a 0.13% standard error.
	share := float64(returned) / float64(len(rows))
	if math.Abs(share-9.0/106) > 0.01 {
		t.Errorf("returned share %.4f, want about %.4f", share, 9.0/106)
	}
	if r := pearson(xs, ys); r > -0.1 {
		t.Errorf("quantity~log(unit_price) correlation %.3f, want negative (spec rho -0.3)", r)
	}
	// Countries are EU only and Germany is the commonest.
	cust := mem.rows["customers"]
	ci := colIndex(s.Table("customers"), "country")
	counts := map[string]int{}
	for _, r := range cust {
		counts[r[ci]]++
	}
	if counts["DE"] < counts["FR"] || counts["US"] != 0 {
		t.Errorf("country counts %v: want EU countries with DE first", counts)
	}
}

func pearson(x, y []float64) float64 {
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

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	s, err := Pack("saas", PackOptions{Rows: 3000, Features: []string{"churn"}})
	if err != nil {
		t.Fatal(err)
	}
	run := func() string {
		var buf bytes.Buffer
		_, err := Generate(context.Background(), s, Options{Seed: 3, Open: func(name string, cols []table.Column) (table.Writer, error) {
			if name != "tickets" {
				return table.NewWriter(io.Discard, table.CSV, cols)
			}
			return table.NewWriter(&buf, table.CSV, cols)
		}})
		if err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	a, b := run(), run()
	if a != b || len(a) == 0 {
		t.Fatal("same spec and seed gave different tickets")
	}
}

func TestInterpret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		desc    string
		domain  string
		rows    int64
		region  string
		feature string
	}{
		{"10,000 e-commerce orders from EU customers, with returns", "retail", 10000, "eu", "returns"},
		{"50k card transactions with fraud labels for a US bank", "finance", 50000, "us", "fraud"},
		{"2 million hospital encounters, readmissions", "healthcare", 2000000, "", "readmissions"},
		{"SaaS subscriptions with churn, 5000 rows", "saas", 5000, "", "churn"},
		{"employee records with salary and attrition for a UK company", "hr", 0, "uk", "attrition"},
	}
	for _, tc := range tests {
		b := Interpret(tc.desc)
		if b.Domain != tc.domain || b.Rows != tc.rows || b.Region != tc.region || !b.has(tc.feature) {
			t.Errorf("Interpret(%q) = %+v", tc.desc, b)
		}
	}
}

func TestScale(t *testing.T) {
	t.Parallel()
	s, _ := Pack("retail", PackOptions{Rows: 1000})
	got, err := s.Scale(100000)
	if err != nil {
		t.Fatal(err)
	}
	if got.Table("orders").Rows != 100000 || got.Table("customers").Rows != 25000 || s.Table("orders").Rows != 1000 {
		t.Fatalf("scaled rows: orders %d customers %d (original %d)", got.Table("orders").Rows, got.Table("customers").Rows, s.Table("orders").Rows)
	}
}

// BenchmarkGenerate100k measures the target: a 100,000-row main
// table and its two related tables, offline, written as CSV.
func BenchmarkGenerate100k(b *testing.B) {
	s, err := Pack("retail", PackOptions{Rows: 100000, Region: "eu", Features: []string{"returns"}})
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, tb := range s.Tables {
		total += tb.Rows
	}
	b.ReportAllocs()
	for b.Loop() {
		_, err := Generate(context.Background(), s, Options{Seed: 1, Open: func(_ string, cols []table.Column) (table.Writer, error) {
			return table.NewWriter(io.Discard, table.CSV, cols)
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
