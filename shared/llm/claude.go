package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"
	"github.com/anthropics/anthropic-sdk-go/v2/vertex"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"
)

// Claude calls Claude models with github.com/anthropics/anthropic-sdk-go/v2:
// through the Anthropic Messages API (POST /v1/messages with x-api-key and
// anthropic-version) or on Vertex AI (the SDK's vertex option rewrites the
// call to .../publishers/anthropic/models/M:rawPredict, or :streamRawPredict
// for a stream).
type Claude struct {
	client anthropic.Client
	name   string
	stream bool
}

// ClaudeConfig configures Claude. Exactly one of APIKey (direct) or
// Vertex (Project, Location and Token) is used.
type ClaudeConfig struct {
	// Direct API.
	APIKey string
	// Vertex AI.
	Vertex   bool
	Project  string
	Location string
	Token    oauth2.TokenSource
	// BaseURL overrides the endpoint (tests, proxies).
	BaseURL string
	// HTTPClient carries retries (Transport); for Vertex the SDK adds the
	// OAuth header from Token on top of it.
	HTTPClient *http.Client
	// Stream receives answers as server-sent events (Vertex:
	// :streamRawPredict), so long answers are not cut by idle timeouts of
	// proxies between us and the vendor.
	Stream bool
}

// NewClaude builds the provider. For Vertex the credentials are built here
// from the token source, never looked up by the SDK (whose lookup panics
// when none is found), and the options are checked before the SDK sees them.
func NewClaude(ctx context.Context, c ClaudeConfig) (p *Claude, err error) {
	if c.HTTPClient == nil {
		return nil, fmt.Errorf("llm: claude needs an HTTP client: %w", ErrInvalid)
	}
	opts := []option.RequestOption{option.WithMaxRetries(0), option.WithHTTPClient(c.HTTPClient)}
	name := "claude"
	if c.Vertex {
		if c.Project == "" || c.Location == "" || c.Token == nil {
			return nil, fmt.Errorf("llm: claude on Vertex needs a project, a location (SYNTHOS_VERTEX_LOCATION) and credentials: %w", ErrInvalid)
		}
		name = "claude-vertex"
		creds := &google.Credentials{ProjectID: c.Project, TokenSource: c.Token}
		// The vertex option panics when it cannot build its default HTTP
		// client; turn that into an error so no input can crash us.
		defer func() {
			if r := recover(); r != nil {
				p, err = nil, fmt.Errorf("llm: claude on Vertex: %v: %w", r, ErrInvalid)
			}
		}()
		// Vertex documents its own API version in the body.
		opts = append(opts, vertex.WithCredentials(ctx, c.Location, c.Project, creds),
			option.WithJSONSet("anthropic_version", VertexAnthropicVersion))
	} else {
		if c.APIKey == "" {
			return nil, fmt.Errorf("llm: claude needs an API key (secret %s): %w", AnthropicKeySecret, ErrInvalid)
		}
		// The key travels in x-api-key, the header the Messages API
		// documents; the environment (ANTHROPIC_API_KEY, profiles) is never
		// read: keys come from the secrets adapter only.
		opts = append(opts, option.WithoutEnvironmentDefaults(), option.WithHeader("x-api-key", c.APIKey))
	}
	if c.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(c.BaseURL))
	}
	return &Claude{client: anthropic.NewClient(opts...), name: name, stream: c.Stream}, nil
}

// VertexAnthropicVersion is the anthropic_version Vertex AI's Claude
// endpoints require in the request body.
const VertexAnthropicVersion = "vertex-2023-10-16"

// AnthropicKeySecret is the secret holding the Anthropic API key.
const AnthropicKeySecret = "anthropic-api-key"

// Name implements Provider: "claude" (direct) or "claude-vertex".
func (c *Claude) Name() string { return c.name }

// Generate implements Provider. A schema is given to the model in the
// system prompt and checked by Structured: it works on every Claude model
// and on both endpoints.
func (c *Claude) Generate(ctx context.Context, req Request) (Response, error) {
	if req.Model == "" {
		return Response{}, fmt.Errorf("llm: %s: no model for task %s: %w", c.name, req.Task, ErrInvalid)
	}
	system := req.System
	if len(req.Schema) > 0 {
		system = strings.TrimSpace(system + "\n\nReply with one JSON document, and nothing else, that follows this JSON Schema:\n" + string(req.Schema))
	}
	params := anthropic.MessageNewParams{
		Model:     anthropic.Model(req.Model),
		MaxTokens: int64(req.MaxTokens),
		Messages:  []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(req.Prompt))},
	}
	if system != "" {
		params.System = []anthropic.TextBlockParam{{Text: system}}
	}
	msg, err := c.send(ctx, params)
	if err != nil {
		return Response{}, classifyClaude(c.name, err)
	}
	var b strings.Builder
	for _, block := range msg.Content {
		if block.Type == "text" {
			b.WriteString(block.Text)
		}
	}
	out := Response{Text: b.String(), Provider: c.name, Model: string(msg.Model),
		Usage: Usage{InputTokens: msg.Usage.InputTokens + msg.Usage.CacheCreationInputTokens + msg.Usage.CacheReadInputTokens, OutputTokens: msg.Usage.OutputTokens}}
	if out.Model == "" {
		out.Model = req.Model
	}
	if out.Text == "" {
		return out, fmt.Errorf("llm: %s returned no text (stop reason %s): %w", c.name, msg.StopReason, ErrBadAnswer)
	}
	return out, nil
}

// send makes the call, streamed or not.
func (c *Claude) send(ctx context.Context, params anthropic.MessageNewParams) (*anthropic.Message, error) {
	if !c.stream {
		return c.client.Messages.New(ctx, params)
	}
	st := c.client.Messages.NewStreaming(ctx, params)
	defer st.Close()
	var msg anthropic.Message
	for st.Next() {
		if err := msg.Accumulate(st.Current()); err != nil {
			return nil, fmt.Errorf("accumulate stream: %w", err)
		}
	}
	if err := st.Err(); err != nil {
		return nil, err
	}
	return &msg, nil
}

func classifyClaude(name string, err error) error {
	var ae *anthropic.Error
	if errors.As(err, &ae) {
		if Retryable(ae.StatusCode) {
			return fmt.Errorf("llm: %s: HTTP %d: %s: %w", name, ae.StatusCode, ae.Message, ErrUnavailable)
		}
		return fmt.Errorf("llm: %s: HTTP %d: %s: %w", name, ae.StatusCode, ae.Message, ErrInvalid)
	}
	return classify(name, err)
}

// statusOf finds an HTTP status in errors that carry one.
func statusOf(err error) (int, bool) {
	var ae *anthropic.Error
	if errors.As(err, &ae) {
		return ae.StatusCode, true
	}
	return 0, false
}
