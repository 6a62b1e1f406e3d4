package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"google.golang.org/genai"
)

// Gemini calls Gemini models on Vertex AI through google.golang.org/genai
// with the Vertex backend (POST /v1/projects/P/locations/L/publishers/google/
// models/M:generateContent). The package the original design named,
// cloud.google.com/go/vertexai/genai, was deprecated in June 2025 and
// removed in June 2026; Google's migration guide names google.golang.org/genai.
type Gemini struct {
	client *genai.Client
}

// GeminiConfig configures Gemini.
type GeminiConfig struct {
	Project  string
	Location string
	// BaseURL overrides the regional endpoint (tests, private endpoints).
	BaseURL string
	// HTTPClient carries authorisation and retries (Transport with Token).
	HTTPClient *http.Client
}

// NewGemini builds the provider. It never looks credentials up itself: the
// HTTP client brings them, so a missing credential is an error at start,
// not a panic or a silent fallback.
func NewGemini(ctx context.Context, c GeminiConfig) (*Gemini, error) {
	if c.Project == "" || c.Location == "" {
		return nil, fmt.Errorf("llm: gemini needs a project (GOOGLE_CLOUD_PROJECT) and a location (SYNTHOS_VERTEX_LOCATION): %w", ErrInvalid)
	}
	if c.HTTPClient == nil {
		return nil, fmt.Errorf("llm: gemini needs an authorised HTTP client: %w", ErrInvalid)
	}
	cl, err := genai.NewClient(ctx, &genai.ClientConfig{
		Backend:     genai.BackendVertexAI,
		Project:     c.Project,
		Location:    c.Location,
		HTTPClient:  c.HTTPClient,
		HTTPOptions: genai.HTTPOptions{BaseURL: c.BaseURL, APIVersion: "v1"},
	})
	if err != nil {
		return nil, fmt.Errorf("llm: gemini client: %w", err)
	}
	return &Gemini{client: cl}, nil
}

// Name implements Provider.
func (g *Gemini) Name() string { return "gemini" }

// Generate implements Provider.
func (g *Gemini) Generate(ctx context.Context, req Request) (Response, error) {
	if req.Model == "" {
		return Response{}, fmt.Errorf("llm: gemini: no model for task %s: %w", req.Task, ErrInvalid)
	}
	cfg := &genai.GenerateContentConfig{MaxOutputTokens: int32(min(req.MaxTokens, 1<<20))}
	if req.System != "" {
		cfg.SystemInstruction = genai.NewContentFromText(req.System, genai.RoleUser)
	}
	if req.Temperature != nil {
		t := float32(*req.Temperature)
		cfg.Temperature = &t
	}
	if len(req.Schema) > 0 {
		var sch any
		if err := json.Unmarshal(req.Schema, &sch); err != nil {
			return Response{}, fmt.Errorf("llm: gemini: schema: %v: %w", err, ErrInvalid)
		}
		cfg.ResponseMIMEType = "application/json"
		cfg.ResponseJsonSchema = sch
	}
	resp, err := g.client.Models.GenerateContent(ctx, req.Model, genai.Text(req.Prompt), cfg)
	if err != nil {
		return Response{}, classify("gemini", err)
	}
	out := Response{Text: resp.Text(), Provider: g.Name(), Model: req.Model}
	if resp.ModelVersion != "" {
		out.Model = resp.ModelVersion
	}
	if u := resp.UsageMetadata; u != nil {
		out.Usage = Usage{InputTokens: int64(u.PromptTokenCount), OutputTokens: int64(u.CandidatesTokenCount) + int64(u.ThoughtsTokenCount)}
	}
	if out.Text == "" {
		reason := "no candidates"
		if len(resp.Candidates) > 0 {
			reason = "finish reason " + string(resp.Candidates[0].FinishReason)
		}
		return out, fmt.Errorf("llm: gemini returned no text (%s): %w", reason, ErrBadAnswer)
	}
	return out, nil
}

// classify maps an SDK error to our codes: retryable statuses (which the
// transport already retried) and network failures are ErrUnavailable, the
// rest ErrInvalid (a request the vendor refuses).
func classify(vendor string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("llm: %s: %w", vendor, err)
	}
	var ge genai.APIError
	if errors.As(err, &ge) {
		if Retryable(ge.Code) {
			return fmt.Errorf("llm: %s: HTTP %d %s: %w", vendor, ge.Code, ge.Message, ErrUnavailable)
		}
		return fmt.Errorf("llm: %s: HTTP %d %s: %w", vendor, ge.Code, ge.Message, ErrInvalid)
	}
	var gp *genai.APIError
	if errors.As(err, &gp) && gp != nil {
		return classify(vendor, *gp)
	}
	if code, ok := statusOf(err); ok {
		if Retryable(code) {
			return fmt.Errorf("llm: %s: %v: %w", vendor, err, ErrUnavailable)
		}
		return fmt.Errorf("llm: %s: %v: %w", vendor, err, ErrInvalid)
	}
	return fmt.Errorf("llm: %s: %v: %w", vendor, err, ErrUnavailable)
}
