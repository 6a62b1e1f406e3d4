package console

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"

	"synthos.dev/synthos/internal/chromiumtest"
)

// TestChecksInBrowser runs the console's client-side checks (data.js) in
// Chromium, where they run for users: the missing-value count of a picked
// CSV and the validation of rules and conditions against the columns. The
// module is imported from the handler, so this also proves it loads under
// the policy.
func TestChecksInBrowser(t *testing.T) {
	bin := chromiumtest.Binary(t)
	srv := httptest.NewServer(newHandler(t))
	t.Cleanup(srv.Close)
	ctx := chromiumtest.Browser(t, bin)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitReady(chromedp.CSS(`html[data-ready="true"]`))); err != nil {
		t.Fatal(err)
	}
	cols := `["age", "region", "charges"]`
	tests := []struct {
		name, expr, want string
	}{
		// a: "NA" is missing; b: the empty cell and "?" are; a quoted comma
		// is one cell.
		{"missing values", `m.missingValues('a,b\n1,\nNA,2\n"x,y",?\n')`,
			`{"rows":3,"columns":[{"name":"a","missing":1},{"name":"b","missing":2}]}`},
		{"quoted newline is one cell", `m.missingValues('a,b\n"l1\nl2",1\n')`,
			`{"rows":1,"columns":[{"name":"a","missing":0},{"name":"b","missing":0}]}`},
		{"tsv, short row counts as missing", "m.missingValues('a\\tb\\n1\\n', '\\t')",
			`{"rows":1,"columns":[{"name":"a","missing":0},{"name":"b","missing":1}]}`},
		{"empty text", `m.missingValues('')`, `null`},
		{"no rules", `m.checkRules('  ', ` + cols + `)`, `{"rules":null,"errors":[]}`},
		{"not json", `m.checkRules('{', ` + cols + `).errors.length`, `1`},
		{"not a rules object", `m.checkRules('[1]', ` + cols + `).errors[0].startsWith('rules must be an object')`, `true`},
		{"known columns", `m.checkRules('{"rules":[{"type":"unique","columns":["age","region"]},{"type":"compare","left":"charges","op":">","right":"age"}]}', ` + cols + `).errors`, `[]`},
		{"unknown columns named", `m.checkRules('{"rules":[{"type":"compare","name":"c","left":"age","op":">","right":"agee"},{"type":"in","column":"zone","values":["n"]}]}', ` + cols + `).errors`,
			`["rule 1 (c): no column \"agee\" in the dataset","rule 2: no column \"zone\" in the dataset"]`},
		{"rule without type", `m.checkRules('{"rules":[{"column":"age"}]}', ` + cols + `).errors`, `["rule 1: needs a \"type\""]`},
		{"conditions", `m.checkConditions([{column:"age",value:"30"},{column:"region",value:"north"},{column:"",value:""}], ` + cols + `)`,
			`{"conditions":{"age":30,"region":"north"},"errors":[]}`},
		{"condition errors", `m.checkConditions([{column:"age",value:"1"},{column:"age",value:"2"},{column:"zone",value:"x"}], ` + cols + `).errors`,
			`["condition: \"age\" is fixed twice","condition: no column \"zone\" in the dataset"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chromedp.Run(ctx, chromedp.Evaluate[string](
				`import("/console/data.js").then((m) => JSON.stringify(`+tt.expr+`))`, chromedp.EvalAwaitPromise))
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal([]byte(got), &g); err != nil {
				t.Fatalf("result %q: %v", got, err)
			}
			if err := json.Unmarshal([]byte(tt.want), &w); err != nil {
				t.Fatalf("want %q: %v", tt.want, err)
			}
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			if string(gb) != string(wb) {
				t.Errorf("%s\n got %s\nwant %s", tt.expr, gb, wb)
			}
		})
	}
}
