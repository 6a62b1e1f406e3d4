package waf

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/coraza/v3/types/variables"
)

// The literal gate: per request, the @rx rules that cannot match are
// removed before Coraza's rule loop reaches them.
//
// Coraza pays a fixed cost per rule and per value before any regex runs:
// it fills the RULE collection, fetches each variable (a slice of matches
// per collection, each key lower-cased for the exceptions), looks up the
// transformation cache per value. For a JSON job (a dozen arguments and
// names) that is most of the inspection, and almost every rule fails its
// regex's literal pre-filter on every value.
//
// The gate decides the same thing for all rules at once. At load, each
// eligible rule's expression gives a set of literals one of which any match
// must contain (needles, ASCII case-folded), and its transformations a set
// of trigger bytes: the bytes without which every transformation it names
// leaves a value as it is but for letter case (urlDecodeUni needs '%' or
// '+', htmlEntityDecode '&', cmdLine a quote, backslash, caret, comma,
// semicolon or white space, and so on; any byte above 0x7f triggers every
// rule). Per request, a rule SecRule placed at the head of phases 1 and 2
// (10021, 10022: an operator that never matches) scans, once, the values of
// every collection an eligible rule reads (all of them, whatever keys the
// rule selects or excludes: a superset) with one Aho-Corasick automaton
// over every needle, and removes for the transaction (Coraza's
// RemoveRuleByID, what ctl:ruleRemoveById calls) each rule none of whose
// collections holds a trigger byte or one of its needles. Such a rule's
// transformations leave each value v as v or lower-case v, so its
// expression would run on a value without any of the literals a match
// needs: it could not match, capture, set a variable or run an action. Its
// evaluation would only have left its id and msg in the RULE collection,
// which the next rule overwrites and which the gate requires no rule to
// read (as the variants do, variants.go).
//
// Eligible: a SecRule (or chain starter) after the gate in its phase, with
// a plain @rx or @re2 operator (not negated) whose expression yields
// needles, transformations all in gateTriggers, variables all in
// gateVariables and not counts, not in a skip:N window that the removal
// could shift (protectSkipWindows). The gate is off when the rule set
// changes actions or targets at load in ways the rule text does not show
// (SecRuleUpdateActionById or SecDefaultAction with transformations,
// SecRuleUpdateTarget* adding targets), reads the RULE collection, or when
// Coraza's transaction no longer offers RemoveRuleByID.
//
// TestGateAgrees holds verdicts, matched rules and values and the TX
// collection to the rule set without the gate on the attack and legitimate
// tables, on payloads hidden behind every transformation, and on random
// requests (FuzzGateAgrees).

const gateOperator = "synthosGate"

// Gate rule ids, one per request phase.
const (
	gateID1 = 10021
	gateID2 = 10022
)

// gates are the plans of the WAFs built in this process, by key: the gate
// operator is created while the rules parse, before the plan (which needs
// the parsed rules) exists.
var (
	gates   sync.Map // string -> *gate
	gateSeq atomic.Uint64
)

func init() {
	plugins.RegisterOperator(gateOperator, newGateOp)
}

// gate is one WAF's literal gate (shared by its variants).
type gate struct {
	plan atomic.Pointer[gatePlan]
}

type gateOp struct {
	g     *gate
	phase types.RulePhase
}

func newGateOp(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	key, ph, ok := strings.Cut(o.Arguments, " ")
	g, found := gates.Load(key)
	n, err := strconv.Atoi(ph)
	if !ok || !found || err != nil || (n != 1 && n != 2) {
		return nil, fmt.Errorf("waf: gate operator %q: unknown key or phase", o.Arguments)
	}
	return gateOp{g: g.(*gate), phase: types.RulePhase(n)}, nil
}

// Evaluate removes the rules that cannot match and never matches itself.
func (o gateOp) Evaluate(tx plugintypes.TransactionState, _ string) bool {
	if p := o.g.plan.Load(); p != nil {
		p.phases[o.phase-1].run(tx)
	}
	return false
}

// gateDirectives are the gate rules for key.
func gateDirectives(key string) string {
	return fmt.Sprintf(`# The literal gate (gate.go): removes, per request, the rules that cannot match.
SecRule REQUEST_METHOD "@%[1]s %[2]s 1" "id:%[3]d,phase:1,pass,nolog,t:none"
SecRule REQUEST_METHOD "@%[1]s %[2]s 2" "id:%[4]d,phase:2,pass,nolog,t:none"
`, gateOperator, key, gateID1, gateID2)
}

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(b byte)          { s[b>>6] |= 1 << (b & 63) }
func (s byteSet) meets(t byteSet) bool { return s[0]&t[0]|s[1]&t[1]|s[2]&t[2]|s[3]&t[3] != 0 }
func (s *byteSet) union(t byteSet) {
	s[0], s[1], s[2], s[3] = s[0]|t[0], s[1]|t[1], s[2]|t[2], s[3]|t[3]
}
func bytesOf(chars string) (s byteSet) {
	for i := 0; i < len(chars); i++ {
		s.add(chars[i])
	}
	return s
}

// nonASCII triggers every rule: Unicode case folding (the Kelvin sign
// matches (?i)k) and utf8toUnicode change such values beyond letter case.
var nonASCII = byteSet{0, 0, ^uint64(0), ^uint64(0)}

// gateTriggers are the transformations the gate understands (lower case,
// as Coraza looks them up) and the bytes without which each returns its
// input unchanged but for ASCII letter case (read from Coraza v3.8.1's
// internal/transformations; empty input stays empty for all of them).
var gateTriggers = map[string]byteSet{
	"none":      {},
	"lowercase": {},
	// '%' escapes, '+' is a space.
	"urldecode":    bytesOf("%+"),
	"urldecodeuni": bytesOf("%+"),
	// html.UnescapeString: entities start with '&'.
	"htmlentitydecode": bytesOf("&"),
	"jsdecode":         bytesOf(`\`),
	"cssdecode":        bytesOf(`\`),
	"escapeseqdecode":  bytesOf(`\`),
	"utf8tounicode":    bytesOf("%"), // non-ASCII only; '%' for safety
	"removenulls":      bytesOf("\x00"),
	"replacenulls":     bytesOf("\x00"),
	// Deletes \ " ' ^, turns , ; and white space into one space, deletes
	// a space before / or ( (so those change nothing without a space),
	// lower-cases.
	"cmdline":            bytesOf("\\\"'^,; \t\r\n"),
	"compresswhitespace": bytesOf(" \t\n\v\f\r"),
	"removewhitespace":   bytesOf(" \t\n\v\f\r"),
	"trim":               bytesOf(" \t\n\v\f\r"),
	"trimleft":           bytesOf(" \t\n\v\f\r"),
	"trimright":          bytesOf(" \t\n\v\f\r"),
	// Comments open with "/*".
	"replacecomments": bytesOf("*/"),
	// "/*", "*/", "<!--", "--", "-->", "#".
	"removecommentschar": bytesOf("*/-#<"),
	// filepath.Clean: separators and dots.
	"normalisepath": bytesOf("/."),
	"normalizepath": bytesOf("/."),
	// Also backslashes, drive letters and streams (':'), trailing dots and
	// spaces.
	"normalisepathwin": bytesOf("/.\\: "),
	"normalizepathwin": bytesOf("/.\\: "),
}

// gateVariables are the collections whose values the gate reads through
// Coraza's own collection (FindAll: every value whatever key a rule
// selects).
var gateVariables = map[variables.RuleVariable]bool{
	variables.Args: true, variables.ArgsNames: true, variables.ArgsGet: true, variables.ArgsGetNames: true,
	variables.ArgsPost: true, variables.ArgsPostNames: true, variables.ArgsPath: true,
	variables.RequestHeaders: true, variables.RequestHeadersNames: true,
	variables.RequestCookies: true, variables.RequestCookiesNames: true,
	variables.RequestFilename: true, variables.RequestBasename: true, variables.RequestURI: true,
	variables.RequestURIRaw: true, variables.RequestLine: true, variables.QueryString: true,
	variables.RequestBody: true, variables.RequestMethod: true, variables.RequestProtocol: true,
	variables.XML: true, variables.Files: true, variables.FilesNames: true,
	variables.MultipartFilename: true, variables.MultipartName: true, variables.ReqbodyProcessor: true,
}

// maxNeedles bounds the literals of one clause, maxClauses the clauses of
// one expression.
const (
	maxNeedles = 256
	maxClauses = 16
)

// needles returns clauses of literals (ASCII, lower case): any string re
// matches contains, ASCII case-insensitively, one literal of every clause.
// Empty when the expression offers none (an optional part, a class of many
// characters, anything non-ASCII).
func needles(re *syntax.Regexp) [][]string {
	switch re.Op {
	case syntax.OpLiteral:
		var b strings.Builder
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf {
				return nil
			}
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b.WriteRune(r)
		}
		if b.Len() == 0 {
			return nil
		}
		return [][]string{{b.String()}}
	case syntax.OpCharClass:
		seen := map[string]bool{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi >= utf8.RuneSelf || hi-lo > 64 {
				return nil
			}
			for r := lo; r <= hi; r++ {
				c := r
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				seen[string(c)] = true
			}
		}
		if len(seen) == 0 || len(seen) > 64 {
			return nil
		}
		return [][]string{sorted(seen)}
	case syntax.OpCapture, syntax.OpPlus:
		return needles(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min < 1 {
			return nil
		}
		return needles(re.Sub[0])
	case syntax.OpAlternate:
		// One branch matches: its most selective clause, for every
		// branch, makes one clause.
		seen := map[string]bool{}
		for _, s := range re.Sub {
			var best []string
			for _, c := range needles(s) {
				if better(c, best) {
					best = c
				}
			}
			if best == nil {
				return nil
			}
			for _, x := range best {
				seen[x] = true
			}
			if len(seen) > maxNeedles {
				return nil
			}
		}
		return [][]string{prune(sorted(seen))}
	case syntax.OpConcat:
		// Every part is in every match: all their clauses.
		var out [][]string
		for _, s := range re.Sub {
			for _, c := range needles(s) {
				if !slices.ContainsFunc(out, func(o []string) bool { return slices.Equal(o, c) }) {
					out = append(out, c)
				}
			}
		}
		if len(out) > maxClauses {
			slices.SortStableFunc(out, func(a, b []string) int {
				if better(a, b) {
					return -1
				}
				if better(b, a) {
					return 1
				}
				return 0
			})
			out = out[:maxClauses]
		}
		return out
	}
	return nil
}

func sorted(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// prune drops literals that contain another of the set (the shorter one
// occurs wherever the longer does).
func prune(set []string) []string {
	out := set[:0:0]
	for _, s := range set {
		redundant := false
		for _, t := range set {
			if t != s && strings.Contains(s, t) {
				redundant = true
				break
			}
		}
		if !redundant {
			out = append(out, s)
		}
	}
	return out
}

// better: a is the more selective clause (longer shortest literal, then
// fewer literals).
func better(a, b []string) bool {
	if b == nil {
		return true
	}
	ma, mb := minLen(a), minLen(b)
	if ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

func minLen(set []string) int {
	m := 1 << 30
	for _, s := range set {
		m = min(m, len(s))
	}
	return m
}

var (
	gateTransform   = regexp.MustCompile(`(?i)(?:^|[,\s'"])t\s*:\s*'?([^,'"\s]*)`)
	updateAction    = regexp.MustCompile(`(?im)^\s*SecRuleUpdateActionBy\w+\s[^\n]*\bt\s*:`)
	defaultAction   = regexp.MustCompile(`(?im)^\s*SecDefaultAction\s[^\n]*\bt\s*:`)
	gateOperatorArg = regexp.MustCompile(`^(!?)@(\w+)(?:\s+(.*))?$`)
)

// ruleOperator splits a rule's raw directive as Coraza's parser does
// (seclang parseActionOperator and ParseOperator, v3.8.1): variables, the
// operator's name and argument, whether it is negated, and the actions.
func ruleOperator(raw string) (vars, op, arg string, negated bool, actions string, ok bool) {
	raw, _, _ = strings.Cut(raw, "\n") // a chain's starter only
	dir, data, _ := strings.Cut(strings.TrimSpace(raw), " ")
	if !strings.EqualFold(dir, "SecRule") {
		return "", "", "", false, "", false
	}
	data = strings.Trim(data, " ")
	vars, rest, found := strings.Cut(data, " ")
	if !found {
		return "", "", "", false, "", false
	}
	rest = strings.TrimLeft(rest, " ")
	if len(rest) == 0 || rest[0] != '"' {
		return "", "", "", false, "", false
	}
	end, escapes := -1, 0
	for i := 1; i < len(rest); i++ {
		if rest[i] != '"' {
			if rest[i] == '\\' {
				escapes++
			} else {
				escapes = 0
			}
			continue
		}
		if escapes%2 == 1 {
			escapes = 0
			continue
		}
		end = i
		break
	}
	if end < 0 {
		return "", "", "", false, "", false
	}
	operator := strings.ReplaceAll(rest[1:end], `\"`, `"`)
	actions = strings.TrimSpace(rest[end+1:])
	if len(operator) == 0 || operator[0] != '@' && operator[0] != '!' {
		operator = "@rx " + operator
	} else if len(operator) > 1 && operator[0] == '!' && operator[1] != '@' {
		operator = "!@rx " + operator[1:]
	}
	name, data2, _ := strings.Cut(operator, " ")
	m := gateOperatorArg.FindStringSubmatch(strings.TrimSpace(name))
	if m == nil {
		return "", "", "", false, "", false
	}
	return vars, m[2], strings.TrimSpace(data2), m[1] == "!", actions, true
}

// gateRule is an eligible rule.
type gateRule struct {
	id      int
	vars    []int // slots in gatePhase.vars
	trig    byteSet
	clauses []int // bits in a clause set: one literal of each must occur
}

// live reports whether r may match given, per variable slot, the bytes
// present and the clauses found.
func (r *gateRule) live(present []byteSet, found []uint64, words int) bool {
	for _, k := range r.vars {
		if present[k].meets(r.trig) || r.allFound(found[k*words:(k+1)*words]) {
			return true
		}
	}
	return false
}

// allFound reports whether every clause of r is in found.
func (r *gateRule) allFound(found []uint64) bool {
	for _, c := range r.clauses {
		if found[c/64]&(1<<(c%64)) == 0 {
			return false
		}
	}
	return true
}

// gatePhase is the plan for one phase.
type gatePhase struct {
	rules []gateRule
	vars  []variables.RuleVariable
	ac    *automaton
	words int // of a rule bitset
}

// gatePlan is a WAF's gate.
type gatePlan struct {
	phases [2]gatePhase
	// why says, for each rule after a gate that it does not cover, why
	// (tests and tuning).
	why map[int]string
}

// ruleRemover is what ctl:ruleRemoveById calls on Coraza's transaction.
type ruleRemover interface{ RemoveRuleByID(id int) }

// planGate builds the gate's plan for a loaded rule set (rules in load
// order, as analysed, with their metadata) and the directives' text.
func planGate(w coraza.WAF, loaded []types.RuleMetadata, rules []ruleInfo, text string) (*gatePlan, error) {
	if err := variantsAllowed(text); err != nil {
		return nil, err
	}
	if updateAction.MatchString(text) || defaultAction.MatchString(text) {
		return nil, fmt.Errorf("transformations changed at load by SecRuleUpdateAction or SecDefaultAction")
	}
	tx := w.NewTransaction()
	_, can := tx.(ruleRemover)
	tx.Close()
	if !can {
		return nil, fmt.Errorf("coraza's transaction has no RemoveRuleByID")
	}
	loadRemoved, err := removedAtLoad(text)
	if err != nil {
		return nil, err
	}
	runtimeIDs, runtimeTags := removableAtRunTime(text)

	type cand struct {
		i       int
		vars    []variables.RuleVariable
		trig    byteSet
		needles [][]string
	}
	var cands []cand
	whyNot := map[int]string{}
	gateAt := map[types.RulePhase]int{}
	for i, m := range loaded {
		switch m.ID() {
		case gateID1:
			gateAt[types.PhaseRequestHeaders] = i + 1
		case gateID2:
			gateAt[types.PhaseRequestBody] = i + 1
		}
	}
	if len(gateAt) != 2 {
		return nil, fmt.Errorf("gate rules not loaded")
	}
	for i, m := range loaded {
		r := rules[i]
		at, ok := gateAt[r.phase]
		if !ok || at == 0 || i < at || r.id <= 0 || loadRemoved(r.id) {
			continue
		}
		if r.vars == nil {
			whyNot[r.id] = "variables (a count, an action, or unknown)"
			continue
		}
		c, why := gateCandidate(m.Raw(), r)
		if why != "" {
			whyNot[r.id] = why
			continue
		}
		c2 := cand{i: i, vars: c.vars, trig: c.trig, needles: c.needles}
		cands = append(cands, c2)
	}
	// A removal must not shift a skip:N window: the candidates are the
	// gate's and whatever a variant may drop.
	isCand := map[int]bool{}
	for _, c := range cands {
		isCand[c.i] = true
	}
	mark := make([]bool, len(rules))
	for i, r := range rules {
		mark[i] = (isCand[i] || mayBeDropped(r)) && !loadRemoved(r.id)
	}
	// A candidate kept for a window counts in it when no variant can
	// drop it either.
	protectSkipWindows(rules, mark, loadRemoved, runtimeIDs, runtimeTags, nil, func(i int) bool { return !mayBeDropped(rules[i]) })

	plan := &gatePlan{why: whyNot}
	for _, c := range cands {
		if !mark[c.i] {
			whyNot[rules[c.i].id] = "in a skip window"
		}
	}
	for pi, phase := range []types.RulePhase{types.PhaseRequestHeaders, types.PhaseRequestBody} {
		gp := &plan.phases[pi]
		slot := map[variables.RuleVariable]int{}
		var pats []string
		var owners [][]int
		patIdx := map[string]int{}
		nclauses := 0
		for _, c := range cands {
			if rules[c.i].phase != phase || !mark[c.i] {
				continue
			}
			g := gateRule{id: rules[c.i].id, trig: c.trig}
			for _, v := range c.vars {
				s, ok := slot[v]
				if !ok {
					s = len(gp.vars)
					slot[v] = s
					gp.vars = append(gp.vars, v)
				}
				if !slices.Contains(g.vars, s) {
					g.vars = append(g.vars, s)
				}
			}
			for _, clause := range c.needles {
				ci := nclauses
				nclauses++
				g.clauses = append(g.clauses, ci)
				for _, n := range clause {
					k, ok := patIdx[n]
					if !ok {
						k = len(pats)
						patIdx[n] = k
						pats = append(pats, n)
						owners = append(owners, nil)
					}
					owners[k] = append(owners[k], ci)
				}
			}
			gp.rules = append(gp.rules, g)
		}
		gp.words = (nclauses + 63) / 64
		gp.ac = buildAutomaton(pats, owners, gp.words)
	}
	return plan, nil
}

// mayBeDropped reports whether some request shape's variant may drop r
// (every variable of r may be empty, variants.go).
func mayBeDropped(r ruleInfo) bool {
	if r.vars == nil {
		return false
	}
	every := &planner{headerBit: map[string]int{}}
	for _, t := range r.vars {
		if t.header != "" {
			every.headerBit[t.header] = 0
		}
	}
	for _, t := range r.vars {
		if !every.empty(^shape(0), t) {
			return false
		}
	}
	return true
}

type gateCand struct {
	vars    []variables.RuleVariable
	trig    byteSet
	needles [][]string
}

// gateCandidate reads a rule's operator, transformations and variables.
// gateCandidate reads a rule's operator, transformations and variables;
// why says what makes it ineligible ("" if nothing).
func gateCandidate(raw string, r ruleInfo) (c gateCand, why string) {
	_, op, arg, negated, actions, ok := ruleOperator(raw)
	switch {
	case !ok:
		return c, "unparsed"
	case negated || (op != "rx" && op != re2Operator) || arg == "":
		return c, "operator " + op
	}
	re, err := syntax.Parse("(?sm)"+arg, syntax.Perl)
	if err != nil {
		return c, "expression: " + err.Error()
	}
	set := needles(re)
	if len(set) == 0 {
		return c, "no literals"
	}
	c = gateCand{trig: nonASCII, needles: set}
	for _, m := range gateTransform.FindAllStringSubmatch(actions, -1) {
		t, ok := gateTriggers[strings.ToLower(m[1])]
		if !ok {
			return c, "transformation " + m[1]
		}
		c.trig.union(t)
	}
	for _, t := range r.vars {
		if !gateVariables[t.v] {
			return c, "variable " + t.v.Name()
		}
		if !slices.Contains(c.vars, t.v) {
			c.vars = append(c.vars, t.v)
		}
	}
	return c, ""
}

// run removes the phase's rules that cannot match tx.
func (gp *gatePhase) run(tx plugintypes.TransactionState) {
	rm, ok := tx.(ruleRemover)
	if !ok || len(gp.rules) == 0 {
		return
	}
	nv := len(gp.vars)
	present := make([]byteSet, nv)
	found := make([]uint64, nv*gp.words)
	for k, v := range gp.vars {
		col := tx.Collection(v)
		if col == nil {
			continue
		}
		for _, md := range col.FindAll() {
			gp.ac.scan(md.Value(), &present[k], found[k*gp.words:(k+1)*gp.words])
		}
	}
	for i := range gp.rules {
		if r := &gp.rules[i]; !r.live(present, found, gp.words) {
			rm.RemoveRuleByID(r.id)
		}
	}
}

// automaton is an Aho-Corasick automaton over ASCII-lower-cased bytes
// whose states carry the set of clauses one of whose literals ends there.
type automaton struct {
	class [256]uint8 // byte (lower-cased) -> symbol; 0: in no needle
	nsym  int
	delta []int32 // state*nsym + symbol -> state
	out   []int32 // state -> offset in bits, -1: none
	bits  []uint64
	words int
}

func buildAutomaton(pats []string, owners [][]int, words int) *automaton {
	a := &automaton{words: words}
	n := 1
	for _, p := range pats {
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				a.class[p[i]] = uint8(n)
				n++
			}
		}
	}
	// Upper-case letters read as lower case.
	for c := 'A'; c <= 'Z'; c++ {
		a.class[c] = a.class[c+'a'-'A']
	}
	a.nsym = n
	// Trie.
	type node struct {
		next map[uint8]int32
		own  []int
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for pi, p := range pats {
		s := int32(0)
		for i := 0; i < len(p); i++ {
			c := a.class[p[i]]
			nx, ok := nodes[s].next[c]
			if !ok {
				nx = int32(len(nodes))
				nodes = append(nodes, node{next: map[uint8]int32{}})
				nodes[s].next[c] = nx
			}
			s = nx
		}
		nodes[s].own = append(nodes[s].own, owners[pi]...)
	}
	ns := len(nodes)
	a.delta = make([]int32, ns*n)
	fail := make([]int32, ns)
	rulesAt := make([][]uint64, ns)
	set := func(s int32, rs []int) {
		if len(rs) == 0 {
			return
		}
		if rulesAt[s] == nil {
			rulesAt[s] = make([]uint64, words)
		}
		for _, r := range rs {
			rulesAt[s][r/64] |= 1 << (r % 64)
		}
	}
	// Breadth first: each state's transitions and output from its
	// failure state's.
	queue := []int32{0}
	set(0, nodes[0].own)
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for c := 0; c < n; c++ {
			nx, ok := nodes[s].next[uint8(c)]
			if c == 0 {
				ok = false
			}
			if !ok {
				if s == 0 {
					a.delta[c] = 0
				} else {
					a.delta[int(s)*n+c] = a.delta[int(fail[s])*n+c]
				}
				continue
			}
			a.delta[int(s)*n+c] = nx
			if s == 0 {
				fail[nx] = 0
			} else {
				fail[nx] = a.delta[int(fail[s])*n+c]
			}
			set(nx, nodes[nx].own)
			if f := rulesAt[fail[nx]]; f != nil {
				if rulesAt[nx] == nil {
					rulesAt[nx] = make([]uint64, words)
				}
				for i := range f {
					rulesAt[nx][i] |= f[i]
				}
			}
			queue = append(queue, nx)
		}
	}
	a.out = make([]int32, ns)
	for s := range a.out {
		a.out[s] = -1
		if rulesAt[s] != nil {
			a.out[s] = int32(len(a.bits))
			a.bits = append(a.bits, rulesAt[s]...)
		}
	}
	return a
}

// scan adds v's bytes to present and the rules whose needles occur in v to
// found.
func (a *automaton) scan(v string, present *byteSet, found []uint64) {
	s := int32(0)
	n := int32(a.nsym)
	for i := 0; i < len(v); i++ {
		b := v[i]
		present.add(b)
		s = a.delta[s*n+int32(a.class[b])]
		if o := a.out[s]; o >= 0 {
			for w, x := range a.bits[o : int(o)+a.words] {
				found[w] |= x
			}
		}
	}
}

// explain lists, for tests, the rules the phase keeps for tx and why.
func (gp *gatePhase) explain(tx plugintypes.TransactionState) []string {
	var out []string
	nv := len(gp.vars)
	present := make([]byteSet, nv)
	found := make([]uint64, nv*gp.words)
	vals := make([][]string, nv)
	for k, v := range gp.vars {
		col := tx.Collection(v)
		if col == nil {
			continue
		}
		for _, md := range col.FindAll() {
			gp.ac.scan(md.Value(), &present[k], found[k*gp.words:(k+1)*gp.words])
			vals[k] = append(vals[k], md.Value())
		}
	}
	for _, r := range gp.rules {
		if !r.live(present, found, gp.words) {
			continue
		}
		for _, k := range r.vars {
			if present[k].meets(r.trig) {
				var trig []byte
				for b := 0; b < 256; b++ {
					var one byteSet
					one.add(byte(b))
					if one.meets(present[k]) && one.meets(r.trig) {
						trig = append(trig, byte(b))
					}
				}
				out = append(out, fmt.Sprintf("%d: %s trigger %q", r.id, gp.vars[k].Name(), trig))
				break
			}
			if r.allFound(found[k*gp.words : (k+1)*gp.words]) {
				out = append(out, fmt.Sprintf("%d: %s needles in %q", r.id, gp.vars[k].Name(), vals[k]))
				break
			}
		}
	}
	return out
}
