package design

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/llm"
)

// textModel answers text batches: row k of call n says "Nice item n-k",
// except that the first row of every batch leaks an email address and the
// second repeats a fixed sentence.
type textModel struct {
	mu    sync.Mutex
	calls map[llm.Task]int
}

func (m *textModel) Name() string { return "text-model" }

func (m *textModel) Generate(_ context.Context, req llm.Request) (llm.Response, error) {
	m.mu.Lock()
	if m.calls == nil {
		m.calls = map[llm.Task]int{}
	}
	m.calls[req.Task]++
	n := m.calls[req.Task]
	m.mu.Unlock()
	_, body, _ := strings.Cut(req.Prompt, textMarker)
	var b textBatch
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return llm.Response{}, err
	}
	var texts []string
	for k := range b.Rows {
		switch k {
		case 0:
			texts = append(texts, "Write to me at jane@example.com")
		case 1:
			texts = append(texts, "Same words every time.")
		default:
			texts = append(texts, fmt.Sprintf("Nice item %d-%d", n, k))
		}
	}
	out, _ := json.Marshal(map[string]any{"texts": texts})
	return llm.Response{Text: string(out), Usage: llm.Usage{InputTokens: 500, OutputTokens: 400}}, nil
}

func TestTextColumnsByModel(t *testing.T) {
	t.Parallel()
	s, err := Pack("saas", PackOptions{Rows: 300})
	if err != nil {
		t.Fatal(err)
	}
	model := &textModel{}
	client := &llm.Client{Provider: model, Models: map[llm.Task]string{llm.TaskText: "claude-haiku-4-5"}, Prices: llm.DefaultPrices}
	rt := &llm.Router{Routes: []*llm.Route{{Provider: client}}}
	filler := &TextFiller{Asker: rt, Tenant: "t", Batch: 20, Concurrency: 3}
	// priced before the run: tickets has 600 rows → 30 calls of
	// (300 + 20×40) tokens in and at most the output allowance a call asks
	// for, 20×(280/3+8)+200 = 20×101+200 = 2220, at $1/$5 per million.
	wantCalls := int64(30)
	if got := filler.TextRequests(s); got != wantCalls {
		t.Fatalf("text requests %d, want %d", got, wantCalls)
	}
	perCall := llm.DefaultPrices.Cost("claude-haiku-4-5", llm.Usage{InputTokens: 1100, OutputTokens: 2220})
	if got := filler.Price(s, client); got != llm.Micros(wantCalls)*perCall || got <= 0 {
		t.Fatalf("price %d, want %d", got, llm.Micros(wantCalls)*perCall)
	}
	mem := newMem()
	if _, err := Generate(context.Background(), s, Options{Seed: 5, Open: mem.open, TextFiller: filler}); err != nil {
		t.Fatal(err)
	}
	if model.calls[llm.TaskText] != int(wantCalls) || len(model.calls) != 1 {
		t.Fatalf("model calls %v, want %d text calls and nothing else", model.calls, wantCalls)
	}
	tickets := s.Table("tickets")
	bi := colIndex(tickets, "body")
	seen := map[string]bool{}
	modelTexts := 0
	for _, r := range mem.rows["tickets"] {
		body := r[bi]
		if err := ValidateText(body, tickets.Column("body").Text); err != nil {
			t.Fatalf("invalid text %q: %v", body, err)
		}
		if strings.HasPrefix(body, "Nice item") {
			if seen[body] {
				t.Fatalf("duplicate model text %q", body)
			}
			seen[body] = true
			modelTexts++
		}
	}
	// 2 of every 20 texts are refused (email, repeat after the first): the
	// rest, 540 of 600, come from the model; the repeat is kept once.
	if modelTexts != 540 || filler.Replaced != 60-1 {
		t.Errorf("%d model texts, %d replaced; want 540 and 59", modelTexts, filler.Replaced)
	}
}

func TestValidateText(t *testing.T) {
	t.Parallel()
	ts := &TextSpec{Template: "x", MaxLen: 40, Language: "en"}
	tests := []struct {
		s  string
		ok bool
	}{
		{"Great lamp, works well.", true},
		{"", false},
		{strings.Repeat("long ", 20), false},
		{"mail me: a.b@c.de", false},
		{"call +49 170 1234567", false},
		{"IBAN DE89370400440532013000", false},
		{"see https://x.y", false},
		{"Отличная лампа", false},
	}
	for _, tc := range tests {
		if err := ValidateText(tc.s, ts); (err == nil) != tc.ok {
			t.Errorf("ValidateText(%q) = %v, want ok=%v", tc.s, err, tc.ok)
		}
	}
}

func BenchmarkOfflineText(b *testing.B) {
	s, err := Pack("retail", PackOptions{Rows: 100, Features: []string{"returns"}})
	if err != nil {
		b.Fatal(err)
	}
	orders := s.Table("orders")
	col := colIndex(orders, "review_text")
	full := make([]string, len(orders.Columns))
	for i := range full {
		full[i] = "4"
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = OfflineText(orders, full, col)
	}
}

func BenchmarkValidateText(b *testing.B) {
	ts := &TextSpec{Template: "x", MaxLen: 280, Language: "en"}
	text := "Good value, would buy again. Arrived quickly and works as described; the box was a little dented."
	b.ReportAllocs()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if err := ValidateText(text, ts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestQuote: a design job is priced at the most any provider the router
// may ask for text would charge, and the offline provider is free.
func TestQuote(t *testing.T) {
	t.Parallel()
	s, err := Pack("saas", PackOptions{Rows: 300})
	if err != nil {
		t.Fatal(err)
	}
	client := func(model string) *llm.Client {
		return &llm.Client{Provider: &textModel{}, Models: map[llm.Task]string{llm.TaskText: model}, Prices: llm.DefaultPrices}
	}
	haiku, sonnet := client("claude-haiku-4-5"), client("claude-sonnet-4-5")
	offline := &llm.Client{Provider: &llm.Offline{}, Default: llm.OfflineName}
	f := &TextFiller{}
	tests := []struct {
		name   string
		routes []*llm.Client
		want   llm.Micros
	}{
		{"offline only", []*llm.Client{offline}, 0},
		{"haiku", []*llm.Client{haiku, offline}, f.Price(s, haiku)},
		// sonnet costs three times haiku per token: the fallback sets the price
		{"haiku then sonnet", []*llm.Client{haiku, sonnet, offline}, f.Price(s, sonnet)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := &llm.Router{}
			for _, c := range tt.routes {
				rt.Routes = append(rt.Routes, &llm.Route{Provider: c})
			}
			if got := f.Quote(s, rt); got != tt.want {
				t.Errorf("quote %s, want %s", got, tt.want)
			}
		})
	}
	if f.Price(s, sonnet) != 3*f.Price(s, haiku) || f.Price(s, haiku) <= 0 {
		t.Errorf("prices %s (sonnet) and %s (haiku): want sonnet three times haiku", f.Price(s, sonnet), f.Price(s, haiku))
	}
}
