package report

import (
	"fmt"
	"testing"
)

// TestScaleLabelsStayInside: every text of a scale chart lies within the
// chart's width, for an ideal at either end of the axis and in the middle
// (a label centred on an ideal of 0 was clipped by the chart's edge). Tick
// text is 10px: a character is at most 6px wide.
func TestScaleLabelsStayInside(t *testing.T) {
	format := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	for _, tc := range []struct {
		name                 string
		value, ideal, lo, hi float64
		max                  float64
	}{
		{"ideal at zero", 0.02, 0, 0, 0.05, 1},
		{"ideal at the maximum", 0.97, 1, 0.9, 1, 1},
		{"ideal in the middle", 0.55, 0.5, 0.4, 0.6, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := scale("scale:test", tc.value, tc.ideal, tc.lo, tc.hi, tc.max, LevelGood, format)
			for _, tx := range c.Texts {
				width := 6 * float64(len(tx.S))
				left := tx.X
				switch tx.Anchor {
				case "middle":
					left -= width / 2
				case "end":
					left -= width
				}
				if left < 0 || left+width > c.W {
					t.Errorf("%q spans %.1f to %.1f, outside the chart's 0 to %.0f", tx.S, left, left+width, c.W)
				}
			}
		})
	}
}
