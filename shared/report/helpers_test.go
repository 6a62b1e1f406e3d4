package report

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/table"
)

// datasetDir is where the shared test datasets live, relative to this
// package.
const datasetDir = "../../../shared/datasets"

// loadCSV reads a shared dataset and fails the test clearly if it is
// missing.
func loadCSV(tb testing.TB, name string) *table.Table {
	tb.Helper()
	path := filepath.Join(datasetDir, name)
	if _, err := os.Stat(path); err != nil {
		tb.Fatalf("dataset %s is missing (expected at %s relative to shared/report): %v", name, path, err)
	}
	r, err := table.Open(path, table.Options{})
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer r.Close()
	t, err := table.ReadAll(r)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return t
}

// adultInputs evaluates real records the model never saw as if they were
// synthetic, so every score has a known ideal: the Adult training file is
// split into a training part and a holdout of the holdout file's size, and
// the holdout file plays the synthetic table. The discriminator is kept
// small so the tests stay quick.
func adultInputs(tb testing.TB) Inputs {
	tb.Helper()
	train := loadCSV(tb, "adult.train.csv")
	synth := loadCSV(tb, "adult.holdout.csv")
	cut := len(train.Rows) - len(synth.Rows)
	fit := &table.Table{Columns: train.Columns, Rows: train.Rows[:cut]}
	held := &table.Table{Columns: train.Columns, Rows: train.Rows[cut:]}
	p, err := profile.Infer(fit, profile.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return Inputs{
		Train: fit, Holdout: held, Synthetic: synth, Profile: p,
		Target:    "income",
		Sensitive: []string{"income"},
		Quasi:     []string{"age", "sex", "race", "education"},
		Seed:      7,
		TrainName: "adult.train.csv[:19537]", HoldoutName: "adult.train.csv[19537:]", SyntheticName: "adult.holdout.csv",
		Model:   "none (unseen real rows)",
		Quality: quality.Options{DiscriminatorRows: 1500, Folds: 3, Triples: 30},
	}
}

var (
	adultOnce   sync.Once
	adultReport *Report
	adultErr    error
)

// builtAdult builds the Adult report once for every test that reads it.
func builtAdult(tb testing.TB) *Report {
	tb.Helper()
	adultOnce.Do(func() {
		adultReport, adultErr = Build(context.Background(), adultInputs(tb))
	})
	if adultErr != nil {
		tb.Fatalf("Build: %v", adultErr)
	}
	return adultReport
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
		for i, j := range rng.Perm(len(t.Rows)) {
			rows[i][c] = t.Rows[j][c]
		}
	}
	return &table.Table{Columns: t.Columns, Rows: rows}
}
