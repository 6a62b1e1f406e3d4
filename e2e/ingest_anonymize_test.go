package e2e

import (
	"io"
	"slices"
	"strings"
	"testing"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/pipeline"
)

// TestEmbeddedIngestAnonymize drops Adult rows in the uploads bucket with
// metadata asking for an anonymize job (kind=anonymize, the k/l/quasi/
// sensitive shorthands and a policy document for one column): the job is
// admitted for the upload's rows, runs without fitting, and its output is
// k-anonymous with l-diverse incomes under the tenant's key; metadata that
// mixes an anonymize job with rows gives a job that fails at once saying
// why.
func TestEmbeddedIngestAnonymize(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{})
	ctx := t.Context()
	if _, err := keyring.CreateMasterKeyset(strings.TrimPrefix(e.env.Config.KEK(), "file://")); err != nil {
		t.Fatal(err)
	}
	info, err := (&anonymize.KeyStore{State: e.env.State, Ring: e.env.Keyring, Secrets: e.env.Secrets}).Rotate(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	put := func(name string, meta map[string]string) {
		t.Helper()
		if err := objects.Put(ctx, e.env.Objects, name, func(w io.Writer) error {
			_, err := w.Write(adult(t, 2000))
			return err
		}, &blob.WriterOptions{Metadata: meta}); err != nil {
			t.Fatal(err)
		}
	}
	name := "uploads/acme/adult-anon.csv"
	meta := map[string]string{"kind": "anonymize", "k": "5", "l": "2", "quasi": "age,sex,race", "sensitive": "income",
		"policy": `{"max_suppress":0.2,"columns":{"occupation":{"op":"pseudonym"}}}`, "seed": "3"}
	put(name, meta)
	ingestEvent(t, e, "ev-anon", name, "11", meta, 2) // a redelivery creates nothing more
	bad := "uploads/acme/adult-bad.csv"
	badMeta := map[string]string{"kind": "anonymize", "rows": "100"}
	put(bad, badMeta)
	ingestEvent(t, e, "ev-bad", bad, "12", badMeta, 1)
	e.drain(t)

	page, err := jobs.New(e.env.State).List(ctx, "acme", 10, "")
	if err != nil || len(page.Jobs) != 2 {
		t.Fatalf("jobs %v, %v; want two", page, err)
	}
	var j, refused *jobs.Job
	for i := range page.Jobs {
		if page.Jobs[i].Request.Policy != nil {
			j = &page.Jobs[i]
		} else {
			refused = &page.Jobs[i]
		}
	}
	if j == nil || refused == nil {
		t.Fatalf("jobs %+v: want one with the policy and one refused", page.Jobs)
	}
	if refused.State != jobs.Failed || refused.ErrorCode != "invalid_argument" || !strings.Contains(refused.Error, "leave rows out") {
		t.Errorf("job from metadata with rows: %s %s %q, want failed invalid_argument saying to leave rows out", refused.State, refused.ErrorCode, refused.Error)
	}
	if j.State != jobs.Succeeded && j.Outputs[pipeline.OutputQuarantine] == "" {
		t.Fatalf("anonymize job from an upload ended %s: %s %v", j.State, j.Error, j.Reasons)
	}
	pol := j.Request.Policy
	if !j.Request.Anonymizing() || j.Request.Model != "" || pol.K != 5 || pol.L != 2 || !slices.Equal(pol.Quasi, []string{"age", "sex", "race"}) ||
		pol.Columns["occupation"].Op != anonymize.OpPseudonym || j.Request.Seed != 3 {
		t.Errorf("request %+v (policy %+v) does not carry the metadata", j.Request, pol)
	}
	a := j.Anonymization
	if a == nil || a.KeyVersion != info.KeyVersion || a.KAnonymity == nil || a.KAnonymity.MinClass < 5 || a.KAnonymity.MinDiversity < 2 {
		t.Fatalf("anonymization %+v, want k=5, l=2 met under key %q", a, info.KeyVersion)
	}
	if states := e.rec.jobStates(j.ID); slices.Contains(states, "fitting") {
		t.Errorf("job states %v: an anonymize job fits no model", states)
	}
	// Every equivalence class of the output has 5 rows or more and 2
	// incomes or more; suppressed rows (*) are outside every class.
	out := readCSV(t, outputOf(t, e.env.Objects, j))
	col := func(name string) int { return slices.Index(out[0], name) }
	classes := map[string]map[string]int{}
	for _, row := range out[1:] {
		key := row[col("age")] + "|" + row[col("sex")] + "|" + row[col("race")]
		if strings.Contains(key, anonymize.Suppressed) {
			continue
		}
		if classes[key] == nil {
			classes[key] = map[string]int{}
		}
		classes[key][row[col("income")]]++
	}
	if len(classes) == 0 || len(out)-1 != a.Rows {
		t.Fatalf("%d classes over %d output rows, want some over the %d anonymised rows", len(classes), len(out)-1, a.Rows)
	}
	for key, incomes := range classes {
		n := 0
		for _, c := range incomes {
			n += c
		}
		if n < 5 || len(incomes) < 2 {
			t.Errorf("class %s: %d rows, %d incomes; want ≥ 5 and ≥ 2", key, n, len(incomes))
		}
	}
	if got := e.rec.auditActions(j.ID); !slices.Contains(got, "job.created") {
		t.Errorf("audit actions %v lack job.created", got)
	}
}
