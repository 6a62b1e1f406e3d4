package profile

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"synthos.dev/synthos/shared/table"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the current output")

// datasets is where the shared test tables live, relative to this package.
const datasets = "../../../shared/datasets"

// loadCSV reads a CSV file with a header row into a table.
func loadCSV(tb testing.TB, path string) *table.Table {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("dataset missing (the golden tests need /work/shared/datasets): %v", err)
	}
	defer f.Close()
	t, err := readCSV(f)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return t
}

// readCSV reads CSV with a header row into a table. The table package's
// readers are written elsewhere; the tests need only this much.
func readCSV(r io.Reader) (*table.Table, error) {
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, errors.New("no header row")
	}
	return &table.Table{Columns: recs[0], Rows: recs[1:]}, nil
}

func TestGolden(t *testing.T) {
	for _, name := range []string{"adult", "insurance", "credit"} {
		t.Run(name, func(t *testing.T) {
			tab := loadCSV(t, filepath.Join(datasets, name+".train.csv"))
			p, err := Infer(tab, Options{})
			if err != nil {
				t.Fatalf("Infer: %v", err)
			}
			got, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("profile of %s differs from %s (rerun with -update if the change is intended):\n%s", name, path, got)
			}
		})
	}
}
