// Package semantic asks the router what ambiguous columns mean (a meaning,
// a PII kind, a unit) during profiling.
//
// No raw cell of a customer's table leaves the platform: a model sees only
// View values, and a View is built in one place, NewViews, which keeps a
// column's name, inferred kind and at most MaxSamples sample values masked
// by Mask (letters become x or X, digits 9, the rest kept, cut to MaxSample
// characters). The request is built from Views alone (request), so no other
// path can put a cell into a prompt.
package semantic

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Limits of what a View carries.
const (
	MaxSamples = 5
	MaxSample  = 24
	MaxColumns = 200
)

// View is everything a model may see of a column. Its fields are
// unexported so that only NewViews, which masks, can fill them.
type View struct {
	name    string
	kind    profile.Kind
	samples []string
}

// Name is the column's name.
func (v View) Name() string { return v.name }

// Samples are the masked samples.
func (v View) Samples() []string { return slices.Clone(v.samples) }

// Mask keeps the shape of a value and nothing of its content.
func Mask(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n == MaxSample {
			b.WriteString("…")
			break
		}
		switch {
		case unicode.IsDigit(r):
			b.WriteByte('9')
		case unicode.IsUpper(r):
			b.WriteByte('X')
		case unicode.IsLetter(r):
			b.WriteByte('x')
		default:
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

// NewViews builds the views of the named columns of t (all when cols is
// empty): the only constructor of View, and where masking happens.
func NewViews(t *table.Table, p *profile.Profile, cols []string) []View {
	if len(cols) == 0 {
		cols = t.Columns
	}
	var out []View
	for _, name := range cols {
		j := slices.Index(t.Columns, name)
		pc := p.Col(name)
		if j < 0 || pc == nil || len(out) == MaxColumns {
			continue
		}
		v := View{name: name, kind: pc.Kind}
		seen := map[string]bool{}
		for _, r := range t.Rows {
			if len(v.samples) == MaxSamples {
				break
			}
			m := Mask(r[j])
			if r[j] == "" || seen[m] {
				continue
			}
			seen[m] = true
			v.samples = append(v.samples, m)
		}
		out = append(out, v)
	}
	return out
}

// Ambiguous lists the columns worth a label: free text, identifiers and
// categorical columns with many values, and columns whose inferred kind is
// uncertain.
func Ambiguous(p *profile.Profile) []string {
	var out []string
	for _, c := range p.Columns {
		if c.Confidence < 0.95 || c.Kind == profile.Text || c.Kind == profile.ID ||
			c.Kind == profile.Categorical && c.Distinct > 50 || c.Kind == profile.Numeric && c.PII == "" && !c.Integer && c.Distinct > 0 {
			out = append(out, c.Name)
		}
	}
	return out
}

// Label is what the router says a column means.
type Label struct {
	Column     string  `json:"column"`
	Meaning    string  `json:"meaning"`
	PII        string  `json:"pii"`  // a profile PII kind, or "" for none
	Unit       string  `json:"unit"` // e.g. EUR, years, kg; "" for none
	Confidence float64 `json:"confidence"`
}

// answerSchema is the JSON Schema of the typing answer.
const answerSchema = `{"type":"object","additionalProperties":false,"required":["labels"],"properties":{"labels":{"type":"array","items":{
 "type":"object","additionalProperties":false,"required":["column","meaning","pii","unit","confidence"],
 "properties":{"column":{"type":"string"},"meaning":{"type":"string","maxLength":200},
 "pii":{"enum":["","email","phone","name","address","national_id","card","iban","ip","url"]},
 "unit":{"type":"string","maxLength":20},"confidence":{"type":"number","minimum":0,"maximum":1}}}}}}`

// Asker is the router.
type Asker interface {
	Ask(ctx context.Context, req llm.Request, check llm.Check) (llm.Result, error)
}

type viewJSON struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Samples []string `json:"masked_samples"`
}

// request is the one place a typing prompt is built, from views only.
func request(tenant string, views []View) (llm.Request, error) {
	vs := make([]viewJSON, len(views))
	for i, v := range views {
		vs[i] = viewJSON{Name: v.name, Kind: string(v.kind), Samples: v.samples}
	}
	b, err := json.Marshal(vs)
	if err != nil {
		return llm.Request{}, fmt.Errorf("semantic: %w", err)
	}
	return llm.Request{Task: llm.TaskTyping, Tenant: tenant, MaxTokens: 2000,
		System: "You label the columns of a table for a synthetic-data platform. You see each column's name, its inferred kind " +
			"and masked samples (letters are x/X, digits 9). For each column say what it means, its PII kind if it holds " +
			"personal data, and its unit if it has one.",
		Prompt: "Columns: " + string(b), Schema: json.RawMessage(answerSchema)}, nil
}

// Labels asks the router to label views, checking that the answer names
// exactly the columns asked about.
func Labels(ctx context.Context, a Asker, tenant string, views []View) ([]Label, llm.Result, error) {
	if len(views) == 0 {
		return nil, llm.Result{}, nil
	}
	req, err := request(tenant, views)
	if err != nil {
		return nil, llm.Result{}, err
	}
	want := map[string]bool{}
	for _, v := range views {
		want[v.name] = true
	}
	check := func(doc string) (float64, error) {
		var ans struct{ Labels []Label }
		if err := json.Unmarshal([]byte(doc), &ans); err != nil {
			return 0, err
		}
		got := map[string]bool{}
		var conf float64
		for _, l := range ans.Labels {
			if !want[l.Column] || got[l.Column] {
				return 0, fmt.Errorf("label for unknown or repeated column %q", l.Column)
			}
			got[l.Column] = true
			conf += l.Confidence
		}
		if len(got) != len(want) {
			return 0, fmt.Errorf("labelled %d of %d columns", len(got), len(want))
		}
		return conf / float64(len(want)), nil
	}
	res, err := a.Ask(ctx, req, check)
	if err != nil {
		return nil, res, fmt.Errorf("semantic: %w", err)
	}
	// The check ran last on the kept answer (in an ensemble, on each in
	// turn): decode it again so labels match what the router kept.
	var ans struct{ Labels []Label }
	if err := json.Unmarshal([]byte(res.JSON), &ans); err != nil {
		return nil, res, fmt.Errorf("semantic: %w", err)
	}
	return ans.Labels, res, nil
}

// OfflineTyping is the offline provider's typing handler: name heuristics
// over the same views a model would see.
func OfflineTyping(_ context.Context, req llm.Request) (string, error) {
	_, list, ok := strings.Cut(req.Prompt, "Columns: ")
	if !ok {
		return "", fmt.Errorf("semantic: offline: no columns in the prompt: %w", llm.ErrInvalid)
	}
	var vs []viewJSON
	if err := json.Unmarshal([]byte(list), &vs); err != nil {
		return "", fmt.Errorf("semantic: offline: %v: %w", err, llm.ErrInvalid)
	}
	out := struct {
		Labels []Label `json:"labels"`
	}{Labels: []Label{}}
	for _, v := range vs {
		out.Labels = append(out.Labels, guess(v))
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// hints map name fragments to a meaning, PII kind and unit.
var hints = []struct {
	words            []string
	meaning, pii, un string
}{
	{[]string{"email", "e_mail", "mail"}, "email address", "email", ""},
	{[]string{"phone", "mobile", "tel"}, "phone number", "phone", ""},
	{[]string{"iban"}, "bank account (IBAN)", "iban", ""},
	{[]string{"card", "pan"}, "payment card number", "card", ""},
	{[]string{"ssn", "national", "passport"}, "national identifier", "national_id", ""},
	{[]string{"ip"}, "IP address", "ip", ""},
	{[]string{"url", "website", "link"}, "web address", "url", ""},
	{[]string{"address", "street", "city", "zip", "postcode", "postal"}, "postal address part", "address", ""},
	{[]string{"first", "last", "surname", "fullname", "full_name", "name"}, "person name", "name", ""},
	{[]string{"age"}, "age of a person", "", "years"},
	{[]string{"price", "amount", "cost", "charge", "charges", "revenue", "salary", "income", "total", "fee", "balance"}, "money amount", "", "currency"},
	{[]string{"pct", "percent", "rate", "ratio"}, "share or rate", "", "percent"},
	{[]string{"weight"}, "weight", "", "kg"},
	{[]string{"height"}, "height", "", "cm"},
	{[]string{"bmi"}, "body mass index", "", "kg/m2"},
	{[]string{"hours", "duration"}, "duration", "", "hours"},
	{[]string{"days", "stay"}, "duration", "", "days"},
	{[]string{"date", "time", "at", "created", "updated"}, "point in time", "", ""},
	{[]string{"id", "key", "uuid", "code"}, "identifier", "", ""},
}

func guess(v viewJSON) Label {
	parts := strings.FieldsFunc(strings.ToLower(v.Name), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, h := range hints {
		for _, w := range h.words {
			if slices.Contains(parts, w) {
				return Label{Column: v.Name, Meaning: h.meaning, PII: h.pii, Unit: h.un, Confidence: 0.6}
			}
		}
	}
	for _, s := range v.Samples {
		if strings.Contains(s, "@") {
			return Label{Column: v.Name, Meaning: "email address", PII: "email", Confidence: 0.5}
		}
	}
	return Label{Column: v.Name, Meaning: "unknown (" + v.Kind + ")", Confidence: 0.2}
}
