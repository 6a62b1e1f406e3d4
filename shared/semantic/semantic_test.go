package semantic

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

func readTable(t *testing.T, name string, rows int) *table.Table {
	t.Helper()
	path := "../../../shared/datasets/" + name
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("dataset %s missing (tests need the shared datasets beside the repo): %v", path, err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return &table.Table{Columns: recs[0], Rows: recs[1:min(rows+1, len(recs))]}
}

// capture is a vendor endpoint recording every body it receives.
type capture struct {
	mu     sync.Mutex
	bodies []string
	answer func(body string) string
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.bodies = append(c.bodies, string(b))
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, c.answer(string(b)))
}

// labelsFor answers with a label for every column named in the request.
func labelsFor(cols []string) string {
	var ls []Label
	for _, c := range cols {
		ls = append(ls, Label{Column: c, Meaning: "m", Confidence: 0.9})
	}
	b, _ := json.Marshal(map[string]any{"labels": ls})
	return string(b)
}

// TestNoRawCellLeavesThePlatform sends the typing request of two real
// tables through the Gemini and Claude providers to capturing servers and
// checks that no raw cell of either table appears in any request body.
func TestNoRawCellLeavesThePlatform(t *testing.T) {
	t.Parallel()
	for _, ds := range []string{"adult.csv", "insurance.csv"} {
		tb := readTable(t, ds, 3000)
		p, err := profile.Infer(tb, profile.Options{})
		if err != nil {
			t.Fatal(err)
		}
		views := NewViews(tb, p, nil)
		answer := labelsFor(tb.Columns)
		gem := &capture{answer: func(string) string {
			b, _ := json.Marshal(map[string]any{"candidates": []any{map[string]any{"content": map[string]any{"role": "model",
				"parts": []any{map[string]any{"text": answer}}}, "finishReason": "STOP"}}, "usageMetadata": map[string]any{"promptTokenCount": 10, "candidatesTokenCount": 10}})
			return string(b)
		}}
		cla := &capture{answer: func(string) string {
			b, _ := json.Marshal(map[string]any{"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5",
				"content": []any{map[string]any{"type": "text", "text": answer}}, "stop_reason": "end_turn", "usage": map[string]any{"input_tokens": 10, "output_tokens": 10}})
			return string(b)
		}}
		gs, cs := httptest.NewServer(gem), httptest.NewServer(cla)
		tok := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})
		g, err := llm.NewGemini(context.Background(), llm.GeminiConfig{Project: "p", Location: "l", BaseURL: gs.URL, HTTPClient: (&llm.Transport{Token: tok}).HTTPClient()})
		if err != nil {
			t.Fatal(err)
		}
		c, err := llm.NewClaude(context.Background(), llm.ClaudeConfig{APIKey: "k", BaseURL: cs.URL, HTTPClient: (&llm.Transport{}).HTTPClient()})
		if err != nil {
			t.Fatal(err)
		}
		for _, prov := range []llm.Provider{g, c} {
			rt := &llm.Router{Routes: []*llm.Route{{Provider: &llm.Client{Provider: prov, Default: "m"}}}}
			labels, _, err := Labels(context.Background(), rt, "tenant", views)
			if err != nil {
				t.Fatalf("%s %s: %v", ds, prov.Name(), err)
			}
			if len(labels) != len(tb.Columns) {
				t.Fatalf("%d labels", len(labels))
			}
		}
		gs.Close()
		cs.Close()
		bodies := append(gem.bodies, cla.bodies...)
		if len(bodies) != 2 {
			t.Fatalf("%d bodies captured, want 2", len(bodies))
		}
		checked := 0
		for _, cell := range distinctCells(tb) {
			for _, body := range bodies {
				// A cell would travel as a JSON string, inside the prompt
				// (itself a JSON string: quotes escaped) or on its own.
				esc := jsonString(cell)
				if strings.Contains(body, `\"`+esc+`\"`) || strings.Contains(body, `"`+esc+`"`) || strings.Contains(body, " "+cell+" ") {
					t.Fatalf("%s: raw cell %q reached a model request body", ds, cell)
				}
			}
			checked++
		}
		if checked < 100 {
			t.Fatalf("only %d cells checked", checked)
		}
		// Column names and masked samples are what the bodies carry.
		if !strings.Contains(bodies[0], tb.Columns[0]) || !strings.Contains(bodies[0], "masked_samples") {
			t.Errorf("body lacks the column views: %.300s", bodies[0])
		}
	}
}

// distinctCells are the table's cells that could be recognised if leaked:
// not a column name and not made only of mask characters.
func distinctCells(tb *table.Table) []string {
	names := map[string]bool{}
	for _, c := range tb.Columns {
		names[c] = true
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range tb.Rows {
		for _, v := range r {
			v = strings.TrimSpace(v)
			if len(v) < 2 || seen[v] || names[v] || strings.Trim(v, "9xX.,-?: ") == "" {
				continue
			}
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// jsonString is how a cell would appear inside a JSON string value.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return strings.Trim(string(b), `"`)
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"jane.doe@example.com":          "xxxx.xxx@xxxxxxx.xxx",
		"DE89 3704 0044":                "XX99 9999 9999",
		"Married-civ-spouse":            "Xxxxxxx-xxx-xxxxxx",
		"12345678901234567890123456789": "999999999999999999999999…",
	}
	for in, want := range tests {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOfflineTyping(t *testing.T) {
	t.Parallel()
	tb := &table.Table{Columns: []string{"contact_email", "age", "total_price", "notes"}, Rows: [][]string{{"a@b.co", "41", "9.99", "call back"}}}
	p, err := profile.Infer(tb, profile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	off := &llm.Offline{Handlers: map[llm.Task]func(context.Context, llm.Request) (string, error){llm.TaskTyping: OfflineTyping}}
	rt := &llm.Router{Routes: []*llm.Route{{Provider: off}}}
	labels, _, err := Labels(context.Background(), rt, "t", NewViews(tb, p, nil))
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(labels)
	for _, want := range []string{"contact_email email address email", "age age of a person  years", "total_price money amount  currency"} {
		if !strings.Contains(got, want) {
			t.Errorf("labels %s lack %q", got, want)
		}
	}
}

func BenchmarkMask(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Mask("jane.doe@example.com")
	}
}
