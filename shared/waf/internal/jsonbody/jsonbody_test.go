package jsonbody

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// ours is this processor's name in the tests; Coraza's own stays "json".
const ours = "synthosjsontest"

func init() {
	plugins.RegisterBodyProcessor(ours, func() plugintypes.BodyProcessor { return Processor{} })
}

// limits are the configurations compared: Coraza's defaults, and limits
// small enough for the bodies below to reach them.
var limits = []string{"", "SecArgumentsLimit 4\nSecRequestBodyJsonDepthLimit 3\n"}

func engines(t testing.TB) [][2]coraza.WAF {
	t.Helper()
	var out [][2]coraza.WAF
	for _, l := range limits {
		var pair [2]coraza.WAF
		for i, proc := range []string{"JSON", strings.ToUpper(ours)} {
			w, err := coraza.NewWAF(coraza.NewWAFConfig().WithDirectives(`SecRuleEngine On
SecRequestBodyAccess On
` + l + `SecRule REQUEST_METHOD "@unconditionalMatch" "id:1,phase:1,pass,nolog,ctl:requestBodyProcessor=` + proc + `"`))
			if err != nil {
				t.Fatal(err)
			}
			pair[i] = w
		}
		out = append(out, pair)
	}
	return out
}

// state is what a body processor leaves in a transaction.
func state(t testing.TB, w coraza.WAF, body string) string {
	t.Helper()
	tx := w.NewTransaction()
	defer tx.Close()
	tx.ProcessURI("/", "POST", "HTTP/1.1")
	tx.AddRequestHeader("content-type", "application/json")
	tx.ProcessRequestHeaders()
	if _, _, err := tx.WriteRequestBody([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ProcessRequestBody(); err != nil {
		t.Fatal(err)
	}
	v := tx.(plugintypes.TransactionState).Variables()
	var args []string
	for _, d := range v.ArgsPost().FindAll() {
		// The values of keys that differ only in case share an entry, in
		// the order of a Go map: compared as a set.
		args = append(args, fmt.Sprintf("%q=%q", d.Key(), d.Value()))
	}
	slices.Sort(args)
	return fmt.Sprintf("args %v\njson_request_body %q\nlimit %q\nerror %q %q", args, v.TX().Get("json_request_body"),
		v.ArgumentsLimitReached().Get(), v.RequestBodyError().Get(), v.RequestBodyProcessorErrorMsg().Get())
}

var bodies = []string{
	`{"dataset":"ds_01J9ZK3Q4X5Y6Z7A8B9C0D1E2F","rows":1000,"model":"tree","seed":42,"target":"charges"}`,
	`{"a":1,"b":2,"c":[1,2,3],"d":{"a":{"b":1}},"e":[{"a":1}],"f":[[[{"z":"abc"}]]]}`,
	`[[[{"q":1}]]]`, `[]`, `{}`, `""`, `"x"`, `1`, `null`, `true`, ``, ` `,
	`{"a":null,"b":true,"c":false,"d":1.5e3,"e":"\u00e9\n\"q\"","f":-0}`,
	`{"account":{"role":"x"},"account.role":"y"}`, `{"a":"1","A":"2","a":"3"}`,
	`{"a":[1,2,3,4,5,6,7,8,9]}`, `{"a":{"b":{"c":{"d":{"e":1}}}}}`, `[[[[[[1]]]]]]`,
	`{"a":1,`, `{"a":"unterminated`, `{"a":1}}`, `{"a":1} trailing`, `{a:1}`, `[1,2,`,
	`{"` + strings.Repeat("k", 5000) + `":1}`, `[` + strings.Repeat(`{"x":[1,2,3]},`, 200) + `1]`,
	`{"x":"` + strings.Repeat("v", 70000) + `"}`,
	strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	`{"rules":[{"type":"range","column":"age","min":18,"max":65},{"regex":"^a.*$"}]}`,
}

// The processor leaves exactly what Coraza's does: ARGS_POST, the raw
// body in TX, the argument limit flag and the body error.
func TestMatchesCoraza(t *testing.T) {
	for _, pair := range engines(t) {
		for _, b := range bodies {
			want, got := state(t, pair[0], b), state(t, pair[1], b)
			if got != want {
				name := b
				if len(name) > 60 {
					name = name[:60] + "..."
				}
				t.Errorf("%s:\ngot  %s\nwant %s", name, got, want)
			}
		}
	}
}

func FuzzMatchesCoraza(f *testing.F) {
	for _, b := range bodies {
		if len(b) < 1000 {
			f.Add(b)
		}
	}
	pairs := engines(f)
	f.Fuzz(func(t *testing.T, b string) {
		for _, pair := range pairs {
			if want, got := state(t, pair[0], b), state(t, pair[1], b); got != want {
				t.Errorf("%q:\ngot  %s\nwant %s", b, got, want)
			}
		}
	})
}
