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
	plGE      = regexp.MustCompile(`^SecRule\s+TX:(?:BLOCKING|DETECTION)_PARANOIA_LEVEL\s+"@ge (\d+)"\s+"[^"]*"$`)
	plPhase   = regexp.MustCompile(`[",\s]phase:'?(\d+)`)
	plMarker  = regexp.MustCompile(`^SecMarker\s+"?([A-Za-z0-9_-]+)"?\s*$`)
	plChain   = regexp.MustCompile(`[",\s]chain[",\s]`)
	plRuleDir = regexp.MustCompile(`^(?:SecRule|SecAction)\b`)
	plID      = regexp.MustCompile(`[",\s]id:'?(\d+)`)
	plUpdate  = regexp.MustCompile(`(?m)^SecRuleUpdateTargetById (\d+) [^\n]*\n?`)
)

// prunePL removes, from one rule file, the rules that the paranoia level
// pl skips on every request, and the skip rules themselves; and the skip
// rules for the levels up to pl, which never match (each file opens with
// one per phase for level 1), and the blocking evaluation's score sums for
// the levels above pl ("@ge level"), which never match either. Anything it
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
		if m := plGE.FindStringSubmatch(d.joined); m != nil && !plChain.MatchString(d.joined+" ") {
			// A score sum for a level above pl: "@ge level" never
			// holds, and the rule never matches.
			if level, _ := strconv.Atoi(m[1]); level > pl {
				drop[i] = true
			}
			continue
		}
		m := plSkip.FindStringSubmatch(d.joined)
		if m == nil {
			continue
		}
		level, _ := strconv.Atoi(m[1])
		phase, _ := strconv.Atoi(m[2])
		if level <= pl {
			// "@lt level" never holds at pl: the skip rule never
			// matches, and a rule that does not match leaves nothing
			// but the RULE collection, which the next rule overwrites.
			drop[i] = true
			continue
		}
		end, ok := markers[m[3]]
		if !ok || end < i {
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

// Markers no rule skips to, removed as the files load.
//
// A SecMarker is a rule of phase 0: Coraza evaluates it in every phase, as
// a rule that matches (the RULE collection, MATCHED_VAR*, a match record:
// two allocations and five map writes), and CRS has 30, one or two per
// file, response files included. Most are the targets of the paranoia
// skip rules that prunePL removed, or of response- and logging-phase
// rules, which never run here (Inspect runs phases 1 and 2 only). A marker only matters as the place where a skipAfter ends, and
// as a rule that a skip:N counts; so a marker no skipAfter in the whole
// rule text names is removed, except in a file that has a skip:N (where it
// could be in the window). Like the removed skip rules it carries no msg
// and sets no variable, and the MATCHED_VAR* it leaves are overwritten by
// the next match before any rule reads them. TestMarkerPruneKeepsVerdicts
// compares verdicts, matches and TX with the markers loaded.

var (
	skipAfterName = regexp.MustCompile(`(?i)skipAfter\s*:\s*'?([^,"'\s\\]+)`)
	markerLine    = regexp.MustCompile(`(?m)^[ \t]*SecMarker[ \t]+(?:"([^"\n]*)"|'([^'\n]*)'|(\S+))[ \t]*\r?\n?`)
)

// skipTargets lists the names the skipAfter actions in text name (upper
// case: a generous match, so no marker that Coraza could reach is taken
// for unreferenced). text has one directive per line. A skipAfter of a
// rule in a response or logging phase (3-5) does not count: Inspect runs
// the request phases only, where such a rule never runs (the response
// files' markers are reached only from their own rules).
func skipTargets(text string) map[string]bool {
	names := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		ms := skipAfterName.FindAllStringSubmatch(line, -1)
		if ms == nil {
			continue
		}
		if p := plPhase.FindStringSubmatch(line); p != nil && p[1] >= "3" && p[1] <= "5" && len(p[1]) == 1 {
			continue
		}
		for _, m := range ms {
			names[strings.ToUpper(m[1])] = true
		}
	}
	return names
}

// dropMarkers removes from a rule file the markers not in keep (nil: keeps
// all), unless the file has a skip:N action.
func dropMarkers(conf []byte, keep map[string]bool) []byte {
	if keep == nil || skipAction.Match(conf) {
		return conf
	}
	return markerLine.ReplaceAllFunc(conf, func(line []byte) []byte {
		m := markerLine.FindSubmatch(line)
		name := string(m[1]) + string(m[2]) + string(m[3])
		if keep[strings.ToUpper(strings.TrimSpace(name))] {
			return line
		}
		return nil
	})
}
