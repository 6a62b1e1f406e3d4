package waf

import (
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
)

// Rules that read only a TX variable nothing sets go at load.
//
// CRS guards its optional checks with a setting: 920380 (too many
// arguments) starts with &TX:MAX_NUM_ARGS "@eq 1", 920250 (UTF-8
// validation) with TX:CRS_VALIDATE_UTF8_ENCODING "@eq 1", and so on for
// argument lengths, file sizes and CRS's default collections. A setting
// left unset (we set none of these) makes each a rule evaluation per request
// that never matches: a TX variable that no setvar in the rule set names,
// and that Coraza does not set itself, does not exist in any transaction,
// so TX:NAME yields no value (the operator is never run, whatever it and
// the transformations are) and &TX:NAME counts 0 (an "@eq N" or "@gt N",
// not negated, with N >= 1 or N >= 0, is false on it; no transformation may
// change the count). A rule whose first link cannot match has no effect
// but the RULE collection it fills, which the next rule overwrites and
// which no rule may read (variantsAllowed, as for the gate and the
// variants); its chain never runs.
//
// The same goes for a rule whose first link reads a setting the setup sets
// to a constant (setup.go: tx.crs_validate_utf8_encoding=0 for 920250,
// the paranoia levels for 901500, the version for 901001) and compares it
// with @eq, @lt, @le, @gt or @ge in a way that is false on that value
// (liveConstants says when the value holds: no other live setvar sets
// another, the setup cannot be skipped or removed per request, the rule
// runs after it).
//
// The reading is of the whole rule set as loaded (operator directives
// included): a setvar anywhere that names the variable, or whose name
// starts with a literal and goes on with a macro (CRS's
// tx.header_name_920450_%{tx.0}) that the name starts with, keeps the
// rule. A rule after a skip:N rule of its phase, in load order, stays (its
// removal could shift the window: CRS's 920539 skip:1 comes after every
// rule this removes in phase 2). Off when the rule set has a SecDefaultAction
// with transformations, or adds targets at load (variantsAllowed).
// TestUnsetRulesKeepVerdicts compares verdicts, matches and TX with the
// rules kept.

var (
	setvarTX  = regexp.MustCompile(`(?i)setvar\s*:\s*'?\s*!?\s*tx\.([^=',"\s]*)`)
	unsetHead = regexp.MustCompile(`(?i)^(&?)TX:([A-Za-z_][A-Za-z0-9_]*)$`)
	ruleID    = regexp.MustCompile(`(?i)[\s"',]id\s*:\s*'?(\d+)`)
	ruleTrans = regexp.MustCompile(`(?i)[\s"',]t\s*:\s*'?([A-Za-z0-9]+)`)
)

// setByCoraza are the TX variables Coraza itself sets (besides the
// captures TX:0-9): the JSON body processors and @rbl.
var setByCoraza = map[string]bool{"json_request_body": true, "json_response_body": true, "httpbl_msg": true}

// unsetRules returns the ids of the rules in text (one directive a line,
// as ruleText gives it) whose first link reads only a TX variable that is
// never set, or nil when the rule set is one the reading does not follow.
func unsetRules(text string, consts map[string]string) []int {
	if variantsAllowed(text) != nil || defaultAction.MatchString(text) {
		return nil
	}
	set := map[string]bool{}
	var prefixes []string
	for _, m := range setvarTX.FindAllStringSubmatch(text, -1) {
		name := strings.ToLower(m[1])
		if i := strings.IndexAny(name, "%{}"); i >= 0 {
			if i == 0 {
				return nil // a name made at run time: any variable may be set
			}
			prefixes = append(prefixes, name[:i])
			continue
		}
		if name == "" {
			return nil
		}
		set[name] = true
	}
	// The setup sets its variables without a setvar in the text.
	for k := range consts {
		set[k] = true
	}
	consts = liveConstants(text, consts)
	var ids []int
	skipped := map[string]bool{} // phases with a skip:N rule so far
	afterSetup := false
	for line := range strings.SplitSeq(text, "\n") {
		ph := rulePhase(line)
		if skipAction.MatchString(line) {
			skipped[ph] = true
		}
		if strings.Contains(line, "@"+setupOperator+" ") {
			afterSetup = true
		}
		vars, op, arg, negated, actions, ok := ruleOperator(line)
		if !ok || skipped[ph] || skipped["?"] {
			continue
		}
		m := unsetHead.FindStringSubmatch(vars)
		id := ruleID.FindStringSubmatch(" " + actions)
		if m == nil || id == nil {
			continue
		}
		name := strings.ToLower(m[2])
		if c, isConst := consts[name]; isConst && (afterSetup || ph != "1") && ph != "?" {
			// A setting the setup sets: the first link's verdict on it.
			if constNeverMatches(m[1] == "&", c, op, arg, negated, actions, consts) {
				if n, err := strconv.Atoi(id[1]); err == nil {
					ids = append(ids, n)
				}
			}
			continue
		}
		if set[name] || setByCoraza[name] || slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		if m[1] == "&" && !countNeverMatches(op, arg, negated, actions) {
			continue
		}
		n, err := strconv.Atoi(id[1])
		if err == nil {
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// countNeverMatches: the operator is false on a count of 0, which no
// transformation of the rule changes.
func countNeverMatches(op, arg string, negated bool, actions string) bool {
	for _, t := range ruleTrans.FindAllStringSubmatch(" "+actions, -1) {
		if !strings.EqualFold(t[1], "none") {
			return false
		}
	}
	n, err := strconv.Atoi(arg)
	if negated || err != nil {
		return false
	}
	switch strings.ToLower(op) {
	case "eq":
		return n != 0
	case "gt":
		return n >= 0
	}
	return false
}

var phaseAction = regexp.MustCompile(`(?i)[\s"',]phase\s*:\s*'?(\w+)`)

// rulePhase is the phase of a directive's line ("?": one this reading does
// not know; a skip there protects every phase).
func rulePhase(line string) string {
	m := phaseAction.FindStringSubmatch(line)
	if m == nil {
		return "2" // Coraza's default
	}
	switch p := strings.ToLower(m[1]); p {
	case "1", "2", "3", "4", "5":
		return p
	case "request":
		return "2"
	}
	return "?"
}

// loadText is the rule set's text in load order: directives with their
// Include lines of CRS's files (pattern globbed in CRS's file system, read
// from root) in place, one directive a line, without comments.
func loadText(directives string, root fs.FS) (string, error) {
	var b strings.Builder
	for line := range strings.SplitSeq(directives, "\n") {
		m := includeFile.FindStringSubmatch(line)
		if m == nil {
			b.WriteString(line)
			b.WriteString("\n")
			continue
		}
		files, err := fs.Glob(coreruleset.FS, m[1])
		if err != nil || len(files) == 0 {
			return "", fmt.Errorf("waf: include %s: %d files (%v)", m[1], len(files), err)
		}
		for _, f := range files {
			c, err := fs.ReadFile(root, f)
			if err != nil {
				return "", fmt.Errorf("waf: read %s: %w", f, err)
			}
			b.Write(c)
			b.WriteString("\n")
		}
	}
	return commentLine.ReplaceAllString(directiveBreak.ReplaceAllString(b.String(), ""), ""), nil
}

var includeFile = regexp.MustCompile(`(?i)^\s*include\s+"?([^"\s]+)"?\s*$`)

var (
	setvarValue = regexp.MustCompile(`(?i)setvar\s*:\s*'?\s*(!?)\s*tx\.([^=',"\s]*)(?:=([^',"]*))?`)
	flowAction  = regexp.MustCompile(`(?i)[\s"',](?:skipAfter|allow)\b`)
)

// liveConstants returns the setup's variables (consts: lower-case name,
// value; the setup is the operator rule of setup.go) that hold their value
// wherever a rule after the setup reads them: every setvar of a rule
// loaded (not removed at load) that names one sets the same literal value,
// nothing removes the setup per request, and no rule before it in its
// phase can skip it (skipAfter, allow). None, if the reading cannot tell.
func liveConstants(text string, consts map[string]string) map[string]string {
	if len(consts) == 0 {
		return nil
	}
	removed, err := removedAtLoad(text)
	if err != nil {
		return nil
	}
	if ids, _ := removableAtRunTime(text); ids[setupID] {
		return nil
	}
	out := map[string]string{}
	for k, v := range consts {
		out[k] = v
	}
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, "@"+setupOperator+" ") {
			break
		}
		// A skipAfter or allow before the setup, unless of an explicit
		// later phase, could skip it.
		if flowAction.MatchString(line) {
			if m := phaseAction.FindStringSubmatch(line); m == nil || m[1] == "1" || rulePhase(line) == "?" {
				return nil
			}
		}
	}
	owner := -1 // the rule a line belongs to (chain links: their starter's)
	for line := range strings.SplitSeq(text, "\n") {
		trimmed := strings.TrimSpace(line)
		isRule := len(trimmed) > 7 && (strings.EqualFold(trimmed[:7], "SecRule") || strings.EqualFold(trimmed[:7], "SecActi"))
		if id := ruleID.FindStringSubmatch(" " + line); isRule && id != nil {
			owner, _ = strconv.Atoi(id[1])
		} else if !isRule {
			owner = -1
		}
		if owner >= 0 && removed(owner) {
			continue
		}
		for _, m := range setvarValue.FindAllStringSubmatch(line, -1) {
			name := strings.ToLower(m[2])
			if i := strings.IndexAny(name, "%{}"); i >= 0 {
				// A name made at run time from a literal start: any
				// variable with that start may be set.
				if i == 0 {
					return nil
				}
				for k := range out {
					if strings.HasPrefix(k, name[:i]) {
						delete(out, k)
					}
				}
				continue
			}
			if c, ok := out[name]; ok && (m[1] == "!" || m[3] != c) {
				delete(out, name)
			}
		}
	}
	return out
}

// setupID is the setup rule's id (initDefaults).
const setupID = 10010

// constNeverMatches: an operator comparing integers (@eq, @lt, @le, @gt,
// @ge with a literal or one constant %{tx.name}, as Coraza's read both
// with strconv.Atoi, 0 on error) is false on the count 1 (count) or on the
// value c, which no transformation of the rule changes (none has a
// trigger byte in c, and c is in lower case).
func constNeverMatches(count bool, c, op, arg string, negated bool, actions string, consts map[string]string) bool {
	v := c
	if count {
		v = "1"
	}
	for _, t := range ruleTrans.FindAllStringSubmatch(" "+actions, -1) {
		trig, known := gateTriggers[strings.ToLower(t[1])]
		if !known || count && !strings.EqualFold(t[1], "none") || holds(v, trig) || strings.ToLower(v) != v || holds(v, nonASCII) {
			return false
		}
	}
	if m := txMacro.FindStringSubmatch(arg); m != nil && m[0] == arg {
		val, ok := consts[strings.ToLower(m[1])]
		if !ok {
			return false
		}
		arg = val
	} else if strings.Contains(arg, "%") {
		return false
	}
	a, _ := strconv.Atoi(arg)
	x, _ := strconv.Atoi(v)
	var match bool
	switch strings.ToLower(op) {
	case "eq":
		match = x == a
	case "lt":
		match = x < a
	case "le":
		match = x <= a
	case "gt":
		match = x > a
	case "ge":
		match = x >= a
	default:
		return false
	}
	return match == negated
}
