package errs

import (
	"fmt"
	"strings"
)

// Closest returns the candidate nearest to name for a "did you mean" hint:
// the one with the fewest single-character edits (ignoring case), if that is
// at most a third of name's length (and at least 1); else the shortest
// candidate that starts with name, when name has at least three characters
// ("max_dcr" for "max_dcr_share"); else "". A candidate equal to name but
// for case is always the answer.
func Closest(name string, candidates []string) string {
	n := strings.ToLower(name)
	best, bestD := "", -1
	for _, c := range candidates {
		d := distance(n, strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	limit := max(len([]rune(name))/3, 1)
	if bestD >= 0 && bestD <= limit {
		return best
	}
	best = ""
	if len([]rune(name)) >= 3 {
		for _, c := range candidates {
			if strings.HasPrefix(strings.ToLower(c), n) && (best == "" || len(c) < len(best)) {
				best = c
			}
		}
	}
	return best
}

// DidYouMean returns `; did you mean "x"?` naming Closest(name,
// candidates), or "" when none is close.
func DidYouMean(name string, candidates []string) string {
	if c := Closest(name, candidates); c != "" {
		return fmt.Sprintf("; did you mean %q?", c)
	}
	return ""
}

// distance is the Levenshtein distance between a and b, in runes.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
