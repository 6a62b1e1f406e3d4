package waf

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Removing the rules that read only TX variables nothing sets changes no
// verdict, match or TX variable (tables and random requests).
func TestUnsetRulesKeepVerdicts(t *testing.T) {
	fold, err := New(Options{noVariants: true})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := New(Options{noVariants: true, keepUnset: true})
	if err != nil {
		t.Fatal(err)
	}
	// Settings never set, and settings the setup sets to a constant the
	// rule's first link is false on (920250: tx.crs_validate_utf8_encoding
	// is 0; 901500: the detection level is not below the blocking level).
	for _, id := range []int{920380, 920360, 920370, 920390, 920400, 920410, 901320, 920250, 901001, 901350, 901500} {
		if !slices.Contains(fold.unset, id) {
			t.Errorf("rule %d (its TX setting unset or constant) not removed: %v", id, fold.unset)
		}
	}
	// True on the constant (901400: sampling at 100%), and the skip:1
	// rule and its window, stay.
	for _, id := range []int{901400, 920539, 920540, 949052, 949060} {
		if slices.Contains(fold.unset, id) {
			t.Errorf("rule %d removed", id)
		}
	}
	if len(keep.unset) != 0 {
		t.Fatalf("keepUnset removed %v", keep.unset)
	}
	compare := func(name string, a, b outcome) {
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: without and with the unset rules differ\nwithout: %+v\nwith:    %+v", name, diff(a, b), diff(b, a))
		}
	}
	outcomesAgree(t, fold, keep, 77, 150, compare)
}

// A setting the operator's directives set keeps its rules: with
// tx.max_num_args set, 920380 runs and refuses a request with more
// arguments; with a macro-named setvar nothing is removed.
func TestUnsetRulesSetByOperator(t *testing.T) {
	w, err := New(Options{noVariants: true, Directives: `SecAction "id:10600,phase:1,pass,nolog,setvar:tx.max_num_args=2"`})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(w.unset, 920380) {
		t.Fatalf("920380 removed although tx.max_num_args is set: %v", w.unset)
	}
	q := url.Values{"a": {"1"}, "b": {"2"}, "c": {"3"}}
	v, _, err := w.Inspect(req("GET", "/v1/jobs?"+q.Encode(), "", nil), client)
	if err != nil || !v.Blocked || !strings.Contains(v.RuleIDs(), "920380") {
		t.Errorf("three arguments with tx.max_num_args=2: %+v %v", v, err)
	}
	if ids := unsetRules(`SecAction "id:1,phase:1,pass,setvar:'tx.%{tx.x}=1'"`+"\n"+
		`SecRule &TX:MAX_NUM_ARGS "@eq 1" "id:2,phase:2,pass"`, nil); len(ids) != 0 {
		t.Errorf("a setvar with a macro name: removed %v", ids)
	}
	if ids := unsetRules(`SecAction "id:1,phase:1,pass,setvar:'tx.max_%{tx.x}=1'"`+"\n"+
		`SecRule &TX:MAX_NUM_ARGS "@eq 1" "id:2,phase:2,pass"`+"\n"+`SecRule TX:OTHER "@eq 1" "id:3,phase:2,pass"`, nil); !slices.Equal(ids, []int{3}) {
		t.Errorf("a setvar whose name starts with max_: removed %v, want [3]", ids)
	}
	if ids := unsetRules(`SecRule REQUEST_URI "@rx a" "id:1,phase:2,pass,skip:1"`+"\n"+
		`SecRule &TX:MAX_NUM_ARGS "@eq 1" "id:2,phase:2,pass"`+"\n"+`SecRule &TX:MAX_NUM_ARGS "@eq 1" "id:3,phase:1,pass"`, nil); !slices.Equal(ids, []int{3}) {
		t.Errorf("after a skip:1 of phase 2: removed %v, want [3]", ids)
	}
	if ids := unsetRules(`SecRule &TX:A "@eq 0" "id:1,phase:2,pass"`+"\n"+`SecRule &TX:B "!@eq 1" "id:2,phase:2,pass"`+"\n"+
		`SecRule &TX:C "@eq 1" "id:3,phase:2,pass,t:length"`+"\n"+`SecRule TX:D "!@eq 1" "id:4,phase:2,pass"`, nil); !slices.Equal(ids, []int{4}) {
		t.Errorf("counts that may match: removed %v, want [4]", ids)
	}
}

// The setup folded into an operator leaves TX, verdicts and matches as its
// SecAction (which itself matches, and records a match the folded rule
// does not: left out of the comparison).
// Constant settings: a rule whose first link is false on the setup's
// value goes; true, or set elsewhere to another value, or read before the
// setup in its phase, it stays.
func TestConstRules(t *testing.T) {
	setup := `SecRule REQUEST_METHOD "@` + setupOperator + ` k" "id:10010,phase:1,pass,nolog,t:none"` + "\n"
	consts := map[string]string{"a": "0", "b": "1", "c": "1", "d": "100"}
	for _, c := range []struct {
		rules string
		want  []int
	}{
		{`SecRule TX:A "@eq 1" "id:1,phase:2,pass"`, []int{1}},
		{`SecRule TX:A "@eq 0" "id:1,phase:2,pass"`, nil},
		{`SecRule TX:A "!@eq 0" "id:1,phase:2,pass"`, []int{1}},
		{`SecRule TX:B "@lt %{tx.c}" "id:1,phase:1,pass"`, []int{1}},
		{`SecRule TX:B "@ge %{tx.c}" "id:1,phase:1,pass"`, nil},
		{`SecRule TX:B "@lt %{tx.x}" "id:1,phase:1,pass"`, nil},
		{`SecRule &TX:B "@eq 0" "id:1,phase:2,pass"`, []int{1}},
		{`SecRule &TX:B "@eq 1" "id:1,phase:2,pass"`, nil},
		{`SecRule TX:A "@eq 1" "id:1,phase:2,pass,t:urlDecodeUni"`, []int{1}},
		{`SecRule TX:A "@eq 1" "id:1,phase:2,pass,t:length"`, nil},
		{`SecRule TX:D "@eq 1" "id:1,phase:2,pass"` + "\n" + `SecAction "id:2,phase:2,pass,setvar:tx.d=1"`, nil},
		{`SecRule TX:D "@eq 1" "id:1,phase:2,pass"` + "\n" + `SecAction "id:2,phase:2,pass,setvar:tx.d=100"`, []int{1}},
		{`SecRule TX:D "@eq 1" "id:1,phase:2,pass"` + "\n" + `SecAction "id:2,phase:2,pass,setvar:tx.d=1"` + "\n" + `SecRuleRemoveById 2`, []int{1}},
		{`SecRule TX:D "@eq 1" "id:1,phase:2,pass"` + "\n" + `SecAction "id:2,phase:2,pass,setvar:'tx.%{tx.a}=1'"`, nil},
		{`SecRule TX:D "@eq 1" "id:1,phase:2,pass"` + "\n" + `SecAction "id:2,phase:2,pass,setvar:'tx.d%{tx.a}=1'"`, nil},
		{`SecRule TX:D "@eq 1" "id:1,phase:2,pass"` + "\n" + `SecAction "id:2,phase:2,pass,ctl:ruleRemoveById=10010"`, nil},
	} {
		if got := unsetRules(setup+c.rules, consts); !slices.Equal(got, c.want) {
			t.Errorf("%s: removed %v, want %v", c.rules, got, c.want)
		}
	}
	// Before the setup in phase 1, or after a skipAfter that could skip it.
	if got := unsetRules(`SecRule TX:A "@eq 1" "id:1,phase:1,pass"`+"\n"+setup, consts); len(got) != 0 {
		t.Errorf("a rule before the setup: removed %v", got)
	}
	if got := unsetRules(`SecRule REQUEST_URI "@rx x" "id:3,phase:1,pass,skipAfter:M"`+"\n"+setup+`SecRule TX:A "@eq 1" "id:1,phase:2,pass"`, consts); len(got) != 0 {
		t.Errorf("after a skipAfter before the setup: removed %v", got)
	}
}

func TestSetupFoldKeepsTX(t *testing.T) {
	fold, err := New(Options{noVariants: true})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := New(Options{noVariants: true, setvarSetup: true})
	if err != nil {
		t.Fatal(err)
	}
	drop := func(o outcome) outcome {
		o.Matched = slices.DeleteFunc(slices.Clone(o.Matched), func(m string) bool { return strings.HasPrefix(m, "10010 ") })
		return o
	}
	seen := 0
	compare := func(name string, a, b outcome) {
		if len(b.Matched) != len(drop(b).Matched) {
			seen++
		}
		if !reflect.DeepEqual(drop(a), drop(b)) || len(a.TX) < 40 {
			t.Errorf("%s: folded and SecAction setup differ\nfolded:    %+v\nSecAction: %+v", name, diff(a, b), diff(b, a))
		}
	}
	outcomesAgree(t, fold, keep, 78, 100, compare)
	if seen == 0 {
		t.Error("the SecAction setup never matched: is it loaded?")
	}
}

func TestFoldSetup(t *testing.T) {
	vars, ok := foldSetup([]string{"setvar:tx.a=1", "setvar:'tx.B=x y'", "setvar:'tx.c=%{TX.a}-%{tx.b}'", "setvar:tx.a=2"})
	want := []setupVar{{"a", []string{"2"}}, {"b", []string{"x y"}}, {"c", []string{"1-x y"}}}
	if !ok || !reflect.DeepEqual(vars, want) {
		t.Errorf("foldSetup: %v %v, want %v", vars, ok, want)
	}
	for _, bad := range []string{"setvar:tx.a=+1", "setvar:tx.a=", "setvar:'tx.a=%{tx.unset}'", "setvar:'tx.a=%{remote_addr}'", "setvar:'!tx.a'", "setvar:ip.a=1"} {
		if _, ok := foldSetup([]string{bad}); ok {
			t.Errorf("foldSetup(%q) folded", bad)
		}
	}
}
