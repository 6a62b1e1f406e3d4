package report

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/quality"
)

// chart is an SVG drawing computed in Go and rendered by the page template:
// the page needs no script and no library to show it. Shapes classed
// "mark" carry data; the rest (grid, axes, labels) is furniture.
type chart struct {
	Name  string // the data-chart attribute: "column:age", "heatmap"
	Label string // aria-label and caption
	Note  string // a line under the caption (what the colours mean)
	W, H  float64
	Rects []rect
	Paths []path
	Lines []line
	Texts []text
}

type rect struct {
	X, Y, W, H float64
	Class      string
	Fill       string // overrides the class's fill when set
	Title      string // tooltip
}

type path struct {
	D     string
	Class string
	Title string
}

type line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

type text struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string
	Rotate float64 // degrees about (X, Y)
	S      string
}

// Palette shared by charts and CSS.
const (
	colorReal = "#3d5a98"
	colorSyn  = "#f08c2e"
)

// shorten cuts s to n runes with an ellipsis.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// niceMax rounds x up to 1, 2, 2.5 or 5 times a power of ten, for axes.
func niceMax(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= x*(1-1e-9) {
			return m * p
		}
	}
	return 10 * p
}

// gauge draws a 270° ring for a score in [0, 1] (clamped), coloured by
// level.
func gauge(name string, score float64, level Level) chart {
	const size, r = 120.0, 46.0
	cx, cy := size/2, size/2+4
	c := chart{Name: name, Label: fmt.Sprintf("%s gauge at %s", name, pct(score)), W: size, H: size}
	arc := func(from, sweep float64) string {
		a0, a1 := from*math.Pi/180, (from+sweep)*math.Pi/180
		large := 0
		if sweep > 180 {
			large = 1
		}
		return fmt.Sprintf("M %.2f %.2f A %.0f %.0f 0 %d 1 %.2f %.2f",
			cx+r*math.Cos(a0), cy+r*math.Sin(a0), r, r, large, cx+r*math.Cos(a1), cy+r*math.Sin(a1))
	}
	c.Paths = append(c.Paths, path{D: arc(135, 270), Class: "track"})
	s := score
	if math.IsNaN(s) {
		s = 0
	}
	s = math.Max(0, math.Min(1, s))
	c.Paths = append(c.Paths, path{D: arc(135, math.Max(270*s, 0.5)), Class: "mark arc " + string(level), Title: pct(score)})
	c.Texts = append(c.Texts, text{X: cx, Y: cy + 7, Anchor: "middle", Class: "gauge-num", S: fmt.Sprintf("%.1f", 100*s)})
	return c
}

// scale draws a value on a horizontal axis [0, max] with the acceptable zone
// shaded, the ideal marked, and the value as a marker: the shape of the AUC
// and share metrics, whose ideal is not an end of the axis.
func scale(name string, value, ideal, lo, hi, max float64, level Level, format func(float64) string) chart {
	const w, h, pad = 260.0, 64.0, 14.0
	x := func(v float64) float64 { return pad + (w-2*pad)*math.Max(0, math.Min(1, v/max)) }
	c := chart{Name: name, Label: name + ": " + format(value), W: w, H: h}
	c.Rects = append(c.Rects,
		rect{X: pad, Y: 22, W: w - 2*pad, H: 10, Class: "track"},
		rect{X: x(lo), Y: 22, W: x(hi) - x(lo), H: 10, Class: "zone", Title: "accepted by the gate: " + format(lo) + " to " + format(hi)},
	)
	c.Lines = append(c.Lines, line{X1: x(ideal), Y1: 16, X2: x(ideal), Y2: 38, Class: "ideal"})
	// The ideal's label is centred on its mark, except near an end of the
	// axis, where a centred label ran past the chart's edge and was clipped
	// (an ideal of 0 or of the maximum): there it grows inwards.
	idealAnchor, idealX := "middle", x(ideal)
	switch {
	case idealX < w/4:
		idealAnchor, idealX = "start", math.Max(idealX-4, 2)
	case idealX > w*3/4:
		idealAnchor, idealX = "end", math.Min(idealX+4, w-2)
	}
	c.Texts = append(c.Texts,
		text{X: idealX, Y: 50, Anchor: idealAnchor, Class: "tick", S: "ideal " + format(ideal)},
		text{X: pad, Y: 62, Anchor: "start", Class: "tick muted", S: format(0)},
		text{X: w - pad, Y: 62, Anchor: "end", Class: "tick muted", S: format(max)},
	)
	v := value
	if math.IsNaN(v) {
		v = 0
	}
	mx := x(v)
	c.Paths = append(c.Paths, path{
		D:     fmt.Sprintf("M %.2f 20 L %.2f 11 L %.2f 11 Z M %.2f 20 L %.2f 34", mx, mx-6, mx+6, mx, mx),
		Class: "mark pointer " + string(level), Title: format(value),
	})
	return c
}

// bars draws grouped bars of two shares per bin: real and synthetic.
func bars(name string, d quality.Distribution) chart {
	n := len(d.Bins)
	const plotH, left, top = 120.0, 34.0, 8.0
	// Aim for a chart about 300 units wide; rotate the labels when the
	// longest would not fit its slot.
	slot := math.Max(18, math.Min(60, 290/float64(max(n, 1))))
	longest := 0
	for _, b := range d.Bins {
		longest = max(longest, utf8.RuneCountInString(shorten(b, 12)))
	}
	rotate := float64(longest)*5.6 > slot-4
	labelH := 22.0
	if rotate {
		labelH = 64
	}
	w := math.Max(left+slot*float64(max(n, 1))+8, 220)
	c := chart{Name: name, W: w, H: top + plotH + labelH, Label: fmt.Sprintf("%s: real and synthetic shares of %d bins", name, n)}
	ymax := 0.0
	for i := 0; i < n; i++ {
		ymax = math.Max(ymax, math.Max(at(d.Real, i), at(d.Synthetic, i)))
	}
	ymax = niceMax(ymax)
	y := func(v float64) float64 { return top + plotH*(1-v/ymax) }
	for _, f := range []float64{0, 0.5, 1} {
		c.Lines = append(c.Lines, line{X1: left, Y1: y(f * ymax), X2: w - 4, Y2: y(f * ymax), Class: "grid"})
		c.Texts = append(c.Texts, text{X: left - 4, Y: y(f*ymax) + 3, Anchor: "end", Class: "tick", S: fmt.Sprintf("%.0f%%", 100*f*ymax)})
	}
	bw := slot * 0.38
	for i := 0; i < n; i++ {
		x0 := left + slot*float64(i) + slot*0.1
		rv, sv := at(d.Real, i), at(d.Synthetic, i)
		tip := fmt.Sprintf("%s — real %s, synthetic %s", d.Bins[i], pct(rv), pct(sv))
		c.Rects = append(c.Rects,
			rect{X: x0, Y: y(rv), W: bw, H: top + plotH - y(rv), Class: "mark real", Title: tip},
			rect{X: x0 + bw, Y: y(sv), W: bw, H: top + plotH - y(sv), Class: "mark syn", Title: tip},
		)
		lx, ly := x0+bw, top+plotH+12
		if rotate {
			c.Texts = append(c.Texts, text{X: lx, Y: ly, Anchor: "end", Class: "tick", Rotate: -45, S: shorten(d.Bins[i], 12)})
		} else {
			c.Texts = append(c.Texts, text{X: lx, Y: ly, Anchor: "middle", Class: "tick", S: shorten(d.Bins[i], 12)})
		}
	}
	return c
}

func at(xs []float64, i int) float64 {
	if i < len(xs) && !math.IsNaN(xs[i]) {
		return xs[i]
	}
	return 0
}

// trendColor maps a Column Pair Trends score to a colour: green at 1,
// through yellow near the gate's usual limits, to red at 0.5 and below.
func trendColor(s float64) string {
	stops := []struct {
		at      float64
		r, g, b float64
	}{{0.5, 0xc9, 0x2a, 0x2a}, {0.75, 0xf0, 0x8c, 0x00}, {0.85, 0xfc, 0xc4, 0x19}, {0.95, 0x8c, 0xe9, 0x9a}, {1, 0x2b, 0x8a, 0x3e}}
	if math.IsNaN(s) || s <= stops[0].at {
		return fmt.Sprintf("rgb(%.0f,%.0f,%.0f)", stops[0].r, stops[0].g, stops[0].b)
	}
	for i := 1; i < len(stops); i++ {
		if s <= stops[i].at {
			a, b := stops[i-1], stops[i]
			f := (s - a.at) / (b.at - a.at)
			return fmt.Sprintf("rgb(%.0f,%.0f,%.0f)", a.r+f*(b.r-a.r), a.g+f*(b.g-a.g), a.b+f*(b.b-a.b))
		}
	}
	last := stops[len(stops)-1]
	return fmt.Sprintf("rgb(%.0f,%.0f,%.0f)", last.r, last.g, last.b)
}

// heatmap draws the lower triangle of the column-pair matrix, each cell
// coloured by its trend score; skipped pairs are hatched.
func heatmap(q *quality.Report) chart {
	var names []string
	idx := map[string]int{}
	add := func(n string) {
		if _, ok := idx[n]; !ok {
			idx[n] = len(names)
			names = append(names, n)
		}
	}
	for _, col := range q.Columns {
		add(col.Name)
	}
	for _, pr := range q.Pairs {
		add(pr.A)
		add(pr.B)
	}
	n := len(names)
	cell := 30.0
	if n > 16 {
		cell = math.Max(12, 480/float64(n))
	}
	left, top := 130.0, 8.0
	c := chart{Name: "heatmap", Label: fmt.Sprintf("Column Pair Trends of %d pairs", len(q.Pairs))}
	c.W = left + cell*float64(n) + 8
	c.H = top + cell*float64(n) + 110
	for i, nm := range names {
		c.Texts = append(c.Texts,
			text{X: left - 6, Y: top + cell*float64(i) + cell/2 + 4, Anchor: "end", Class: "tick", S: shorten(nm, 18)},
			text{X: left + cell*float64(i) + cell/2 + 3, Y: top + cell*float64(n) + 8, Anchor: "end", Class: "tick", Rotate: -55, S: shorten(nm, 18)},
		)
	}
	for _, pr := range q.Pairs {
		i, j := idx[pr.A], idx[pr.B]
		if i < j {
			i, j = j, i // lower triangle: row i below column j
		}
		r := rect{X: left + cell*float64(j) + 1, Y: top + cell*float64(i) + 1, W: cell - 2, H: cell - 2}
		switch {
		case pr.Skipped != "":
			r.Class, r.Title = "mark skipped", fmt.Sprintf("%s × %s: not scored (%s)", pr.A, pr.B, pr.Skipped)
		default:
			r.Class, r.Fill = "mark cell", trendColor(pr.Trend)
			r.Title = fmt.Sprintf("%s × %s: %s %.3f", pr.A, pr.B, pr.Metric, pr.Trend)
			if pr.RealCorrelation != nil && pr.SyntheticCorrelation != nil {
				r.Title += fmt.Sprintf(" (correlation real %+.2f, synthetic %+.2f)", *pr.RealCorrelation, *pr.SyntheticCorrelation)
			}
		}
		c.Rects = append(c.Rects, r)
	}
	// Legend: the colour scale from 0.5 to 1.
	lx, ly, lw := left, c.H-24, math.Min(240, c.W-left-8)
	const steps = 24
	for k := 0; k < steps; k++ {
		s := 0.5 + 0.5*float64(k)/float64(steps-1)
		c.Rects = append(c.Rects, rect{X: lx + lw*float64(k)/steps, Y: ly, W: lw/steps + 0.5, H: 8, Fill: trendColor(s), Class: "legend"})
	}
	c.Texts = append(c.Texts,
		text{X: lx, Y: ly + 20, Anchor: "start", Class: "tick", S: "≤ 0.50"},
		text{X: lx + lw, Y: ly + 20, Anchor: "end", Class: "tick", S: "1.00 (same trend)"},
	)
	return c
}

// quantiles draws, for each of two query sets, the 5th percentile and the
// median of their distance to the closest training record: the privacy
// report summarises each distribution by these quantiles.
func quantiles(name, label string, synP5, synMed, holdP5, holdMed float64) chart {
	const w, left, right, rowH, top = 480.0, 130.0, 150.0, 34.0, 10.0
	c := chart{Name: name, Label: label, W: w, H: top + 2*rowH + 34}
	xmax := niceMax(math.Max(math.Max(synMed, holdMed), math.Max(synP5, holdP5)) * 1.1)
	x := func(v float64) float64 {
		if math.IsNaN(v) {
			v = 0
		}
		return left + (w-left-right)*math.Max(0, math.Min(1, v/xmax))
	}
	rows := []struct {
		label, class string
		p5, med      float64
	}{{"synthetic → train", "syn", synP5, synMed}, {"holdout → train", "real", holdP5, holdMed}}
	for i, r := range rows {
		y := top + rowH*float64(i)
		c.Texts = append(c.Texts, text{X: left - 8, Y: y + 17, Anchor: "end", Class: "label", S: r.label})
		c.Rects = append(c.Rects,
			rect{X: left, Y: y + 6, W: x(r.med) - left, H: 16, Class: "mark soft " + r.class, Title: fmt.Sprintf("%s: median %.4f", r.label, r.med)},
			rect{X: left, Y: y + 6, W: x(r.p5) - left, H: 16, Class: "mark " + r.class, Title: fmt.Sprintf("%s: 5th percentile %.4f", r.label, r.p5)},
		)
		c.Texts = append(c.Texts, text{X: x(r.med) + 4, Y: y + 18, Anchor: "start", Class: "tick", S: fmt.Sprintf("p5 %.3f · median %.3f", r.p5, r.med)})
	}
	base := top + 2*rowH + 4
	c.Lines = append(c.Lines, line{X1: left, Y1: base, X2: w - right, Y2: base, Class: "axis"})
	for _, f := range []float64{0, 0.5, 1} {
		c.Texts = append(c.Texts, text{X: x(f * xmax), Y: base + 14, Anchor: "middle", Class: "tick", S: trimZeros(f * xmax)})
	}
	return c
}

func trimZeros(v float64) string {
	s := fmt.Sprintf("%.3f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "" || s == "-" {
		return "0"
	}
	return s
}

// pairedBars draws horizontal bars of two values per row (e.g. train and
// holdout accuracy of attribute inference), on [0, 1].
func pairedBars(name, label string, rows []string, a, b []float64, aName, bName string) chart {
	const w, left, rowH, top = 460.0, 150.0, 36.0, 8.0
	c := chart{Name: name, Label: label, W: w, H: top + rowH*float64(len(rows)) + 24}
	x := func(v float64) float64 {
		if math.IsNaN(v) {
			v = 0
		}
		return left + (w-left-60)*math.Max(0, math.Min(1, v))
	}
	for i, r := range rows {
		y := top + rowH*float64(i)
		c.Texts = append(c.Texts, text{X: left - 8, Y: y + 18, Anchor: "end", Class: "label", S: shorten(r, 20)})
		c.Rects = append(c.Rects,
			rect{X: left, Y: y + 4, W: x(at(a, i)) - left, H: 12, Class: "mark syn", Title: fmt.Sprintf("%s — %s %s", r, aName, pct(at(a, i)))},
			rect{X: left, Y: y + 17, W: x(at(b, i)) - left, H: 12, Class: "mark real", Title: fmt.Sprintf("%s — %s %s", r, bName, pct(at(b, i)))},
		)
		c.Texts = append(c.Texts,
			text{X: x(at(a, i)) + 4, Y: y + 14, Anchor: "start", Class: "tick", S: pct(at(a, i))},
			text{X: x(at(b, i)) + 4, Y: y + 27, Anchor: "start", Class: "tick", S: pct(at(b, i))},
		)
	}
	return c
}

// attributeChart draws attribute-inference accuracy on training records
// (what the synthetic table reveals about them) against holdout records
// (what it reveals about anyone).
func attributeChart(ai *privacy.AttributeInference) chart {
	var rows []string
	var tr, ho []float64
	for _, c := range ai.Columns {
		rows = append(rows, c.Column)
		tr = append(tr, c.TrainAccuracy)
		ho = append(ho, c.HoldoutAccuracy)
	}
	c := pairedBars("attribute-inference", "attribute-inference accuracy", rows, tr, ho, "training records", "holdout records")
	c.Note = fmt.Sprintf("orange: guessing training records (%d) · blue: guessing holdout records; equal bars mean no extra risk", ai.Records)
	return c
}
