package synth

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// datasets is where the shared test tables live, relative to this package.
const datasets = "../../../shared/datasets"

// readCSV reads a whole CSV file with a header row.
func readCSV(tb testing.TB, name string) *table.Table {
	tb.Helper()
	path := filepath.Join(datasets, name)
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("dataset %s missing (tests need the shared datasets checked out beside the repo): %v", path, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	if len(recs) < 2 {
		tb.Fatalf("dataset %s has no rows", path)
	}
	return &table.Table{Columns: recs[0], Rows: recs[1:]}
}

var (
	adultOnce               sync.Once
	adultTrain, adultHold   *table.Table
	adultTrainErr, adultErr string
)

// adult returns the adult training and holdout tables, read once.
func adult(tb testing.TB) (*table.Table, *table.Table) {
	tb.Helper()
	adultOnce.Do(func() {
		for _, name := range []string{"adult.train.csv", "adult.holdout.csv"} {
			if _, err := os.Stat(filepath.Join(datasets, name)); err != nil {
				adultErr = err.Error()
			}
		}
		if adultErr == "" {
			adultTrain = readCSV(tb, "adult.train.csv")
			adultHold = readCSV(tb, "adult.holdout.csv")
		}
	})
	if adultErr != "" {
		tb.Fatalf("adult dataset missing under %s: %s", datasets, adultErr)
	}
	return adultTrain, adultHold
}

// adultProfile is a hand-written profile of adult (profile.Infer's job in
// production).
func adultProfile() *profile.Profile {
	p := &profile.Profile{Version: 1}
	nums := map[string]bool{"age": true, "fnlwgt": true, "education-num": true, "capital-gain": true, "capital-loss": true, "hours-per-week": true}
	missing := map[string]bool{"workclass": true, "occupation": true, "native-country": true}
	for _, name := range strings.Split("age,workclass,fnlwgt,education,education-num,marital-status,occupation,relationship,race,sex,capital-gain,capital-loss,hours-per-week,native-country,income", ",") {
		c := profile.Column{Name: name, Kind: profile.Categorical}
		if nums[name] {
			c.Kind, c.Integer = profile.Numeric, true
		}
		if missing[name] {
			c.MissingTokens = []string{"?"}
		}
		p.Columns = append(p.Columns, c)
	}
	return p
}

// collect is a RowWriter keeping copies of the rows.
type collect struct{ rows [][]string }

func (c *collect) Write(row []string) error {
	c.rows = append(c.rows, append([]string(nil), row...))
	return nil
}
