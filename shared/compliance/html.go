package compliance

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

//go:embed page.html.tmpl
var pageSource string

// pageScript checks that the page holds a verdict for every regime assessed
// and logs a console error otherwise, so a broken page shows in a browser
// and in the Chromium test; it records the count in data-verdicts. The page
// is complete without it.
const pageScript = `(function(){var n=document.querySelectorAll(".summary .v").length,w=+document.body.getAttribute("data-regimes");if(n!==w){console.error("verdicts: "+n+" of "+w)}document.body.setAttribute("data-verdicts",n+"/"+w)})();`

// csp forbids every fetch; the script runs by its hash alone.
var csp = func() string {
	sum := sha256.Sum256([]byte(pageScript))
	return "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

var verdictTexts = map[string]string{
	ReadyForSignOff: "ready for sign-off",
	RisksFound:      "risks found",
	NotAssessed:     "not assessed",
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"f2":          func(v float64) string { return fmt.Sprintf("%.2f", v) },
	"f3":          func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"g4":          func(v float64) string { return fmt.Sprintf("%.4g", v) },
	"pct":         func(v float64) string { return fmt.Sprintf("%.0f%%", v*100) },
	"join":        func(s []string) string { return strings.Join(s, "; ") },
	"verdictText": func(v string) string { return verdictTexts[v] },
	"statusText":  func(s string) string { return strings.ReplaceAll(s, "_", " ") },
}).Parse(pageSource))

// WriteHTML renders r as one self-contained page: no fetch, no external
// font, printable to PDF by the browser (A4 margins, rows kept whole).
func WriteHTML(w io.Writer, r *Report) error {
	subject := r.Processing.Dataset
	if r.Processing.Job != "" {
		subject = "job " + r.Processing.Job + " · " + subject
	}
	return pageTemplate.Execute(w, struct {
		R       *Report
		CSP     string
		Script  template.JS
		Subject string
	}{r, csp, template.JS(pageScript), subject})
}
