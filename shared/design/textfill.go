package design

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"

	"synthos.dev/synthos/shared/llm"
)

// TextFiller writes text columns with a model, from each row's other
// values: rows go in batches (one call per batch and text column), at most
// Concurrency calls at once; each text is validated (length, language, no
// PII pattern) and deduplicated, and a text that fails is replaced by the
// offline template, so a job never fails on a bad sentence. Identical
// batches hit the response cache.
type TextFiller struct {
	Asker       Asker
	Tenant      string
	Batch       int // rows per call (default 25)
	Concurrency int // calls at once (default 4)

	mu       sync.Mutex
	seen     map[string]bool
	Calls    int // model calls made
	Replaced int // texts replaced by the offline template
}

// Defaults of TextFiller.
const (
	DefaultTextBatch       = 25
	DefaultTextConcurrency = 4
	// textTokensIn/Out estimate a batch call: instructions plus ~30
	// tokens of values per row in, the text's length in tokens out.
	textTokensPerRowIn = 40
	textPromptTokens   = 300
)

func (f *TextFiller) batch() int {
	if f.Batch > 0 {
		return f.Batch
	}
	return DefaultTextBatch
}

func (f *TextFiller) concurrency() int {
	if f.Concurrency > 0 {
		return f.Concurrency
	}
	return DefaultTextConcurrency
}

// textBatch is the payload of a text request (and what the offline
// provider reads back).
type textBatch struct {
	Column  string     `json:"column"`
	Text    TextSpec   `json:"text"`
	Columns []string   `json:"columns"`
	Rows    [][]string `json:"rows"`
}

const textSchema = `{"type":"object","required":["texts"],"additionalProperties":false,
 "properties":{"texts":{"type":"array","items":{"type":"string"}}}}`

// TextRequests counts the model calls a spec's text columns need.
func (f *TextFiller) TextRequests(s *Spec) int64 {
	var n int64
	b := int64(f.batch())
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			if c.Kind == KindText {
				n += (t.Rows + b - 1) / b
			}
		}
	}
	return n
}

// Price estimates, before a job runs, what its text columns cost with the
// client's model for the text task.
func (f *TextFiller) Price(s *Spec, c *llm.Client) llm.Micros {
	var total llm.Micros
	b := int64(f.batch())
	for _, t := range s.Tables {
		for _, col := range t.Columns {
			if col.Kind != KindText {
				continue
			}
			calls := (t.Rows + b - 1) / b
			in := textPromptTokens + b*textTokensPerRowIn
			// The output allowance fill asks for: what a call can cost at most.
			out := int64(outputAllowance(int(b), col.Text))
			total += llm.Micros(calls) * c.PriceOf(llm.TaskText, llm.Usage{InputTokens: in, OutputTokens: out})
		}
	}
	return total
}

// outputAllowance is the most tokens a batch of rows may answer with.
func outputAllowance(rows int, ts *TextSpec) int {
	return rows*(max(ts.MaxLen, 1)/3+8) + 200
}

// Quote prices a spec's text columns before a job runs, as the most any
// provider the router may ask for the text task would charge (a fallback
// must not cost more than was admitted). Providers that are not metered
// clients (tests' fakes) count as free.
func (f *TextFiller) Quote(s *Spec, rt *llm.Router) llm.Micros {
	var most llm.Micros
	for _, r := range rt.Order(llm.Request{Task: llm.TaskText}) {
		if c, ok := r.Provider.(*llm.Client); ok {
			most = max(most, f.Price(s, c))
		}
	}
	return most
}

// fill writes column col of rows (full output rows of t).
func (f *TextFiller) fill(ctx context.Context, t *Table, col int, rows [][]string) error {
	c := &t.Columns[col]
	names := make([]string, 0, len(t.Columns))
	for _, tc := range t.Columns {
		if tc.Kind != KindText {
			names = append(names, tc.Name)
		}
	}
	payload := textBatch{Column: c.Name, Text: *c.Text, Columns: names}
	var idx []int // rows needing text (the condition holds)
	for i, r := range rows {
		if c.When != nil && !contains(c.When.Equals, r[t.indexOf(c.When.Column)]) {
			continue
		}
		vals := make([]string, 0, len(names))
		for k, tc := range t.Columns {
			if tc.Kind != KindText {
				vals = append(vals, r[k])
			}
		}
		payload.Rows = append(payload.Rows, vals)
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		return nil
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	want := len(idx)
	check := func(doc string) (float64, error) {
		var ans struct{ Texts []string }
		if err := json.Unmarshal([]byte(doc), &ans); err != nil {
			return 0, err
		}
		if len(ans.Texts) != want {
			return 0, fmt.Errorf("%d texts for %d rows", len(ans.Texts), want)
		}
		good := 0
		for _, s := range ans.Texts {
			if ValidateText(s, c.Text) == nil {
				good++
			}
		}
		return float64(good) / float64(want), nil
	}
	req := llm.Request{Task: llm.TaskText, Tenant: f.Tenant, Schema: json.RawMessage(textSchema),
		MaxTokens: outputAllowance(want, c.Text),
		System: "You write realistic free text for synthetic data rows. For each row write the text the instruction asks for, " +
			"consistent with the row's values, in the language given, no longer than max_len characters, with no names, " +
			"emails, phone numbers or other personal data. Answer {\"texts\": [...]} with one text per row, in order.",
		Prompt: textMarker + string(body)}
	f.mu.Lock()
	f.Calls++
	f.mu.Unlock()
	res, err := f.Asker.Ask(ctx, req, check)
	var texts []string
	if err == nil {
		var ans struct{ Texts []string }
		if json.Unmarshal([]byte(res.JSON), &ans) == nil && len(ans.Texts) == want {
			texts = ans.Texts
		}
	} else if ctx.Err() != nil {
		return err
	}
	for k, i := range idx {
		var s string
		if texts != nil {
			s = strings.TrimSpace(texts[k])
		}
		if texts == nil || ValidateText(s, c.Text) != nil || !f.fresh(c.Name, s) {
			s = OfflineText(t, rows[i], col)
			f.mu.Lock()
			f.Replaced++
			f.mu.Unlock()
		}
		rows[i][col] = s
	}
	return nil
}

// fresh records s and says whether column col had not produced it yet.
func (f *TextFiller) fresh(col, s string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]bool{}
	}
	k := col + "\x00" + s
	if f.seen[k] {
		return false
	}
	f.seen[k] = true
	return true
}

func (t *Table) indexOf(name string) int {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i
		}
	}
	return -1
}

// textMarker introduces a text batch in a prompt.
const textMarker = "Rows to write for (JSON): "

var (
	emailRe = regexp.MustCompile(`[^@\s]+@[^@\s]+\.[A-Za-z]{2,}`)
	phoneRe = regexp.MustCompile(`\+?\d[\d\s().-]{7,}\d`)
	ibanRe  = regexp.MustCompile(`\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b`)
	urlRe   = regexp.MustCompile(`https?://`)
)

// ValidateText checks a generated text: not empty, within max_len, in the
// asked language (for Latin-script languages: letters are Latin), and free
// of personal-data patterns (emails, phone or card numbers, IBANs, URLs).
func ValidateText(s string, ts *TextSpec) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("empty text")
	}
	limit := ts.MaxLen
	if limit <= 0 {
		limit = DefaultTextLen
	}
	if len(s) > limit {
		return fmt.Errorf("text of %d bytes, over %d", len(s), limit)
	}
	switch {
	case emailRe.MatchString(s):
		return fmt.Errorf("text holds an email address")
	case phoneRe.MatchString(s):
		return fmt.Errorf("text holds a phone or card number")
	case ibanRe.MatchString(s):
		return fmt.Errorf("text holds an IBAN")
	case urlRe.MatchString(s):
		return fmt.Errorf("text holds a URL")
	}
	lang := ts.Language
	if lang == "" {
		lang = "en"
	}
	if latin[lang] {
		var letters, other int
		for _, r := range s {
			if unicode.IsLetter(r) {
				letters++
				if !unicode.Is(unicode.Latin, r) {
					other++
				}
			}
		}
		if letters == 0 || other*10 > letters {
			return fmt.Errorf("text is not in %s", lang)
		}
	}
	return nil
}

var latin = map[string]bool{"en": true, "de": true, "fr": true, "es": true, "it": true, "nl": true, "pt": true, "pl": true, "sv": true, "da": true, "fi": true}

// OfflineTextTask is the offline provider's text handler: it writes each
// row of the batch from the column's template.
func OfflineTextTask(_ context.Context, req llm.Request) (string, error) {
	_, body, ok := strings.Cut(req.Prompt, textMarker)
	if !ok {
		return "", fmt.Errorf("design: offline text: no rows in the prompt: %w", llm.ErrInvalid)
	}
	var b textBatch
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return "", fmt.Errorf("design: offline text: %v: %w", err, llm.ErrInvalid)
	}
	t := &Table{}
	for _, n := range b.Columns {
		t.Columns = append(t.Columns, Column{Name: n})
	}
	ts := b.Text
	t.Columns = append(t.Columns, Column{Name: b.Column, Kind: KindText, Text: &ts})
	out := struct {
		Texts []string `json:"texts"`
	}{Texts: []string{}}
	for _, r := range b.Rows {
		full := append(append([]string(nil), r...), "")
		out.Texts = append(out.Texts, OfflineText(t, full, len(full)-1))
	}
	j, err := json.Marshal(out)
	return string(j), err
}
