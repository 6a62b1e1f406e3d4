package waf

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/corazawaf/coraza/v3/experimental/plugins"
	"github.com/corazawaf/coraza/v3/experimental/plugins/plugintypes"
	re2 "github.com/wasilibs/go-re2"

	"synthos.dev/synthos/shared/waf/internal/rxprefilter"
)

// Heavy CRS expressions run on RE2 (github.com/wasilibs/go-re2: the C++
// library compiled to WebAssembly and from there to plain Go, so no cgo
// and no build tags). Go's regexp is slow on large programs (its
// backtracker, and above 500 instructions its NFA, walk every alternative
// at every position) and those patterns (the Unix command rules
// 932230-932260 and 932340, most SQLi and XSS rules) are most of the cost
// of a JSON request; RE2's DFA runs them several times faster. Small
// expressions stay on Coraza's own @rx: go-re2 pays a fixed cost per call
// that a small Go program does not, and Coraza's literal pre-filter skips
// most of them without running any engine.
//
// The swap is done on the rule text as it is loaded (crsFS rewrites "@rx"
// to "@re2" for heavy, pure-ASCII patterns), through Coraza's operator
// plugin API, without a fork. @re2 keeps @rx's semantics:
//   - the pattern gets @rx's (?sm) flags;
//   - captures fill TX.0-TX.9 the same way;
//   - a value that is not valid UTF-8 goes to Go's regexp, which reads an
//     invalid byte as U+FFFD as @rx does (RE2 would stop at it, which an
//     attacker could use to hide a payload behind one bad byte).
//
// TestRE2Parity holds every rewritten pattern to Go's verdict on the attack
// and legitimate tables' values; TestRE2KeepsVerdicts compares the WAF's
// verdicts with and without the swap.

// heavyInsts is the program size from which a pattern runs on RE2 (76 CRS
// patterns at paranoia 1). Measured per rule: at 500 (the NFA patterns
// only) a job request's rules took 1.97 ms of thread CPU, at 150 1.60 ms;
// at 50 small patterns lose more to go-re2's per-call cost than they gain.
const heavyInsts = 150

const re2Operator = "re2"

func init() {
	plugins.RegisterOperator(re2Operator, newRE2)
}

type re2rx struct {
	re  *re2.Regexp
	std *regexp.Regexp
	// minLen is a lower bound on the length of any match in bytes: a
	// shorter value cannot match (Coraza's pre-filter does this for @rx,
	// which @re2 does not get).
	minLen int
	// prefilter is Coraza's @rx literal pre-check (a copy:
	// internal/rxprefilter), under the same SecRxPreFilter setting: false
	// only when the literals any match needs are absent; nil: none.
	prefilter func(string) bool
}

// shortStd is the value length up to which Go's regexp runs even a heavy
// pattern: go-re2's fixed cost per call (a WebAssembly call, about 150 ns)
// is more than Go's whole search on one or two bytes (faster for 34 of the
// 35 paranoia 1 patterns at two bytes, even overall at three).
const shortStd = 2

// minMatch is a lower bound on the runes (so bytes: a rune, or an invalid
// byte that Go reads as U+FFFD, takes at least one) of any match of re.
func minMatch(re *syntax.Regexp) int {
	const none = 1 << 30
	switch re.Op {
	case syntax.OpNoMatch:
		return none
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minMatch(re.Sub[0])
	case syntax.OpRepeat:
		return min(none, re.Min*minMatch(re.Sub[0]))
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n = min(none, n+minMatch(s))
		}
		return n
	case syntax.OpAlternate:
		m := none
		for _, s := range re.Sub {
			m = min(m, minMatch(s))
		}
		return m
	}
	// Empty-width assertions, empty match, star, quest.
	return 0
}

func newRE2(o plugintypes.OperatorOptions) (plugintypes.Operator, error) {
	data := "(?sm)" + o.Arguments
	pf := o.RxPreFilterEnabled
	compile := func() (any, error) {
		re, err := re2.Compile(data)
		if err != nil {
			return nil, fmt.Errorf("re2: %w", err)
		}
		std, err := regexp.Compile(data)
		if err != nil {
			return nil, err
		}
		r := &re2rx{re: re, std: std}
		if p, err := syntax.Parse(data, syntax.Perl); err == nil {
			r.minLen = minMatch(p)
		}
		if pf {
			r.prefilter = rxprefilter.Func(data)
		}
		return r, nil
	}
	var (
		v   any
		err error
	)
	if o.Memoizer != nil {
		v, err = o.Memoizer.Do(fmt.Sprintf("re2:%v:%s", pf, data), compile)
	} else {
		v, err = compile()
	}
	if err != nil {
		return nil, err
	}
	return v.(*re2rx), nil
}

func (o *re2rx) Evaluate(tx plugintypes.TransactionState, value string) bool {
	if len(value) < o.minLen || (o.prefilter != nil && !o.prefilter(value)) {
		return false
	}
	if len(value) <= shortStd || !utf8.ValidString(value) {
		return evaluate(tx, value, o.std.FindStringSubmatchIndex, o.std.MatchString)
	}
	return evaluate(tx, value, o.re.FindStringSubmatchIndex, o.re.MatchString)
}

// evaluate is @rx's match and capture (TX.0 the match, TX.1-TX.8 the
// groups, "" for a group that did not take part).
func evaluate(tx plugintypes.TransactionState, value string, find func(string) []int, match func(string) bool) bool {
	if !tx.Capturing() {
		return match(value)
	}
	m := find(value)
	if m == nil {
		return false
	}
	for i := 0; i < len(m)/2 && i < 9; i++ {
		if m[2*i] >= 0 {
			tx.CaptureField(i, value[m[2*i]:m[2*i+1]])
		} else {
			tx.CaptureField(i, "")
		}
	}
	return true
}

// heavy reports whether pattern should run on RE2: Go compiles it to more
// than heavyInsts instructions, and it is plain ASCII with no byte escapes
// (@rx matches those as raw bytes, which RE2's UTF-8 mode would not).
func heavy(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] >= utf8.RuneSelf {
			return false
		}
	}
	lower := strings.ToLower(pattern)
	if strings.Contains(lower, `\x{`) || strings.Contains(lower, `\p`) {
		return false
	}
	for _, hi := range []string{`\x8`, `\x9`, `\xa`, `\xb`, `\xc`, `\xd`, `\xe`, `\xf`} {
		if strings.Contains(lower, hi) {
			return false
		}
	}
	re, err := syntax.Parse("(?sm)"+pattern, syntax.Perl)
	if err != nil {
		return false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return false
	}
	if len(prog.Inst) <= heavyInsts {
		return false
	}
	// RE2 must accept it too (it refuses a few Perl forms Go takes).
	_, err = re2.Compile("(?sm)" + pattern)
	return err == nil
}

// crsFS serves the Core Rule Set with heavy "@rx" operators rewritten to
// "@re2". Only rule files (*.conf) change; data files pass through.
type crsFS struct {
	fs.FS
	// rewritten collects the patterns moved to RE2 (for tests).
	rewritten *[]string
	// paranoia, if set, removes the rules above it (paranoia.go), and
	// pruned collects their ids.
	paranoia int
	pruned   map[int]bool
	// markers, if set, are the SecMarker names some skipAfter targets
	// (upper case); the other markers go (dropMarkers).
	markers map[string]bool
}

func (c crsFS) Open(name string) (fs.File, error) {
	f, err := c.FS.Open(name)
	if err != nil || !strings.HasSuffix(name, ".conf") {
		return f, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("waf: stat %s: %w", name, err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("waf: read %s: %w", name, err)
	}
	return &memFile{Reader: bytes.NewReader(rewriteRx(dropMarkers(prunePL(b, c.paranoia, c.pruned), c.markers), c.rewritten)), st: st}, nil
}

// rewriteRx rewrites the operator of every rule line whose @rx pattern is
// heavy. A rule's operator is the first quoted argument after its
// variables, on the line that starts with SecRule (chained rules too).
func rewriteRx(conf []byte, rewritten *[]string) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(conf))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if t := strings.TrimLeft(line, " \t"); strings.HasPrefix(t, "SecRule ") {
			for _, op := range []string{`"@rx `, `"!@rx `} {
				i := strings.Index(line, op)
				if i < 0 {
					continue
				}
				start := i + len(op)
				end := patternEnd(line, start)
				if end < 0 {
					continue
				}
				pattern := line[start:end]
				if heavy(pattern) {
					line = line[:i] + strings.Replace(op, "@rx ", "@"+re2Operator+" ", 1) + pattern + line[end:]
					if rewritten != nil {
						*rewritten = append(*rewritten, pattern)
					}
				}
				break
			}
		}
		out.WriteString(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// patternEnd finds the quote closing an operator argument that starts at
// start (a backslash escapes the next character, as in SecLang).
func patternEnd(line string, start int) int {
	for i := start; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

type memFile struct {
	*bytes.Reader
	st fs.FileInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return memInfo{f.st, f.Reader.Size()}, nil }
func (f *memFile) Close() error               { return nil }

type memInfo struct {
	fs.FileInfo
	size int64
}

func (i memInfo) Size() int64        { return i.size }
func (i memInfo) ModTime() time.Time { return i.FileInfo.ModTime() }
