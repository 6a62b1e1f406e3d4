package design

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/table"
)

// Asker answers a request with an answer validated against its schema and
// check (llm.Router does, falling back across providers).
type Asker interface {
	Ask(ctx context.Context, req llm.Request, check llm.Check) (llm.Result, error)
}

// descMarker introduces the description in a design prompt; the offline
// provider reads what follows it.
const descMarker = "\nDescription: "

// systemPrompt tells a model what a spec is. The JSON Schema travels as
// the request's structured-output schema.
const systemPrompt = `You design realistic synthetic datasets for Synthos. Answer with one JSON
document, a dataset spec following the given JSON Schema (version 1). Rules:
- Use several related tables when the description implies them (customers, orders...). Give each table an
  "id" column (prefix + zero-padded number); link child rows to parents with "ref" columns.
- Numeric and datetime columns need "dist" with min and max (uniform, normal, lognormal, exponential,
  growth; zipf only for refs). Categorical and boolean columns list categories with realistic weights.
- Use "derived" columns for arithmetic (mul, add, sub) and for dates after another date (add_days), and
  "when" to leave a column empty unless a categorical column holds given values.
- Express business rules in the rules language: compare (left op right|value), range (column min max),
  in (column values), format (column regex), unique (columns). Every rule must hold in every row.
- Use "text" columns with a template naming other columns in braces for free text.
- Never include real personal data: PII columns are generated (kind "pii").`

// Design asks for a spec of description with one model call (plus one
// repair if the first answer fails), checks that it parses, validates and
// can be sampled, and scales its main table to rows (0 keeps the spec's).
func Design(ctx context.Context, a Asker, tenant, description string, rows int64) (*Spec, llm.Result, error) {
	description = strings.TrimSpace(description)
	if description == "" {
		return nil, llm.Result{}, fmt.Errorf("design: empty description: %w", ErrInvalid)
	}
	if len(description) > 4000 {
		return nil, llm.Result{}, fmt.Errorf("design: description over 4000 characters: %w", ErrInvalid)
	}
	prompt := "Design the dataset described below."
	if rows > 0 {
		prompt += fmt.Sprintf(" The main table will be scaled to %d rows.", rows)
	}
	req := llm.Request{Task: llm.TaskDesign, Tenant: tenant, System: systemPrompt, Prompt: prompt + descMarker + description,
		Schema: Schema(), MaxTokens: 16000}
	res, err := a.Ask(ctx, req, CheckSpec)
	if err != nil {
		return nil, res, fmt.Errorf("design: %w", err)
	}
	s, err := Parse([]byte(res.JSON))
	if err != nil {
		return nil, res, fmt.Errorf("design: %w", err)
	}
	if s.Description == "" {
		s.Description = description
	}
	if rows > 0 {
		if s, err = s.Scale(rows); err != nil {
			return nil, res, err
		}
	}
	return s, res, nil
}

// CheckSpec is the design task's own check: the answer parses, validates
// (schema, references, rules that compile and can be met) and a trial
// sample of every table passes its rules. The score prefers specs that
// say more: related tables, rules and correlations.
func CheckSpec(doc string) (float64, error) {
	s, err := Parse([]byte(doc))
	if err != nil {
		return 0, err
	}
	trial, err := s.Scale(200)
	if err != nil {
		return 0, err
	}
	for i := range trial.Tables {
		trial.Tables[i].Rows = min(trial.Tables[i].Rows, 200)
	}
	_, err = Generate(context.Background(), trial, Options{Seed: 1, MaxTriesPerRow: 200,
		Open: func(_ string, cols []table.Column) (table.Writer, error) {
			return table.NewWriter(io.Discard, table.CSV, cols)
		}})
	if err != nil {
		return 0, fmt.Errorf("a trial sample fails: %w", err)
	}
	var nRules, nCorr, nRefs int
	for _, t := range s.Tables {
		nRules += len(t.Rules)
		nCorr += len(t.Correlations)
		for _, c := range t.Columns {
			if c.Kind == KindRef {
				nRefs++
			}
		}
	}
	score := 0.4 + 0.2*min(1, float64(len(s.Tables))/3) + 0.2*min(1, float64(nRules)/float64(3*len(s.Tables))) +
		0.1*min(1, float64(nCorr)/float64(len(s.Tables))) + 0.1*min(1, float64(nRefs)/float64(max(1, len(s.Tables)-1)))
	return score, nil
}

// OfflineDesign is the offline provider's design handler: it reads the
// description with Interpret and answers with the domain pack's spec.
func OfflineDesign(_ context.Context, req llm.Request) (string, error) {
	i := strings.LastIndex(req.Prompt, descMarker)
	if i < 0 {
		return "", fmt.Errorf("design: offline: no description in the prompt: %w", llm.ErrInvalid)
	}
	desc := req.Prompt[i+len(descMarker):]
	b := Interpret(desc)
	s, err := Pack(b.Domain, b.PackOptions)
	if err != nil {
		return "", err
	}
	s.Description = strings.TrimSpace(desc)
	out, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("design: offline: %w", err)
	}
	return string(out), nil
}
