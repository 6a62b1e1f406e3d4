package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/narrative"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/semantic"
	"synthos.dev/synthos/shared/table"
)

// asker is the AI router as the pipeline uses it (llm.Router).
type asker interface {
	Ask(ctx context.Context, req llm.Request, check llm.Check) (llm.Result, error)
}

// router returns the AI router. A deployment whose providers cannot be
// built (a missing key) is retried: the configuration or secret may be
// fixed while the message waits.
func (p *Pipeline) router() (asker, error) {
	a, err := p.opts.Assistant()
	if err != nil {
		return nil, fmt.Errorf("AI providers: %w", err)
	}
	return a.Router, nil
}

// meteredAsker adds up the model use of one job's calls (the tenant's
// month is metered by the router's own meter).
type meteredAsker struct {
	a  asker
	mu sync.Mutex
	u  jobs.AIUsage
}

func (m *meteredAsker) Ask(ctx context.Context, req llm.Request, check llm.Check) (llm.Result, error) {
	res, err := m.a.Ask(ctx, req, check)
	if err == nil {
		m.mu.Lock()
		m.u.Calls++
		if res.Cached {
			m.u.CacheHits++
		} else {
			m.u.CostMicros += int64(res.Cost)
			m.u.InputTokens += res.Usage.InputTokens
			m.u.OutputTokens += res.Usage.OutputTokens
		}
		m.mu.Unlock()
	}
	return res, err
}

func (m *meteredAsker) usage() jobs.AIUsage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.u
}

// recordAI adds a step's model use to the job.
func (p *Pipeline) recordAI(ctx context.Context, id string, u jobs.AIUsage) error {
	if u.Calls == 0 {
		return nil
	}
	_, _, err := p.jobs.Update(ctx, id, "", func(j *jobs.Job) error {
		if j.AI == nil {
			j.AI = &jobs.AIUsage{}
		}
		j.AI.Calls += u.Calls
		j.AI.CacheHits += u.CacheHits
		j.AI.CostMicros += u.CostMicros
		j.AI.InputTokens += u.InputTokens
		j.AI.OutputTokens += u.OutputTokens
		return nil
	})
	if err != nil {
		return fmt.Errorf("record the AI use of job %s: %w", id, err)
	}
	return nil
}

// labelsKey is where a job's column labels are stored.
func labelsKey(j *jobs.Job) string { return datasets.JobPrefix(j.Tenant, j.ID) + "labels.json" }

// labelColumns asks the router what the training table's ambiguous
// columns mean and stores the labels. The request is built by package
// semantic from masked views only, so no raw cell reaches a model. Labels
// are advice: a failure is logged and the job goes on without them.
func (p *Pipeline) labelColumns(ctx context.Context, j *jobs.Job, train *table.Table, prof *profile.Profile) error {
	rt, err := p.router()
	if err != nil {
		p.logger().WarnContext(ctx, "column labels skipped", "job", j.ID, "error", err)
		return nil
	}
	m := &meteredAsker{a: rt}
	labels, _, err := semantic.Labels(ctx, m, j.Tenant, semantic.NewViews(train, prof, semantic.Ambiguous(prof)))
	if rerr := p.recordAI(ctx, j.ID, m.usage()); rerr != nil {
		return rerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		p.logger().WarnContext(ctx, "column labels skipped", "job", j.ID, "error", err)
		return nil
	}
	if labels == nil {
		labels = []semantic.Label{} // nothing ambiguous: an empty list, not null
	}
	return objects.Put(ctx, p.env.Objects, labelsKey(j), func(w io.Writer) error {
		return json.NewEncoder(w).Encode(map[string]any{"labels": labels})
	}, &blob.WriterOptions{ContentType: "application/json"})
}

// narrate writes the report's narrative through the router. The model
// sees semantic.ReportView of the report (its scores and column names, no
// cell of the real table), and every number of the answer must appear in
// it (narrative.Check, one repair, then refused). A narrative that cannot
// be written leaves a note in the report instead; the job goes on.
func (p *Pipeline) narrate(ctx context.Context, j *jobs.Job, rep *report.Report, columns []string) error {
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, rep); err != nil {
		return fmt.Errorf("narrative: %w", err)
	}
	return p.narrateDoc(ctx, j, buf.Bytes(), report.Schema(), columns, func(n *report.Narrative, note string) {
		if n != nil {
			rep.Narrative = n
		} else {
			rep.Notes = append(rep.Notes, note)
		}
	})
}

// narrateDoc is narrate over any report document and its schema.
func (p *Pipeline) narrateDoc(ctx context.Context, j *jobs.Job, doc, schema []byte, columns []string, set func(*report.Narrative, string)) error {
	rt, err := p.router()
	if err != nil {
		set(nil, "narrative not written: "+err.Error())
		return nil
	}
	view, err := semantic.ReportView(doc, schema, columns)
	if err != nil {
		return fmt.Errorf("narrative: %w", err)
	}
	m := &meteredAsker{a: rt}
	text, res, err := narrative.Narrate(ctx, m, j.Tenant, view)
	if rerr := p.recordAI(ctx, j.ID, m.usage()); rerr != nil {
		return rerr
	}
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		p.logger().WarnContext(ctx, "narrative not written", "job", j.ID, "error", err)
		set(nil, "narrative not written: no provider wrote one that quotes only the report's numbers")
		return nil
	}
	set(&report.Narrative{Text: text, Provider: res.Provider, Model: res.Model}, "")
	return nil
}
