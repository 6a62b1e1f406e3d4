package profile

import (
	"strings"
	"testing"

	"synthos.dev/synthos/shared/table"
)

// FuzzInfer feeds arbitrary cells to Infer: it must not panic and must keep
// its counts consistent.
func FuzzInfer(f *testing.F) {
	for _, seed := range []string{
		"1\n2\n?\n3.5",
		"yes\nno\nYES\n",
		"2024-01-02\n31/12/2020\n",
		"ann@example.com\n4111111111111111\nGB82WEST12345698765432\n123-45-6789",
		"CUST-001\nCUST-002\n550e8400-e29b-41d4-a716-446655440000",
		"12 Main St\nJohn Smith\n::1\nhttp://x.io\n(555) 123-4567 ext. 9",
		"\xff\xfe\n%\n-\n",
	} {
		f.Add(seed, 2)
	}
	f.Fuzz(func(t *testing.T, text string, width int) {
		width = 1 + (width%3+3)%3
		cells := strings.Split(text, "\n")
		tab := &table.Table{}
		for j := range width {
			tab.Columns = append(tab.Columns, strings.Repeat("c", j+1))
		}
		for i := 0; i+width <= len(cells); i += width {
			tab.Rows = append(tab.Rows, cells[i:i+width])
		}
		p, err := Infer(tab, Options{Sample: 3})
		if err != nil {
			t.Fatalf("Infer: %v", err)
		}
		for _, c := range p.Columns {
			if c.Confidence < 0 || c.Confidence > 1 || c.Missing > p.Rows || c.Distinct > p.Rows {
				t.Errorf("inconsistent column %+v of %d rows", c, p.Rows)
			}
		}
		var b strings.Builder
		if err := WriteText(&b, p); err != nil {
			t.Fatal(err)
		}
	})
}
