package waf

import (
	"fmt"
	"io/fs"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/coraza/v3/types/variables"
)

// Rule variants by request shape.
//
// Most CRS rules read only collections that are empty for most API
// requests: the arguments (ARGS, ARGS_NAMES) of a GET without a query, the
// cookies of a client that sends none, the body collections (ARGS_POST,
// FILES, MULTIPART_*, XML) when no body is inspected. Coraza still pays a
// fixed cost for such a rule on every request (it fills the RULE collection,
// expands msg, looks up each variable), and that fixed cost is most of a
// GET's inspection. Coraza runs a rule's operator once per value its
// variables yield, and an empty collection yields none (only a count, &ARGS,
// yields a value, "0"), so a rule whose every variable is such a collection
// cannot match, set a variable, capture, or run an action: its evaluation
// only leaves its own id and msg in the RULE collection, which the next rule
// overwrites and which no rule of ours reads.
//
// The request's shape (query or not, Cookie header or not, inspected body or
// not) is known before the transaction starts. For each shape, the WAF is
// compiled once more with the rules that cannot match for it removed
// (SecRuleRemoveById after everything else), and a request of that shape runs
// on that variant. The analysis is conservative: a rule is removed only if
// every variable it names (negations aside) is empty for the shape and none
// is a count; SecActions, markers and rules naming anything else stay. What
// could make a removal visible is handled:
//   - skip:N counts the rules that follow: a rule that could fall in a
//     skip window stays (see protectSkipWindows);
//   - a rule set that reads the RULE collection (%{rule.*} or a RULE
//     target), adds targets at load (SecRuleUpdateTarget* without "!"),
//     fills ARGS_PATH (@restpath), removes by message at run time, or
//     includes files of its own in Options.Directives gets no variants.
//
// Variants are built lazily, in the background, the first time a request of
// their shape arrives (that request and any before the build ends run on
// the full rule set), so start-up costs what it did. A build reuses the
// regexes and Aho-Corasick automata compiled by the first (Coraza memoizes
// them per process). TestVariantsAgree and FuzzVariantsAgree hold every
// variant to the full WAF's verdict, matched rules and TX collection.

// shape says which collections are empty for a request, whatever it holds:
// three bits for the query, cookies and body, then one bit per request
// header that some rule selects by name (REQUEST_HEADERS:Referer), set when
// the request has no such header.
type shape uint64

const (
	// noQuery: the URI has no '?': ARGS_GET and ARGS_GET_NAMES are empty
	// (Coraza fills them only from the query string).
	noQuery shape = 1 << iota
	// noCookie: no Cookie header: REQUEST_COOKIES(_NAMES) are empty.
	noCookie
	// noBody: no body bytes reach Coraza: its body processors never run,
	// so ARGS_POST(_NAMES), FILES*, MULTIPART_* and XML are empty.
	noBody

	headerBit0 = 3
	// maxHeaders is how many header names get a bit.
	maxHeaders = 64 - headerBit0
)

// target is one variable a rule reads: header is the lower-case name of a
// REQUEST_HEADERS selection by literal name ("" for anything else).
type target struct {
	v      variables.RuleVariable
	header string
}

// empty reports whether t yields no value for s. Single-value variables
// (REQUEST_BODY, QUERY_STRING, ...) always yield one, even when unset:
// never empty.
func (p *planner) empty(s shape, t target) bool {
	switch t.v {
	case variables.ArgsGet, variables.ArgsGetNames:
		return s&noQuery != 0
	case variables.RequestCookies, variables.RequestCookiesNames:
		return s&noCookie != 0
	case variables.ArgsPost, variables.ArgsPostNames, variables.Files, variables.FilesNames,
		variables.FilesSizes, variables.FilesTmpNames, variables.FilesTmpContent,
		variables.MultipartFilename, variables.MultipartName, variables.MultipartPartHeaders,
		variables.XML, variables.RequestXML:
		return s&noBody != 0
	case variables.Args, variables.ArgsNames:
		// ARGS is ARGS_GET, ARGS_POST and ARGS_PATH; ARGS_PATH is only
		// filled by @restpath, which a rule set with variants has none of.
		return s&noQuery != 0 && s&noBody != 0
	case variables.RequestHeaders:
		if i, ok := p.headerBit[t.header]; ok {
			return s&(1<<(headerBit0+i)) != 0
		}
	}
	return false
}

// synthetic are the headers Inspect adds to Coraza's view beyond r.Header:
// never reported absent.
var synthetic = map[string]bool{"host": true, "content-length": true, "transfer-encoding": true}

// requestShape is r's shape; uri is what Inspect passes to ProcessURI and
// body whether Inspect will write body bytes (a body that turns out empty
// writes none, which only makes the chosen variant keep rules it could
// have removed).
func (p *planner) requestShape(r *http.Request, uri string, body bool) shape {
	var s shape
	if !strings.Contains(uri, "?") {
		s |= noQuery
	}
	if !body {
		s |= noBody
	}
	s |= noCookie
	s |= (shape(1)<<len(p.headers) - 1) << headerBit0 // every header absent, until seen
	for k := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			s &^= noCookie
		}
		if i, ok := p.headerBit[k]; ok {
			s &^= 1 << (headerBit0 + i)
			continue
		}
		for i, h := range p.headers {
			if strings.EqualFold(k, h) {
				s &^= 1 << (headerBit0 + i)
			}
		}
	}
	return s
}

// ruleInfo is what the analysis knows of a loaded rule.
type ruleInfo struct {
	id    int
	phase types.RulePhase
	tags  []string
	// vars are the variables the rule reads (negations left out); nil for
	// a rule that can never be removed (SecAction, SecMarker, a count, a
	// variable the parse does not recognise).
	vars []target
	skip int // skip:N
}

// planner decides which rules a shape's variant removes.
type planner struct {
	rules       []ruleInfo
	loadRemoved func(int) bool
	runtimeIDs  map[int]bool
	runtimeTags map[string]bool
	// headers are the header names rules select by name (lower case, and
	// canonical in headerBit too), bit headerBit0+i for headers[i].
	headers   []string
	headerBit map[string]int
	// gated are the rules the literal gate may remove per request.
	gated map[int]bool
}

// variant is the WAF for one or more shapes.
type variant struct {
	drop  []int // rule ids removed
	once  sync.Once
	ready atomic.Pointer[coraza.WAF]
	done  chan struct{} // closed when the build ends
	err   error         // build failure (the full WAF serves); read after done
}

// variants are a WAF's variants, planned and built as shapes arrive.
type variants struct {
	p       *planner
	build   func(drop []int) (coraza.WAF, error)
	byShape sync.Map // shape -> *variant (nil: the full WAF)
	mu      sync.Mutex
	byDrop  map[string]*variant
}

// minDrop is how many rules a variant must remove to be worth a build,
// maxVariants how many variants a WAF builds at most (each is a copy of
// the rule graph, sharing the compiled expressions); further shapes run on
// the full rule set.
const (
	minDrop     = 10
	maxVariants = 12
)

// get returns the variant for s (nil: the full WAF), planning it the first
// time s is seen.
func (vs *variants) get(s shape) *variant {
	if v, ok := vs.byShape.Load(s); ok {
		return v.(*variant)
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if v, ok := vs.byShape.Load(s); ok {
		return v.(*variant)
	}
	drop := vs.p.drop(s)
	var v *variant
	if len(drop) >= minDrop {
		k := fmt.Sprint(drop)
		if v = vs.byDrop[k]; v == nil && len(vs.byDrop) < maxVariants {
			v = &variant{drop: drop, done: make(chan struct{})}
			vs.byDrop[k] = v
		}
	}
	vs.byShape.Store(s, v)
	return v
}

// pick returns the WAF for s, starting its build in the background the
// first time (the full WAF serves until it is ready).
func (vs *variants) pick(s shape, full coraza.WAF) coraza.WAF {
	if vs == nil {
		return full
	}
	v := vs.get(s)
	if v == nil {
		return full
	}
	if w := v.ready.Load(); w != nil {
		return *w
	}
	v.once.Do(func() { go v.make(vs.build) })
	return full
}

// engine returns the WAF for s, building its variant now if need be.
func (vs *variants) engine(s shape, full coraza.WAF) (coraza.WAF, error) {
	if vs == nil {
		return full, nil
	}
	v := vs.get(s)
	if v == nil {
		return full, nil
	}
	v.once.Do(func() { v.make(vs.build) })
	<-v.done // another goroutine's build may be running
	if v.err != nil {
		return nil, v.err
	}
	return *v.ready.Load(), nil
}

// shapeOf is r's shape as Inspect computes it.
func (w *WAF) shapeOf(r *http.Request) (s shape, uri string, body bool) {
	uri = r.URL.RequestURI()
	body = r.Body != nil && r.Body != http.NoBody && !w.o.SkipBody(r)
	if w.variants != nil {
		s = w.variants.p.requestShape(r, uri, body)
	}
	return s, uri, body
}

// Warm builds now, and waits for, the variant that requests shaped like r
// run on (benchmarks, tests, and a server that would rather pay before
// traffic than in the background). r's body is not read.
func (w *WAF) Warm(r *http.Request) error {
	if w.variants == nil {
		return nil
	}
	s, _, _ := w.shapeOf(r)
	_, err := w.variants.engine(s, w.waf)
	return err
}

func (v *variant) make(build func([]int) (coraza.WAF, error)) {
	defer close(v.done)
	w, err := build(v.drop)
	if err != nil {
		v.err = err
		return
	}
	v.ready.Store(&w)
}

// newPlanner checks that the rule set is one the analysis models. text is
// every directive the WAF was built from (CRS's files included).
func newPlanner(rules []ruleInfo, text string) (*planner, error) {
	if err := variantsAllowed(text); err != nil {
		return nil, err
	}
	loadRemoved, err := removedAtLoad(text)
	if err != nil {
		return nil, err
	}
	p := &planner{rules: rules, loadRemoved: loadRemoved, headerBit: map[string]int{}}
	p.runtimeIDs, p.runtimeTags = removableAtRunTime(text)
	// Every skip:N must be on a rule the analysis saw (a chained rule's
	// skip would not be).
	skips := 0
	for _, r := range rules {
		if r.skip > 0 {
			skips++
		}
		for _, t := range r.vars {
			if t.header != "" && !synthetic[t.header] && !slices.Contains(p.headers, t.header) && len(p.headers) < maxHeaders {
				p.headerBit[t.header] = len(p.headers)
				p.headerBit[http.CanonicalHeaderKey(t.header)] = len(p.headers)
				p.headers = append(p.headers, t.header)
			}
		}
	}
	if n := len(skipAction.FindAllString(text, -1)); n != skips {
		return nil, fmt.Errorf("%d skip actions in the rule text, %d on rules the analysis saw", n, skips)
	}
	return p, nil
}

// drop lists the rules that cannot match a request of shape s.
func (p *planner) drop(s shape) []int {
	cand := make([]bool, len(p.rules))
	for i, r := range p.rules {
		cand[i] = r.vars != nil && !p.loadRemoved(r.id)
		for _, t := range r.vars {
			if !p.empty(s, t) {
				cand[i] = false
				break
			}
		}
	}
	protectSkipWindows(p.rules, cand, p.loadRemoved, p.runtimeIDs, p.runtimeTags, p.gated, nil)
	var ids []int
	for i, c := range cand {
		if c {
			ids = append(ids, p.rules[i].id)
		}
	}
	return ids
}

// protectSkipWindows keeps the candidates a skip:N could reach. Coraza's
// skip:N passes over the next N rules of the phase that are not removed at
// run time (ctl:ruleRemoveById/ByTag); removing a rule the full WAF would
// have passed over shifts the window onto a rule the full WAF runs. A
// candidate D after a skip:N rule is safe to remove when at least N rules
// lie between them that are never removed (at load or by this analysis) and
// that run-time removals can only remove together with D (their removal
// keys are a subset of D's): then, whenever D is not removed at run time,
// those N rules take the whole window. Rules the literal gate may remove
// (gated) do not count; a candidate kept here counts if pinKept says
// nothing else can remove it.
func protectSkipWindows(rules []ruleInfo, cand []bool, loadRemoved func(int) bool, runtimeIDs map[int]bool, runtimeTags map[string]bool, gated map[int]bool, pinKept func(int) bool) {
	keys := func(r ruleInfo) []string {
		var k []string
		if runtimeIDs[r.id] {
			k = append(k, "id:"+strconv.Itoa(r.id))
		}
		for _, t := range r.tags {
			if runtimeTags[t] {
				k = append(k, "tag:"+t)
			}
		}
		return k
	}
	for si, s := range rules {
		if s.skip == 0 {
			continue
		}
		var pinned [][]string // removal keys of the certain rules so far
		for i := si + 1; i < len(rules); i++ {
			r := rules[i]
			if r.phase != s.phase && r.phase != 0 {
				continue
			}
			if cand[i] {
				kd := keys(r)
				n := 0
				for _, kb := range pinned {
					if subset(kb, kd) {
						n++
					}
				}
				if n < s.skip {
					cand[i] = false
					// Kept now, and surely in the group if nothing
					// else removes it.
					if pinKept != nil && pinKept(i) && !loadRemoved(r.id) {
						pinned = append(pinned, kd)
					}
				}
				continue
			}
			// A kept rule counts only if it is surely in the group: it
			// has an id (markers are kept but not counted), no load-time
			// removal took it out, and the literal gate cannot remove it.
			if r.id > 0 && !loadRemoved(r.id) && !gated[r.id] {
				pinned = append(pinned, keys(r))
			}
		}
	}
}

func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

var (
	skipAction     = regexp.MustCompile(`(?i)[\s,"']skip\s*:`)
	skipCount      = regexp.MustCompile(`^\s*'?(\d+)`)
	ruleMacro      = regexp.MustCompile(`(?i)%\{\s*rule\.`)
	ruleTarget     = regexp.MustCompile(`(?im)^\s*SecRule\s+"?\S*\bRULE\b`)
	updateTarget   = regexp.MustCompile(`(?im)^\s*SecRuleUpdateTargetBy\w+\s+(?:"[^"]*"|\S+)\s+"?([^"\n]*)`)
	removeByID     = regexp.MustCompile(`(?im)^\s*SecRuleRemoveById\s+([^\n]*)`)
	removeOther    = regexp.MustCompile(`(?im)^\s*SecRuleRemoveBy(?:Tag|Msg)\b`)
	ctlRemoveID    = regexp.MustCompile(`(?i)ctl:ruleRemoveById=([^,"'\s\\]+)`)
	ctlRemoveTag   = regexp.MustCompile(`(?i)ctl:ruleRemoveByTag=([^,"'\s\\]+)`)
	ctlRemoveMsg   = regexp.MustCompile(`(?i)ctl:ruleRemoveByMsg`)
	restPath       = regexp.MustCompile(`(?i)@restpath`)
	plainName      = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	commentLine    = regexp.MustCompile(`(?m)^\s*#.*$`)
	directiveBreak = regexp.MustCompile(`\\\n`)
)

// variantsAllowed refuses rule sets the analysis does not model.
func variantsAllowed(text string) error {
	switch {
	case ruleMacro.MatchString(text) || ruleTarget.MatchString(text):
		return fmt.Errorf("a rule reads the RULE collection")
	case restPath.MatchString(text):
		return fmt.Errorf("@restpath fills ARGS_PATH")
	case ctlRemoveMsg.MatchString(text):
		return fmt.Errorf("ctl:ruleRemoveByMsg")
	}
	for _, m := range updateTarget.FindAllStringSubmatch(text, -1) {
		for _, t := range strings.Split(m[1], "|") {
			if !strings.HasPrefix(strings.TrimSpace(t), "!") {
				return fmt.Errorf("a load-time target update adds %q", t)
			}
		}
	}
	for _, m := range ctlRemoveID.FindAllStringSubmatch(text, -1) {
		if strings.Contains(m[1], "%") {
			return fmt.Errorf("ctl:ruleRemoveById=%s: a macro", m[1])
		}
	}
	return nil
}

// removedAtLoad returns whether a SecRuleRemoveById in text takes id out
// (nil with an error when rules are removed in ways it does not follow).
func removedAtLoad(text string) (func(int) bool, error) {
	if removeOther.MatchString(text) {
		return nil, fmt.Errorf("SecRuleRemoveByTag/ByMsg")
	}
	var ranges [][2]int
	for _, m := range removeByID.FindAllStringSubmatch(text, -1) {
		for _, f := range strings.Fields(m[1]) {
			lo, hi, isRange := strings.Cut(strings.Trim(f, `"`), "-")
			a, err := strconv.Atoi(lo)
			if err != nil {
				return nil, fmt.Errorf("SecRuleRemoveById %q", f)
			}
			b := a
			if isRange {
				if b, err = strconv.Atoi(hi); err != nil {
					return nil, fmt.Errorf("SecRuleRemoveById %q", f)
				}
			}
			ranges = append(ranges, [2]int{a, b})
		}
	}
	return func(id int) bool {
		for _, r := range ranges {
			if id >= r[0] && id <= r[1] {
				return true
			}
		}
		return false
	}, nil
}

// removableAtRunTime lists the ids and tags that ctl actions in text may
// remove per transaction. An id range counts every id in it.
func removableAtRunTime(text string) (map[int]bool, map[string]bool) {
	ids, tags := map[int]bool{}, map[string]bool{}
	for _, m := range ctlRemoveID.FindAllStringSubmatch(text, -1) {
		lo, hi, isRange := strings.Cut(m[1], "-")
		a, err1 := strconv.Atoi(lo)
		b, err2 := strconv.Atoi(hi)
		if !isRange {
			b, err2 = a, nil
		}
		if err1 != nil || err2 != nil || b-a > 1e6 {
			continue
		}
		for id := a; id <= b; id++ {
			ids[id] = true
		}
	}
	for _, m := range ctlRemoveTag.FindAllStringSubmatch(text, -1) {
		tags[strings.Trim(m[1], `'`)] = true
	}
	return ids, tags
}

// analyse turns a loaded rule into a ruleInfo. raw is the rule's directive
// as Coraza's parser saw it (one line, continuations joined; for a chain,
// the starter only).
func analyse(m types.RuleMetadata) ruleInfo {
	r := ruleInfo{id: m.ID(), phase: m.Phase(), tags: m.Tags()}
	raw := m.Raw()
	if sm := skipAction.FindStringIndex(raw); sm != nil {
		n := 0
		if d := skipCount.FindStringSubmatch(raw[sm[1]:]); d != nil {
			n, _ = strconv.Atoi(d[1])
		}
		if n <= 0 {
			n = 1 << 30 // unreadable: protect everything after it
		}
		r.skip = n
	}
	dir, opts, _ := strings.Cut(raw, " ")
	if !strings.EqualFold(dir, "SecRule") {
		return r
	}
	// As Coraza's parser: a fully quoted argument list loses its quotes,
	// the variables are what precedes the first space.
	if len(opts) >= 3 && opts[0] == '"' && opts[len(opts)-1] == '"' {
		opts = strings.Trim(opts, `"`)
	}
	vars, _, ok := strings.Cut(strings.Trim(opts, " "), " ")
	if !ok {
		return r
	}
	// Split on every '|', even inside a /regex/ key: each real variable
	// starts a piece, so none is missed; a piece that is a regex fragment
	// either fails to parse as a variable (the rule stays) or names one
	// more variable (a stricter test).
	var out []target
	for _, piece := range strings.Split(vars, "|") {
		if strings.HasPrefix(piece, "!") {
			continue
		}
		if strings.HasPrefix(piece, "&") || piece == "" {
			return r
		}
		name, key, _ := strings.Cut(piece, ":")
		v, err := variables.Parse(name)
		if err != nil || v == variables.Unknown {
			return r
		}
		t := target{v: v}
		// A header selected by a plain name (not a /regex/, not quoted):
		// Coraza matches header names case-insensitively.
		if v == variables.RequestHeaders && plainName.MatchString(key) {
			t.header = strings.ToLower(key)
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return r
	}
	r.vars = out
	return r
}

// ruleText is every directive a WAF is built from: ours, then CRS's files
// as loaded (comments and continuations removed, so a commented-out
// directive does not count).
func ruleText(directives string, root fs.FS) (string, error) {
	var b strings.Builder
	b.WriteString(directives)
	files, err := fs.Glob(coreruleset.FS, "@owasp_crs/*.conf")
	if err != nil {
		return "", err
	}
	files = append(files, "@coraza.conf-recommended", "@crs-setup.conf.example")
	for _, f := range files {
		c, err := fs.ReadFile(root, f)
		if err != nil {
			return "", fmt.Errorf("waf: read %s: %w", f, err)
		}
		b.WriteString("\n")
		b.Write(c)
	}
	return commentLine.ReplaceAllString(directiveBreak.ReplaceAllString(b.String(), ""), ""), nil
}
