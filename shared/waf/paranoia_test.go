package waf

import (
	"fmt"
	"io/fs"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental"
)

// withMsg keeps the matched rules that carry a message (the verdict's
// matches and their values); the removed skip rules carry none.
func withMsg(o outcome) outcome {
	var m []string
	for _, l := range o.Matched {
		if _, rest, _ := strings.Cut(l, " "); !strings.HasPrefix(rest, `""`) {
			m = append(m, l)
		}
	}
	o.Matched = m
	return o
}

// Removing the rules above the paranoia level changes no verdict, no
// message-carrying match (with its values) and no TX variable, on the
// attack and legitimate tables and on random requests.
func TestParanoiaPruneKeepsVerdicts(t *testing.T) {
	pruned := crs(t)
	full, err := New(Options{keepAbovePL: true, noVariants: true})
	if err != nil {
		t.Fatal(err)
	}
	np := pruned.waf.(experimental.WAFWithRules).RulesCount()
	nf := full.waf.(experimental.WAFWithRules).RulesCount()
	if np >= nf-100 {
		t.Fatalf("%d rules pruned, %d full: the paranoia pruning removed too little", np, nf)
	}
	t.Logf("rules: %d pruned, %d full", np, nf)
	compare := func(name string, a, b outcome) {
		if !reflect.DeepEqual(withMsg(a), withMsg(b)) {
			t.Errorf("%s: pruned and full differ\npruned: %s\nfull:   %s", name, diff(withMsg(a), withMsg(b)), diff(withMsg(b), withMsg(a)))
		}
	}
	for _, c := range tables(t) {
		mk := replay(t, c.r)
		a, _ := run(t, pruned, pruned.waf, mk())
		b, _ := run(t, full, full.waf, mk())
		compare(c.name, a, b)
	}
	rng := rand.New(rand.NewSource(34))
	for i := 0; i < 150; i++ {
		mk, desc := randomRequest(rng)
		a, _ := run(t, pruned, pruned.waf, mk())
		b, _ := run(t, full, full.waf, mk())
		compare(fmt.Sprintf("random %d: %s", i, desc), a, b)
	}
}

// prunePL removes the skip rules above the level and the rules they skip,
// and keeps the level's own.
func TestPrunePL(t *testing.T) {
	b, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/REQUEST-942-APPLICATION-ATTACK-SQLI.conf")
	if err != nil {
		t.Fatal(err)
	}
	for pl, want := range map[int]struct{ gone, kept []string }{
		1: {gone: []string{"id:942013,", "id:942014,", "id:942015,", "id:942018,", "id:942120,"}, kept: []string{"id:942011,", "id:942012,", "id:942100,", "id:942140,", "END-REQUEST-942"}},
		2: {gone: []string{"id:942015,", "id:942016,", "id:942018,"}, kept: []string{"id:942013,", "id:942014,", "id:942120,", "id:942100,"}},
		4: {kept: []string{"id:942017,", "id:942018,"}},
	} {
		out := string(prunePL(b, pl, map[int]bool{}))
		for _, id := range want.gone {
			if strings.Contains(out, id) {
				t.Errorf("paranoia %d: %s kept", pl, id)
			}
		}
		for _, id := range want.kept {
			if !strings.Contains(out, id) {
				t.Errorf("paranoia %d: %s removed", pl, id)
			}
		}
	}
	// A rule without a phase in a skipped region: the file stays whole.
	odd := "SecRule TX:DETECTION_PARANOIA_LEVEL \"@lt 2\" \"id:1,phase:1,pass,nolog,skipAfter:END\"\nSecRule ARGS \"@rx a\" \"id:2,pass\"\nSecMarker \"END\"\n"
	if got := string(prunePL([]byte(odd), 1, map[int]bool{})); got != odd {
		t.Errorf("a rule without a phase: %q", got)
	}
}
