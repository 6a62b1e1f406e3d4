package analytics

import (
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"time"

	"synthos.dev/synthos/shared/report"
)

// Executive is the input of the monthly executive report.
type Executive struct {
	// Scope names whose figures these are: a tenant, or "platform".
	Scope string
	// Month is the report's month (any day in it).
	Month time.Time
	// Days is the month by day (Summarize with Day granularity).
	Days *Result
	// Insights of the month's last day (or today within the month).
	Insights *Insights
	// RowsPerMonth is the plan's monthly rows (0: unknown or platform).
	RowsPerMonth int64
}

type execFigure struct {
	Name, Label string
	SVG         template.HTML
}

type execPage struct {
	Title, Scope, Month, Generated string
	CSS                            template.CSS
	KPIs                           []struct{ Label, Value string }
	Figures                        []execFigure
	Insights                       *Insights
}

// WriteExecutiveHTML writes a self-contained HTML page (no script, no
// external resource; a Content-Security-Policy forbids both) with the
// month's usage against the plan, quality and privacy over time, ε spent,
// cost,
// top datasets, failures by reason, and the forecast and insights.
func WriteExecutiveHTML(w io.Writer, e Executive) error {
	if e.Days == nil {
		return fmt.Errorf("analytics: executive report without figures")
	}
	month := e.Month.UTC().Format("January 2006")
	p := execPage{Title: "Synthos — " + month, Scope: e.Scope, Month: month,
		Generated: time.Now().UTC().Format(time.RFC3339), CSS: template.CSS(report.ChartCSS), Insights: e.Insights}
	var labels []string
	var rows, eps, cost []float64
	var quality, privacy []*float64
	var total Bucket
	failures := map[string]int64{}
	for _, b := range e.Days.Buckets {
		labels = append(labels, b.Start[5:])
		rows = append(rows, float64(b.Rows))
		eps = append(eps, b.Epsilon)
		cost = append(cost, b.Cost)
		quality = append(quality, b.Quality)
		privacy = append(privacy, b.Privacy)
		total.Jobs += b.Jobs
		total.Succeeded += b.Succeeded
		total.Failed += b.Failed
		total.Rows += b.Rows
		total.Epsilon += b.Epsilon
		total.ComputeCost += b.ComputeCost
		total.AICost += b.AICost
		for k, v := range b.Failures {
			failures[k] += v
		}
	}
	// Cumulative rows against the plan.
	cum := make([]float64, len(rows))
	var run float64
	for i, r := range rows {
		run += r
		cum[i] = run
	}
	kpi := func(label, value string) {
		p.KPIs = append(p.KPIs, struct{ Label, Value string }{label, value})
	}
	kpi("jobs", strconv.FormatInt(total.Jobs, 10))
	kpi("succeeded", strconv.FormatInt(total.Succeeded, 10))
	kpi("failed", strconv.FormatInt(total.Failed, 10))
	plan := ""
	if e.RowsPerMonth > 0 {
		plan = fmt.Sprintf(" of %d", e.RowsPerMonth)
	}
	kpi("rows", strconv.FormatInt(total.Rows, 10)+plan)
	kpi("ε spent", strconv.FormatFloat(round(total.Epsilon, 3), 'f', -1, 64))
	kpi("cost (compute est. + AI)", fmt.Sprintf("$%.2f", total.ComputeCost+total.AICost))
	kpi("compute cost (est.)", fmt.Sprintf("$%.2f", total.ComputeCost))
	kpi("AI cost", fmt.Sprintf("$%.2f", total.AICost))

	intf := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	figs := []report.Chart{
		report.Bars("usage", "Rows generated to date against the plan (dashed)", labels, cum, float64(e.RowsPerMonth), intf),
		report.Bars("rows", "Rows generated per day", labels, rows, 0, intf),
		report.Line("quality", "Mean quality score per day", labels, quality),
		report.Line("privacy", "Mean privacy score per day", labels, privacy),
		report.Bars("epsilon", "ε spent per day", labels, eps, 0, func(v float64) string { return strconv.FormatFloat(round(v, 2), 'f', -1, 64) }),
		report.Bars("cost", "Cost per day (US dollars: estimated compute + AI)", labels, cost, 0, func(v float64) string { return strconv.FormatFloat(round(v, 4), 'f', -1, 64) }),
	}
	// Top datasets by rows, and failures by reason: only when there are
	// some (an empty chart says nothing).
	type kv struct {
		k string
		v float64
	}
	var top []kv
	for id, d := range e.Days.Datasets {
		if d.Rows > 0 {
			top = append(top, kv{id, float64(d.Rows)})
		}
	}
	sort.Slice(top, func(i, j int) bool { return top[i].v > top[j].v || top[i].v == top[j].v && top[i].k < top[j].k })
	if len(top) > 10 {
		top = top[:10]
	}
	if len(top) > 0 {
		var l []string
		var v []float64
		for _, t := range top {
			l, v = append(l, t.k), append(v, t.v)
		}
		figs = append(figs, report.Bars("datasets", "Top datasets by rows", l, v, 0, intf))
	}
	if len(failures) > 0 {
		var l []string
		var v []float64
		for k := range failures {
			l = append(l, k)
		}
		sort.Strings(l)
		for _, k := range l {
			v = append(v, float64(failures[k]))
		}
		figs = append(figs, report.Bars("failures", "Failed jobs by reason", l, v, 0, intf))
	}
	for _, c := range figs {
		if c.Empty() {
			continue // no data this month: left out rather than drawn blank
		}
		svg, err := c.SVG()
		if err != nil {
			return err
		}
		p.Figures = append(p.Figures, execFigure{Name: c.Name(), Label: c.Label(), SVG: svg})
	}
	return execTemplate.Execute(w, p)
}

var execTemplate = template.Must(template.New("exec").Funcs(template.FuncMap{
	"mul100": func(p *float64) float64 { return 100 * *p },
}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#101828;margin:0;background:#f8f9fb}
main{max-width:980px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}p.sub{color:#667085;margin:0 0 16px}
.kpis{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:16px}
.kpi{background:#fff;border:1px solid #eaecf0;border-radius:8px;padding:10px 14px;min-width:120px}
.kpi b{display:block;font-size:20px}.kpi span{color:#667085;font-size:12px}
figure{background:#fff;border:1px solid #eaecf0;border-radius:8px;margin:0 0 12px;padding:12px}
figcaption{font-weight:600;margin-bottom:6px}svg{max-width:100%;height:auto}
section{background:#fff;border:1px solid #eaecf0;border-radius:8px;padding:12px 16px;margin-bottom:12px}
li small{display:block;color:#667085}
{{.CSS}}
</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
<p class="sub">{{.Scope}} · generated {{.Generated}}</p>
<div class="kpis">{{range .KPIs}}<div class="kpi"><b>{{.Value}}</b><span>{{.Label}}</span></div>{{end}}</div>
{{range .Figures}}<figure data-chart="{{.Name}}"><figcaption>{{.Label}}</figcaption>{{.SVG}}</figure>
{{end}}
{{with .Insights}}<section><h2>Forecast and insights</h2>
{{with .Quota}}<p>{{if .Reached}}Rows are forecast to reach the plan on <b>{{.Date.Format "2006-01-02"}}</b> ± {{.PlusMinusDays}} days.{{else}}Rows are not forecast to reach the plan this month.{{end}}</p>{{end}}
<ul>{{range .Trends}}<li>last {{.Days}} days: {{printf "%.0f" .Rows}} rows{{with .Change}} ({{printf "%+.0f" (mul100 .)}}% on the period before){{end}}, {{.Jobs}} jobs, {{.Failed}} failed, ${{printf "%.2f" .Cost}}{{with .CostChange}} ({{printf "%+.0f" (mul100 .)}}% on the period before){{end}}</li>{{end}}</ul>
{{if .Flags}}<h3>Flags</h3><ul>{{range .Flags}}<li>{{.Message}}<small>{{.Evidence}}</small></li>{{end}}</ul>{{end}}
{{if .Recommendations}}<h3>Recommendations</h3><ul>{{range .Recommendations}}<li>{{.Message}}<small>{{.Evidence}}</small></li>{{end}}</ul>{{end}}
</section>{{end}}
</main>
</body>
</html>
`))
