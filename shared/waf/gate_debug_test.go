package waf

import (
	"io/fs"
	"regexp/syntax"
	"strings"
	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
)

func TestGateDebug(t *testing.T) {
	w := crs(t)
	if w.gateOff != nil {
		t.Fatal(w.gateOff)
	}
	for i, ph := range w.gate.phases {
		t.Logf("phase %d: %d eligible rules, %d vars %v, %d symbols, %d states", i+1, len(ph.rules), len(ph.vars), ph.vars, ph.ac.nsym, len(ph.ac.out))
	}
	body := []byte(`{"dataset":"ds_01J9ZK3Q4X5Y6Z7A8B9C0D1E2F","rows":1000,"model":"tree","seed":42,"target":"charges","rules":[{"type":"range","column":"age","min":18,"max":65}]}`)
	r := req("POST", "/v1/jobs", "application/json", body)
	s, uri, b := w.shapeOf(r)
	_ = s
	_, _, err := w.inspect(w.waf, r, uri, b, client, func(tx types.Transaction) {
		for i, ph := range w.gate.phases {
			for _, l := range ph.explain(tx.(plugintypes.TransactionState)) {
				t.Logf("phase %d keeps %s", i+1, l)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGateWhy(t *testing.T) {
	w := crs(t)
	m := map[string][]int{}
	for id, why := range w.gate.why {
		m[why] = append(m[why], id)
	}
	for why, ids := range m {
		t.Logf("%s: %v", why, ids)
	}
}

func TestGateNeedles(t *testing.T) {
	for _, f := range []string{"REQUEST-932-APPLICATION-ATTACK-RCE.conf", "REQUEST-942-APPLICATION-ATTACK-SQLI.conf", "REQUEST-941-APPLICATION-ATTACK-XSS.conf", "REQUEST-930-APPLICATION-ATTACK-LFI.conf", "REQUEST-921-PROTOCOL-ATTACK.conf"} {
		b, _ := fs.ReadFile(coreruleset.FS, "@owasp_crs/"+f)
		text := directiveBreak.ReplaceAllString(string(b), "")
		for _, line := range strings.Split(text, "\n") {
			for _, id := range []string{"932230", "932235", "932250", "932175", "942360", "941120", "941160", "932340", "930100", "941220", "941210", "921421"} {
				if strings.Contains(line, "id:"+id) {
					_, op, arg, _, _, ok := ruleOperator(strings.TrimSpace(line))
					re, err := syntax.Parse("(?sm)"+arg, syntax.Perl)
					if err != nil || !ok {
						t.Logf("%s: %v %v", id, err, ok)
						continue
					}
					n := needles(re)
					t.Logf("%s %s: %d needles %q", id, op, len(n), n)
				}
			}
		}
	}
}
