package jobspec

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// insurance are the columns of examples/insurance.csv as a profile gives
// them to writers.
var insurance = []table.Column{
	{Name: "age", Kind: table.Int}, {Name: "sex"}, {Name: "bmi", Kind: table.Float},
	{Name: "children", Kind: table.Int}, {Name: "smoker", Kind: table.Bool}, {Name: "region"},
	{Name: "charges", Kind: table.Float},
}

// ok is a valid request; each case changes one thing.
func ok() jobs.Request {
	return jobs.Request{Dataset: "ds_1", Rows: 100, Model: "tree", Seed: 1, Format: "csv"}
}

// wantField checks that err is a *FieldError with the field and message,
// classified InvalidArgument with that message for the user.
func wantField(t *testing.T, what string, err error, field, msg string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Errorf("%s: error %v, want a *FieldError on %s", what, err, field)
		return
	}
	if fe.Field != field || fe.Error() != msg {
		t.Errorf("%s:\n got field %q, message %q\nwant field %q, message %q", what, fe.Field, fe.Error(), field, msg)
	}
	if errs.CodeOf(err) != errs.InvalidArgument || !errors.Is(err, ErrInvalid) {
		t.Errorf("%s: code %v, want invalid_argument", what, errs.CodeOf(err))
	}
	if got := errs.Message(fmt.Errorf("pipeline step: %w", err)); got != msg {
		t.Errorf("%s: user message %q, want %q", what, got, msg)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		edit       func(r *jobs.Request)
		field, msg string // "" for a valid request
	}{
		{"valid", func(r *jobs.Request) {}, "", ""},
		{"valid with everything", func(r *jobs.Request) {
			r.Model, r.Epsilon, r.Delta, r.Target = "dp", 1, 1e-6, "charges"
			r.Conditions = map[string]string{"smoker": "yes", "age": "40", "bmi": "30.5", "children": ""}
			r.Rules = json.RawMessage(`{"rules":[{"type":"range","column":"age","min":18},{"type":"compare","left":"charges","op":">","value":0},{"type":"unique","columns":["age","bmi"]}]}`)
			r.Thresholds = json.RawMessage(`{"max_dcr_share":0.55,"skip":["ml_efficacy_ratio"]}`)
		}, "", ""},
		{"rows 0", func(r *jobs.Request) { r.Rows = 0 },
			"rows", "rows: must be an integer from 1 to 1000000000"},
		{"too many rows", func(r *jobs.Request) { r.Rows = MaxRows + 1 },
			"rows", "rows: must be an integer from 1 to 1000000000"},
		{"unknown model", func(r *jobs.Request) { r.Model = "gan" },
			"model", `model: "gan" is an unknown model; use one of tree, copula, dp`},
		{"unknown format", func(r *jobs.Request) { r.Format = "xlsx" },
			"format", `format: "xlsx" is an unknown format; use one of csv, jsonl, parquet`},
		{"epsilon 0 with dp", func(r *jobs.Request) { r.Model = "dp" },
			"epsilon", "epsilon: must be greater than 0 and at most 100 with model dp (the privacy budget, e.g. 1)"},
		{"negative epsilon with dp", func(r *jobs.Request) { r.Model, r.Epsilon = "dp", -1 },
			"epsilon", "epsilon: must be greater than 0 and at most 100 with model dp (the privacy budget, e.g. 1)"},
		{"epsilon over the limit", func(r *jobs.Request) { r.Model, r.Epsilon = "dp", 101 },
			"epsilon", "epsilon: must be greater than 0 and at most 100 with model dp (the privacy budget, e.g. 1)"},
		{"delta 1", func(r *jobs.Request) { r.Model, r.Epsilon, r.Delta = "dp", 1, 1 },
			"delta", "delta: must be greater than 0 and less than 1 (e.g. 1e-9), or left out for 1e-09"},
		{"delta above 1", func(r *jobs.Request) { r.Model, r.Epsilon, r.Delta = "dp", 1, 2 },
			"delta", "delta: must be greater than 0 and less than 1 (e.g. 1e-9), or left out for 1e-09"},
		{"epsilon without dp", func(r *jobs.Request) { r.Epsilon = 1 },
			"epsilon", "epsilon: applies to model dp only: set model to dp, or leave epsilon out"},
		{"target typo", func(r *jobs.Request) { r.Target = "chargs" },
			"target", `target: "chargs" is not a column; did you mean "charges"?`},
		{"target far from any column", func(r *jobs.Request) { r.Target = "income" },
			"target", `target: "income" is not a column; the columns are "age", "sex", "bmi", "children", "smoker", "region", "charges"`},
		{"target fixed by a condition", func(r *jobs.Request) {
			r.Target, r.Conditions = "smoker", map[string]string{"smoker": "yes"}
		}, "target", `target: "smoker" is fixed by conditions, so there is nothing to predict: choose another column or leave target out`},
		{"condition on a missing column", func(r *jobs.Request) { r.Conditions = map[string]string{"smokr": "yes"} },
			"conditions.smokr", `conditions.smokr: "smokr" is not a column; did you mean "smoker"?`},
		{"condition not a number", func(r *jobs.Request) { r.Conditions = map[string]string{"age": "old"} },
			"conditions.age", `conditions.age: "old" is not a number, and "age" is a numeric column`},
		{"condition not a whole number", func(r *jobs.Request) { r.Conditions = map[string]string{"children": "1.5"} },
			"conditions.children", `conditions.children: "1.5" is not a whole number, and "children" holds whole numbers`},
		{"rules on a missing column", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"range","column":"age","min":18},{"type":"in","column":"region","values":["x"]},{"type":"range","column":"agee","max":65}]}`)
		}, "rules[2].column", `rules[2].column: "agee" is not a column; did you mean "age"?`},
		{"compare on a missing column", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"compare","left":"age","op":"<","right":"chargez"}]}`)
		}, "rules[0].right", `rules[0].right: "chargez" is not a column; did you mean "charges"?`},
		{"unique on a missing column", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"unique","columns":["age","zip"]}]}`)
		}, "rules[0].columns[1]", `rules[0].columns[1]: "zip" is not a column; the columns are "age", "sex", "bmi", "children", "smoker", "region", "charges"`},
		{"rule field typo", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"range","colum":"age","min":18}]}`)
		}, "rules[0].colum", `rules[0].colum: is not a rule field; did you mean "column"?`},
		{"rule with a bad operator", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"compare","left":"age","op":"=>","value":3}]}`)
		}, "rules[0]", `rules[0]: compare op "=>": want one of < <= > >= == !=`},
		{"impossible range on a numeric column", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"in","column":"region","values":["x"]},{"type":"range","column":"age","min":70,"max":60}]}`)
		}, "rules[1]", `rules[1]: cannot be satisfied by any row: rules[1] (range age [70, 60]): min 70 > max 60`},
		{"range on a boolean column", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"range","column":"smoker","min":1}]}`)
		}, "rules[0]", `rules[0]: range needs a numeric or datetime column; "smoker" is boolean`},
		{"constant that is not a number", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"compare","left":"bmi","op":">","value":"fat"}]}`)
		}, "rules[0]", `rules[0]: constant "fat" is not a number`},
		{"rules not a document", func(r *jobs.Request) { r.Rules = json.RawMessage(`{"rule":[]}`) },
			"rules", `rules: has an unknown key "rule": the document is {"rules": [...]}`},
		{"unknown threshold", func(r *jobs.Request) { r.Thresholds = json.RawMessage(`{"max_dcr":0.6}`) },
			"thresholds.max_dcr", `thresholds.max_dcr: is not a threshold; did you mean "max_dcr_share"?`},
		{"unknown metric in thresholds", func(r *jobs.Request) { r.Thresholds = json.RawMessage(`{"skip":["dcr"]}`) },
			"thresholds.skip", `thresholds.skip: names "dcr", which is not a metric; did you mean "dcr_share"?`},
		{"threshold out of range", func(r *jobs.Request) { r.Thresholds = json.RawMessage(`{"max_dcr_share":0.3}`) },
			"thresholds.max_dcr_share", "thresholds.max_dcr_share: is 0.3; use a value from 0.5 to 1"},
	}
	for _, tt := range tests {
		req := ok()
		tt.edit(&req)
		err := Check(req, insurance)
		if tt.field == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		wantField(t, tt.name, err, tt.field, tt.msg)
	}
}

// TestValidateIsStatic: Validate needs no dataset, so what only the data
// can tell passes it and fails Check.
func TestValidateIsStatic(t *testing.T) {
	t.Parallel()
	req := ok()
	req.Target, req.Conditions = "chargs", map[string]string{"smokr": "yes"}
	req.Rules = json.RawMessage(`{"rules":[{"type":"range","column":"agee","max":65}]}`)
	if err := Validate(req); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := Check(req, insurance); err == nil {
		t.Error("Check passed a request naming missing columns")
	}
}

// TestPrepare compiles rules against the real insurance table with the
// rules package's own compiler.
func TestPrepare(t *testing.T) {
	t.Parallel()
	tab := readTable(t, "insurance.csv")
	p, err := profile.Infer(tab, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		edit       func(r *jobs.Request)
		field, msg string
	}{
		{"valid", func(r *jobs.Request) {
			r.Conditions = map[string]string{"smoker": "yes"}
			r.Rules = json.RawMessage(`{"rules":[{"type":"range","column":"age","min":18,"max":64},{"type":"combination","columns":["sex","region"]}]}`)
		}, "", ""},
		{"compare on a text column", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"compare","left":"region","op":"<","value":"x"}]}`)
		}, "rules[0]", `rules[0]: compare needs numeric or datetime columns; "region" is categorical`},
		{"impossible range", func(r *jobs.Request) {
			r.Rules = json.RawMessage(`{"rules":[{"type":"range","column":"age","min":70,"max":60}]}`)
		}, "rules[0]", `rules[0]: cannot be satisfied by any row: rules[0] (range age [70, 60]): min 70 > max 60`},
		{"condition against a rule", func(r *jobs.Request) {
			r.Conditions = map[string]string{"age": "30"}
			r.Rules = json.RawMessage(`{"rules":[{"type":"range","column":"age","min":40}]}`)
		}, "conditions", `conditions: contradict the rules: condition age=30 violates rules[0] (range age [40, ])`},
		{"boolean condition misspelt", func(r *jobs.Request) { r.Conditions = map[string]string{"smoker": "maybe"} },
			"conditions.smoker", `conditions.smoker: "maybe" is not a value of boolean column "smoker": use "yes" or "no"`},
		{"target typo", func(r *jobs.Request) { r.Target = "chargs" },
			"target", `target: "chargs" is not a column; did you mean "charges"?`},
	}
	for _, tt := range tests {
		req := ok()
		tt.edit(&req)
		set, err := Prepare(req, p, tab)
		if tt.field == "" {
			if err != nil || set == nil {
				t.Errorf("%s: set %v, error %v", tt.name, set, err)
			}
			continue
		}
		wantField(t, tt.name, err, tt.field, tt.msg)
	}
}

func readTable(t *testing.T, name string) *table.Table {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := table.OpenReader(f, table.CSV, table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tab, err := table.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body, field, msg string
	}{
		{`{"dataset":"d","rows":0}`, "rows", "rows: must be an integer from 1 to 1000000000"},
		{`{"dataset":"d","rows":"10"}`, "rows", "rows: must be an integer"},
		{`{"dataset":"d","rows":10,"model":"dp"}`, "epsilon", "epsilon: must be greater than 0 and at most 100 with model dp (the privacy budget, e.g. 1)"},
		{`{"dataset":"d","rows":10,"model":"dp","epsilon":1,"delta":1}`, "delta", "delta: must be greater than 0 and less than 1 (e.g. 1e-9), or left out for 1e-09"},
		{`{"dataset":"d","rows":10,"model":"gan"}`, "model", `model: "gan" is an unknown model; use one of tree, copula, dp`},
		{`{"dataset":"d","rows":10,"thresholds":{"max_dcr_share":2}}`, "thresholds.max_dcr_share", "thresholds.max_dcr_share: is 2; use a value from 0.5 to 1"},
		{`{"dataset":"d","rows":10,"rules":{"rules":[{"type":"range"}]}}`, "rules[0]", `rules[0]: range needs "column"`},
		{`{"dataset":"d","rows":10,"rules":{"rules":[{"type":"range","column":["a"]}]}}`, "rules[0].column", "rules[0].column: must be a string"},
		{`{"dataset":"d","rows":10,"conditions":{"smoker":[1]}}`, "conditions.smoker", "conditions.smoker: must be a string, number or boolean"},
		{`{"dataset":"d","rows":10,"colour":"red"}`, "colour", "colour: is not a known field"},
		{`{"dataset":"d","rows":10`, "body", "body: is cut short; send a whole JSON object"},
		{`{"rows":10}`, "dataset", "dataset: is required"},
		{`{"design_id":"shop","dataset":"d","rows":10}`, "dataset", "dataset: must be left out of a design job: it samples the saved spec design_id, not a dataset"},
		{`{"design_id":"shop","rows":10,"design_version":-1}`, "design_version", "design_version: must be a positive version, or left out for the latest"},
		{`{"dataset":"d","rows":10,"design_version":2}`, "design_version", "design_version: applies to design jobs only: set design_id, or leave design_version out"},
		{`{"design_id":"shop","rows":10,"model":"dp","epsilon":1}`, "model", "model: dp applies to datasets only: a design job samples its spec, which holds no personal data"},
		{`{"design_id":"shop","rows":10,"conditions":{"a":"b"}}`, "conditions", "conditions: apply to dataset jobs only: put fixed values in the spec's categories"},
		{`{"design_id":"shop","rows":10,"labels":true}`, "labels", "labels: applies to dataset jobs only: a spec already says what its columns mean"},
		{`{"dataset":"d","rows":10,"narrative":"yes"}`, "narrative", "narrative: must be true or false"},
		{`{"dataset":"d","rows":10,"model_id":7}`, "model_id", "model_id: must be a string"},
		{`{"dataset":"d","rows":10,"model_id":"m","model_version":0}`, "model_version", "model_version: must be an integer from 1 (a version of model_id's model), or left out for model_id itself"},
		{`{"dataset":"d","rows":10,"model_version":2}`, "model_version", "model_version: needs model_id: the model whose version to pin"},
		{`{"dataset":"d","rows":10,"model_categories":{"sex":["f","m"]}}`, "model_categories", "model_categories: needs model_id: the model whose categorical features they describe"},
		{`{"dataset":"d","rows":10,"model_id":"m","model_categories":{"sex":"f"}}`, "model_categories", "model_categories: must be an object of feature: [categories in the model's code order]"},
	}
	for _, tt := range tests {
		_, _, err := DecodeJSON(strings.NewReader(tt.body))
		wantField(t, tt.body, err, tt.field, tt.msg)
	}
	req, seedSet, err := DecodeJSON(strings.NewReader(`{"dataset":"d","rows":10,"conditions":{"age":30,"smoker":true}}`))
	if err != nil || seedSet || req.Model != "tree" || req.Format != "csv" || req.Conditions["age"] != "30" || req.Conditions["smoker"] != "true" {
		t.Errorf("DecodeJSON = %+v, %v, %v", req, seedSet, err)
	}
	req, _, err = DecodeJSON(strings.NewReader(`{"design_id":"shop","design_version":3,"rows":10,"narrative":true}`))
	if err != nil || req.Design != "shop" || req.DesignVersion != 3 || req.Dataset != "" || !req.Narrative || req.Labels {
		t.Errorf("DecodeJSON of a design job = %+v, %v", req, err)
	}
	req, _, err = DecodeJSON(strings.NewReader(`{"dataset":"d","rows":10,"model_id":"mdl_1","model_version":3,"model_categories":{"sex":["f","m"]}}`))
	if err != nil || req.ModelID != "mdl_1" || req.ModelVersion != 3 || len(req.ModelCategories["sex"]) != 2 {
		t.Errorf("DecodeJSON pinned model = %+v, %v", req, err)
	}
	// A body over the limit is not a field's fault: the caller sees why.
	rec := httptest.NewRecorder()
	_, _, err = DecodeJSON(http.MaxBytesReader(rec, body(`{"dataset":"d","rows":10,"target":"`+strings.Repeat("x", 100)+`"}`), 20))
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		t.Errorf("DecodeJSON over the limit: %v, want a *http.MaxBytesError", err)
	}
}

func body(s string) *readCloser { return &readCloser{strings.NewReader(s)} }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

func TestParseMetadata(t *testing.T) {
	t.Parallel()
	req, err := ParseMetadata(nil)
	if err != nil || fmt.Sprint(req) != fmt.Sprint(jobs.Request{Model: "tree", Seed: 1, Format: "csv"}) {
		t.Errorf("ParseMetadata(nil) = %+v, %v", req, err)
	}
	req, err = ParseMetadata(map[string]string{"Rows": "10", "model": "DP", "epsilon": "1.5", "format": "parquet", "target": "y",
		"conditions": `{"smoker":"yes","age":40}`, "thresholds": `{"max_dcr_share": 0.55}`})
	want := jobs.Request{Rows: 10, Model: "dp", Seed: 1, Format: "parquet", Epsilon: 1.5, Target: "y",
		Conditions: map[string]string{"smoker": "yes", "age": "40"}, Thresholds: json.RawMessage(`{"max_dcr_share":0.55}`)}
	if err != nil || fmt.Sprint(req) != fmt.Sprint(want) {
		t.Errorf("ParseMetadata = %+v, %v; want %+v", req, err, want)
	}
	tests := []struct {
		meta       map[string]string
		field, msg string
	}{
		{map[string]string{"rows": "-3"}, "rows", "rows: must be an integer from 1 to 1000000000"},
		{map[string]string{"rows": "ten"}, "rows", `rows: "ten" is not an integer: use 1 to 1000000000, or leave it out for as many rows as the upload has`},
		{map[string]string{"seed": "x"}, "seed", `seed: "x" is not an integer from 0 to 18446744073709551615`},
		{map[string]string{"model": "dp", "epsilon": "0"}, "epsilon", "epsilon: must be greater than 0 and at most 100 with model dp (the privacy budget, e.g. 1)"},
		{map[string]string{"conditions": "[1]"}, "conditions", "conditions: must be an object of column: value"},
		{map[string]string{"rules": "{"}, "rules", "rules: must be a JSON object"},
		{map[string]string{"thresholds": `{"skip":["everything"]}`}, "thresholds.skip", `thresholds.skip: names "everything", which is not a metric; use one of column_shapes, column_pair_trends, discriminator_auc, ml_efficacy_ratio, dcr_share, identical_share, membership_auc, attribute_inference_risk, pii_leaked_cells`},
	}
	for _, tt := range tests {
		_, err := ParseMetadata(tt.meta)
		wantField(t, fmt.Sprint(tt.meta), err, tt.field, tt.msg)
	}
}

// TestParseMetadataModel: an upload pins a custom model with the keys and
// rules of the body's model_id, model_version and model_categories.
func TestParseMetadataModel(t *testing.T) {
	t.Parallel()
	req, err := ParseMetadata(map[string]string{"Model_ID": " Mdl_AB1 ", "model_version": "2", "model_categories": `{"sex":["f","m"]}`})
	if err != nil || req.ModelID != "Mdl_AB1" || req.ModelVersion != 2 || fmt.Sprint(req.ModelCategories) != "map[sex:[f m]]" {
		t.Errorf("ParseMetadata = %+v, %v", req, err)
	}
	tests := []struct {
		meta       map[string]string
		field, msg string
	}{
		{map[string]string{"model_id": "m", "model_version": "0"}, "model_version", "model_version: must be an integer from 1 (a version of model_id's model), or left out for model_id itself"},
		{map[string]string{"model_id": "m", "model_version": "two"}, "model_version", `model_version: "two" is not an integer: use 1 or more (a version of model_id's model), or leave it out for model_id itself`},
		{map[string]string{"model_id": "m", "model_version": "1,2"}, "model_version", `model_version: "1,2" is not an integer: use 1 or more (a version of model_id's model), or leave it out for model_id itself`},
		{map[string]string{"model_version": "2"}, "model_version", "model_version: needs model_id: the model whose version to pin"},
		{map[string]string{"model_categories": `{"sex":["f"]}`}, "model_categories", "model_categories: needs model_id: the model whose categorical features they describe"},
		{map[string]string{"model_id": "m", "model_categories": `{"sex":"f"}`}, "model_categories", "model_categories: must be an object of feature: [categories in the model's code order]"},
		{map[string]string{"model_id": strings.Repeat("m", MaxText+1)}, "model_id", fmt.Sprintf("model_id: must be at most %d characters", MaxText)},
	}
	for _, tt := range tests {
		_, err := ParseMetadata(tt.meta)
		wantField(t, fmt.Sprint(tt.meta), err, tt.field, tt.msg)
	}
}

// TestDecodeAnonymize: an anonymize job takes a policy and no rows, model,
// rules, conditions or dp settings, and its policy is checked as far as it
// can be without the data; against the dataset, every column it names
// must exist.
func TestDecodeAnonymize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body, field, msg string
	}{
		{`{"dataset":"d","kind":"mask"}`, "kind", `kind: "mask" is an unknown kind; use synthetic or anonymize`},
		{`{"dataset":"d","kind":"anonymize","rows":10}`, "rows", "rows: applies to synthetic jobs only: an anonymize job de-identifies the dataset's own rows; leave rows out"},
		{`{"dataset":"d","kind":"anonymize","model":"tree"}`, "model", "model: applies to synthetic jobs only: an anonymize job fits no model; leave model out"},
		{`{"dataset":"d","kind":"anonymize","epsilon":1}`, "epsilon", "epsilon: applies to model dp only, not to anonymize jobs: leave epsilon and delta out"},
		{`{"dataset":"d","kind":"anonymize","conditions":{"a":"1"}}`, "conditions", "conditions: apply to synthetic jobs only (they shape sampling): leave conditions out of an anonymize job"},
		{`{"dataset":"d","kind":"anonymize","policy":{"kk":2}}`, "policy", `policy: is not a valid anonymisation policy: json: unknown field "kk"`},
		{`{"dataset":"d","kind":"anonymize","policy":{"k":"2"}}`, "policy.k", "policy.k: has the wrong type"},
		{`{"dataset":"d","kind":"anonymize","policy":{"k":5}}`, "policy", "policy: k-anonymity needs quasi-identifier columns (--quasi)"},
		{`{"dataset":"d","kind":"anonymize","policy":{"k":5,"quasi":["age"],"columns":{"age":{"op":"mask"}}}}`, "policy", "policy: quasi-identifier \"age\" has operator mask: Mondrian generalises quasi-identifiers itself"},
		{`{"dataset":"d","kind":"anonymize","policy":{"columns":{"name":{"op":"shred"}}}}`, "policy", `policy: column "name": unknown operator "shred" (want one of , keep, drop, redact, mask, pseudonym, token, surrogate, date_shift, generalize, top_code, bottom_code, scan)`},
		{`{"dataset":"d","rows":10,"policy":{}}`, "policy", `policy: applies to anonymize jobs only: set kind to "anonymize", or leave policy out`},
	}
	for _, tt := range tests {
		_, _, err := DecodeJSON(strings.NewReader(tt.body))
		wantField(t, tt.body, err, tt.field, tt.msg)
	}
	req, _, err := DecodeJSON(strings.NewReader(`{"dataset":"d","kind":"anonymize","seed":3,"policy":{"k":5,"l":2,"quasi":["age","sex"],"sensitive":["income"],"columns":{"name":{"op":"pseudonym"}}}}`))
	if err != nil || !req.Anonymizing() || req.Model != "" || req.Rows != 0 || req.Policy == nil || req.Policy.K != 5 || req.Policy.Columns["name"].Op != "pseudonym" {
		t.Fatalf("DecodeJSON = %+v, %v", req, err)
	}
	cols := []table.Column{{Name: "age", Kind: table.Int}, {Name: "sex"}, {Name: "income"}}
	wantField(t, "policy naming a missing column", Check(req, cols), "policy", `policy: "name" is not a column; the columns are "age", "sex", "income"`)
	if err := Check(req, append(cols, table.Column{Name: "name"})); err != nil {
		t.Errorf("Check with every column the policy names: %v", err)
	}
	if req, _, err := DecodeJSON(strings.NewReader(`{"dataset":"d","kind":"synthetic","rows":5}`)); err != nil || req.Kind != "" || req.Model != "tree" {
		t.Errorf("kind synthetic = %+v, %v; want a synthetic (kind \"\") tree job", req, err)
	}
}
