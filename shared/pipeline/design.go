package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"time"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/table"
)

// Design jobs sample a tenant's saved spec (package design) instead of
// fitting a dataset: the first step loads the version admitted, scales it
// as admitted and samples every table in one invocation (the engine's
// speed makes fan-out unnecessary at the plan's job sizes), text columns
// written in batches through the AI router; the evaluation step reads the
// tables back, checks every rule in every row and every foreign key
// (design.Verify), and writes the report. Every table is an output: the
// main one under OutputData (the API's download), the others under
// jobs.OutputTable(name).

// designSpec loads the spec version a design job was admitted with,
// scaled as it was. A spec that no longer scales to the rows the job
// reserved is a permanent failure (it cannot happen unless the stored
// version changed under the job).
func (p *Pipeline) designSpec(ctx context.Context, j *jobs.Job) (*design.Spec, error) {
	if j.Request.DesignVersion <= 0 {
		return nil, permanent("job %s: design %s was not resolved to a version at admission", j.ID, j.Request.Design)
	}
	_, sp, err := (&design.Store{State: p.env.State}).Get(ctx, j.Tenant, j.Request.Design, j.Request.DesignVersion)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, permanent("job %s: design %s version %d is gone: %w", j.ID, j.Request.Design, j.Request.DesignVersion, err)
	}
	if err != nil {
		return nil, err
	}
	if sp, err = sp.Scale(j.Request.DesignRows); err != nil {
		return nil, permanent("job %s: %w", j.ID, err)
	}
	var total int64
	for _, t := range sp.Tables {
		total += t.Rows
	}
	if total != j.Request.Rows {
		return nil, permanent("job %s: design %s version %d scales to %d rows, but %d were admitted", j.ID, j.Request.Design, j.Request.DesignVersion, total, j.Request.Rows)
	}
	return sp, nil
}

// designOutputs maps each table of sp to its output name and object key.
func designOutputs(j *jobs.Job, sp *design.Spec, ext string) map[string][2]string {
	main := sp.MainTable()
	out := make(map[string][2]string, len(sp.Tables))
	for _, t := range sp.Tables {
		if main != nil && t.Name == main.Name {
			out[t.Name] = [2]string{jobs.OutputData, datasets.OutputKey(j.Tenant, j.ID, ext)}
			continue
		}
		out[t.Name] = [2]string{jobs.OutputTable(t.Name), datasets.JobPrefix(j.Tenant, j.ID) + "output-" + url.PathEscape(t.Name) + "." + ext}
	}
	return out
}

// designStep samples a design job's tables and hands the job to the
// evaluation. Redelivered, it samples again only if a table is missing
// (each table's object appears whole or not at all).
func (p *Pipeline) designStep(ctx context.Context, m *events.Message, j *jobs.Job) error {
	format, ext, err := outputFormat(j.Request)
	if err != nil {
		return err
	}
	sp, err := p.designSpec(ctx, j)
	if err != nil {
		return err
	}
	if j, err = p.advance(ctx, actorGenerate, m.ID, j.ID, jobs.Sampling, func(j *jobs.Job) { j.Shards, j.ShardDone = 1, nil }); err != nil {
		return err
	}
	if j.State != jobs.Sampling {
		return nil
	}
	outs := designOutputs(j, sp, ext)
	whole := true
	for _, o := range outs {
		ok, err := objects.Exists(ctx, p.env.Objects, o[1])
		if err != nil {
			return err
		}
		whole = whole && ok
	}
	if !whole {
		if err := p.sampleDesign(ctx, j, sp, format, outs); err != nil {
			return err
		}
	}
	return p.finishSampling(ctx, m.ID, j)
}

// sampleDesign generates every table into its object.
func (p *Pipeline) sampleDesign(ctx context.Context, j *jobs.Job, sp *design.Spec, format table.Format, outs map[string][2]string) error {
	opts := design.Options{Seed: j.Request.Seed, Open: func(name string, cols []table.Column) (table.Writer, error) {
		return newObjectWriter(ctx, p.env.Objects, outs[name][1], format, cols)
	}}
	var m *meteredAsker
	if hasTextColumns(sp) {
		rt, err := p.router()
		if err != nil {
			return err
		}
		m = &meteredAsker{a: rt}
		opts.TextFiller = &design.TextFiller{Asker: m, Tenant: j.Tenant}
	}
	start := time.Now()
	res, err := design.Generate(ctx, sp, opts)
	if m != nil {
		if rerr := p.recordAI(ctx, j.ID, m.usage()); rerr != nil {
			return rerr
		}
	}
	if errs.CodeOf(err) == errs.InvalidArgument {
		return permanent("job %s: design %s: %w", j.ID, j.Request.Design, err)
	}
	if err != nil {
		return fmt.Errorf("sample design %s: %w", j.Request.Design, err)
	}
	var rows int64
	for _, r := range res {
		rows += r.Rows
	}
	metrics.Default().Sample(ctx, "design", time.Since(start))
	metrics.Default().Rows(ctx, "design", rows)
	return nil
}

func hasTextColumns(sp *design.Spec) bool {
	for _, t := range sp.Tables {
		for _, c := range t.Columns {
			if c.Kind == design.KindText {
				return true
			}
		}
	}
	return false
}

// objectWriter is a table writer over an object that appears only when
// Close succeeds; Abort cancels the upload.
type objectWriter struct {
	table.Writer
	bw     *blob.Writer
	cancel context.CancelFunc
}

func newObjectWriter(ctx context.Context, b *blob.Bucket, key string, format table.Format, cols []table.Column) (table.Writer, error) {
	ctx, cancel := context.WithCancel(ctx)
	bw, err := b.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType(format)})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("write %s: %w", key, err)
	}
	tw, err := table.NewWriter(bw, format, cols)
	if err != nil {
		cancel()
		_ = bw.Close()
		return nil, fmt.Errorf("write %s: %w", key, err)
	}
	return &objectWriter{Writer: tw, bw: bw, cancel: cancel}, nil
}

func (w *objectWriter) Close() error {
	defer w.cancel()
	if err := w.Writer.Close(); err != nil {
		w.cancel()
		_ = w.bw.Close()
		return err
	}
	return w.bw.Close()
}

func (w *objectWriter) Abort() error {
	err := w.Writer.Abort()
	w.cancel() // closing a cancelled writer discards the upload
	_ = w.bw.Close()
	return err
}

// DesignReport is the report of a design job: what was sampled and what
// reading it back found.
type DesignReport struct {
	Version   int                 `json:"version"`
	CreatedAt time.Time           `json:"created_at"`
	Design    string              `json:"design"`
	Revision  int64               `json:"design_version"`
	Seed      uint64              `json:"seed"`
	Tables    []design.TableCheck `json:"tables"`
	// Pass is true when every table is whole, meets its rules in every
	// row and has no orphan foreign key; the job fails otherwise.
	Pass      bool              `json:"pass"`
	AI        *jobs.AIUsage     `json:"ai,omitempty"`
	Notes     []string          `json:"notes,omitempty"`
	Narrative *report.Narrative `json:"narrative,omitempty"`
}

// designReportSchema names what a design report holds, for the
// narrative's guard (semantic.ReportView keeps only these keys).
const designReportSchema = `{"type":"object","properties":{"version":{},"design_version":{},"seed":{},"pass":{},
 "tables":{"type":"array","items":{"type":"object","properties":{"table":{},"rows":{},"want_rows":{},"rules":{},"violations":{},"orphans":{}}}},
 "ai":{"type":"object","properties":{"estimate_micros":{},"cost_micros":{},"calls":{},"cache_hits":{},"input_tokens":{},"output_tokens":{}}}}}`

// evaluateDesign checks a design job's tables and writes its report; a
// table that breaks a rule, lost rows or has an orphan key fails the job
// (its outputs are kept for inspection but not served).
func (p *Pipeline) evaluateDesign(ctx context.Context, m *events.Message, j *jobs.Job) error {
	format, ext, err := outputFormat(j.Request)
	if err != nil {
		return err
	}
	sp, err := p.designSpec(ctx, j)
	if err != nil {
		return err
	}
	outs := designOutputs(j, sp, ext)
	checks, err := design.Verify(sp, func(name string) (table.Reader, func() error, error) {
		r, closeFn, err := datasets.OpenObject(ctx, p.env.Objects, outs[name][1], format,
			table.Options{MaxCellBytes: -1, MaxColumns: -1, Unescape: true}, nil)
		if err != nil {
			return nil, nil, p.missingIsPermanent(j, "output of table "+name, err)
		}
		return r, func() error { closeFn(); return nil }, nil
	})
	if err != nil {
		return err
	}
	rep := &DesignReport{Version: 1, CreatedAt: time.Now().UTC(), Design: j.Request.Design, Revision: j.Request.DesignVersion,
		Seed: j.Request.Seed, Tables: checks, Pass: true, AI: j.AI}
	var reasons []string
	var names []string
	for _, c := range checks {
		names = append(names, c.Table)
		if !c.OK() {
			rep.Pass = false
			reasons = append(reasons, fmt.Sprintf("table %s: %d of %d rows, %d rule violations (%s), %d orphan keys (%s)",
				c.Table, c.Rows, c.WantRows, c.Violations, c.FirstViolation, c.Orphans, c.FirstOrphan))
		}
	}
	if j.Request.Narrative {
		doc, err := json.Marshal(rep)
		if err != nil {
			return fmt.Errorf("design report: %w", err)
		}
		if err := p.narrateDoc(ctx, j, doc, []byte(designReportSchema), names, func(n *report.Narrative, note string) {
			if n != nil {
				rep.Narrative = n
			} else {
				rep.Notes = append(rep.Notes, note)
			}
		}); err != nil {
			return err
		}
		if cur, err := p.jobs.Load(ctx, j.ID); err == nil {
			rep.AI = cur.AI // with the narrative's call
		}
	}
	jsonKey := datasets.ReportKey(j.Tenant, j.ID, "json")
	htmlKey := datasets.ReportKey(j.Tenant, j.ID, "html")
	if err := objects.Put(ctx, p.env.Objects, jsonKey, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return err
	}
	var page bytes.Buffer
	if err := designPage.Execute(&page, rep); err != nil {
		return fmt.Errorf("design report page: %w", err)
	}
	if err := objects.Put(ctx, p.env.Objects, htmlKey, func(w io.Writer) error { _, err := w.Write(page.Bytes()); return err },
		&blob.WriterOptions{ContentType: "text/html; charset=utf-8"}); err != nil {
		return err
	}
	outputs := map[string]string{OutputReportJSON: jsonKey, OutputReportHTML: htmlKey}
	if !rep.Pass {
		return p.fail(ctx, actorPrivacy, m.ID, j, errs.FailedPrecondition, "the generated tables do not meet their spec", reasons, outputs)
	}
	for _, o := range outs {
		outputs[o[0]] = o[1]
	}
	locs, err := p.deliver(ctx, j, outputs)
	if err != nil {
		return err
	}
	_, err = p.advance(ctx, actorPrivacy, m.ID, j.ID, jobs.Succeeded, func(j *jobs.Job) { j.Outputs, j.Locations = outputs, locs })
	return err
}

// designPage is the design report for people: self-contained, no script.
var designPage = template.Must(template.New("design").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Synthos design report: {{.Design}}</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}th:first-child,td:first-child{text-align:left}.bad{color:#b00020}</style></head>
<body><h1>Design {{.Design}}, version {{.Revision}}</h1>
<p>{{if .Pass}}Every table is whole, meets every rule of its spec in every row, and every foreign key names a parent row.{{else}}<b class="bad">The generated tables do not meet their spec.</b>{{end}}</p>
{{with .Narrative}}<h2>Reading</h2><p>{{.Text}}</p><p><small>Written by {{.Provider}}{{with .Model}} ({{.}}){{end}}; every number in it is from this report.</small></p>{{end}}
<table><tr><th>table</th><th>rows</th><th>of</th><th>rules</th><th>rule violations</th><th>orphan keys</th></tr>
{{range .Tables}}<tr><td>{{.Table}}</td><td>{{.Rows}}</td><td>{{.WantRows}}</td><td>{{.Rules}}</td><td{{if .Violations}} class="bad"{{end}}>{{.Violations}}</td><td{{if .Orphans}} class="bad"{{end}}>{{.Orphans}}</td></tr>
{{end}}</table>
{{with .AI}}<h2>AI use</h2><p>{{.Calls}} model calls ({{.CacheHits}} from the cache), {{.InputTokens}} input and {{.OutputTokens}} output tokens, {{.CostMicros}} micro-dollars (estimated at most {{.EstimateMicros}} before the job ran).</p>{{end}}
{{with .Notes}}<h2>Notes</h2><ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
<p><small>Seed {{.Seed}}; created {{.CreatedAt.Format "2006-01-02 15:04:05 UTC"}}.</small></p></body></html>
`))
