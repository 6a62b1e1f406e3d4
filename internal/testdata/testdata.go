// Package testdata loads the shared public datasets (../shared/datasets
// beside the repository, see its PROVENANCE.tsv) for tests and benchmarks,
// once per test binary, and fails the test with a clear message when they
// are missing.
package testdata

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/table"
)

var (
	mu    sync.Mutex
	cache = map[string]*table.Table{}
)

// Dir returns the datasets directory: ../shared/datasets relative to the
// module root, found by walking up from the working directory to go.mod.
func Dir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "datasets"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Path returns the path of dataset name (e.g. "adult.train.csv").
func Path(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := Dir()
	if err != nil {
		tb.Fatalf("find the datasets: %v", err)
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("dataset %s is missing: clone the project with ../shared beside it (%v)", name, err)
	}
	return p
}

// Table reads dataset name. The table is shared between callers: do not
// modify it.
func Table(tb testing.TB, name string) *table.Table {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if t, ok := cache[name]; ok {
		return t
	}
	t, err := read(Path(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	cache[name] = t
	return t
}

func read(path string) (*table.Table, error) {
	r, err := table.Open(path, table.Options{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer r.Close()
	t, err := table.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return t, nil
}
