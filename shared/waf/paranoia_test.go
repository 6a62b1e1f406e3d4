package waf

import (
	"io/fs"
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
	outcomesAgree(t, pruned, full, 34, 150, compare)
}

// prunePL removes the skip rules above the level and the rules they skip,
// and keeps the level's own.
func TestPrunePL(t *testing.T) {
	b, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/REQUEST-942-APPLICATION-ATTACK-SQLI.conf")
	if err != nil {
		t.Fatal(err)
	}
	for pl, want := range map[int]struct{ gone, kept []string }{
		1: {gone: []string{"id:942011,", "id:942012,", "id:942013,", "id:942014,", "id:942015,", "id:942018,", "id:942120,"}, kept: []string{"id:942100,", "id:942140,", "END-REQUEST-942"}},
		2: {gone: []string{"id:942011,", "id:942013,", "id:942014,", "id:942015,", "id:942016,", "id:942018,"}, kept: []string{"id:942120,", "id:942100,"}},
		4: {gone: []string{"id:942017,", "id:942018,"}, kept: []string{"id:942100,", "id:942120,", "END-REQUEST-942"}},
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
	// The score sums for the levels above pl go, the others stay.
	b, err = fs.ReadFile(coreruleset.FS, "@owasp_crs/REQUEST-949-BLOCKING-EVALUATION.conf")
	if err != nil {
		t.Fatal(err)
	}
	out := string(prunePL(b, 1, map[int]bool{}))
	for _, id := range []string{"id:949053,", "id:949155,", "id:949061,", "id:949163,"} {
		if strings.Contains(out, id) {
			t.Errorf("paranoia 1: %s kept", id)
		}
	}
	for _, id := range []string{"id:949052,", "id:949152,", "id:949060,", "id:949160,", "id:949059,", "id:949110,"} {
		if !strings.Contains(out, id) {
			t.Errorf("paranoia 1: %s removed", id)
		}
	}
	// A rule without a phase in a skipped region: the file stays whole.
	odd := "SecRule TX:DETECTION_PARANOIA_LEVEL \"@lt 2\" \"id:1,phase:1,pass,nolog,skipAfter:END\"\nSecRule ARGS \"@rx a\" \"id:2,pass\"\nSecMarker \"END\"\n"
	if got := string(prunePL([]byte(odd), 1, map[int]bool{})); got != odd {
		t.Errorf("a rule without a phase: %q", got)
	}
}

// Removing the markers no skipAfter names changes no verdict, no match
// (with its values) and no TX variable, on the attack and legitimate tables
// and on random requests.
func TestMarkerPruneKeepsVerdicts(t *testing.T) {
	pruned := crs(t)
	full, err := New(Options{keepMarkers: true, noVariants: true})
	if err != nil {
		t.Fatal(err)
	}
	np := pruned.waf.(experimental.WAFWithRules).RulesCount()
	nf := full.waf.(experimental.WAFWithRules).RulesCount()
	if np > nf-10 {
		t.Fatalf("%d rules with markers pruned, %d with all: the marker pruning removed too little", np, nf)
	}
	t.Logf("rules: %d pruned, %d full", np, nf)
	compare := func(name string, a, b outcome) {
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: pruned and full differ\npruned: %s\nfull:   %s", name, diff(a, b), diff(b, a))
		}
	}
	outcomesAgree(t, pruned, full, 35, 150, compare)
}

// dropMarkers keeps the markers a skipAfter names, and every marker of a
// file with a skip:N.
func TestDropMarkers(t *testing.T) {
	conf := "SecRule ARGS \"@rx a\" \"id:1,phase:2,pass,skipAfter:END-A\"\nSecMarker \"END-A\"\nSecMarker END-B\n  SecMarker 'end-c'\nSecAction \"id:2,phase:2,pass\"\n"
	keep := skipTargets(conf + "SecAction \"id:3,phase:1,pass,skipAfter:'END-C'\"\nSecAction \"id:5,phase:4,pass,skipAfter:END-B\"")
	got := string(dropMarkers([]byte(conf), keep))
	want := "SecRule ARGS \"@rx a\" \"id:1,phase:2,pass,skipAfter:END-A\"\nSecMarker \"END-A\"\n  SecMarker 'end-c'\nSecAction \"id:2,phase:2,pass\"\n"
	if got != want {
		t.Errorf("dropMarkers:\n%q\nwant\n%q", got, want)
	}
	withSkip := conf + "SecRule ARGS \"@rx b\" \"id:4,phase:2,pass,skip:1\"\n"
	if got := string(dropMarkers([]byte(withSkip), keep)); got != withSkip {
		t.Errorf("a file with skip:N lost markers: %q", got)
	}
	if got := string(dropMarkers([]byte(conf), nil)); got != conf {
		t.Errorf("nil keep removed markers: %q", got)
	}
}
