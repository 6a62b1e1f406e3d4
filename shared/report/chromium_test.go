package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"synthos.dev/synthos/internal/chromiumtest"

	"synthos.dev/synthos/shared/quality"
)

// chartProblems lists the data-chart containers of dom without an SVG data
// mark (a rect or path classed "mark"), and checks the script's
// data-rendered count; it returns the number of charts too.
func chartProblems(dom string) (charts int, problems []string) {
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		return 0, []string{"DOM does not parse: " + err.Error()}
	}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	var hasMark func(n *html.Node, inSVG bool) bool
	hasMark = func(n *html.Node, inSVG bool) bool {
		if n.Type == html.ElementNode {
			inSVG = inSVG || n.Data == "svg"
			if c, _ := attr(n, "class"); inSVG && (n.Data == "rect" || n.Data == "path") && strings.Contains(" "+c+" ", " mark ") {
				return true
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if hasMark(c, inSVG) {
				return true
			}
		}
		return false
	}
	rendered := ""
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "body" {
				rendered, _ = attr(n, "data-rendered")
			}
			if name, ok := attr(n, "data-chart"); ok {
				charts++
				if !hasMark(n, false) {
					problems = append(problems, "empty chart "+name)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if want := strconv.Itoa(charts-len(problems)) + "/" + strconv.Itoa(charts); rendered != want {
		problems = append(problems, "body data-rendered = "+strconv.Quote(rendered)+", want "+want)
	}
	return charts, problems
}

// TestHTMLInChromium loads the Adult report in a real browser: no console
// message, and every chart drawn. A page with an empty chart must be caught,
// so the check is shown to bite.
func TestHTMLInChromium(t *testing.T) {
	t.Parallel()
	bin := chromiumtest.Binary(t)
	good := builtAdult(t)
	broken := *good
	q := *good.Quality
	q.Columns = append([]quality.ColumnReport(nil), q.Columns...)
	q.Columns[0].Distribution.Bins, q.Columns[0].Distribution.Real, q.Columns[0].Distribution.Synthetic = nil, nil, nil
	broken.Quality = &q

	tests := []struct {
		name  string
		r     *Report
		clean bool
	}{
		{"adult", good, true},
		{"empty column chart", &broken, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteHTML(&buf, tt.r); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "report.html")
			if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			dom, console := chromiumtest.LoadFile(t, bin, file, false)
			charts, problems := chartProblems(dom)
			if min := len(tt.r.Quality.Columns) + 1; charts < min {
				t.Errorf("%d charts in the DOM, want at least %d (a chart per column and the heatmap)", charts, min)
			}
			if tt.clean {
				for _, c := range console {
					t.Errorf("console: %s", c)
				}
				for _, p := range problems {
					t.Error(p)
				}
				return
			}
			if len(console) == 0 || !strings.Contains(strings.Join(console, "\n"), "empty chart: column:") {
				t.Errorf("the broken page logged no empty-chart error; console %q", console)
			}
			if len(problems) == 0 {
				t.Errorf("the broken page passed the DOM check")
			}
		})
	}
}
