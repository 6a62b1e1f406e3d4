package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// readyDataset stores data as a ready dataset with its row count and
// columns recorded, as the API's validation leaves an upload.
func readyDataset(t *testing.T, e *embedded, tenant, id string, data []byte) *datasets.Dataset {
	t.Helper()
	rows := readCSV(t, data)
	tab := &table.Table{Columns: rows[0], Rows: rows[1:]}
	prof, err := profile.Infer(tab, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds := &datasets.Dataset{ID: id, Tenant: tenant, Name: id + ".csv", Key: datasets.DatasetKey(tenant, id, id+".csv"),
		Format: "csv", Size: int64(len(data)), Status: "ready", Rows: int64(len(tab.Rows))}
	for _, c := range prof.Columns {
		ds.Columns = append(ds.Columns, datasets.Column{Name: c.Name, Kind: string(c.Kind)})
	}
	if err := objects.Put(t.Context(), e.env.Objects, ds.Key, func(w io.Writer) error { _, err := w.Write(data); return err }, nil); err != nil {
		t.Fatal(err)
	}
	if err := datasets.New(e.env.State).Create(t.Context(), ds); err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestEmbeddedAnonymizeJob runs anonymize jobs through the API and the
// pipeline on 3,000 Adult rows: admitted and metered like synthetic jobs,
// k-anonymous with l-diversity in the output, evaluated and with a
// compliance report built with the evaluation, which states the key
// version; after a key rotation the next job uses the new version while the
// first job's tokens still re-identify; and a synthetic job with the same
// seed sets the same holdout aside, so the reports compare alike.
func TestEmbeddedAnonymizeJob(t *testing.T) {
	t.Parallel()
	e := startEmbedded(t, embeddedOptions{})
	if _, err := keyring.CreateMasterKeyset(strings.TrimPrefix(e.env.Config.KEK(), "file://")); err != nil {
		t.Fatal(err)
	}
	call := apiClient(t, e, plans.Plan{Name: plans.Free, RowsPerMonth: 1_000_000, RowsPerJob: 10_000, ConcurrentJobs: 10, ReportRetentionDays: 1})
	ds := readyDataset(t, e, "acme", "ds-adult", adult(t, 3000))

	quasi := []string{"age", "sex", "race", "native-country", "education", "marital-status"}
	body := map[string]any{"kind": "anonymize", "dataset": ds.ID, "seed": 7, "policy": map[string]any{
		"k": 5, "l": 2, "quasi": quasi, "sensitive": []string{"income"}, "max_suppress": 0.2,
		"columns": map[string]any{"fnlwgt": map[string]any{"op": "token"}, "occupation": map[string]any{"op": "pseudonym"}},
	}}

	// No keyring yet: the job is admitted, and fails saying how to get one.
	code, resp := call("POST", "/v1/jobs", body)
	if code != 202 {
		t.Fatalf("POST /v1/jobs (anonymize) = %d %v", code, resp)
	}
	waitIdle(t, e)
	if j := loadJob(t, e.env, resp["id"].(string)); j.State != jobs.Failed || j.ErrorCode != "invalid_argument" || !strings.Contains(j.Error, "/v1/anonymize/keys/rotate") {
		t.Errorf("job without a keyring ended %s %s: %q; want failed invalid_argument naming the rotate route", j.State, j.ErrorCode, j.Error)
	}

	code, keys := call("POST", "/v1/anonymize/keys/rotate", nil)
	if code != 200 || keys["hmac_version"] != float64(1) || keys["source"] != "rotated" {
		t.Fatalf("first rotation = %d %v, want the first keyring (hmac version 1)", code, keys)
	}
	v1 := keys["key_version"].(string)

	run := func(body map[string]any) (map[string]any, *jobs.Job) {
		t.Helper()
		code, resp := call("POST", "/v1/jobs", body)
		if code != 202 {
			t.Fatalf("POST /v1/jobs = %d %v", code, resp)
		}
		waitIdle(t, e)
		id := resp["id"].(string)
		code, view := call("GET", "/v1/jobs/"+id, nil)
		if code != 200 {
			t.Fatalf("GET job = %d %v", code, view)
		}
		return view, loadJob(t, e.env, id)
	}
	view, j := run(body)
	if j.State != jobs.Succeeded && j.Outputs[pipeline.OutputQuarantine] == "" {
		t.Fatalf("anonymize job ended %s: %s %v", j.State, j.Error, j.Reasons)
	}
	if view["kind"] != "anonymize" {
		t.Errorf("job view kind = %v, want anonymize", view["kind"])
	}
	an, _ := view["anonymization"].(map[string]any)
	ka, _ := an["k_anonymity"].(map[string]any)
	if an == nil || ka == nil || an["key_version"] != v1 {
		t.Fatalf("job view anonymization = %v, want the k-anonymity result and key version %q", an, v1)
	}
	train := readObject(t, e.env.Objects, datasets.TrainKey("acme", j.ID))
	trainRows := bytes.Count(train, []byte("\n")) - 1
	if got := an["rows"]; got != float64(trainRows) || j.Request.Rows != int64(trainRows) {
		t.Errorf("anonymised rows %v (job rows %d), want the %d training rows", got, j.Request.Rows, trainRows)
	}
	if s := ka["suppressed_rows"].(float64); s > 0.2*float64(trainRows) {
		t.Errorf("suppressed %v of %d rows, more than the policy's 20%%", s, trainRows)
	}
	if gil := ka["gil"].(float64); !(gil > 0 && gil < 1) {
		t.Errorf("information loss (GIL) = %v, want in (0, 1)", gil)
	}

	t.Logf("anonymize job %s: %s (%s %v), %d rows, k-anonymity %v, key %s", j.ID, j.State, j.Error, j.Reasons, trainRows, ka, v1)

	// Every equivalence class of the output has k rows and l incomes.
	out := readCSV(t, outputOf(t, e.env.Objects, j))
	col := func(name string) int { return slices.Index(out[0], name) }
	classes := map[string][]string{}
	for _, row := range out[1:] {
		var key []string
		for _, q := range quasi {
			key = append(key, row[col(q)])
		}
		if row[col("age")] == "*" {
			continue // suppressed
		}
		k := strings.Join(key, "|")
		classes[k] = append(classes[k], row[col("income")])
	}
	if len(classes) < 2 {
		t.Fatalf("the output has %d equivalence classes", len(classes))
	}
	for k, incomes := range classes {
		if len(incomes) < 5 || len(slices.Compact(slices.Sorted(slices.Values(incomes)))) < 2 {
			t.Errorf("class %s has %d rows and incomes %v: want k=5, l=2", k, len(incomes), incomes)
		}
	}
	token := out[1][col("fnlwgt")]
	pseudonym := out[1][col("occupation")]
	if !strings.HasPrefix(token, "tk_") || !strings.HasPrefix(pseudonym, "ps_") {
		t.Fatalf("row 1 fnlwgt %q, occupation %q: want a token and a pseudonym", token, pseudonym)
	}
	original := readCSV(t, train)[1][col("fnlwgt")]

	// Reports: evaluation and compliance, built with the evaluation; the
	// compliance report states the key version.
	for _, name := range []string{pipeline.OutputReportJSON, pipeline.OutputReportHTML, pipeline.OutputComplianceJSON, pipeline.OutputComplianceHTML} {
		if j.Outputs[name] == "" {
			t.Errorf("outputs %v lack %s", j.Outputs, name)
		}
	}
	if _, ok := j.Outputs[pipeline.OutputModel]; ok {
		t.Errorf("an anonymize job lists a model output: %v", j.Outputs)
	}
	code, comp := call("GET", "/v1/jobs/"+j.ID+"/compliance", nil)
	proc, _ := comp["processing"].(map[string]any)
	if code != 200 || proc["key_version"] != v1 || !strings.Contains(fmt.Sprint(proc["operation"]), "de-identification") {
		t.Errorf("GET compliance = %d, processing %v; want key version %q and a de-identification", code, proc, v1)
	}

	// Rotation: the next job uses version 2; the first job's token still
	// re-identifies, and so does the new one.
	code, keys = call("POST", "/v1/anonymize/keys/rotate", nil)
	if code != 200 || keys["hmac_version"] != float64(2) {
		t.Fatalf("second rotation = %d %v", code, keys)
	}
	v2 := keys["key_version"].(string)
	if v2 == v1 {
		t.Fatalf("rotation kept key version %q", v1)
	}
	// De-identified real rows keep real values, so the release gate's
	// privacy and fidelity thresholds usually quarantine them (the first
	// job's reasons are logged above); thresholds opt out as for any job.
	body["thresholds"] = skipGate(t)
	_, j2 := run(body)
	if j2.State != jobs.Succeeded || j2.Anonymization == nil || j2.Anonymization.KeyVersion != v2 {
		t.Fatalf("job after rotation: state %s (%s), anonymization %+v; want succeeded with key version %q", j2.State, j2.Error, j2.Anonymization, v2)
	}
	if code, dl := call("GET", "/v1/jobs/"+j2.ID+"/output", nil); code != 200 || dl["url"] == nil {
		t.Errorf("GET output of the released anonymize job = %d %v", code, dl)
	}
	out2 := readCSV(t, outputOf(t, e.env.Objects, j2))
	token2, pseudonym2 := out2[1][col("fnlwgt")], out2[1][col("occupation")]
	if token2 == token || pseudonym2 == pseudonym {
		t.Errorf("after rotation row 1 has token %q (was %q) and pseudonym %q (was %q): want new ones", token2, token, pseudonym2, pseudonym)
	}
	code, det := call("POST", "/v1/anonymize/detokenize", map[string]any{"tokens": []string{token, token2, "tk_bogus"}})
	vals, _ := det["values"].([]any)
	if code != 200 || len(vals) != 3 {
		t.Fatalf("detokenize = %d %v", code, det)
	}
	for i, want := range []string{original, original} {
		if v := vals[i].(map[string]any); v["value"] != want {
			t.Errorf("detokenize token %d = %v, want %q", i, v, want)
		}
	}
	if v := vals[2].(map[string]any); v["error"] == nil {
		t.Errorf("a bogus token detokenized: %v", v)
	}
	waitIdle(t, e) // audit events reach the recorder through the bus
	e.rec.mu.Lock()
	var got []string
	for _, ev := range e.rec.audits {
		if ev.Resource == "tenant/anonymize-keys" {
			got = append(got, ev.Action)
		}
	}
	e.rec.mu.Unlock()
	if !slices.Contains(got, "anonymize.keys_rotated") || !slices.Contains(got, "anonymize.detokenized") {
		t.Errorf("audit actions on the keys %v, want the rotations and the re-identification", got)
	}

	// Metered like synthetic jobs: the released job's rows are used (the
	// quarantined one's released), nothing stays reserved or running.
	if code, u := call("GET", "/v1/usage", nil); code != 200 || u["used"] != float64(trainRows) || u["reserved"] != float64(0) || u["running_jobs"] != float64(0) {
		t.Errorf("usage = %d %v; want %d rows used, none reserved or running", code, u, trainRows)
	}

	// A synthetic job with the same seed sets the same holdout aside.
	_, syn := run(map[string]any{"dataset": ds.ID, "rows": 500, "model": "copula", "seed": 7})
	if a, b := readObject(t, e.env.Objects, datasets.HoldoutKey("acme", j.ID)), readObject(t, e.env.Objects, datasets.HoldoutKey("acme", syn.ID)); !bytes.Equal(a, b) {
		t.Error("the synthetic and the anonymize job with one seed set different holdouts aside")
	}
	if syn.Outputs[pipeline.OutputComplianceJSON] == "" {
		t.Errorf("the synthetic job (%s) has no compliance report: %v", syn.State, syn.Outputs)
	}
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(b))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// waitIdle waits until the Bus has nothing queued, running or waiting to
// be retried, without closing it to publications (Drain does) so the test
// can go on calling the API. A handler publishes before it returns, so an
// idle Bus has no work left.
func waitIdle(t *testing.T, e *embedded) {
	t.Helper()
	for {
		s := e.bus.Stats()
		if s.Queued+s.Running+s.Retrying == 0 {
			return
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("the bus never went idle: %+v", s)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestEmulatorsAnonymizeJob runs an anonymize job on the production
// clients (Firestore and Pub/Sub emulators, Cloud Storage through the real
// client): the policy and the result survive Firestore's encoding, the
// keyring rotated in is sealed in Firestore, and the job is evaluated with
// its compliance report stating the key version.
func TestEmulatorsAnonymizeJob(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	em := startEmulated(t, ctx, nil, nil)
	env, tenant, rec := em.env, em.tenant, em.rec
	if _, err := keyring.CreateMasterKeyset(strings.TrimPrefix(env.Config.KEK(), "file://")); err != nil {
		t.Fatal(err)
	}
	info, err := (&anonymize.KeyStore{State: env.State, Ring: env.Keyring, Secrets: env.Secrets}).Rotate(ctx, tenant)
	if err != nil {
		t.Fatal(err)
	}
	ds := upload(t, env, tenant, "ds-"+em.project, "adult.csv", adult(t, 3000))
	pol := &anonymize.Policy{K: 5, L: 2, Quasi: []string{"age", "sex", "race"}, Sensitive: []string{"income"},
		Columns: map[string]anonymize.Rule{"fnlwgt": {Op: anonymize.OpToken}, "native-country": {Op: anonymize.OpGeneralize,
			Hierarchy: map[string]string{"United-States": "North-America", "Canada": "North-America"}}}}
	j := &jobs.Job{ID: "job-anon-" + em.project, Tenant: tenant, Request: jobs.Request{
		Dataset: ds.ID, Rows: 3000, Seed: 5, Format: "csv", Kind: jobs.KindAnonymize, Policy: pol}}
	submit(t, env, j)

	deadline := time.After(8 * time.Minute)
	var got *jobs.Job
	for {
		got = loadJob(t, env, j.ID)
		if got.State.Terminal() && slices.Contains(rec.auditActions(j.ID), "job."+string(got.State)) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job is %s when the test ended", got.State)
		case <-deadline:
			t.Fatalf("job still %s after 8 minutes (attempts %d, last error %q); audit actions seen: %v", got.State, got.Attempts, got.LastError, rec.auditActions(j.ID))
		case <-time.After(50 * time.Millisecond):
		}
	}
	if got.State == jobs.Failed && got.Outputs[pipeline.OutputQuarantine] == "" {
		t.Fatalf("job failed outside the gate: %s %v", got.Error, got.Reasons)
	}
	if got.Request.Policy == nil || got.Request.Policy.Columns["native-country"].Hierarchy["Canada"] != "North-America" {
		t.Errorf("the policy did not survive Firestore: %+v", got.Request.Policy)
	}
	a := got.Anonymization
	if a == nil || a.KeyVersion != info.KeyVersion || a.KAnonymity == nil || a.KAnonymity.MinClass < 5 || a.KAnonymity.MinDiversity < 2 {
		t.Fatalf("anonymization %+v, want k=5, l=2 met under key %q", a, info.KeyVersion)
	}
	if states := rec.jobStates(j.ID); slices.Contains(states, "fitting") || !slices.Contains(states, "sampling") {
		t.Errorf("job states %v: an anonymize job samples without fitting", states)
	}
	for _, k := range []string{pipeline.OutputReportJSON, pipeline.OutputComplianceJSON, pipeline.OutputComplianceHTML} {
		if ok, err := env.Objects.Exists(ctx, got.Outputs[k]); err != nil || !ok {
			t.Errorf("output %s: exists=%v err=%v", k, ok, err)
		}
	}
	comp := readObject(t, env.Objects, got.Outputs[pipeline.OutputComplianceJSON])
	if !bytes.Contains(comp, []byte(info.KeyVersion)) {
		t.Errorf("the compliance report does not state the key version %q", info.KeyVersion)
	}
	// The category hierarchy generalised every country: its parent, or
	// "*" outside it.
	out := readCSV(t, outputOf(t, env.Objects, got))
	c := slices.Index(out[0], "native-country")
	for i, row := range out[1:] {
		if v := row[c]; v != "North-America" && v != anonymize.Suppressed {
			t.Fatalf("row %d native-country %q, want North-America or *", i+1, v)
		}
	}
}
