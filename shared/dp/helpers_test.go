package dp

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// datasetDir holds the shared benchmark tables.
const datasetDir = "/work/shared/datasets"

var (
	tablesMu sync.Mutex
	tables   = map[string]*table.Table{}
)

// loadTable reads a shared dataset once per test binary, skipping when the
// datasets are not on this machine.
func loadTable(tb testing.TB, name string) *table.Table {
	tb.Helper()
	tablesMu.Lock()
	defer tablesMu.Unlock()
	if t, ok := tables[name]; ok {
		return t
	}
	path := filepath.Join(datasetDir, name)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("dataset %s is required on CI: %v", path, err)
		}
		tb.Skipf("dataset %s not available: %v", path, err)
	}
	r, err := table.Open(path, table.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer r.Close()
	t, err := table.ReadAll(r)
	if err != nil {
		tb.Fatal(err)
	}
	tables[name] = t
	return t
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
