// Package narrative writes an optional short reading of an evaluation report
// (what is faithful, what is not, what to change) through the router,
// grounded only in the report's numbers: Check refuses a text quoting any
// number the report does not hold (as written, rounded, or as a percentage).
package narrative

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/llm"
)

// Asker is the router.
type Asker interface {
	Ask(ctx context.Context, req llm.Request, check llm.Check) (llm.Result, error)
}

// MaxWords bounds a narrative.
const MaxWords = 250

// Numbers collects every number of a JSON document.
func Numbers(doc []byte) ([]float64, error) {
	var v any
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("narrative: report is not JSON: %w", err)
	}
	var out []float64
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for _, y := range t {
				walk(y)
			}
		case []any:
			for _, y := range t {
				walk(y)
			}
		case json.Number:
			if f, err := t.Float64(); err == nil {
				out = append(out, f)
			}
		case string:
			// numbers inside strings (notes, verdicts) are the report's too
			for _, m := range numberRe.FindAllString(t, -1) {
				if f, err := strconv.ParseFloat(strings.ReplaceAll(m, ",", ""), 64); err == nil {
					out = append(out, f)
				}
			}
		}
	}
	walk(v)
	return out, nil
}

var numberRe = regexp.MustCompile(`-?\d[\d,]*(?:\.\d+)?`)

// Grounded reports the numbers of text that the report does not hold. A
// number matches a report value when it equals it rounded to the text's
// decimals, or equals 100 times it (a share written as a percentage).
func Grounded(text string, report []float64) []string {
	var bad []string
	for _, m := range numberRe.FindAllString(text, -1) {
		s := strings.ReplaceAll(m, ",", "")
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			continue
		}
		dec := 0
		if i := strings.IndexByte(s, '.'); i >= 0 {
			dec = len(s) - i - 1
		}
		if !matches(x, dec, report) {
			bad = append(bad, m)
		}
	}
	return bad
}

func matches(x float64, dec int, report []float64) bool {
	p := math.Pow(10, float64(dec))
	tol := 0.5/p + 1e-9
	for _, v := range report {
		if math.Abs(v-x) <= tol || math.Abs(100*v-x) <= tol {
			return true
		}
	}
	return false
}

// Check is the narrative task's check.
func Check(report []float64) llm.Check {
	return func(text string) (float64, error) {
		if strings.TrimSpace(text) == "" {
			return 0, fmt.Errorf("empty narrative")
		}
		if n := len(strings.Fields(text)); n > MaxWords {
			return 0, fmt.Errorf("narrative has %d words, at most %d", n, MaxWords)
		}
		if bad := Grounded(text, report); len(bad) > 0 {
			return 0, fmt.Errorf("numbers not in the report: %s", strings.Join(bad, ", "))
		}
		return 1, nil
	}
}

// Narrate asks for the narrative of a report (its JSON).
func Narrate(ctx context.Context, a Asker, tenant string, report []byte) (string, llm.Result, error) {
	nums, err := Numbers(report)
	if err != nil {
		return "", llm.Result{}, err
	}
	req := llm.Request{Task: llm.TaskNarrative, Tenant: tenant, MaxTokens: 800,
		System: "You explain a synthetic-data evaluation report to its user in at most 150 words of plain prose: " +
			"what is faithful, what is not, what to change. Quote only numbers that appear in the report, " +
			"as written there or as percentages of shares. Do not invent numbers.",
		Prompt: "Report:\n" + string(report)}
	res, err := a.Ask(ctx, req, Check(nums))
	if err != nil {
		return "", res, fmt.Errorf("narrative: %w", err)
	}
	return strings.TrimSpace(res.Text), res, nil
}

// OfflineNarrative is the offline provider's handler: a template over the
// report's main scores, quoting them as the report writes them.
func OfflineNarrative(_ context.Context, req llm.Request) (string, error) {
	_, doc, ok := strings.Cut(req.Prompt, "Report:\n")
	if !ok {
		return "", fmt.Errorf("narrative: offline: no report in the prompt: %w", llm.ErrInvalid)
	}
	var r struct {
		Quality *struct {
			Overall          float64 `json:"overall"`
			ColumnShapes     float64 `json:"column_shapes"`
			ColumnPairTrends float64 `json:"column_pair_trends"`
			Columns          []struct {
				Name  string  `json:"name"`
				Shape float64 `json:"shape"`
			} `json:"columns"`
		} `json:"quality"`
		Privacy *struct {
			DCR struct {
				CloserToTrainShare float64 `json:"closer_to_train_share"`
			} `json:"dcr"`
		} `json:"privacy"`
		Gate *struct {
			Passed *bool  `json:"passed"`
			Status string `json:"status"`
		} `json:"gate"`
		// A design job's report (shared/pipeline.DesignReport).
		Tables []struct {
			Table      string  `json:"table"`
			Rows       float64 `json:"rows"`
			WantRows   float64 `json:"want_rows"`
			Rules      float64 `json:"rules"`
			Violations float64 `json:"violations"`
			Orphans    float64 `json:"orphans"`
		} `json:"tables"`
	}
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return "", fmt.Errorf("narrative: offline: %v: %w", err, llm.ErrInvalid)
	}
	var b strings.Builder
	if q := r.Quality; q != nil {
		fmt.Fprintf(&b, "Overall fidelity is %s (column shapes %s, column pair trends %s). ", f(q.Overall), f(q.ColumnShapes), f(q.ColumnPairTrends))
		cols := append(q.Columns[:0:0], q.Columns...)
		sort.Slice(cols, func(i, j int) bool { return cols[i].Shape < cols[j].Shape })
		if len(cols) > 0 {
			w := cols[0]
			fmt.Fprintf(&b, "The least faithful column is %s (shape %s)", w.Name, f(w.Shape))
			if w.Shape < 0.9 {
				b.WriteString(": check its kind in the schema or try the tree model")
			}
			b.WriteString(". ")
		}
		if q.ColumnPairTrends < q.ColumnShapes {
			b.WriteString("Relations between columns are kept less well than single columns; more training rows or smaller tree leaves help. ")
		}
	}
	if p := r.Privacy; p != nil {
		fmt.Fprintf(&b, "A share of %s of synthetic rows is closer to training than to holdout rows (ideally one half)", f(p.DCR.CloserToTrainShare))
		if p.DCR.CloserToTrainShare > 0.6 {
			b.WriteString(": raise the minimum leaf size or use the dp model")
		}
		b.WriteString(". ")
	}
	for _, t := range r.Tables {
		fmt.Fprintf(&b, "Table %s has %s of %s rows, %s rule violations over %s rules and %s orphan keys", t.Table, f(t.Rows), f(t.WantRows), f(t.Violations), f(t.Rules), f(t.Orphans))
		if t.Violations > 0 || t.Orphans > 0 || t.Rows != t.WantRows {
			b.WriteString(": check the spec's rules and references")
		}
		b.WriteString(". ")
	}
	if b.Len() == 0 {
		b.WriteString("The report holds no quality or privacy scores to summarise.")
	}
	return strings.TrimSpace(b.String()), nil
}

// f writes a score with four decimals trimmed, as the report rounds.
func f(x float64) string { return strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64) }
