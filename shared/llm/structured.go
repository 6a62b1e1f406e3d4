package llm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Check is a task's own test of an answer (a spec that compiles, text that
// passes its validators). It returns nil for a good answer; a score in
// [0, 1] ranks good answers in an ensemble (higher is better).
type Check func(text string) (score float64, err error)

// CompileSchema compiles a JSON Schema document.
func CompileSchema(doc []byte) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("llm: schema is not JSON: %v: %w", err, ErrInvalid)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("answer.schema.json", v); err != nil {
		return nil, fmt.Errorf("llm: schema: %v: %w", err, ErrInvalid)
	}
	s, err := c.Compile("answer.schema.json")
	if err != nil {
		return nil, fmt.Errorf("llm: schema: %v: %w", err, ErrInvalid)
	}
	return s, nil
}

var english = message.NewPrinter(language.English)

// ExtractJSON returns the JSON document in a model's answer: the text
// itself, or the body of a ```json fence, or the span from the first { to
// the last }.
func ExtractJSON(text string) string {
	t := strings.TrimSpace(text)
	if i := strings.Index(t, "```"); i >= 0 {
		rest := t[i+3:]
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			rest = rest[nl+1:]
		}
		if j := strings.Index(rest, "```"); j >= 0 {
			return strings.TrimSpace(rest[:j])
		}
	}
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return t
	}
	a, b := strings.IndexByte(t, '{'), strings.LastIndexByte(t, '}')
	if a >= 0 && b > a {
		return t[a : b+1]
	}
	return t
}

// validate checks an answer against the schema and the task's check.
func validate(sch *jsonschema.Schema, check Check, text string) (string, float64, error) {
	doc := text
	if sch != nil {
		doc = ExtractJSON(text)
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(doc))
		if err != nil {
			return doc, 0, fmt.Errorf("the answer is not JSON: %v", err)
		}
		if err := sch.Validate(v); err != nil {
			var ve *jsonschema.ValidationError
			if errors.As(err, &ve) {
				return doc, 0, fmt.Errorf("the answer does not follow the schema: %s", describe(ve))
			}
			return doc, 0, err
		}
	}
	score := 1.0
	if check != nil {
		s, err := check(doc)
		if err != nil {
			return doc, 0, err
		}
		score = s
	}
	return doc, score, nil
}

func describe(ve *jsonschema.ValidationError) string {
	if len(ve.Causes) == 0 {
		return "/" + strings.Join(ve.InstanceLocation, "/") + ": " + ve.ErrorKind.LocalizedString(english)
	}
	var parts []string
	for _, c := range ve.Causes {
		parts = append(parts, describe(c))
		if len(parts) == 5 {
			break
		}
	}
	return strings.Join(parts, "; ")
}

// Result is a validated answer.
type Result struct {
	Response
	// JSON is the extracted document when the request had a schema, else
	// the text.
	JSON  string
	Score float64
	// Repaired says the first answer failed and the repair passed.
	Repaired bool
}

// Structured asks p, validates the answer against req.Schema and check, and
// when it fails asks once more with the errors (one repair attempt).
func Structured(ctx context.Context, p Provider, req Request, check Check) (Result, error) {
	var sch *jsonschema.Schema
	if len(req.Schema) > 0 {
		var err error
		if sch, err = CompileSchema(req.Schema); err != nil {
			return Result{}, err
		}
	}
	r, err := p.Generate(ctx, req)
	if err != nil {
		return Result{}, err
	}
	doc, score, verr := validate(sch, check, r.Text)
	if verr == nil {
		return Result{Response: r, JSON: doc, Score: score}, nil
	}
	repair := req
	repair.Prompt = req.Prompt + "\n\nYour previous answer was:\n" + truncate(r.Text, 20000) +
		"\n\nIt was rejected: " + verr.Error() + "\nAnswer again, correcting this. Reply with the corrected answer only."
	r2, err := p.Generate(ctx, repair)
	if err != nil {
		return Result{}, err
	}
	r2.Usage.InputTokens += r.Usage.InputTokens
	r2.Usage.OutputTokens += r.Usage.OutputTokens
	r2.Cost += r.Cost
	doc, score, verr2 := validate(sch, check, r2.Text)
	if verr2 != nil {
		return Result{Response: r2}, fmt.Errorf("llm: %s answer failed twice: first %v; after repair %v: %w", p.Name(), verr, verr2, ErrBadAnswer)
	}
	return Result{Response: r2, JSON: doc, Score: score, Repaired: true}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
