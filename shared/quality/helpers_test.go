package quality

import (
	"encoding/csv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// datasetDir is where the shared test datasets live, relative to this
// package.
const datasetDir = "../../../shared/datasets"

var (
	csvMu    sync.Mutex
	csvCache = map[string]*table.Table{}
)

// loadCSV reads a shared dataset (cached across tests) and fails the test
// clearly if it is missing.
func loadCSV(tb testing.TB, name string) *table.Table {
	tb.Helper()
	csvMu.Lock()
	defer csvMu.Unlock()
	if t, ok := csvCache[name]; ok {
		return t
	}
	path := filepath.Join(datasetDir, name)
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("dataset %s is missing (expected at %s relative to shared/quality): %v", name, path, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	if len(recs) < 2 {
		tb.Fatalf("%s has no data rows", path)
	}
	t := &table.Table{Columns: recs[0], Rows: recs[1:]}
	csvCache[name] = t
	return t
}

// adultProfile is a hand-built profile of the Adult census table.
func adultProfile() *profile.Profile {
	num := func(n string) profile.Column { return profile.Column{Name: n, Kind: profile.Numeric, Integer: true} }
	cat := func(n string) profile.Column {
		return profile.Column{Name: n, Kind: profile.Categorical, MissingTokens: []string{"?"}}
	}
	return &profile.Profile{Version: 1, Columns: []profile.Column{
		num("age"), cat("workclass"), num("fnlwgt"), cat("education"), num("education-num"),
		cat("marital-status"), cat("occupation"), cat("relationship"), cat("race"), cat("sex"),
		num("capital-gain"), num("capital-loss"), num("hours-per-week"), cat("native-country"), cat("income"),
	}}
}

// shuffledColumns returns a copy of t whose columns are permuted
// independently: every marginal survives, every relationship is destroyed.
func shuffledColumns(t *table.Table, seed uint64) *table.Table {
	rng := rand.New(rand.NewPCG(seed, 1))
	rows := make([][]string, len(t.Rows))
	for i := range rows {
		rows[i] = make([]string, len(t.Columns))
	}
	for c := range t.Columns {
		perm := rng.Perm(len(t.Rows))
		for i, j := range perm {
			rows[i][c] = t.Rows[j][c]
		}
	}
	return &table.Table{Columns: t.Columns, Rows: rows}
}
