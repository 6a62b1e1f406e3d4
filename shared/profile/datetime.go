package profile

import (
	"strings"
	"time"
)

// layouts are the Go time layouts Infer tries on a column, in order of
// preference: when several parse every cell (as "01/02/2006" and
// "02/01/2006" both do when no day exceeds 12), the first one wins, so US
// month-first beats day-first unless a value such as "31/01/2020" rules it
// out. Strict two-digit layouts come before their one-digit forms. Go parses a
// fractional second after the seconds field even when the layout lacks one,
// so "2006-01-02 15:04:05" also covers "2024-03-01 10:00:00.250".
var layouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	time.DateOnly,
	"2006/01/02 15:04:05",
	"2006/01/02",
	"01/02/2006 15:04:05",
	"01/02/2006 15:04",
	"01/02/2006",
	"02/01/2006 15:04:05",
	"02/01/2006 15:04",
	"02/01/2006",
	"1/2/2006 15:04:05",
	"1/2/2006 15:04",
	"1/2/2006",
	"2/1/2006",
	"01-02-2006",
	"02-01-2006",
	"02.01.2006",
	"2.1.2006",
	"Jan 2, 2006",
	"January 2, 2006",
	"2 Jan 2006",
	"2 January 2006",
	"02-Jan-2006",
	"2006-Jan-02",
	time.RFC1123,
	time.RFC1123Z,
	time.ANSIC,
	time.TimeOnly,
	"15:04",
}

// probe is how many distinct values pick the candidate layouts before the
// candidates are checked against the whole column.
const probe = 32

// detectTime finds the layout that parses the most cells of a column (vals
// with their counts) while failing at most budget cells, and returns it with
// the number of cells it parsed, or "" when none does.
func detectTime(vals []string, counts []int32, budget int) (string, int) {
	// Pick candidates on the first distinct values: a layout must parse at
	// least half of their weight.
	hits := make([]int, len(layouts))
	probeWeight := 0
	for i, v := range vals {
		if i == probe {
			break
		}
		w := int(counts[i])
		probeWeight += w
		if !timeLike(v) {
			continue
		}
		for j, l := range layouts {
			if _, err := time.Parse(l, v); err == nil {
				hits[j] += w
			}
		}
	}
	best, bestHit := "", 0
	for j, l := range layouts {
		if hits[j]*2 < probeWeight || probeWeight == 0 {
			continue
		}
		hit, miss := 0, 0
		for i, v := range vals {
			w := int(counts[i])
			if timeLike(v) {
				if _, err := time.Parse(l, v); err == nil {
					hit += w
					continue
				}
			}
			miss += w
			if miss > budget {
				break
			}
		}
		if miss <= budget && hit > bestHit {
			best, bestHit = l, hit
		}
	}
	return best, bestHit
}

// timeLike is a cheap filter: a date or time has a digit, a bounded length,
// starts with a digit or a letter and is not a bare number (every layout has
// separators), so numeric columns cost almost nothing here.
func timeLike(s string) bool {
	if len(s) < 4 || len(s) > 40 || !isAlnum(s[0]) || isDecimal(s) {
		return false
	}
	return strings.ContainsAny(s, "0123456789")
}
