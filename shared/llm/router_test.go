package llm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/state/statetest"
)

// fake is a scripted provider that counts its calls.
type fake struct {
	name   string
	mu     sync.Mutex
	calls  int
	answer func(n int, req Request) (string, error)
}

func (f *fake) Name() string { return f.name }

func (f *fake) Generate(_ context.Context, req Request) (Response, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	text, err := f.answer(n, req)
	if err != nil {
		return Response{}, err
	}
	return Response{Text: text, Provider: f.name, Model: req.Model, Usage: Usage{InputTokens: 10, OutputTokens: 5}}, nil
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func always(text string) func(int, Request) (string, error) {
	return func(int, Request) (string, error) { return text, nil }
}

func down(int, Request) (string, error) {
	return "", fmt.Errorf("HTTP 503: %w", ErrUnavailable)
}

func TestRouterPolicies(t *testing.T) {
	t.Parallel()
	cheapBad := &Route{Provider: &Client{Provider: &fake{name: "cheap"}, Default: "gemini-2.5-flash"}, DefaultQuality: 0.4, Latency: 300 * time.Millisecond}
	cheapGood := &Route{Provider: &Client{Provider: &fake{name: "mid"}, Default: "claude-haiku-4-5"}, DefaultQuality: 0.7, Latency: 900 * time.Millisecond}
	dear := &Route{Provider: &Client{Provider: &fake{name: "dear"}, Default: "claude-opus-4-1"}, DefaultQuality: 0.95, Latency: 2 * time.Second}
	rt := &Router{Routes: []*Route{dear, cheapBad, cheapGood},
		Policies:   map[Task]Policy{TaskDesign: BestQuality, TaskText: Cheapest, TaskTyping: LowestLatency},
		MinQuality: map[Task]float64{TaskText: 0.6}}
	names := func(rs []*Route) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Provider.Name())
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		task Task
		want string
	}{
		{TaskDesign, "dear,mid,cheap"},
		// cheapest adequate (quality >= 0.6): mid before dear; cheap is
		// below the bar and only a last resort.
		{TaskText, "mid,dear,cheap"},
		{TaskTyping, "cheap,mid,dear"},
	}
	for _, tc := range tests {
		if got := names(rt.Order(Request{Task: tc.task, Prompt: "p", MaxTokens: 100})); got != tc.want {
			t.Errorf("%s: order %s, want %s", tc.task, got, tc.want)
		}
	}
}

func TestRouterFallbackAndBreaker(t *testing.T) {
	t.Parallel()
	bad := &fake{name: "bad", answer: down}
	good := &fake{name: "good", answer: always(`{"ok":true}`)}
	rt := &Router{Routes: []*Route{{Provider: bad, DefaultQuality: 0.9}, {Provider: good, DefaultQuality: 0.5}},
		Policies: map[Task]Policy{TaskDesign: BestQuality}, TripAfter: 2, OpenTimeout: time.Hour}
	req := Request{Task: TaskDesign, Prompt: "p", Schema: []byte(`{"type":"object","required":["ok"]}`)}
	for i := range 5 {
		res, err := rt.Ask(context.Background(), req, nil)
		if err != nil {
			t.Fatalf("ask %d: %v", i, err)
		}
		if res.Provider != "good" {
			t.Fatalf("ask %d answered by %s", i, res.Provider)
		}
	}
	// The breaker opened after 2 consecutive failures: the bad provider saw
	// only those two calls, the good one all five.
	if bad.count() != 2 || good.count() != 5 {
		t.Errorf("calls bad=%d good=%d, want 2 and 5", bad.count(), good.count())
	}
	// Every provider down: ErrUnavailable naming them.
	rt2 := &Router{Routes: []*Route{{Provider: &fake{name: "a", answer: down}}, {Provider: &fake{name: "b", answer: down}}}}
	if _, err := rt2.Ask(context.Background(), Request{Task: TaskText, Prompt: "p"}, nil); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "a:") && !strings.Contains(err.Error(), "503") {
		t.Errorf("all down: %v", err)
	}
}

func TestStructuredRepair(t *testing.T) {
	t.Parallel()
	p := &fake{name: "p", answer: func(n int, req Request) (string, error) {
		if n == 1 {
			return "Sure! Here it is: {\"count\": \"three\"}", nil
		}
		if !strings.Contains(req.Prompt, "rejected") || !strings.Contains(req.Prompt, "count") {
			return "", errors.New("repair prompt does not carry the error")
		}
		return "```json\n{\"count\": 3}\n```", nil
	}}
	schema := []byte(`{"type":"object","properties":{"count":{"type":"integer"}},"required":["count"]}`)
	res, err := Structured(context.Background(), p, Request{Prompt: "count", Schema: schema}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Repaired || res.JSON != `{"count": 3}` || p.count() != 2 || res.Usage.InputTokens != 20 {
		t.Errorf("result %+v after %d calls", res, p.count())
	}
	// Two bad answers: ErrBadAnswer after exactly two calls.
	p2 := &fake{name: "p2", answer: always("not json")}
	if _, err := Structured(context.Background(), p2, Request{Prompt: "x", Schema: schema}, nil); !errors.Is(err, ErrBadAnswer) || p2.count() != 2 {
		t.Errorf("err %v after %d calls", err, p2.count())
	}
}

func TestEnsemble(t *testing.T) {
	t.Parallel()
	// Three providers answer; one fails its check, the others score 0.6
	// and 0.9: the 0.9 answer wins whatever the order.
	mk := func(name, text string) *Route {
		return &Route{Provider: &fake{name: name, answer: always(text)}, DefaultQuality: 0.5}
	}
	rt := &Router{Routes: []*Route{mk("a", "rows=60"), mk("b", "garbage"), mk("c", "rows=90")}, Ensemble: map[Task]int{TaskDesign: 3}}
	check := func(text string) (float64, error) {
		var n int
		if _, err := fmt.Sscanf(text, "rows=%d", &n); err != nil {
			return 0, err
		}
		return float64(n) / 100, nil
	}
	res, err := rt.Ask(context.Background(), Request{Task: TaskDesign, Prompt: "p"}, check)
	if err != nil {
		t.Fatal(err)
	}
	if res.Provider != "c" || res.Score != 0.9 {
		t.Errorf("kept %s (score %v), want c (0.9)", res.Provider, res.Score)
	}
}

func TestClientCacheAndQuota(t *testing.T) {
	t.Parallel()
	f := &fake{name: "f", answer: always("hello")}
	limit := Micros(100)
	meter := &Meter{Limit: func(context.Context, string) (Micros, bool, error) { return limit, true, nil }}
	c := &Client{Provider: f, Default: "claude-sonnet-4-5", Cache: NewCache(10, time.Hour), Meter: meter}
	req := Request{Task: TaskText, Tenant: "t", Prompt: "p", MaxTokens: 5}
	// estimate: (1 char/4 + 1) = 1 token in × $3 + 5 out × $15 = 78 micros <= 100.
	if got := c.Estimate(req); got != 78 {
		t.Fatalf("estimate %d, want 78", got)
	}
	r1, err := c.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// 10 in × 3 + 5 out × 15 = 105 micros recorded.
	if r1.Cost != 105 || r1.Cached {
		t.Fatalf("first %+v", r1)
	}
	r2, err := c.Generate(context.Background(), req)
	if err != nil || !r2.Cached || f.count() != 1 {
		t.Fatalf("second %+v %v after %d calls, want a cache hit", r2, err, f.count())
	}
	// Another prompt: 105 spent + 78 estimated > 100: refused, no call.
	_, err = c.Generate(context.Background(), Request{Task: TaskText, Tenant: "t", Prompt: "other", MaxTokens: 5})
	if !errors.Is(err, ErrQuota) || f.count() != 1 {
		t.Fatalf("over budget: %v after %d calls", err, f.count())
	}
	lines := meter.Snapshot()
	if len(lines) != 1 || lines[0].Calls != 2 || lines[0].CacheHits != 1 || lines[0].Cost != 105 {
		t.Errorf("snapshot %+v", lines)
	}
}

// TestMeterStore keeps month-to-date spend in the document store, so the
// budget holds across instances (two meters, one store).
func TestMeterStore(t *testing.T) {
	t.Parallel()
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			now := func() time.Time { return time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC) }
			limit := func(context.Context, string) (Micros, bool, error) { return 1000, true, nil }
			a := &Meter{Store: st, Now: now, Limit: limit}
			b := &Meter{Store: st, Now: now, Limit: limit}
			tenant := "meter-" + name
			for range 3 {
				if err := a.Record(context.Background(), tenant, Response{Provider: "p", Cost: 300, Usage: Usage{InputTokens: 1, OutputTokens: 1}}, false); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := b.Spent(context.Background(), tenant); err != nil || got != 900 {
				t.Fatalf("spent %d %v, want 900", got, err)
			}
			if err := b.Check(context.Background(), tenant, 100); err != nil {
				t.Errorf("900 + 100 <= 1000 refused: %v", err)
			}
			if err := b.Check(context.Background(), tenant, 101); !errors.Is(err, ErrQuota) {
				t.Errorf("900 + 101 > 1000 allowed: %v", err)
			}
		})
	}
}
