package e2e

import (
	"slices"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
)

// TestEmbeddedIngestValidates: a file dropped in the uploads bucket is
// validated when it is copied. A table that cannot be used becomes an
// invalid dataset (with the row and column) and a job that fails at once
// with that reason, never reaching a model; a good one records its row
// count and columns, and a job without a rows option asks for as many
// rows as the copy has. A redelivered event reads nothing again.
func TestEmbeddedIngestValidates(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{})
	ctx := t.Context()
	good := adult(t, 300)
	ragged := append(adult(t, 50), []byte("39,State-gov\n")...)
	ingestUpload(t, e, "acme", "good.csv", "1", map[string]string{"model": "copula", "seed": "2"}, good)
	ingestUpload(t, e, "acme", "ragged.csv", "2", map[string]string{"rows": "100"}, ragged)
	ingestUpload(t, e, "acme", "one.csv", "3", nil, adult(t, 1))
	ingestUpload(t, e, "acme", "sheet.xlsx", "4", nil, []byte("PK\x03\x04 not a table"))
	ingestUpload(t, e, "acme", "ragged.csv", "2", map[string]string{"rows": "100"}, ragged) // redelivered
	e.drain(t)

	page, err := jobs.New(e.env.State).List(ctx, "acme", 100, "")
	if err != nil {
		t.Fatal(err)
	}
	byFile := map[string]*jobs.Job{}
	dsByFile := map[string]*datasets.Dataset{}
	for i := range page.Jobs {
		ds, err := datasets.New(e.env.State).Get(ctx, "acme", page.Jobs[i].Request.Dataset)
		if err != nil {
			t.Fatal(err)
		}
		byFile[ds.Name], dsByFile[ds.Name] = &page.Jobs[i], ds
	}
	if len(byFile) != 4 {
		t.Fatalf("%d jobs for 4 uploads: %v", len(page.Jobs), byFile)
	}

	gd, gj := dsByFile["good.csv"], byFile["good.csv"]
	if gd.Status != datasets.Ready || gd.Rows != 300 || len(gd.Columns) != 15 || gd.Columns[0].Name != "age" || gd.Columns[0].Kind != "numeric" {
		t.Errorf("good upload's dataset: %s, %d rows, columns %v", gd.Status, gd.Rows, gd.Columns)
	}
	if gj.Request.Rows != 300 {
		t.Errorf("good upload's job asks for %d rows, want the copy's 300", gj.Request.Rows)
	}
	if gj.State != jobs.Succeeded && gj.State != jobs.Failed {
		t.Errorf("good upload's job is %s", gj.State)
	}

	rd, rj := dsByFile["ragged.csv"], byFile["ragged.csv"]
	if rd.Status != datasets.Invalid || rd.Problem == nil || rd.Problem.Row != 51 || rd.Rows != 0 {
		t.Errorf("ragged upload's dataset: %s %+v", rd.Status, rd.Problem)
	}
	wantContains(t, "the ragged upload's job error", rj.Error, "row 51")
	wantContains(t, "the ragged upload's job error", rj.Error, "header has 15")
	if rj.State != jobs.Failed || rj.QuotaReservation != nil {
		t.Errorf("ragged upload's job: %s, reservation %+v", rj.State, rj.QuotaReservation)
	}
	if !slices.Contains(e.rec.auditActions(rj.ID), "job.failed") {
		t.Errorf("the ragged upload's job failure was not audited: %v", e.rec.auditActions(rj.ID))
	}

	wantContains(t, "the 1-row upload's job error", byFile["one.csv"].Error, "1 data row")
	wantContains(t, "the 1-row upload's job error", byFile["one.csv"].Error, "at least 10")
	wantContains(t, "the spreadsheet upload's job error", byFile["sheet.xlsx"].Error, ".csv, .tsv, .jsonl")
	for file, j := range byFile {
		if strings.Contains(j.Error, "tenants/") || strings.Contains(j.Error, "table:") {
			t.Errorf("%s: the job error leaks internals: %q", file, j.Error)
		}
	}
}
