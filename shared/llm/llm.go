// Package llm calls language models: Gemini on Vertex AI (google.golang.org/genai,
// Vertex backend), Claude on Vertex AI and Claude through the Anthropic API
// (github.com/anthropics/anthropic-sdk-go/v2), behind one small Provider
// interface, and the Router that picks among them per task.
//
// Models are used only where they shine — designing a dataset from a
// description, labelling ambiguous columns, writing free text, summarising a
// report — never to sample rows. What every call shares lives here once:
// retries with backoff on 429 and 5xx honouring Retry-After (Transport),
// timeouts, token and cost accounting per tenant metered against a limit
// (Meter), structured output validated against a JSON Schema with one repair
// attempt (Structured), and a response cache keyed by a hash of the prompt
// (Cache).
package llm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

	"synthos.dev/synthos/shared/errs"
)

// Task names what a request is for; models, policies and checks are chosen
// per task.
type Task string

const (
	TaskDesign    Task = "design"    // a dataset spec from a description
	TaskText      Task = "text"      // free-text cells from a row's other values
	TaskTyping    Task = "typing"    // labels for ambiguous columns
	TaskNarrative Task = "narrative" // a short reading of an evaluation report
)

// Tasks lists every task.
var Tasks = []Task{TaskDesign, TaskText, TaskTyping, TaskNarrative}

// Errors callers act on.
var (
	// ErrInvalid marks a bad request or configuration.
	ErrInvalid = errs.New(errs.InvalidArgument, "llm: invalid request")
	// ErrUnavailable marks a provider that failed after its retries, or
	// whose circuit breaker is open.
	ErrUnavailable = errs.New(errs.Unavailable, "llm: provider unavailable")
	// ErrBadAnswer marks an answer that failed its schema or checks even
	// after the repair attempt.
	ErrBadAnswer = errs.New(errs.FailedPrecondition, "llm: answer failed validation")
	// ErrQuota marks a tenant whose model spend would pass its limit.
	ErrQuota = errs.New(errs.ResourceExhausted, "llm: AI quota exhausted")
)

// Request is one model call.
type Request struct {
	Task   Task   `json:"task"`
	Tenant string `json:"-"`
	// Model overrides the provider's configured model for the task.
	Model  string `json:"model,omitempty"`
	System string `json:"system,omitempty"`
	Prompt string `json:"prompt"`
	// Schema, when set, asks for JSON following this JSON Schema
	// (structured output); Structured validates and repairs the answer.
	Schema    json.RawMessage `json:"schema,omitempty"`
	MaxTokens int             `json:"max_tokens,omitempty"`
	// Temperature: nil leaves the provider's default.
	Temperature *float64 `json:"temperature,omitempty"`
}

// Usage counts the tokens of one call.
type Usage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
}

// Response is a model's answer.
type Response struct {
	Text     string        `json:"text"`
	Provider string        `json:"provider"`
	Model    string        `json:"model"`
	Usage    Usage         `json:"usage"`
	Cost     Micros        `json:"cost_micros"` // US dollars × 10⁶
	Cached   bool          `json:"cached,omitempty"`
	Latency  time.Duration `json:"latency_ns"`
}

// Micros is an amount of US dollars in millionths.
type Micros int64

// Provider is one model vendor (or the offline provider).
type Provider interface {
	// Name identifies the provider in configuration, logs and accounting.
	Name() string
	// Generate answers one request. It does not retry, cache or meter:
	// Client does.
	Generate(ctx context.Context, req Request) (Response, error)
}

// Hash is the cache key of a request to a provider and model: a SHA-256 of
// everything that shapes the answer (never of the tenant, so identical
// prompts share an answer — prompts never hold a tenant's raw cells, see
// package semantic's guard).
func (r Request) Hash(provider, model string) string {
	h := sha256.New()
	b, _ := json.Marshal(struct {
		P, M string
		R    Request
	}{provider, model, Request{Task: r.Task, System: r.System, Prompt: r.Prompt, Schema: r.Schema, MaxTokens: r.MaxTokens, Temperature: r.Temperature}})
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}
