package waf

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
)

// Rules above the paranoia level, removed as the files load.
//
// Each CRS file ends with its paranoia level 2-4 rules behind a pair of
// skip rules per level (SecRule TX:DETECTION_PARANOIA_LEVEL "@lt 2" ...
// skipAfter:END-<file>, one for phase 1, one for phase 2). At paranoia 1
// the skip rules match on every request, and a matching rule is not cheap
// in Coraza (MATCHED_VAR* updates, a matched-rule record, the skip): the
// 28 request-phase skip rules were a tenth of a GET's allocations. The
// level is fixed when the WAF is built (our SecAction 900000; nothing sets
// tx.detection_paranoia_level, which CRS derives from it in phase 1, before
// any skip rule runs), so a skip rule for a level above it always matches
// and every rule of its phase between it and the marker never runs.
// prunePL removes both from the text: such a skip rule, and every rule
// after it, up to its marker, whose phase has a matching skip rule before
// it. What the removed skip rules did is invisible to the verdict: they
// carry no msg (so no Match), set no variable, and the MATCHED_VAR* values
// they leave are overwritten by the next match before anything reads them
// (no rule targets MATCHED_VAR* except chained rules, after their starter
// matched). TestParanoiaPruneKeepsVerdicts compares verdicts and TX with
// the unpruned files.

var (
	plSkip    = regexp.MustCompile(`^SecRule TX:DETECTION_PARANOIA_LEVEL "@lt (\d+)" "id:\d+,phase:(\d+),pass,nolog,(?:tag:'[^']*',|ver:'[^']*',)*skipAfter:([A-Za-z0-9_-]+)"$`)
	plPhase   = regexp.MustCompile(`[",\s]phase:'?(\d+)`)
	plMarker  = regexp.MustCompile(`^SecMarker\s+"?([A-Za-z0-9_-]+)"?\s*$`)
	plChain   = regexp.MustCompile(`[",\s]chain[",\s]`)
	plRuleDir = regexp.MustCompile(`^(?:SecRule|SecAction)\b`)
	plID      = regexp.MustCompile(`[",\s]id:'?(\d+)`)
	plUpdate  = regexp.MustCompile(`(?m)^SecRuleUpdateTargetById (\d+) [^\n]*\n?`)
)

// prunePL removes, from one rule file, the rules that the paranoia level
// pl skips on every request, and the skip rules themselves. Anything it
// does not recognise (a rule without a phase, a skip to a marker not in
// the file) leaves the file unchanged.
//
// pruned collects the ids removed; a SecRuleUpdateTargetById of one of them
// (CRS's 999 file updates a paranoia 2 rule) is removed too, as Coraza
// refuses an update of a rule it does not have.
func prunePL(conf []byte, pl int, pruned map[int]bool) []byte {
	if pl < 1 {
		return conf
	}
	// Directives: lines joined over trailing backslashes; a chained rule
	// joins its starter's group.
	type directive struct {
		text   string // original lines
		joined string
		rule   bool
		phase  int
	}
	var ds []directive
	lines := strings.SplitAfter(string(conf), "\n")
	chained := false
	for i := 0; i < len(lines); {
		start := i
		for i < len(lines) && strings.HasSuffix(strings.TrimRight(lines[i], "\r\n"), `\`) {
			i++
		}
		if i < len(lines) {
			i++
		}
		text := strings.Join(lines[start:i], "")
		joined := strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(text, "\\\r\n", ""), "\\\n", ""))
		d := directive{text: text, joined: joined, rule: plRuleDir.MatchString(joined)}
		if d.rule && chained {
			// A chained rule: part of the previous rule.
			prev := &ds[len(ds)-1]
			prev.text += text
			chained = plChain.MatchString(joined + " ")
			continue
		}
		if d.rule {
			if m := plPhase.FindStringSubmatch(joined); m != nil {
				d.phase, _ = strconv.Atoi(m[1])
			}
			chained = plChain.MatchString(joined + " ")
		}
		ds = append(ds, d)
	}
	markers := map[string]int{}
	for i, d := range ds {
		if m := plMarker.FindStringSubmatch(d.joined); m != nil {
			markers[m[1]] = i
		}
	}
	drop := make([]bool, len(ds))
	for i, d := range ds {
		m := plSkip.FindStringSubmatch(d.joined)
		if m == nil {
			continue
		}
		level, _ := strconv.Atoi(m[1])
		phase, _ := strconv.Atoi(m[2])
		end, ok := markers[m[3]]
		if level <= pl || !ok || end < i {
			continue
		}
		for j := i + 1; j < end; j++ {
			if ds[j].rule && ds[j].phase == 0 {
				return dropUpdates(conf, pruned) // a rule without a readable phase
			}
		}
		drop[i] = true
		for j := i + 1; j < end; j++ {
			if ds[j].rule && ds[j].phase == phase {
				drop[j] = true
			}
		}
	}
	var out bytes.Buffer
	for i, d := range ds {
		if !drop[i] {
			out.WriteString(d.text)
		} else if m := plID.FindStringSubmatch(d.joined); m != nil {
			id, _ := strconv.Atoi(m[1])
			pruned[id] = true
		}
	}
	return dropUpdates(out.Bytes(), pruned)
}

// dropUpdates removes the target updates of removed rules.
func dropUpdates(conf []byte, pruned map[int]bool) []byte {
	return plUpdate.ReplaceAllFunc(conf, func(line []byte) []byte {
		id, _ := strconv.Atoi(string(plUpdate.FindSubmatch(line)[1]))
		if pruned[id] {
			return nil
		}
		return line
	})
}
