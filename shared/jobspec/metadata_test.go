package jobspec

import (
	"fmt"
	"testing"

	"synthos.dev/synthos/shared/anonymize"
	"synthos.dev/synthos/shared/jobs"
)

// TestParseMetadataAnonymize: an upload's metadata starts an anonymize job
// with its policy as a JSON document, the k/l/quasi/sensitive shorthands,
// or both for different fields; rows and model are refused, the
// anonymisation keys on a synthetic job too, and a policy is checked as
// the API checks it.
func TestParseMetadataAnonymize(t *testing.T) {
	t.Parallel()
	ok := []struct {
		name string
		meta map[string]string
		want anonymize.Policy
	}{
		{"shorthands", map[string]string{"Kind": "Anonymize", "k": "5", "l": "2", "quasi": "age, sex,race", "sensitive": "income"},
			anonymize.Policy{K: 5, L: 2, Quasi: []string{"age", "sex", "race"}, Sensitive: []string{"income"}}},
		{"document", map[string]string{"kind": "anonymize", "policy": `{"k":3,"quasi":["zip"],"columns":{"email":{"op":"redact"}}}`},
			anonymize.Policy{K: 3, Quasi: []string{"zip"}, Columns: map[string]anonymize.Rule{"email": {Op: anonymize.OpRedact}}}},
		{"document and shorthands", map[string]string{"kind": "anonymize", "policy": `{"columns":{"email":{"op":"drop"}}}`, "k": "4", "quasi": "zip"},
			anonymize.Policy{K: 4, Quasi: []string{"zip"}, Columns: map[string]anonymize.Rule{"email": {Op: anonymize.OpDrop}}}},
	}
	for _, tc := range ok {
		req, err := ParseMetadata(tc.meta)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if req.Kind != jobs.KindAnonymize || req.Model != "" || req.Rows != 0 || req.Policy == nil || fmt.Sprint(*req.Policy) != fmt.Sprint(tc.want) {
			t.Errorf("%s: request %+v (policy %+v), want an anonymize job with policy %+v", tc.name, req, req.Policy, tc.want)
		}
	}
	// kind=anonymize alone: the default policy (the profile's PII kinds).
	if req, err := ParseMetadata(map[string]string{"kind": "anonymize"}); err != nil || req.Policy != nil || !req.Anonymizing() {
		t.Errorf("kind alone = %+v, %v; want an anonymize job with the default policy", req, err)
	}
	tests := []struct {
		meta       map[string]string
		field, msg string
	}{
		{map[string]string{"kind": "mask"}, "kind", `kind: "mask" is an unknown kind; use synthetic or anonymize`},
		{map[string]string{"kind": "anonymize", "rows": "10"}, "rows", "rows: applies to synthetic jobs only: an anonymize job de-identifies the upload's own rows; leave rows out"},
		{map[string]string{"kind": "anonymize", "model": "tree"}, "model", "model: applies to synthetic jobs only: an anonymize job fits no model; leave model out"},
		{map[string]string{"k": "5"}, "k", `k: applies to anonymize jobs only: set kind to "anonymize", or leave k out`},
		{map[string]string{"kind": "synthetic", "policy": "{}"}, "policy", `policy: applies to anonymize jobs only: set kind to "anonymize", or leave policy out`},
		{map[string]string{"kind": "anonymize", "k": "five"}, "k", `k: "five" is not an integer`},
		{map[string]string{"kind": "anonymize", "k": "-2"}, "policy", "policy: k must be 0 (off) or more, not -2"},
		{map[string]string{"kind": "anonymize", "policy": `{"k":5}`, "k": "3"}, "k", "k: is also set in policy: set it in one place"},
		{map[string]string{"kind": "anonymize", "quasi": "age,,sex"}, "quasi", `quasi: "age,,sex" has an empty column name: list columns separated by commas`},
		{map[string]string{"kind": "anonymize", "policy": `{"kk":5}`}, "policy", `policy: is not a valid anonymisation policy: json: unknown field "kk"`},
		{map[string]string{"kind": "anonymize", "policy": `{"k":"5"}`}, "policy.k", "policy.k: has the wrong type"},
	}
	for _, tt := range tests {
		_, err := ParseMetadata(tt.meta)
		wantField(t, fmt.Sprint(tt.meta), err, tt.field, tt.msg)
	}
}
