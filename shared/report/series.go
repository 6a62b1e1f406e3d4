package report

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
)

// Chart is a chart drawn in Go for pages other than the evaluation
// report (the executive report of shared/analytics), rendered by the same
// "svg" template: no script, no library. Shapes classed "mark" carry data.
type Chart struct{ c chart }

// Name is the chart's data-chart name.
func (c Chart) Name() string { return c.c.Name }

// Label is the chart's caption.
func (c Chart) Label() string { return c.c.Label }

// Empty reports whether the chart has no data mark.
func (c Chart) Empty() bool {
	for _, r := range c.c.Rects {
		if hasClass(r.Class, "mark") {
			return false
		}
	}
	for _, p := range c.c.Paths {
		if hasClass(p.Class, "mark") {
			return false
		}
	}
	return true
}

func hasClass(classes, c string) bool {
	return bytes.Contains([]byte(" "+classes+" "), []byte(" "+c+" "))
}

// SVG renders the chart as an inline svg element.
func (c Chart) SVG() (template.HTML, error) {
	var b bytes.Buffer
	if err := pageTemplate.ExecuteTemplate(&b, "svg", c.c); err != nil {
		return "", fmt.Errorf("report: chart %s: %w", c.c.Name, err)
	}
	return template.HTML(b.String()), nil //nolint:gosec // produced by html/template
}

// ChartCSS is the style the charts' classes need on a page of their own.
const ChartCSS = `svg text{font-family:inherit;fill:#475467}svg .tick{font-size:10px}svg .label{font-size:12px;fill:#101828}
svg .grid{stroke:#eef0f3;stroke-width:1}svg .axis{stroke:#d0d5dd}svg rect.real{fill:` + colorReal + `}svg rect.syn{fill:` + colorSyn + `}
svg path.line{fill:none;stroke:` + colorReal + `;stroke-width:2}svg path.line.syn{stroke:` + colorSyn + `}svg line.ideal{stroke:#344054;stroke-width:1.5;stroke-dasharray:3 2}
svg rect.mark:hover{opacity:.8}`

// Bars draws one bar per label (a time series or a ranking), with an
// optional dashed limit line (0 for none); format writes values.
func Bars(name, label string, labels []string, values []float64, limit float64, format func(float64) string) Chart {
	const w, h, left, bottom, top = 640.0, 220.0, 56.0, 40.0, 10.0
	c := chart{Name: name, Label: label, W: w, H: h}
	maxV := limit
	for _, v := range values {
		maxV = math.Max(maxV, v)
	}
	maxV = niceMax(maxV)
	if maxV <= 0 {
		maxV = 1
	}
	y := func(v float64) float64 { return h - bottom - (h-bottom-top)*v/maxV }
	for _, f := range []float64{0, 0.5, 1} {
		c.Lines = append(c.Lines, line{X1: left, Y1: y(f * maxV), X2: w - 8, Y2: y(f * maxV), Class: "grid"})
		c.Texts = append(c.Texts, text{X: left - 6, Y: y(f*maxV) + 3, Anchor: "end", Class: "tick", S: format(f * maxV)})
	}
	n := math.Max(float64(len(values)), 1)
	slot := (w - 8 - left) / n
	every := int(math.Ceil(n / 12)) // at most a dozen axis labels
	for i, v := range values {
		x := left + slot*float64(i)
		if v > 0 {
			c.Rects = append(c.Rects, rect{X: x + slot*0.1, Y: y(v), W: slot * 0.8, H: y(0) - y(v), Class: "mark real",
				Title: fmt.Sprintf("%s: %s", at2(labels, i), format(v))})
		}
		if i%every == 0 {
			c.Texts = append(c.Texts, text{X: x + slot/2, Y: h - bottom + 14, Anchor: "middle", Class: "tick", S: shorten(at2(labels, i), 12)})
		}
	}
	if limit > 0 {
		c.Lines = append(c.Lines, line{X1: left, Y1: y(limit), X2: w - 8, Y2: y(limit), Class: "ideal"})
	}
	return Chart{c}
}

// Line draws a series on [0, 1] (scores) with gaps where a value is nil.
func Line(name, label string, labels []string, values []*float64) Chart {
	const w, h, left, bottom, top = 640.0, 200.0, 56.0, 40.0, 10.0
	c := chart{Name: name, Label: label, W: w, H: h}
	y := func(v float64) float64 { return h - bottom - (h-bottom-top)*math.Max(0, math.Min(1, v)) }
	for _, f := range []float64{0, 0.5, 1} {
		c.Lines = append(c.Lines, line{X1: left, Y1: y(f), X2: w - 8, Y2: y(f), Class: "grid"})
		c.Texts = append(c.Texts, text{X: left - 6, Y: y(f) + 3, Anchor: "end", Class: "tick", S: trimZeros(f)})
	}
	n := math.Max(float64(len(values)), 1)
	slot := (w - 8 - left) / n
	every := int(math.Ceil(n / 12))
	d := ""
	for i, v := range values {
		x := left + slot*(float64(i)+0.5)
		if v == nil {
			d += " " // a gap: the next point starts a new segment
			continue
		}
		if d == "" || d[len(d)-1] == ' ' {
			d += fmt.Sprintf("M%.1f %.1f", x, y(*v))
		} else {
			d += fmt.Sprintf(" L%.1f %.1f", x, y(*v))
		}
		c.Rects = append(c.Rects, rect{X: x - 2.5, Y: y(*v) - 2.5, W: 5, H: 5, Class: "mark real",
			Title: fmt.Sprintf("%s: %.3f", at2(labels, i), *v)})
		if i%every == 0 {
			c.Texts = append(c.Texts, text{X: x, Y: h - bottom + 14, Anchor: "middle", Class: "tick", S: shorten(at2(labels, i), 12)})
		}
	}
	if d != "" {
		c.Paths = append(c.Paths, path{D: d, Class: "line"})
	}
	return Chart{c}
}

func at2(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return ""
}
