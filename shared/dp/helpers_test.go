package dp

import (
	"context"
	"testing"

	"synthos.dev/synthos/internal/testdata"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// loadTable reads a shared dataset, cached, failing clearly if it is missing.
func loadTable(tb testing.TB, name string) *table.Table {
	tb.Helper()
	return testdata.Table(tb, name)
}

func inferProfile(tb testing.TB, t *table.Table) *profile.Profile {
	tb.Helper()
	p, err := profile.Infer(t, profile.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// collect is a RowWriter that keeps the rows.
type collect struct{ rows [][]string }

func (c *collect) Write(row []string) error {
	c.rows = append(c.rows, append([]string(nil), row...))
	return nil
}

func sample(tb testing.TB, m *Model, n int64, seed uint64) *table.Table {
	tb.Helper()
	var c collect
	if err := m.Sample(context.Background(), n, 0, 1, seed, synth.SampleOptions{}, &c); err != nil {
		tb.Fatal(err)
	}
	cols := make([]string, len(m.Cols))
	for j, col := range m.Cols {
		cols[j] = col.Name
	}
	return &table.Table{Columns: cols, Rows: c.rows}
}
