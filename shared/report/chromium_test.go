package report

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"synthos.dev/synthos/shared/quality"
)

// chromium returns the Chromium binary, skipping the test when it is absent
// (failing instead on CI, where it must be installed).
func chromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (/usr/bin/chromium or chromium on PATH); install it: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (/usr/bin/chromium or chromium on PATH); skipping the browser test")
	return ""
}

// loadPage opens file in headless Chromium with networking off and returns
// the DOM after scripts ran and every console message the page logged
// (Chromium prints them to stderr as ":CONSOLE" lines with
// --enable-logging=stderr, at INFO level whatever their severity, so any
// message counts: the page logs only on failure, and CSP violations are
// console messages too).
func loadPage(t *testing.T, bin, file string) (dom string, console []string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0",
		"--dump-dom", "file://"+file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, ":CONSOLE") {
			console = append(console, l)
		}
	}
	return stdout.String(), console
}

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
	bin := chromium(t)
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
			dom, console := loadPage(t, bin, file)
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
