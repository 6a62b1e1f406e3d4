package analytics

import (
	"bytes"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"synthos.dev/synthos/internal/chromiumtest"
)

// execFixture is a month of a tenant with two datasets, failures, dp jobs
// and the insights of its last day.
func execFixture() Executive {
	asOf := time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC)
	var days []Daily
	for i := range 56 {
		d := asOf.AddDate(0, 0, -i).Format(time.DateOnly)
		days = append(days,
			Daily{Dataset: "claims", Day: d, Jobs: 3, Succeeded: 2, Failed: 1, Rows: 2000 + int64(i)*10, Epsilon: 0.2,
				ComputeCost: 0.0029, AICost: 0.05,
				Quality: Score{Sum: 1.8, N: 2}, Privacy: Score{Sum: 1.9, N: 2}, Failures: map[string]int64{"resource_exhausted": 1},
				QualityByModel: map[string]Score{"tree": {Sum: 0.93, N: 1}, "copula": {Sum: 0.86, N: 1}}},
			Daily{Dataset: "members", Day: d, Jobs: 1, Succeeded: 1, Rows: 500, Quality: Score{Sum: 0.88, N: 1}})
	}
	month := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	return Executive{Scope: "tenant acme", Month: month, Days: Summarize(days, month, asOf, Day),
		Insights: Analyze(days, asOf, &Quota{Used: 70000, Limit: 100000, ResetsAt: asOf.AddDate(0, 0, 1)}), RowsPerMonth: 100000}
}

func TestExecutiveHTML(t *testing.T) {
	var b bytes.Buffer
	if err := WriteExecutiveHTML(&b, execFixture()); err != nil {
		t.Fatal(err)
	}
	page := html.UnescapeString(b.String())
	for _, want := range []string{`data-chart="usage"`, `data-chart="rows"`, `data-chart="quality"`, `data-chart="privacy"`, `data-chart="epsilon"`,
		`data-chart="cost"`, `data-chart="datasets"`, `data-chart="failures"`, "the tree model scores +0.07 over copula", "March 2026"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Self-contained: no script, no reference to anything outside.
	if regexp.MustCompile(`(?i)<script|\b(src|href)\s*=|url\(|@import`).MatchString(page) {
		t.Error("the page loads or runs something")
	}
	// A month without jobs leaves out its charts rather than drawing them blank.
	empty := Executive{Scope: "tenant quiet", Month: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		Days: Summarize(nil, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC), Day)}
	b.Reset()
	if err := WriteExecutiveHTML(&b, empty); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "data-chart") {
		t.Error("an empty month has charts")
	}
}

// TestExecutiveInChromium loads the page in headless Chromium with
// networking off: no console message (CSP violations are console
// messages), and every chart has a data mark.
func TestExecutiveInChromium(t *testing.T) {
	bin := chromiumtest.Binary(t)
	var b bytes.Buffer
	if err := WriteExecutiveHTML(&b, execFixture()); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "executive.html")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, console := chromiumtest.LoadFile(t, bin, file, true)
	for _, l := range console {
		t.Errorf("console: %s", l)
	}
	figures := regexp.MustCompile(`(?s)<figure data-chart="([^"]+)">(.*?)</figure>`).FindAllStringSubmatch(dom, -1)
	// usage, rows, quality, privacy, epsilon, cost, datasets, failures.
	if len(figures) != 8 {
		t.Errorf("%d charts in the DOM, want 8", len(figures))
	}
	for _, f := range figures {
		if !regexp.MustCompile(`<(rect|path)[^>]*class="[^"]*\bmark\b`).MatchString(f[2]) {
			t.Errorf("chart %s is empty in the browser", f[1])
		}
	}
}
