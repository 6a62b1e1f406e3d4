package design

import (
	"context"
	"io"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/table"
)

// memReader reads rows memTables holds.
type memReader struct {
	cols []string
	rows [][]string
}

func (r *memReader) Columns() []string { return r.cols }
func (r *memReader) Read() ([]string, error) {
	if len(r.rows) == 0 {
		return nil, io.EOF
	}
	row := r.rows[0]
	r.rows = r.rows[1:]
	return row, nil
}

func TestVerify(t *testing.T) {
	t.Parallel()
	s, err := Pack("retail", PackOptions{Rows: 2000, Features: []string{"returns"}})
	if err != nil {
		t.Fatal(err)
	}
	mem := newMem()
	if _, err := Generate(context.Background(), s, Options{Seed: 3, Open: mem.open}); err != nil {
		t.Fatal(err)
	}
	orders := s.Table("orders")
	sub, unit, cust := colIndex(orders, "subtotal"), colIndex(orders, "unit_price"), colIndex(orders, "customer_id")
	tests := []struct {
		name           string
		mutate         func(rows map[string][][]string)
		wantViolations int64
		wantOrphans    int64
		wantRows       int64 // of orders
		wantFirst      string
	}{
		{name: "as generated", mutate: func(map[string][][]string) {}, wantRows: 2000},
		// subtotal = quantity × unit price ≥ unit price: a subtotal below
		// the unit price breaks the rule "subtotal >= unit_price" once.
		{name: "a broken rule", mutate: func(r map[string][][]string) {
			r["orders"][7][sub] = "0.01"
			r["orders"][7][unit] = "99"
		}, wantViolations: 1, wantRows: 2000, wantFirst: "row 8"},
		// a customer id no customer has: one orphan.
		{name: "an orphan", mutate: func(r map[string][][]string) { r["orders"][0][cust] = "CUST-9999999" }, wantOrphans: 1, wantRows: 2000},
		{name: "a lost row", mutate: func(r map[string][][]string) { r["orders"] = r["orders"][1:] }, wantRows: 1999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := map[string][][]string{}
			for name, rs := range mem.rows {
				cp := make([][]string, len(rs))
				for i, r := range rs {
					cp[i] = append([]string(nil), r...)
				}
				rows[name] = cp
			}
			tt.mutate(rows)
			checks, err := Verify(s, func(name string) (table.Reader, func() error, error) {
				var cols []string
				for _, c := range mem.cols[name] {
					cols = append(cols, c.Name)
				}
				return &memReader{cols: cols, rows: rows[name]}, func() error { return nil }, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(checks) != 3 {
				t.Fatalf("%d checks, want one per table (3)", len(checks))
			}
			for _, c := range checks {
				if c.Table != "orders" {
					if !c.OK() {
						t.Errorf("table %s: %+v, want whole and clean", c.Table, c)
					}
					continue
				}
				if c.Violations != tt.wantViolations || c.Orphans != tt.wantOrphans || c.Rows != tt.wantRows || c.WantRows != 2000 {
					t.Errorf("orders: %+v; want %d violations, %d orphans, %d of 2000 rows", c, tt.wantViolations, tt.wantOrphans, tt.wantRows)
				}
				if !strings.HasPrefix(c.FirstViolation, tt.wantFirst) {
					t.Errorf("first violation %q, want it to start with %q", c.FirstViolation, tt.wantFirst)
				}
				wantOK := tt.wantViolations == 0 && tt.wantOrphans == 0 && tt.wantRows == 2000
				if c.OK() != wantOK {
					t.Errorf("OK() = %v, want %v", c.OK(), wantOK)
				}
			}
		})
	}
}

// BenchmarkVerify100k measures the evaluation step's read-back of a
// 100,000-row main table and its two related tables (rules of every row,
// every foreign key), from memory.
func BenchmarkVerify100k(b *testing.B) {
	s, err := Pack("retail", PackOptions{Rows: 100000, Region: "eu", Features: []string{"returns"}})
	if err != nil {
		b.Fatal(err)
	}
	mem := newMem()
	if _, err := Generate(context.Background(), s, Options{Seed: 1, Open: mem.open}); err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, tb := range s.Tables {
		total += tb.Rows
	}
	b.ReportAllocs()
	for b.Loop() {
		checks, err := Verify(s, func(name string) (table.Reader, func() error, error) {
			var cols []string
			for _, c := range mem.cols[name] {
				cols = append(cols, c.Name)
			}
			return &memReader{cols: cols, rows: mem.rows[name]}, func() error { return nil }, nil
		})
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range checks {
			if !c.OK() {
				b.Fatalf("%+v", c)
			}
		}
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
