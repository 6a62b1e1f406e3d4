package waf

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/collection"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/coraza/v3/types/variables"

	"synthos.dev/synthos/internal/cputime"
)

// prepared is crs(t), checked to have variants.
func prepared(t testing.TB) *WAF {
	t.Helper()
	w := crs(t)
	if w.variantsOff != nil || w.variants == nil {
		t.Fatalf("CRS got no variants: %v", w.variantsOff)
	}
	return w
}

// outcome is everything a request's inspection decides and leaves behind.
type outcome struct {
	Verdict Verdict
	Err     string
	Body    []byte   // what the handler reads
	Matched []string // every matched rule: id, message, data, matched values
	TX      []string // the TX collection after phase 2, sorted
}

// replay makes fresh copies of a request (Inspect consumes the body).
func replay(t testing.TB, r *http.Request) func() *http.Request {
	t.Helper()
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			t.Fatal(err)
		}
	}
	return func() *http.Request {
		c := r.Clone(r.Context())
		if r.Body != nil {
			c.Body = io.NopCloser(bytes.NewReader(body))
			if r.Body == http.NoBody {
				c.Body = http.NoBody
			}
		}
		return c
	}
}

// run inspects r on engine as Inspect would, recording the outcome.
func run(t testing.TB, w *WAF, engine coraza.WAF, r *http.Request) (outcome, shape) {
	t.Helper()
	s, uri, body := w.shapeOf(r)
	var o outcome
	ambiguous := map[int]bool{}
	v, r2, err := w.inspect(engine, r, uri, body, client, func(tx types.Transaction) {
		for _, m := range tx.MatchedRules() {
			// A message that names the matched value (920450's
			// "%{MATCHED_VAR}") names the last of several, in the order of
			// Coraza's maps, which differs between two runs of one WAF.
			msg := m.Message()
			if len(m.MatchedDatas()) > 1 && msg != "" {
				ambiguous[m.Rule().ID()] = true
				msg = "(one of several values)"
			}
			// Values come in the order of Go maps (headers, cookies):
			// compared as sets.
			var values []string
			for _, d := range m.MatchedDatas() {
				values = append(values, fmt.Sprintf("[%s:%s=%q]", d.Variable().Name(), d.Key(), d.Value()))
			}
			slices.Sort(values)
			o.Matched = append(o.Matched, fmt.Sprintf("%d %q %q %s", m.Rule().ID(), msg, m.Data(), strings.Join(values, " ")))
		}
		for _, d := range tx.(plugintypes.TransactionState).Variables().TX().FindAll() {
			// TX:0-9 hold the last rule's captures, which depend on that
			// map order too (they differ between two runs of one WAF).
			if len(d.Key()) == 1 && d.Key()[0] >= '0' && d.Key()[0] <= '9' {
				continue
			}
			o.TX = append(o.TX, d.Key()+"="+d.Value())
		}
		slices.Sort(o.TX)
	})
	for i, m := range v.Matches {
		if ambiguous[m.ID] {
			v.Matches[i].Msg = "(one of several values)"
		}
	}
	o.Verdict = v
	if err != nil {
		o.Err = err.Error()
	} else if r2.Body != nil {
		o.Body, _ = io.ReadAll(r2.Body)
	}
	return o, s
}

// agree runs a request on the full rule set and on the variant its shape
// picks, and fails on any difference.
func agree(t testing.TB, w *WAF, name string, mk func() *http.Request) shape {
	t.Helper()
	full, s := run(t, w, w.waf, mk())
	engine, err := w.variants.engine(s, w.waf)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := run(t, w, engine, mk())
	if !reflect.DeepEqual(got, full) {
		t.Errorf("%s (shape %b): variant and full rule set differ\nvariant: %+v\nfull:    %+v", name, s, diff(got, full), diff(full, got))
	}
	return s
}

func tables(t testing.TB) []struct {
	name string
	r    *http.Request
} {
	return append(attacks(t), legitimate(t)...)
}

// Every attack and legitimate request gets, from the variant its shape
// picks, exactly the full rule set's verdict, matched rules (with their
// messages and matched values), TX collection (anomaly scores included) and
// body.
func TestVariantsAgree(t *testing.T) {
	w := prepared(t)
	seen := map[shape]int{}
	for _, c := range tables(t) {
		seen[agree(t, w, c.name, replay(t, c.r))]++
	}
	// Cookies: every table request again with one, and a cookie attack.
	for _, c := range tables(t) {
		c.r.Header.Set("Cookie", "session=abc; theme=dark")
		seen[agree(t, w, c.name+" with a cookie", replay(t, c.r))]++
	}
	r := req("GET", "/v1/jobs", "", nil)
	r.Header.Set("Cookie", "id=1' UNION SELECT password FROM users--")
	seen[agree(t, w, "sqli in a cookie", replay(t, r))]++
	// A body and a query.
	seen[agree(t, w, "job with a query", replay(t, jsonReq("POST", "/v1/jobs?dry_run=1", `{"dataset":"ds_1","rows":10}`)))]++
	seen[agree(t, w, "sqli in a query with a body", replay(t, jsonReq("POST", "/v1/jobs?x="+url.QueryEscape("1 UNION SELECT a FROM b"), `{"dataset":"ds_1"}`)))]++
	// The tables cover the query, cookie and body bits in every
	// combination but "all three present".
	bits := map[shape]bool{}
	for s := range seen {
		bits[s&(noQuery|noCookie|noBody)] = true
	}
	for s := shape(1); s < 8; s++ {
		if !bits[s] {
			t.Errorf("no request with query/cookie/body bits %03b", s)
		}
	}
	n := 0
	w.variants.byShape.Range(func(_, v any) bool {
		if v.(*variant) != nil {
			n++
		}
		return true
	})
	t.Logf("%d shapes, %d variants", len(seen), n)
}

// The collections a shape declares empty are empty after the request's
// phases, on the full rule set: the premise of every removal.
func TestShapeEmptyCollections(t *testing.T) {
	w := crs(t)
	all := tables(t)
	for _, c := range tables(t) {
		c.r.Header.Set("Cookie", "a=1")
		all = append(all, c)
	}
	for _, c := range all {
		s, uri, body := w.shapeOf(c.r)
		var nonEmpty []string
		if _, _, err := w.inspect(w.waf, c.r, uri, body, client, func(tx types.Transaction) {
			tx.(plugintypes.TransactionState).Variables().All(func(v variables.RuleVariable, col collection.Collection) bool {
				if w.variants.p.empty(s, target{v: v}) && len(col.FindAll()) > 0 {
					nonEmpty = append(nonEmpty, v.Name())
				}
				if v == variables.RequestHeaders {
					for _, h := range w.variants.p.headers {
						if w.variants.p.empty(s, target{v: v, header: h}) && len(col.(collection.Keyed).Get(h)) > 0 {
							nonEmpty = append(nonEmpty, v.Name()+":"+h)
						}
					}
				}
				return true
			})
		}); err != nil {
			t.Fatal(err)
		}
		if len(nonEmpty) > 0 {
			t.Errorf("%s (shape %03b): %v not empty", c.name, s, nonEmpty)
		}
	}
	// And a shape is not claimed when it does not hold: each collection
	// below is filled by this request, and its shape says so.
	r := req("POST", "/v1/jobs?a=1", "application/x-www-form-urlencoded", []byte("b=2"))
	r.Header.Set("Cookie", "c=3")
	r.Header.Set("referer", "https://x.example") // not canonical
	s, _, _ := w.shapeOf(r)
	if s&(noQuery|noCookie|noBody) != 0 {
		t.Fatalf("query, cookie and body: shape %b", s)
	}
	for _, h := range []string{"user-agent", "referer", "content-type"} {
		if w.variants.p.empty(s, target{v: variables.RequestHeaders, header: h}) {
			t.Errorf("header %s present but shape %b says absent", h, s)
		}
	}
	if !w.variants.p.empty(s, target{v: variables.RequestHeaders, header: "range"}) {
		t.Errorf("no Range header, shape %b says present", s)
	}
}

// The analysis removes what it should and keeps what it must.
func TestVariantPlan(t *testing.T) {
	w := crs(t)
	if w.variantsOff != nil {
		t.Fatal(w.variantsOff)
	}
	r := req("GET", "/v1/jobs/job_1", "", nil)
	s, _, _ := w.shapeOf(r)
	get := w.variants.get(s)
	if get == nil {
		t.Fatal("no variant for a GET without query, cookies or body")
	}
	post := w.variants.get(func() shape { s, _, _ := w.shapeOf(jsonReq("POST", "/v1/jobs", "{}")); return s }())
	t.Logf("removed for a GET: %d rules; for a JSON POST: %d; header names with a bit: %v", len(get.drop), lenDrop(post), w.variants.p.headers)
	removed := map[int]bool{}
	for _, id := range get.drop {
		removed[id] = true
	}
	// 942100 (libinjection over cookies and arguments) goes; rules with a
	// header, the URI, the body or a count stay, as do the anomaly
	// evaluation and the initialisation.
	for id, want := range map[int]bool{
		942140: true,  // REQUEST_COOKIES|REQUEST_COOKIES_NAMES|ARGS_NAMES|ARGS|XML:/*
		942100: false, // ... and User-Agent and Referer
		920450: false, // REQUEST_HEADERS_NAMES
		920280: false, // &REQUEST_HEADERS:Host (a count)
		920540: false, // REQUEST_URI|REQUEST_HEADERS|ARGS|ARGS_NAMES
		949110: false, // TX:BLOCKING_INBOUND_ANOMALY_SCORE
		901340: false, // SecAction-like initialisation
		10100:  false, // REQUEST_HEADERS among its targets
	} {
		if removed[id] != want {
			t.Errorf("rule %d removed: %v, want %v", id, removed[id], want)
		}
	}
}

func lenDrop(v *variant) int {
	if v == nil {
		return 0
	}
	return len(v.drop)
}

// Rule sets the analysis does not model get no variants.
func TestVariantsRefused(t *testing.T) {
	for _, d := range []string{
		`SecRule RULE:id "@eq 1" "id:10200,phase:2,pass,nolog"`,
		`SecRule ARGS "@rx a" "id:10200,phase:2,pass,nolog,setvar:'tx.x=%{rule.msg}'"`,
		`SecRuleUpdateTargetById 942100 "REQUEST_HEADERS:X-Foo"`,
		`SecRule REQUEST_URI "@restpath /a/{b}" "id:10200,phase:1,pass,nolog"`,
		`SecRule ARGS "@rx a" "id:10200,phase:2,pass,nolog,chain"
    SecRule ARGS "@rx b" "skip:2"`,
	} {
		if err := variantsAllowedFor(t, d); err == nil {
			t.Errorf("variants allowed with %s", d)
		}
	}
}

func variantsAllowedFor(t *testing.T, directives string) error {
	t.Helper()
	w, err := New(Options{Directives: directives})
	if err != nil {
		return nil // does not compile: nothing to say
	}
	return w.variantsOff
}

// A skip:N keeps the rules it could pass over.
func TestProtectSkipWindows(t *testing.T) {
	noRemoval := func(int) bool { return false }
	rules := []ruleInfo{
		{id: 1, phase: 2, skip: 1},
		{id: 2, phase: 2},                      // a candidate right after: protected
		{id: 3, phase: 1},                      // another phase: ignored
		{id: 4, phase: 2},                      // kept, never removed: takes the window
		{id: 5, phase: 2},                      // candidate after it: free
		{id: 6, phase: 2, tags: []string{"t"}}, // candidate removable by tag
	}
	cand := []bool{false, true, false, false, true, true}
	protectSkipWindows(rules, cand, noRemoval, map[int]bool{}, map[string]bool{"t": true}, nil, nil)
	if want := []bool{false, false, false, false, true, true}; !slices.Equal(cand, want) {
		t.Fatalf("candidates %v, want %v", cand, want)
	}
	// The rule that takes the window may itself be removed at run time
	// (by id): then the next candidate could fall in it.
	cand = []bool{false, true, false, false, true, true}
	protectSkipWindows(rules, cand, noRemoval, map[int]bool{4: true}, map[string]bool{}, nil, nil)
	if want := []bool{false, false, false, false, false, false}; !slices.Equal(cand, want) {
		t.Fatalf("candidates %v, want %v", cand, want)
	}
}

// Random requests assembled from the tables' pieces (methods, paths,
// queries, headers, cookies, bodies, content types): the variant agrees
// with the full rule set on each.
func TestVariantsAgreeRandom(t *testing.T) {
	w := prepared(t)
	n := 300
	if testing.Short() {
		n = 60
	}
	rng := rand.New(rand.NewSource(12))
	for i := 0; i < n; i++ {
		m, desc := randomRequest(rng)
		agree(t, w, fmt.Sprintf("random %d: %s", i, desc), m)
	}
}

var (
	pieceValues = []string{
		"", "1", "abc", "1' OR '1'='1' --", "<script>alert(1)</script>", "../../etc/passwd",
		"${jndi:ldap://x/a}", "{{7*7}}", "x; cat /etc/passwd", "javascript:alert(1)",
		"1 UNION SELECT a FROM b", "\xff\xfe", "%00", "<?php echo 1; ?>", "a=b&c=d",
		"O'Brien", "=SUM(A1:A9)", "http://169.254.169.254/latest", "\\u0041",
	}
	piecePaths = []string{
		"/v1/jobs", "/v1/jobs/job_1", "/v1/datasets", "/v1/datasets/ds_1/content",
		"/v1/webhooks", "/v1/destinations", "/v1/models/m_1:predict", "/webhooks/paddle",
		"/v1/jobs/..%2f..%2fetc", "/v1/a.php", "/v1/x.bak",
	}
	pieceTypes = []string{
		"", "application/json", "application/x-www-form-urlencoded", "text/xml",
		"multipart/form-data; boundary=x", "text/csv", "application/octet-stream", "text/plain",
	}
	pieceHeaders = []string{"User-Agent", "Referer", "X-Forwarded-For", "Accept", "X-Client-Note", "X-HTTP-Method-Override", "Content-Range"}
)

// outcomesAgree runs every request of the attack and legitimate tables and
// n random ones (from seed) through x and y, and hands each pair of
// outcomes to compare with the request's name.
func outcomesAgree(t *testing.T, x, y *WAF, seed int64, n int, compare func(name string, a, b outcome)) {
	t.Helper()
	for _, c := range tables(t) {
		mk := replay(t, c.r)
		a, _ := run(t, x, x.waf, mk())
		b, _ := run(t, y, y.waf, mk())
		compare(c.name, a, b)
	}
	rng := rand.New(rand.NewSource(seed))
	for i := 0; i < n; i++ {
		mk, desc := randomRequest(rng)
		a, _ := run(t, x, x.waf, mk())
		b, _ := run(t, y, y.waf, mk())
		compare(fmt.Sprintf("random %d: %s", i, desc), a, b)
	}
}

func randomRequest(rng *rand.Rand) (func() *http.Request, string) {
	pick := func(s []string) string { return s[rng.Intn(len(s))] }
	method := pick([]string{"GET", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})
	target := pick(piecePaths)
	if rng.Intn(2) == 0 {
		q := url.Values{}
		for k := rng.Intn(3) + 1; k > 0; k-- {
			q.Add(pick([]string{"cursor", "limit", "q", pick(pieceValues)}), pick(pieceValues))
		}
		target += "?" + q.Encode()
	}
	ctype := pick(pieceTypes)
	var body []byte
	if method != "GET" && method != "HEAD" && rng.Intn(4) != 0 {
		v := pick(pieceValues)
		switch {
		case strings.HasPrefix(ctype, "application/json"):
			body = []byte(fmt.Sprintf(`{"name":%q,"rules":[{"regex":%q}],"n":%d}`, v, pick(pieceValues), rng.Intn(100)))
		case strings.HasPrefix(ctype, "application/x-www"):
			body = []byte("a=" + url.QueryEscape(v) + "&" + url.QueryEscape(pick(pieceValues)) + "=1")
		case strings.HasPrefix(ctype, "text/xml"):
			body = []byte("<a><b>" + v + "</b></a>")
		case strings.HasPrefix(ctype, "multipart/"):
			body = []byte("--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"" + v + "\"\r\n\r\n" + pick(pieceValues) + "\r\n--x--\r\n")
		default:
			body = []byte(v)
		}
	}
	headers := map[string]string{}
	for k := rng.Intn(3); k > 0; k-- {
		headers[pick(pieceHeaders)] = pick(pieceValues)
	}
	cookie := ""
	if rng.Intn(4) == 0 {
		cookie = "s=" + url.QueryEscape(pick(pieceValues)) + "; " + pick([]string{"t=1", "x", pick(pieceValues)})
	}
	desc := fmt.Sprintf("%s %s type=%q body=%q headers=%v cookie=%q", method, target, ctype, body, headers, cookie)
	return func() *http.Request {
		var r *http.Request
		if body == nil {
			r = httptest.NewRequest(method, "http://api.synthos.dev"+target, nil)
		} else {
			r = httptest.NewRequest(method, "http://api.synthos.dev"+target, bytes.NewReader(body))
		}
		r.Header.Set("Authorization", key)
		if ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		for k, v := range headers {
			r.Header.Set(k, v)
		}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		return r
	}, desc
}

// FuzzVariantsAgree: for any request, the variant its shape picks decides
// exactly as the full rule set.
func FuzzVariantsAgree(f *testing.F) {
	f.Add("GET", "/v1/jobs", "", "", "", []byte(nil))
	f.Add("GET", "/v1/jobs", "cursor=1' or 1=1--", "", "", []byte(nil))
	f.Add("GET", "/v1/jobs", "", "", "a=<script>", []byte(nil))
	f.Add("POST", "/v1/jobs", "", "application/json", "", []byte(`{"a":"${jndi:x}"}`))
	f.Add("POST", "/v1/jobs", "", "application/x-www-form-urlencoded", "", []byte("a=1 union select 1"))
	f.Add("PUT", "/v1/datasets/ds_1/content", "", "text/csv", "", []byte("=cmd|' /C calc'!A0"))
	w := prepared(f)
	f.Fuzz(func(t *testing.T, method, path, query, ctype, cookie string, body []byte) {
		build, ok := fuzzRequest(method, path, query, ctype, cookie, body)
		if !ok {
			t.Skip()
		}
		agree(t, w, "fuzz", build)
	})
}

// fuzzRequest turns a fuzz input into a function that builds the same
// request afresh each call (an inspection consumes the body), and false
// when net/http would refuse the method or URL.
func fuzzRequest(method, path, query, ctype, cookie string, body []byte) (func() *http.Request, bool) {
	u := &url.URL{Path: "/" + strings.TrimLeft(path, "/"), RawQuery: query}
	if _, err := http.NewRequest(strings.ToUpper(method), "http://api.synthos.dev"+u.RequestURI(), nil); err != nil {
		return nil, false
	}
	return func() *http.Request {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		r, _ := http.NewRequest(strings.ToUpper(method), "http://api.synthos.dev"+u.RequestURI(), rd)
		r.Header.Set("Content-Type", ctype)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		return r
	}, true
}

// The cost of building the variants, after the full rule set (what the
// background builds take from start-up): reported, not limited.
func TestVariantBuildCost(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the WAF again")
	}
	cpu0, t0 := cputime.Process(), time.Now()
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	cpu1, t1 := cputime.Process(), time.Now()
	for _, r := range []*http.Request{req("GET", "/v1/jobs", "", nil), req("GET", "/v1/jobs?limit=1", "", nil), jsonReq("POST", "/v1/jobs", "{}")} {
		if err := w.Warm(r); err != nil {
			t.Fatal(err)
		}
	}
	n := len(w.variants.byDrop)
	t.Logf("full rule set: %v CPU (%v wall); %d variants: %v CPU (%v wall)", cpu1-cpu0, t1.Sub(t0).Round(time.Millisecond),
		n, cputime.Process()-cpu1, time.Since(t1).Round(time.Millisecond))
}

// diff is what a has that b does not (for messages).
func diff(a, b outcome) string {
	var out []string
	if !reflect.DeepEqual(a.Verdict, b.Verdict) {
		out = append(out, fmt.Sprintf("verdict %+v", a.Verdict))
	}
	for _, m := range a.Matched {
		if !slices.Contains(b.Matched, m) {
			out = append(out, "matched "+m)
		}
	}
	for _, x := range a.TX {
		if !slices.Contains(b.TX, x) {
			out = append(out, "tx "+x)
		}
	}
	if a.Err != b.Err || !bytes.Equal(a.Body, b.Body) {
		out = append(out, fmt.Sprintf("err %q body %q", a.Err, a.Body))
	}
	return strings.Join(out, "\n\t")
}
