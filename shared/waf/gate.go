package waf

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/coraza/v3/types/variables"
	"github.com/corazawaf/libinjection-go"
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
// A @validateByteRange rule goes the same way when no value it reads
// holds a trigger byte or a byte outside its ranges (the union of the
// bytes of a collection's values says so exactly).
//
// Eligible: a SecRule (or chain starter) after the gate in its phase, with
// a plain @rx or @re2 operator (not negated) whose expression yields
// needles (or @pm, @detectSQLi, @detectXSS, @validateByteRange), transformations all in gateTriggers, variables all in
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
func (s byteSet) has(b byte) bool      { return s[b>>6]&(1<<(b&63)) != 0 }
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
	"replacecomments": bytesOf("*"),
	// "/*", "*/", "<!--", "--", "-->", "#".
	"removecommentschar": bytesOf("*-#"),
	// filepath.Clean: read per value (pathFlags); "." becomes "", which
	// cannot hold a literal.
	"normalisepath": {},
	"normalizepath": {},
	// Also backslashes, drive letters and streams (':'), and per value
	// components ending in a dot or a space.
	"normalisepathwin": bytesOf("\\:"),
	"normalizepathwin": bytesOf("\\:"),
}

// lowering are the transformations that lower-case (the others leave a
// trigger-free value as it is).
var lowering = map[string]bool{"lowercase": true, "cmdline": true}

// Value flags for the path transformations.
const (
	// flagClean: filepath.Clean (Coraza's normalisePath) changes the value.
	flagClean uint8 = 1 << iota
	// flagWinTrail: a path component ends in '.' or ' ', which
	// normalisePathWin strips.
	flagWinTrail
)

// gateFlags are the value flags each path transformation reads.
var gateFlags = map[string]uint8{
	"normalisepath": flagClean, "normalizepath": flagClean,
	"normalisepathwin": flagClean | flagWinTrail, "normalizepathwin": flagClean | flagWinTrail,
}

// pathFlags are v's value flags, as Coraza v3.8.1's normalisePath and
// normalisePathWin (transformations/normalise_path*.go) would change it.
func pathFlags(v string) uint8 {
	var f uint8
	if v == "." || strings.IndexByte(v, '/') >= 0 && normalisePath(v) != v {
		f |= flagClean
	}
	for i := 0; i < len(v); i++ {
		if (v[i] == '.' || v[i] == ' ') && (i+1 == len(v) || v[i+1] == '/') {
			f |= flagWinTrail
			break
		}
	}
	return f
}

// normalisePath is Coraza's (v3.8.1).
func normalisePath(data string) string {
	if len(data) < 1 {
		return data
	}
	clean := filepath.Clean(data)
	if clean == "." {
		return ""
	}
	if data[len(data)-1] == '/' {
		return clean + "/"
	}
	return clean
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

// maxNeedles bounds the literals of one clause or finite set,
// maxClauses the clauses of one expression, maxClass the characters of a
// class read as literals.
const (
	maxPairs   = 1024 // of a repeated finite set, before pruning
	maxNeedles = 256
	maxClauses = 16
	maxClass   = 32
)

// rare are bytes that API values seldom hold and that attack syntax
// (shell, SQL, script) is made of. An expression read as if its input had
// none of them (and no byte above 0x7f) often has long literals where the
// full expression has none: CRS's command rules allow quotes, backslashes
// and $variables between the letters of every command name. A value with
// a rare byte is read against the clauses of the full expression only.
var rare = func() byteSet {
	s := bytesOf("\"'`$\\|&;<>(){}[]^!~#")
	for b := 0; b < 0x20; b++ {
		s.add(byte(b))
	}
	s.add(0x7f)
	s.union(nonASCII)
	return s
}()

// literals is what an expression node says about the strings it matches
// (all of them ASCII and free of the excluded bytes): dead, none; finite,
// exactly exact (lower case); and clauses, one literal of each of which
// every match holds.
type literals struct {
	dead    bool
	finite  bool
	exact   []string
	clauses [][]string
}

// needles returns clauses of literals (ASCII, lower case): any string
// without a byte of excluded that re matches contains, ASCII
// case-insensitively, one literal of every clause. excluded must hold
// every byte above 0x7f. Empty: the expression offers none.
func needles(re *syntax.Regexp, excluded byteSet) [][]string {
	l := literalsOf(re, excluded)
	if l.dead {
		// Nothing without an excluded byte matches: an impossible
		// literal says so.
		return [][]string{{"\x00"}}
	}
	out := l.clauses
	if l.finite {
		out = addClause(out, l.exact)
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

// addClause adds c unless it is useless (holds "") or already there.
func addClause(cs [][]string, c []string) [][]string {
	if len(c) == 0 || slices.Contains(c, "") || len(c) > maxNeedles {
		return cs
	}
	c = prune(c)
	if slices.ContainsFunc(cs, func(o []string) bool { return slices.Equal(o, c) }) {
		return cs
	}
	return append(cs, c)
}

var emptyString = literals{finite: true, exact: []string{""}}

func literalsOf(re *syntax.Regexp, excluded byteSet) literals {
	switch re.Op {
	case syntax.OpNoMatch:
		return literals{dead: true}
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return emptyString
	case syntax.OpLiteral:
		b := make([]byte, 0, len(re.Rune))
		for _, r := range re.Rune {
			if r >= utf8.RuneSelf || excluded.has(byte(r)) {
				return literals{dead: true}
			}
			if 'A' <= r && r <= 'Z' {
				r += 'a' - 'A'
			}
			b = append(b, byte(r))
		}
		return literals{finite: true, exact: []string{string(b)}}
	case syntax.OpCharClass:
		seen := map[string]bool{}
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], min(re.Rune[i+1], utf8.RuneSelf-1)
			for r := lo; r <= hi; r++ {
				if excluded.has(byte(r)) {
					continue
				}
				c := r
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				seen[string(c)] = true
				if len(seen) > maxClass {
					return literals{}
				}
			}
		}
		if len(seen) == 0 {
			return literals{dead: true}
		}
		return literals{finite: true, exact: sorted(seen)}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return literals{}
	case syntax.OpCapture:
		return literalsOf(re.Sub[0], excluded)
	case syntax.OpQuest, syntax.OpStar, syntax.OpPlus, syntax.OpRepeat:
		sub := literalsOf(re.Sub[0], excluded)
		atLeastOne := re.Op == syntax.OpPlus || (re.Op == syntax.OpRepeat && re.Min >= 1)
		switch {
		case sub.dead && atLeastOne:
			return literals{dead: true}
		case sub.dead || sub.finite && slices.Equal(sub.exact, []string{""}):
			return emptyString
		case re.Op == syntax.OpQuest && sub.finite:
			return literals{finite: true, exact: union(sub.exact, []string{""})}
		case atLeastOne:
			cs := sub.clauses
			if sub.finite {
				cs = addClause(cs, sub.exact)
			}
			if sub.finite && re.Op == syntax.OpRepeat && re.Min >= 2 && len(sub.exact)*len(sub.exact) <= maxPairs {
				// Two matches in a row: one of the pairs (CRS's
				// traversal rules repeat a dot's spellings {2,3}: ".."
				// is far rarer than ".").
				var pairs []string
				for _, a := range sub.exact {
					for _, b := range sub.exact {
						pairs = append(pairs, a+b)
					}
				}
				cs = addClause(cs, prune(union(nil, pairs)))
			}
			return literals{clauses: cs}
		}
		return literals{}
	case syntax.OpAlternate:
		var live []literals
		for _, s := range re.Sub {
			if l := literalsOf(s, excluded); !l.dead {
				live = append(live, l)
			}
		}
		if len(live) == 0 {
			return literals{dead: true}
		}
		finite := true
		var exact []string
		for _, l := range live {
			finite = finite && l.finite
			if finite {
				exact = union(exact, l.exact)
				finite = len(exact) <= maxNeedles
			}
		}
		if finite {
			return literals{finite: true, exact: exact}
		}
		// One branch matches: its most selective clause, for every
		// branch, makes one clause.
		var clause []string
		for _, l := range live {
			cs := l.clauses
			if l.finite {
				cs = addClause(cs, l.exact)
			}
			var best []string
			for _, c := range cs {
				if better(c, best) {
					best = c
				}
			}
			if best == nil {
				return literals{}
			}
			clause = union(clause, best)
			if len(clause) > maxNeedles {
				return literals{}
			}
		}
		return literals{clauses: addClause(nil, clause)}
	case syntax.OpConcat:
		// Every part is in every match: all their clauses; runs of finite
		// parts spell their concatenations.
		var out literals
		run := []string{""}
		finite := true
		flush := func() {
			out.clauses = addClause(out.clauses, run)
			run = []string{""}
		}
		for _, s := range re.Sub {
			l := literalsOf(s, excluded)
			if l.dead {
				return literals{dead: true}
			}
			if !l.finite {
				finite = false
				flush()
				for _, c := range l.clauses {
					out.clauses = addClause(out.clauses, c)
				}
				continue
			}
			if len(run)*len(l.exact) > maxNeedles {
				finite = false
				flush()
			}
			var next []string
			for _, a := range run {
				for _, b := range l.exact {
					next = append(next, a+b)
				}
			}
			run = union(nil, next)
		}
		if finite {
			out.finite, out.exact = true, run
		} else {
			flush()
		}
		return out
	}
	return literals{}
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, x := range b {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return out
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

// byteRanges reads @validateByteRange's argument as Coraza v3.8.1 does
// (operators/validate_byte_range.go: comma-separated bytes and ranges,
// spaces trimmed) into the bytes it allows.
func byteRanges(arg string) (valid byteSet, err error) {
	num := func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err == nil && (n < 0 || n > 255) {
			err = fmt.Errorf("byte %d out of range", n)
		}
		return n, err
	}
	for _, br := range strings.Split(arg, ",") {
		start, end, isRange := strings.Cut(strings.TrimSpace(br), "-")
		lo, err := num(start)
		if err != nil {
			return valid, err
		}
		hi := lo
		if isRange {
			if hi, err = num(end); err != nil {
				return valid, err
			}
		}
		for b := lo; b <= hi; b++ {
			valid.add(byte(b))
		}
	}
	return valid, nil
}

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
	// Coraza wants the actions quoted whole: anything else is a directive
	// this reading does not follow (a truncated one would hide
	// transformations).
	if len(actions) < 2 || actions[0] != '"' || actions[len(actions)-1] != '"' {
		return "", "", "", false, "", false
	}
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

// pmPhrases are the phrases of a @pm or @pmFromFile operator as Coraza
// v3.8.1 reads them (operators/pm.go, pm_from_file.go: lower-cased with
// strings.ToLower; @pm splits on single spaces, files give one per line,
// trimmed, without empty and # lines). Files only from CRS's own
// directory, for CRS's rules.
func pmPhrases(op, arg string, id int) ([]string, string) {
	var phrases []string
	if op == "pm" {
		phrases = strings.Split(strings.ToLower(arg), " ")
	} else {
		if id < 900000 || id > 999999 || strings.ContainsAny(arg, "/\\") {
			return nil, "data file outside CRS"
		}
		b, err := fs.ReadFile(coreruleset.FS, "@owasp_crs/"+arg)
		if err != nil {
			return nil, "data file: " + err.Error()
		}
		for _, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(l)
			if l == "" || l[0] == '#' {
				continue
			}
			phrases = append(phrases, strings.ToLower(l))
		}
	}
	if len(phrases) == 0 || slices.Contains(phrases, "") {
		// An empty phrase matches everything.
		return nil, "empty phrase"
	}
	return phrases, ""
}

// phraseClause is the clause of phrases a value without an excluded byte
// can hold (Coraza's matcher folds ASCII case only; excluded holds every
// byte above 0x7f). None: the impossible clause (a NUL byte, which only
// makes the rule stay).
func phraseClause(phrases []string, excluded byteSet) []string {
	var out []string
	for _, p := range phrases {
		ok := true
		for i := 0; i < len(p); i++ {
			if excluded.has(p[i]) {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return []string{"\x00"}
	}
	slices.Sort(out)
	return prune(slices.Compact(out))
}

// gateRule is an eligible rule.
type gateRule struct {
	id      int
	vars    []int // slots in gatePhase.vars
	trig    byteSet
	clauses []int // bits in a clause set: one literal of each must occur
	plain   []int // the same, in values without a rare byte
	flags   uint8 // value flags that keep it
	oracle  func(string) bool
	needs   byteSet // the oracle matches no value without one of these (empty: unknown)
	lowers  bool    // a transformation lower-cases (oracle and ranged rules)
	// ranged: a @validateByteRange rule, live where a value without a
	// trigger holds a byte of bad (the union of a slot's bytes says it).
	ranged bool
	bad    byteSet
	pos    int // in gatePhase.order
}

// live reports whether r may match given, per variable slot, the bytes
// present and the clauses found.
func (r *gateRule) live(present []byteSet, flags []uint8, found []uint64, words int, vals [][]string) bool {
	for _, k := range r.vars {
		if r.ranged {
			if present[k].meets(r.trig) || flags[k]&r.flags != 0 || present[k].meets(r.bad) {
				return true
			}
			continue
		}
		if r.oracle != nil {
			if present[k].meets(r.trig) || flags[k]&r.flags != 0 {
				return true
			}
			// Without a trigger, the transformations leave v, or its
			// lower case if one of them lower-cases (which changes no
			// byte of needs: punctuation).
			known := r.needs != byteSet{}
			if known && !present[k].meets(r.needs) {
				continue
			}
			for _, v := range vals[k] {
				if known && !holds(v, r.needs) {
					continue
				}
				if r.oracle(v) || r.lowers && r.oracle(asciiLower(v)) {
					return true
				}
			}
			continue
		}
		f := found[k*words : (k+1)*words]
		if present[k].meets(r.trig) || flags[k]&r.flags != 0 || allFound(r.clauses, f) && (present[k].meets(rare) || allFound(r.plain, f)) {
			return true
		}
	}
	return false
}

// holds reports whether v has a byte of s.
func holds(v string, s byteSet) bool {
	for i := 0; i < len(v); i++ {
		if s.has(v[i]) {
			return true
		}
	}
	return false
}

// xssNeeds are the bytes without which libinjection-go v0.3.3's IsXSS
// returns false (xss.go, html5.go). Its data-state pass runs only on
// input with '<'. The other passes start before an attribute name or in
// a quoted attribute value. Detection needs a DOCTYPE, tag-open or
// comment token (all reached only from the data state, which without '>'
// no pass re-enters), or an attribute value after a black attribute name:
// such a value follows '=' (a quoted start is one value, attribute
// context none, up to its quote). '>', '/' and the quotes only lead to
// those states; kept for safety. TestXSSNeeds checks it on random values.
var xssNeeds = bytesOf("<>=/'\"`")

func asciiLower(v string) string {
	for i := 0; i < len(v); i++ {
		if 'A' <= v[i] && v[i] <= 'Z' {
			return strings.ToLower(v)
		}
	}
	return v
}

// allFound reports whether every clause is in found.
func allFound(clauses []int, found []uint64) bool {
	for _, c := range clauses {
		if found[c/64]&(1<<(c%64)) == 0 {
			return false
		}
	}
	return true
}

// gateTarget is a collection a rule reads and the keys it never reads in
// it (exceptions, "!REQUEST_HEADERS:authorization": skipping fewer keys
// than Coraza does is safe, so only the forms read here are applied).
type gateTarget struct {
	v    variables.RuleVariable
	keys []string         // lower case
	rxs  []*regexp.Regexp // on the lower-case key
	// only, if set, are the only keys the rule selects (lower-case header
	// names: REQUEST_HEADERS:User-Agent).
	only []string
}

func (t gateTarget) id() string {
	var b strings.Builder
	b.WriteString(t.v.Name())
	if t.only != nil {
		b.WriteString(":" + strings.Join(t.only, ","))
	}
	for _, k := range t.keys {
		b.WriteString("|" + k)
	}
	for _, r := range t.rxs {
		b.WriteString("|/" + r.String() + "/")
	}
	return b.String()
}

// selects: some key is excluded or not selected.
func (t gateTarget) selects() bool { return len(t.keys) != 0 || len(t.rxs) != 0 || t.only != nil }

// excludedLower: the rules never read lower-case key l.
func (t gateTarget) excludedLower(l string) bool {
	if t.only != nil && !slices.Contains(t.only, l) {
		return true
	}
	return slices.Contains(t.keys, l) || slices.ContainsFunc(t.rxs, func(r *regexp.Regexp) bool { return r.MatchString(l) })
}

// gatePhase is the plan for one phase.
type gatePhase struct {
	rules []gateRule
	// order are the ids of every loaded rule, ascending; free says which
	// a removal range may span besides the rules removed (ids removed at
	// load, and for phase 2 the rules of phase 1, which has run).
	order []int
	free  []bool
	vars  []gateTarget
	// keepVals: an oracle rule reads the slot's values.
	keepVals []bool
	// byVar are the slots, by collection.
	byVar []varSlots
	ac    *automaton
	words int // of a rule bitset
	// scratch pools the runs' working memory (*gateScratch).
	scratch *sync.Pool
}

// varSlots are the slots that read one collection.
type varSlots struct {
	v     variables.RuleVariable
	slots []int
	// paths: a rule reading one of the slots has path transformations
	// (its values' flags matter; filepath.Clean per value is not free).
	paths bool
}

// gatePlan is a WAF's gate.
type gatePlan struct {
	phases [2]gatePhase
	// why says, for each rule after a gate that it does not cover, why
	// (tests and tuning).
	why map[int]string
}

// ruleRemover is what ctl:ruleRemoveById calls on Coraza's transaction
// (an id range: a slice entry Coraza checks per rule; one id: a map
// insert, which for a hundred rules grows the map several times).
type ruleRemover interface {
	RemoveRuleByID(id int)
	RemoveRuleByIDRange(start, end int)
}

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
	exclusionsFor := loadExclusions(text)

	type cand struct {
		i int
		gateCand
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
		c, why := gateCandidate(m.Raw(), r, exclusionsFor(r.id))
		if why != "" {
			whyNot[r.id] = why
			continue
		}
		cands = append(cands, cand{i: i, gateCand: c})
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

	// Every loaded id once, ascending, with its phase.
	phaseOf := map[int]types.RulePhase{}
	var order []int
	for _, r := range rules {
		if r.id > 0 {
			if _, dup := phaseOf[r.id]; !dup {
				order = append(order, r.id)
			}
			phaseOf[r.id] = r.phase
		}
	}
	slices.Sort(order)
	plan := &gatePlan{why: whyNot}
	for _, c := range cands {
		if !mark[c.i] {
			whyNot[rules[c.i].id] = "in a skip window"
		}
	}
	for pi, phase := range []types.RulePhase{types.PhaseRequestHeaders, types.PhaseRequestBody} {
		gp := &plan.phases[pi]
		slot := map[string]int{}
		var pats []string
		var owners [][]int
		patIdx := map[string]int{}
		nclauses := 0
		for _, c := range cands {
			if rules[c.i].phase != phase || !mark[c.i] {
				continue
			}
			g := gateRule{id: rules[c.i].id, trig: c.trig, flags: c.flags, oracle: c.oracle, needs: c.needs, lowers: c.lowers, ranged: c.ranged}
			if c.ranged {
				g.bad = c.bad
				if c.lowers {
					// A lower-cased upper-case letter is judged as its
					// lower case.
					for b := byte('A'); b <= 'Z'; b++ {
						if c.bad.has(b + 'a' - 'A') {
							g.bad.add(b)
						}
					}
				}
			}
			for _, v := range c.vars {
				s, ok := slot[v.id()]
				if !ok {
					s = len(gp.vars)
					slot[v.id()] = s
					gp.vars = append(gp.vars, v)
				}
				if !slices.Contains(g.vars, s) {
					g.vars = append(g.vars, s)
				}
			}
			add := func(clauses [][]string) (ids []int) {
				for _, clause := range clauses {
					ci := nclauses
					nclauses++
					ids = append(ids, ci)
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
				return ids
			}
			g.clauses, g.plain = add(c.needles), add(c.plain)
			gp.rules = append(gp.rules, g)
		}
		gp.order = order
		gp.free = make([]bool, len(order))
		for i, id := range order {
			gp.free[i] = loadRemoved(id) || phase == types.PhaseRequestBody && phaseOf[id] == types.PhaseRequestHeaders
		}
		for i := range gp.rules {
			gp.rules[i].pos, _ = slices.BinarySearch(order, gp.rules[i].id)
		}
		gp.words = (nclauses + 63) / 64
		gp.scratch = &sync.Pool{}
		gp.keepVals = make([]bool, len(gp.vars))
		for _, r := range gp.rules {
			for _, k := range r.vars {
				gp.keepVals[k] = gp.keepVals[k] || r.oracle != nil
			}
		}
		for k, v := range gp.vars {
			i := slices.IndexFunc(gp.byVar, func(g varSlots) bool { return g.v == v.v })
			if i < 0 {
				i = len(gp.byVar)
				gp.byVar = append(gp.byVar, varSlots{v: v.v})
			}
			gp.byVar[i].slots = append(gp.byVar[i].slots, k)
			for _, r := range gp.rules {
				gp.byVar[i].paths = gp.byVar[i].paths || r.flags != 0 && slices.Contains(r.vars, k)
			}
		}
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
	vars    []gateTarget
	trig    byteSet
	needles [][]string
	// plain are the clauses for values without a rare byte.
	plain [][]string
	flags uint8
	// oracle, if set, is the operator itself (libinjection, as Coraza
	// calls it), run on the values instead of clauses.
	oracle func(string) bool
	// needs: the oracle matches no value without one of these bytes.
	needs  byteSet
	lowers bool
	// ranged: a @validateByteRange rule, which matches a value holding a
	// byte of bad.
	ranged bool
	bad    byteSet
}

// gateCandidate reads a rule's operator, transformations and variables;
// why says what makes it ineligible ("" if nothing).
func gateCandidate(raw string, r ruleInfo, exclusions []exclusion) (c gateCand, why string) {
	vars, op, arg, negated, actions, ok := ruleOperator(raw)
	var all, plain [][]string
	var oracle func(string) bool
	var bad, needs byteSet
	ranged := false
	switch {
	case !ok:
		return c, "unparsed"
	case negated:
		return c, "negated"
	case op == "detectSQLi" && arg == "":
		oracle = func(v string) bool { res, _ := libinjection.IsSQLi(v); return res }
	case op == "detectXSS" && arg == "":
		oracle, needs = libinjection.IsXSS, xssNeeds
	case arg == "":
		return c, "operator " + op + " without argument"
	case op == "validateByteRange":
		valid, err := byteRanges(arg)
		if err != nil {
			return c, "byte range: " + err.Error()
		}
		bad, ranged = valid, true
		for i := range bad {
			bad[i] = ^bad[i]
		}
	case op == "rx" || op == re2Operator:
		re, err := syntax.Parse("(?sm)"+arg, syntax.Perl)
		if err != nil {
			return c, "expression: " + err.Error()
		}
		all, plain = needles(re, nonASCII), needles(re, rare)
		if len(all) == 0 && len(plain) == 0 {
			return c, "no literals"
		}
	case op == "pm" || strings.EqualFold(op, "pmFromFile") || op == "pmf":
		phrases, why := pmPhrases(op, arg, r.id)
		if why != "" {
			return c, why
		}
		all, plain = [][]string{phraseClause(phrases, nonASCII)}, [][]string{phraseClause(phrases, rare)}
	default:
		return c, "operator " + op
	}
	if !regexp.MustCompile(`[,"]\s*id\s*:\s*'?` + strconv.Itoa(r.id) + `\b`).MatchString(actions) {
		return c, "actions do not carry the rule's id"
	}
	c = gateCand{trig: nonASCII, needles: all, plain: plain, oracle: oracle, needs: needs, ranged: ranged, bad: bad}
	for _, m := range gateTransform.FindAllStringSubmatch(actions, -1) {
		t, ok := gateTriggers[strings.ToLower(m[1])]
		if !ok {
			return c, "transformation " + m[1]
		}
		c.trig.union(t)
		c.flags |= gateFlags[strings.ToLower(m[1])]
		c.lowers = c.lowers || lowering[strings.ToLower(m[1])]
	}
	// The rule's own negations, then the load-time ones.
	for _, piece := range strings.Split(vars, "|") {
		if x, ok := parseExclusion(piece); ok {
			exclusions = append(exclusions, x)
		}
	}
	for _, t := range r.vars {
		if !gateVariables[t.v] {
			return c, "variable " + t.v.Name()
		}
		if slices.ContainsFunc(c.vars, func(g gateTarget) bool { return g.v == t.v }) {
			continue
		}
		g := gateTarget{v: t.v}
		if t.v == variables.RequestHeaders {
			// Headers selected by plain names only: those names.
			g.only = []string{}
			for _, u := range r.vars {
				if u.v != variables.RequestHeaders {
					continue
				}
				if u.header == "" {
					g.only = nil
					break
				}
				g.only = append(g.only, u.header)
			}
			slices.Sort(g.only)
		}
		for _, x := range exclusions {
			if x.v != t.v {
				continue
			}
			if x.rx != nil {
				g.rxs = append(g.rxs, x.rx)
			} else if !slices.Contains(g.keys, x.key) {
				g.keys = append(g.keys, x.key)
			}
		}
		slices.Sort(g.keys)
		c.vars = append(c.vars, g)
	}
	return c, ""
}

// exclusion is a "!VARIABLE:key" target: a plain key (lower case) or a
// /regex/ on the lower-case key.
type exclusion struct {
	v   variables.RuleVariable
	key string
	rx  *regexp.Regexp
}

// parseExclusion reads a "!VARIABLE:key" piece as Coraza applies it
// (AddVariableNegation, GetField: keys compared in lower case; a regex
// is compiled lower-cased for case-insensitive variables, so only a
// regex without upper-case letters, the same either way, is taken).
func parseExclusion(piece string) (exclusion, bool) {
	piece = strings.TrimSpace(piece)
	if !strings.HasPrefix(piece, "!") {
		return exclusion{}, false
	}
	name, key, ok := strings.Cut(piece[1:], ":")
	if !ok || key == "" {
		return exclusion{}, false
	}
	v, err := variables.Parse(name)
	if err != nil || v == variables.Unknown {
		return exclusion{}, false
	}
	if len(key) >= 2 && key[0] == '/' && key[len(key)-1] == '/' {
		src := key[1 : len(key)-1]
		if strings.ToLower(src) != src {
			return exclusion{}, false
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return exclusion{}, false
		}
		return exclusion{v: v, rx: re}, true
	}
	if strings.ContainsAny(key, "'\"/") {
		return exclusion{}, false
	}
	return exclusion{v: v, key: strings.ToLower(key)}, true
}

var updateTargetByID = regexp.MustCompile(`(?im)^\s*SecRuleUpdateTargetById\s+"?([0-9,\- ]+?)"?\s+"([^"\n]*)"\s*$`)

// loadExclusions returns the exclusions SecRuleUpdateTargetById adds at
// load to rule id (others, ByTag and ByMsg, are not applied: fewer
// exclusions only make the gate keep more).
func loadExclusions(text string) func(id int) []exclusion {
	type entry struct {
		lo, hi int
		x      exclusion
	}
	var entries []entry
	for _, m := range updateTargetByID.FindAllStringSubmatch(text, -1) {
		var xs []exclusion
		for _, piece := range strings.Split(m[2], "|") {
			if x, ok := parseExclusion(piece); ok {
				xs = append(xs, x)
			}
		}
		for _, f := range strings.FieldsFunc(m[1], func(r rune) bool { return r == ',' || r == ' ' }) {
			lo, hi, isRange := strings.Cut(f, "-")
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if !isRange {
				b, err2 = a, nil
			}
			if err1 != nil || err2 != nil {
				continue
			}
			for _, x := range xs {
				entries = append(entries, entry{a, b, x})
			}
		}
	}
	return func(id int) []exclusion {
		var out []exclusion
		for _, e := range entries {
			if id >= e.lo && id <= e.hi {
				out = append(out, e.x)
			}
		}
		return out
	}
}

// gather reads, per variable slot, the bytes present, the path flags and
// the clauses found in the values the slot's rules read, and the values
// themselves where an oracle rule reads them (all: every slot). Slots of
// one collection (REQUEST_HEADERS with different exclusions) share one
// FindAll and one scan per value: most hold the same values.
func (gp *gatePhase) gather(tx plugintypes.TransactionState, all bool, sc *gateScratch) (present []byteSet, flags []uint8, found []uint64, vals [][]string) {
	nv, words := len(gp.vars), gp.words
	present, flags, found, vals = sc.present, sc.flags, sc.found, sc.vals
	// The last words of found hold one value's clauses while its slots
	// take them.
	one := found[nv*words:]
	for _, g := range gp.byVar {
		col := tx.Collection(g.v)
		if col == nil {
			continue
		}
		for _, md := range col.FindAll() {
			v, key, scanned := md.Value(), "", false
			var bytes byteSet
			var fl uint8
			for _, k := range g.slots {
				if t := &gp.vars[k]; t.selects() {
					if key == "" {
						key = strings.ToLower(md.Key())
					}
					if t.excludedLower(key) {
						continue
					}
				}
				if !scanned {
					clear(one)
					gp.ac.scan(v, &bytes, one)
					scanned = true
					if g.paths {
						fl = pathFlags(v)
					}
				}
				present[k].union(bytes)
				flags[k] |= fl
				for w, x := range one {
					found[k*words+w] |= x
				}
				if all || gp.keepVals[k] {
					vals[k] = append(vals[k], v)
				}
			}
		}
	}
	return present, flags, found[:nv*words], vals
}

// gateScratch is one gate run's working memory, kept between transactions
// (gatePhase.scratch): a run per phase per request allocated it anew.
type gateScratch struct {
	present []byteSet
	flags   []uint8
	found   []uint64
	vals    [][]string
	gone    []bool
}

// getScratch returns cleared working memory for gp.
func (gp *gatePhase) getScratch() *gateScratch {
	if gp.scratch != nil {
		if sc, ok := gp.scratch.Get().(*gateScratch); ok {
			return sc
		}
	}
	nv := len(gp.vars)
	return &gateScratch{
		present: make([]byteSet, nv),
		flags:   make([]uint8, nv),
		found:   make([]uint64, (nv+1)*gp.words),
		vals:    make([][]string, nv),
		gone:    make([]bool, len(gp.order)),
	}
}

// putScratch clears sc (the values too: a pooled slice must not keep a
// finished request's strings alive) and returns it to gp's pool.
func (gp *gatePhase) putScratch(sc *gateScratch) {
	clear(sc.present)
	clear(sc.flags)
	clear(sc.found)
	for i, v := range sc.vals {
		clear(v)
		sc.vals[i] = v[:0]
	}
	clear(sc.gone)
	if gp.scratch != nil {
		gp.scratch.Put(sc)
	}
}

// run removes the phase's rules that cannot match tx.
func (gp *gatePhase) run(tx plugintypes.TransactionState) {
	rm, ok := tx.(ruleRemover)
	if !ok || len(gp.rules) == 0 {
		return
	}
	sc := gp.getScratch()
	defer gp.putScratch(sc)
	present, flags, found, vals := gp.gather(tx, false, sc)
	// Removed rules as runs of the loaded ids in order, each run spanning
	// only removed ids and ids no rule of this or a later phase has.
	gone := sc.gone
	for i := range gp.rules {
		if r := &gp.rules[i]; !r.live(present, flags, found, gp.words, vals) {
			gone[r.pos] = true
		}
	}
	for i := 0; i < len(gone); i++ {
		if !gone[i] {
			continue
		}
		j := i
		for k := i + 1; k < len(gone) && (gone[k] || gp.free[k]); k++ {
			if gone[k] {
				j = k
			}
		}
		if i == j {
			rm.RemoveRuleByID(gp.order[i])
		} else {
			rm.RemoveRuleByIDRange(gp.order[i], gp.order[j])
		}
		i = j
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
	sc := gp.getScratch()
	defer gp.putScratch(sc)
	present, flags, found, vals := gp.gather(tx, true, sc)
	for _, r := range gp.rules {
		if !r.live(present, flags, found, gp.words, vals) {
			continue
		}
		for _, k := range r.vars {
			if flags[k]&r.flags != 0 {
				out = append(out, fmt.Sprintf("%d: %s path flags %b", r.id, gp.vars[k].id(), flags[k]))
				break
			}
			if r.ranged && present[k].meets(r.bad) {
				out = append(out, fmt.Sprintf("%d: %s bytes outside the range", r.id, gp.vars[k].id()))
				break
			}
			if present[k].meets(r.trig) {
				var trig []byte
				for b := 0; b < 256; b++ {
					var one byteSet
					one.add(byte(b))
					if one.meets(present[k]) && one.meets(r.trig) {
						trig = append(trig, byte(b))
					}
				}
				out = append(out, fmt.Sprintf("%d: %s trigger %q", r.id, gp.vars[k].id(), trig))
				break
			}
			if f := found[k*gp.words : (k+1)*gp.words]; allFound(r.clauses, f) && (present[k].meets(rare) || allFound(r.plain, f)) {
				out = append(out, fmt.Sprintf("%d: %s needles in %q", r.id, gp.vars[k].id(), vals[k]))
				break
			}
		}
	}
	return out
}
