package semantic

import (
	"bytes"
	"encoding/json"
	"fmt"

	"synthos.dev/synthos/shared/llm"
)

// ReportView is everything a model may see of an evaluation report (for
// its narrative): the report with every string that is not a column name
// or a value its JSON Schema fixes (an enum or const, such as a gate's
// status) removed, and every object key that is neither a property the
// schema names nor a column name removed with its value. Numbers and
// booleans stay. A report can quote cells of the real table — category
// labels in a column's summary, a value the PII-leakage check found —
// and none of them survives; what is left is the scores and the column
// names a typing prompt may already hold (see View).
func ReportView(report, schema []byte, columns []string) ([]byte, error) {
	var sch any
	if err := json.Unmarshal(schema, &sch); err != nil {
		return nil, fmt.Errorf("semantic: report schema: %v: %w", err, llm.ErrInvalid)
	}
	keys, values := map[string]bool{}, map[string]bool{}
	vocabulary(sch, keys, values)
	for _, c := range columns {
		keys[c], values[c] = true, true
	}
	dec := json.NewDecoder(bytes.NewReader(report))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("semantic: report: %v: %w", err, llm.ErrInvalid)
	}
	out, _ := prune(doc, keys, values)
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("semantic: report view: %w", err)
	}
	return b, nil
}

// vocabulary collects the property names and the fixed string values
// (enum, const) of a JSON Schema document.
func vocabulary(n any, keys, values map[string]bool) {
	switch v := n.(type) {
	case map[string]any:
		if props, ok := v["properties"].(map[string]any); ok {
			for k := range props {
				keys[k] = true
			}
		}
		if c, ok := v["const"].(string); ok {
			values[c] = true
		}
		if e, ok := v["enum"].([]any); ok {
			for _, x := range e {
				if s, ok := x.(string); ok {
					values[s] = true
				}
			}
		}
		for _, x := range v {
			vocabulary(x, keys, values)
		}
	case []any:
		for _, x := range v {
			vocabulary(x, keys, values)
		}
	}
}

// prune keeps what ReportView allows; ok is false for a value dropped
// whole (a free string).
func prune(n any, keys, values map[string]bool) (any, bool) {
	switch v := n.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			if !keys[k] {
				continue
			}
			if y, ok := prune(x, keys, values); ok {
				out[k] = y
			}
		}
		return out, true
	case []any:
		out := make([]any, 0, len(v))
		for _, x := range v {
			if y, ok := prune(x, keys, values); ok {
				out = append(out, y)
			}
		}
		return out, true
	case string:
		return v, values[v]
	}
	return n, true // numbers, booleans, null
}
