package waf

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"regexp/syntax"
	"strings"
	"sync"
	"testing"

	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
)

// values are the strings CRS sees from the attack and legitimate tables
// (decoded query values, header values, JSON fields, raw bodies), plus
// invalid UTF-8 in front of an attack.
func values(t *testing.T) []string {
	var out []string
	add := func(r *http.Request) {
		out = append(out, r.URL.RequestURI(), r.URL.Path)
		for _, vs := range r.URL.Query() {
			out = append(out, vs...)
		}
		for _, vs := range r.Header {
			out = append(out, vs...)
		}
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			if len(b) < 4096 {
				out = append(out, string(b))
			}
		}
	}
	for _, a := range attacks(t) {
		add(a.r)
	}
	for _, l := range legitimate(t) {
		add(l.r)
	}
	q, _ := url.QueryUnescape("x%3B+cat+%2Fetc%2Fpasswd")
	return append(out, q, "\xff; cat /etc/passwd", "\xc0<script>alert(1)</script>", "1 UNION SELECT \xfe password FROM users", "")
}

// Every pattern moved to RE2 gives Go's verdict on every table value, and
// the heavy CRS rules are the ones moved.
func TestRE2Parity(t *testing.T) {
	var moved []string
	if _, err := New(Options{rewritten: &moved}); err != nil {
		t.Fatal(err)
	}
	if len(moved) < 20 {
		t.Fatalf("only %d patterns moved to RE2", len(moved))
	}
	t.Logf("%d patterns on RE2", len(moved))
	vals := values(t)
	prefiltered := 0
	defer func() { t.Logf("%d patterns with a literal pre-filter", prefiltered) }()
	for _, p := range moved {
		std := regexp.MustCompile("(?sm)" + p)
		// Without and with the literal pre-filter (SecRxPreFilter).
		for _, pf := range []bool{false, true} {
			op, err := newRE2(plugintypes.OperatorOptions{Arguments: p, RxPreFilterEnabled: pf})
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			o := op.(*re2rx)
			if pf && o.prefilter != nil {
				prefiltered++
			}
			for _, v := range vals {
				want := std.FindStringSubmatch(v)
				tx := &captureTx{}
				got := o.Evaluate(tx, v)
				if got != (want != nil) || (got && tx.captured[0] != want[0]) {
					t.Errorf("%.60s on %q (pre-filter %v): RE2 %v %q, Go %q", p, v, pf, got, tx.captured[0], want)
				}
			}
		}
	}
}

// captureTx is the part of a transaction @re2 uses: captures.
type captureTx struct {
	plugintypes.TransactionState
	captured [9]string
}

func (*captureTx) Capturing() bool                { return true }
func (c *captureTx) CaptureField(i int, v string) { c.captured[i] = v }

// RE2 stops at an invalid UTF-8 byte, so a payload behind one would pass
// it; @re2 hands such values to Go's regexp.
func TestRE2InvalidUTF8(t *testing.T) {
	op, err := newRE2(plugintypes.OperatorOptions{Arguments: `(?i)union\s+select`})
	if err != nil {
		t.Fatal(err)
	}
	v := "\xff 1 union select password"
	if op.(*re2rx).re.MatchString(v) {
		t.Log("RE2 now reads past invalid UTF-8; the fallback is still harmless")
	}
	if !op.Evaluate(&captureTx{}, v) {
		t.Fatal("a payload behind an invalid byte was missed")
	}
	if !op.Evaluate(&captureTx{}, "1 union select password") || op.Evaluate(&captureTx{}, "unionised selection") {
		t.Fatal("@re2 verdicts on valid UTF-8 are wrong")
	}
}

// The swap to RE2 changes no verdict of the attack and legitimate tables.
func TestRE2KeepsVerdicts(t *testing.T) {
	std, err := New(Options{stdRegexp: true})
	if err != nil {
		t.Fatal(err)
	}
	w := crs(t)
	for _, table := range []string{"attacks", "legitimate"} {
		mk := func() []struct {
			name string
			r    *http.Request
		} {
			if table == "attacks" {
				return attacks(t)
			}
			return legitimate(t)
		}
		a, b := mk(), mk()
		for i := range a {
			vStd, _, err := std.Inspect(a[i].r, client)
			if err != nil {
				t.Fatal(err)
			}
			v, _, err := w.Inspect(b[i].r, client)
			if err != nil {
				t.Fatal(err)
			}
			if v.Blocked != vStd.Blocked || v.RuleIDs() != vStd.RuleIDs() {
				t.Errorf("%s/%s: RE2 blocked %v (%s), Go regexp %v (%s)", table, a[i].name, v.Blocked, v.RuleIDs(), vStd.Blocked, vStd.RuleIDs())
			}
		}
	}
}

// The one SecAction that replaces CRS's default rules leaves the TX
// collection after phase 1 exactly as CRS's own rules do.
func TestInitDefaultsKeepTX(t *testing.T) {
	dump := `SecRule TX "@unconditionalMatch" "id:10998,phase:1,pass,log,msg:'tx'"`
	txAfterPhase1 := func(o Options) map[string]string {
		o.Directives = dump
		w, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		tx := w.waf.NewTransaction()
		defer tx.Close()
		tx.ProcessConnection("203.0.113.9", 0, "", 0)
		tx.ProcessURI("/v1/jobs", "GET", "HTTP/1.1")
		tx.AddRequestHeader("Host", "api.synthos.dev")
		tx.AddRequestHeader("User-Agent", "curl/8.5.0")
		tx.AddRequestHeader("Accept", "*/*")
		if it := tx.ProcessRequestHeaders(); it != nil {
			t.Fatalf("interrupted by %d", it.RuleID)
		}
		got := map[string]string{}
		for _, m := range tx.MatchedRules() {
			if m.Rule().ID() != 10998 {
				continue
			}
			for _, d := range m.MatchedDatas() {
				// CRS's 920450 keeps a TX variable per header name and
				// captures every name (TX.0); ours (restrictedHeaders)
				// needs neither. Captures are per rule, read by none later.
				if strings.HasPrefix(d.Key(), "header_name_920450_") || len(d.Key()) == 1 && d.Key()[0] >= '0' && d.Key()[0] <= '9' {
					continue
				}
				got[d.Key()] = d.Value()
			}
		}
		return got
	}
	crsTX, ours := txAfterPhase1(Options{keepIrrelevant: true}), txAfterPhase1(Options{})
	if len(crsTX) < 30 {
		t.Fatalf("only %d TX variables seen: is the dump rule running?", len(crsTX))
	}
	for k, v := range crsTX {
		if ours[k] != v {
			t.Errorf("tx.%s = %q, CRS's rules give %q", k, ours[k], v)
		}
	}
	for k, v := range ours {
		if _, ok := crsTX[k]; !ok {
			t.Errorf("tx.%s = %q is set only by our initialisation", k, v)
		}
	}
}

// One WAF serves concurrent requests: RE2 expressions are shared by every
// transaction (run with -race).
func TestConcurrentInspect(t *testing.T) {
	w := crs(t)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				bad := jsonReq("POST", "/v1/jobs", `{"dataset":"ds_1","rows":10,"target":"x; cat /etc/passwd"}`)
				if v, _, err := w.Inspect(bad, client); err != nil || !v.Blocked {
					t.Errorf("command injection: blocked %v, %v", v.Blocked, err)
				}
				good := jsonReq("POST", "/v1/jobs", `{"dataset":"ds_1","rows":10,"target":"charges"}`)
				if v, _, err := w.Inspect(good, client); err != nil || v.Blocked {
					t.Errorf("job: blocked %v (%s), %v", v.Blocked, v.RuleIDs(), err)
				}
			}
		}()
	}
	wg.Wait()
}

// minMatch is a lower bound of every match's length: exact on simple
// patterns, and never above a match Go finds in the table values (and
// their short pieces) for the patterns moved to RE2; and @re2 on values
// shorter than it, or short enough for Go's regexp, gives Go's verdict.
func TestMinMatch(t *testing.T) {
	for p, want := range map[string]int{
		`abc`: 3, `a|bc`: 1, `(?:ab){2,3}`: 4, `a*`: 0, `\bfoo\b`: 3, `[a-z]+x?`: 1, `^$`: 0,
		`(?i)union\s+select`: 12, `(?:x|)y`: 1, `.{5}`: 5, `\x{263a}`: 1, `[^a]`: 1,
	} {
		re, err := syntax.Parse("(?sm)"+p, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		if got := minMatch(re); got != want {
			t.Errorf("minMatch(%s) = %d, want %d", p, got, want)
		}
	}
	var moved []string
	if _, err := New(Options{rewritten: &moved, noVariants: true}); err != nil {
		t.Fatal(err)
	}
	vals := values(t)
	for _, v := range values(t) {
		for n := 1; n <= 6 && n <= len(v); n++ {
			for i := 0; i+n <= len(v) && i < 64; i += n {
				vals = append(vals, v[i:i+n])
			}
		}
	}
	short := 0
	for _, p := range moved {
		std := regexp.MustCompile("(?sm)" + p)
		op, err := newRE2(plugintypes.OperatorOptions{Arguments: p})
		if err != nil {
			t.Fatal(err)
		}
		o := op.(*re2rx)
		if o.minLen > shortStd {
			short++
		}
		for _, v := range vals {
			for _, m := range std.FindAllString(v, -1) {
				if len(m) < o.minLen {
					t.Errorf("%.60s: match %q shorter than minMatch %d", p, m, o.minLen)
				}
			}
			if len(v) < o.minLen || len(v) <= shortStd {
				want := std.FindStringSubmatch(v)
				tx := &captureTx{}
				if got := o.Evaluate(tx, v); got != (want != nil) || (got && tx.captured[0] != want[0]) {
					t.Errorf("%.60s on %q: %v %q, Go %q", p, v, got, tx.captured[0], want)
				}
			}
		}
	}
	if short < len(moved)/2 {
		t.Errorf("only %d of %d patterns need more than %d bytes: minMatch is too weak", short, len(moved), shortStd)
	}
}
