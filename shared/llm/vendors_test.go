package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// recorder is a vendor endpoint: it records each request and answers from
// a script of (status, headers, body) steps, the last repeating.
type recorder struct {
	mu    sync.Mutex
	reqs  []captured
	steps []step
}

type captured struct {
	Method, Path string
	Header       http.Header
	Body         map[string]any
	Raw          string
}

type step struct {
	status int
	header map[string]string
	body   string
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, captured{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body, Raw: string(raw)})
	st := rc.steps[min(len(rc.reqs)-1, len(rc.steps)-1)]
	rc.mu.Unlock()
	for k, v := range st.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(st.status)
	_, _ = io.WriteString(w, st.body)
}

func (rc *recorder) requests() []captured {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]captured(nil), rc.reqs...)
}

// sleeps records the transport's waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func testTransport(sl *sleeps, token bool) *Transport {
	t := &Transport{MaxRetries: 3, BaseDelay: 10 * time.Millisecond, MaxDelay: 5 * time.Second, Sleep: sl.sleep}
	if token {
		t.Token = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.test-token", TokenType: "Bearer"})
	}
	return t
}

// Gemini's generateContent answer, as documented for Vertex AI.
const geminiOK = `{
  "candidates": [{"content": {"role": "model", "parts": [{"text": "{\"label\": \"email\"}"}]}, "finishReason": "STOP"}],
  "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 30, "totalTokenCount": 150},
  "modelVersion": "gemini-2.5-flash"
}`

const googleRateLimited = `{"error": {"code": 429, "message": "Resource exhausted. Please try again later.", "status": "RESOURCE_EXHAUSTED"}}`

func TestGeminiWireFormat(t *testing.T) {
	t.Parallel()
	rec := &recorder{steps: []step{
		{429, map[string]string{"Retry-After": "2"}, googleRateLimited},
		{503, nil, `{"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}}`},
		{200, nil, geminiOK},
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	sl := &sleeps{}
	g, err := NewGemini(context.Background(), GeminiConfig{Project: "P", Location: "us-central1", BaseURL: srv.URL, HTTPClient: testTransport(sl, true).HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	meter := &Meter{}
	c := &Client{Provider: g, Models: map[Task]string{TaskTyping: "gemini-2.5-flash"}, Meter: meter}
	temp := 0.2
	resp, err := c.Generate(context.Background(), Request{Task: TaskTyping, Tenant: "t1", System: "You label columns.", Prompt: "column: contact",
		Schema: json.RawMessage(`{"type":"object","properties":{"label":{"type":"string"}},"required":["label"]}`), MaxTokens: 256, Temperature: &temp})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != `{"label": "email"}` || resp.Usage != (Usage{InputTokens: 120, OutputTokens: 30}) {
		t.Fatalf("response %+v", resp)
	}
	// 120 × $0.30 + 30 × $2.50 per million tokens = 36 + 75 micro-dollars.
	if resp.Cost != 111 {
		t.Errorf("cost %d micros, want 111", resp.Cost)
	}
	reqs := rec.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (429, 503, 200)", len(reqs))
	}
	if sl.d[0] != 2*time.Second {
		t.Errorf("first wait %v, want the 2s Retry-After", sl.d[0])
	}
	if sl.d[1] > 20*time.Millisecond {
		t.Errorf("second wait %v, want a backoff of at most 2 × 10ms", sl.d[1])
	}
	r := reqs[2]
	if r.Method != "POST" || r.Path != "/v1/projects/P/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer ya29.test-token" {
		t.Errorf("Authorization %q", got)
	}
	contents := r.Body["contents"].([]any)[0].(map[string]any)
	if contents["role"] != "user" || contents["parts"].([]any)[0].(map[string]any)["text"] != "column: contact" {
		t.Errorf("contents %v", contents)
	}
	if si := r.Body["systemInstruction"].(map[string]any)["parts"].([]any)[0].(map[string]any)["text"]; si != "You label columns." {
		t.Errorf("systemInstruction %v", si)
	}
	gc := r.Body["generationConfig"].(map[string]any)
	if gc["responseMimeType"] != "application/json" || gc["responseJsonSchema"] == nil || gc["maxOutputTokens"] != float64(256) {
		t.Errorf("generationConfig %v", gc)
	}
	if lines := meter.Snapshot(); len(lines) != 1 || lines[0].Calls != 1 || lines[0].Cost != 111 || lines[0].InputTokens != 120 {
		t.Errorf("meter %+v", lines)
	}
}

func TestGeminiErrors(t *testing.T) {
	t.Parallel()
	rec := &recorder{steps: []step{{400, nil, `{"error": {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}}`}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	sl := &sleeps{}
	g, err := NewGemini(context.Background(), GeminiConfig{Project: "P", Location: "L", BaseURL: srv.URL, HTTPClient: testTransport(sl, true).HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Generate(context.Background(), Request{Model: "gemini-2.5-pro", Prompt: "x", MaxTokens: 10})
	if !errors.Is(err, ErrInvalid) || len(rec.requests()) != 1 {
		t.Fatalf("err %v after %d requests; want ErrInvalid, not retried", err, len(rec.requests()))
	}
	// Retries run out on a persistent 429: ErrUnavailable after 1 + 3 calls.
	rec2 := &recorder{steps: []step{{429, nil, googleRateLimited}}}
	srv2 := httptest.NewServer(rec2)
	defer srv2.Close()
	g2, _ := NewGemini(context.Background(), GeminiConfig{Project: "P", Location: "L", BaseURL: srv2.URL, HTTPClient: testTransport(sl, true).HTTPClient()})
	_, err = g2.Generate(context.Background(), Request{Model: "gemini-2.5-pro", Prompt: "x", MaxTokens: 10})
	if !errors.Is(err, ErrUnavailable) || len(rec2.requests()) != 4 {
		t.Fatalf("err %v after %d requests; want ErrUnavailable after 4", err, len(rec2.requests()))
	}
	if _, err := NewGemini(context.Background(), GeminiConfig{Location: "L", HTTPClient: http.DefaultClient}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no project: %v", err)
	}
}

// The Anthropic Messages API's answer and error shapes.
const claudeOK = `{
  "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
  "content": [{"type": "text", "text": "A quiet, well made lamp."}],
  "stop_reason": "end_turn", "stop_sequence": null,
  "usage": {"input_tokens": 2095, "output_tokens": 503}
}`

const claudeRateLimited = `{"type": "error", "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your per-minute rate limit"}}`

func TestClaudeDirectWireFormat(t *testing.T) {
	t.Parallel()
	rec := &recorder{steps: []step{
		{429, map[string]string{"retry-after": "4"}, claudeRateLimited},
		{529, nil, `{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`},
		{200, map[string]string{"request-id": "req_1"}, claudeOK},
	}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	sl := &sleeps{}
	p, err := NewClaude(context.Background(), ClaudeConfig{APIKey: "sk-ant-test", BaseURL: srv.URL, HTTPClient: testTransport(sl, false).HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{Provider: p, Default: "claude-sonnet-4-5"}
	resp, err := c.Generate(context.Background(), Request{Task: TaskText, System: "Write reviews.", Prompt: "rating=4 product=lamp", MaxTokens: 300})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Text != "A quiet, well made lamp." || resp.Usage.InputTokens != 2095 || resp.Usage.OutputTokens != 503 || resp.Provider != "claude" {
		t.Fatalf("response %+v", resp)
	}
	// 2095 × $3 + 503 × $15 per million = 6285 + 7545 micro-dollars.
	if resp.Cost != 13830 {
		t.Errorf("cost %d, want 13830", resp.Cost)
	}
	reqs := rec.requests()
	if len(reqs) != 3 || sl.d[0] != 4*time.Second {
		t.Fatalf("%d requests, waits %v; want 3 and a 4s wait from retry-after", len(reqs), sl.d)
	}
	r := reqs[2]
	if r.Method != "POST" || r.Path != "/v1/messages" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if r.Header.Get("x-api-key") != "sk-ant-test" || !regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`).MatchString(r.Header.Get("anthropic-version")) || r.Header.Get("Authorization") != "" {
		t.Errorf("headers x-api-key=%q anthropic-version=%q", r.Header.Get("x-api-key"), r.Header.Get("anthropic-version"))
	}
	if r.Body["model"] != "claude-sonnet-4-5" || r.Body["max_tokens"] != float64(300) {
		t.Errorf("body %s", r.Raw)
	}
	msgs := r.Body["messages"].([]any)
	if m := msgs[0].(map[string]any); m["role"] != "user" || !strings.Contains(fmt.Sprint(m["content"]), "rating=4 product=lamp") {
		t.Errorf("messages %v", msgs)
	}
	if !strings.Contains(fmt.Sprint(r.Body["system"]), "Write reviews.") {
		t.Errorf("system %v", r.Body["system"])
	}
	// A 400 error JSON is not retried and is ErrInvalid.
	rec2 := &recorder{steps: []step{{400, nil, `{"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: field required"}}`}}}
	srv2 := httptest.NewServer(rec2)
	defer srv2.Close()
	p2, _ := NewClaude(context.Background(), ClaudeConfig{APIKey: "k", BaseURL: srv2.URL, HTTPClient: testTransport(sl, false).HTTPClient()})
	_, err = p2.Generate(context.Background(), Request{Model: "claude-haiku-4-5", Prompt: "x", MaxTokens: 5})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "400") || len(rec2.requests()) != 1 {
		t.Errorf("err %v after %d requests", err, len(rec2.requests()))
	}
}

func TestClaudeVertexWireFormat(t *testing.T) {
	t.Parallel()
	stream := "event: message_start\n" +
		`data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-haiku-4-5@20251001","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}` + "\n\n" +
		"event: content_block_start\n" +
		`data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}` + "\n\n" +
		"event: content_block_delta\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}` + "\n\n" +
		"event: content_block_delta\n" +
		`data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" there"}}` + "\n\n" +
		"event: content_block_stop\n" +
		`data: {"type":"content_block_stop","index":0}` + "\n\n" +
		"event: message_delta\n" +
		`data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}` + "\n\n" +
		"event: message_stop\n" +
		`data: {"type":"message_stop"}` + "\n\n"
	tests := []struct {
		name   string
		stream bool
		steps  []step
		path   string
		text   string
		usage  Usage
	}{
		{"rawPredict", false, []step{{429, map[string]string{"Retry-After": "1"}, googleRateLimited}, {200, nil, claudeOK}},
			"/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict",
			"A quiet, well made lamp.", Usage{InputTokens: 2095, OutputTokens: 503}},
		{"streamRawPredict", true, []step{{200, map[string]string{"Content-Type": "text/event-stream"}, stream}},
			"/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict",
			"Hello there", Usage{InputTokens: 25, OutputTokens: 15}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{steps: tc.steps}
			srv := httptest.NewServer(rec)
			defer srv.Close()
			sl := &sleeps{}
			tr := testTransport(sl, false)
			p, err := NewClaude(context.Background(), ClaudeConfig{Vertex: true, Project: "my-proj", Location: "us-east5", Stream: tc.stream,
				Token:   oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.vertex", TokenType: "Bearer"}),
				BaseURL: srv.URL, HTTPClient: tr.HTTPClient()})
			if err != nil {
				t.Fatal(err)
			}
			if p.Name() != "claude-vertex" {
				t.Errorf("name %q", p.Name())
			}
			resp, err := p.Generate(context.Background(), Request{Model: "claude-sonnet-4-5@20250929", Prompt: "hi", MaxTokens: 64})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Text != tc.text || resp.Usage != tc.usage {
				t.Fatalf("response %+v", resp)
			}
			reqs := rec.requests()
			r := reqs[len(reqs)-1]
			if r.Path != tc.path {
				t.Errorf("path %s, want %s", r.Path, tc.path)
			}
			if r.Header.Get("Authorization") != "Bearer ya29.vertex" || r.Header.Get("x-api-key") != "" {
				t.Errorf("auth headers %v", r.Header)
			}
			if r.Body["anthropic_version"] != VertexAnthropicVersion {
				t.Errorf("anthropic_version %v", r.Body["anthropic_version"])
			}
			if _, has := r.Body["model"]; has {
				t.Errorf("model must move from the body to the URL: %s", r.Raw)
			}
			if len(reqs) != len(tc.steps) {
				t.Errorf("%d requests, want %d", len(reqs), len(tc.steps))
			}
		})
	}
	// Missing credentials are an error, never a panic.
	if _, err := NewClaude(context.Background(), ClaudeConfig{Vertex: true, Project: "p", Location: "l", HTTPClient: http.DefaultClient}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no token: %v", err)
	}
	if _, err := NewClaude(context.Background(), ClaudeConfig{Vertex: true, Project: "p", Token: oauth2.StaticTokenSource(&oauth2.Token{}), HTTPClient: http.DefaultClient}); !errors.Is(err, ErrInvalid) {
		t.Errorf("no region: %v", err)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		h    map[string]string
		want time.Duration
		ok   bool
	}{
		{map[string]string{"Retry-After": "3"}, 3 * time.Second, true},
		{map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond, true},
		{map[string]string{"retry-after-ms": "250", "Retry-After": "9"}, 250 * time.Millisecond, true},
		{map[string]string{"Retry-After": "Thu, 01 Jan 2026 00:00:10 GMT"}, 10 * time.Second, true},
		{map[string]string{"Retry-After": "soon"}, 0, false},
		{nil, 0, false},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.h {
			h.Set(k, v)
		}
		got, ok := RetryAfter(h, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("RetryAfter(%v) = %v %v, want %v %v", tc.h, got, ok, tc.want, tc.ok)
		}
	}
}
