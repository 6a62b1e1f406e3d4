// Package assist builds the AI assistance of the platform from its
// configuration: the providers listed in SYNTHOS_AI_PROVIDERS (the offline
// provider always among them, as the last resort), each behind the retrying
// transport, a timeout, the response cache and the per-tenant meter, and the
// router that picks among them per task. Feature packages (design, semantic,
// narrative) take the router through their own small interfaces.
package assist

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/narrative"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/semantic"
	"synthos.dev/synthos/shared/state"
)

// VertexCredentialsSecret optionally holds a service-account key (JSON)
// for Vertex AI; without it the runtime's own identity (Application Default
// Credentials: the function's service account) is used.
const VertexCredentialsSecret = "vertex-credentials"

// Assistant is the configured router and its meter.
type Assistant struct {
	Router *llm.Router
	Meter  *llm.Meter
	Cache  *llm.Cache
}

// PlanOf returns a tenant's plan (entitlements.Plan in the API), whose
// AIBudget is the tenant's monthly AI budget.
type PlanOf func(ctx context.Context, tenant string) (plans.Plan, error)

// Options are what New needs besides the configuration.
type Options struct {
	Project string
	Secrets secrets.Source
	// State keeps month-to-date AI spend; nil keeps it in memory.
	State state.Store
	// PlanOf resolves plan budgets; nil means no budget is enforced.
	PlanOf PlanOf
}

// defaultModels per provider and task.
var defaultModels = map[string]map[llm.Task]string{
	"gemini": {llm.TaskDesign: "gemini-2.5-pro", llm.TaskText: "gemini-2.5-flash", llm.TaskTyping: "gemini-2.5-flash", llm.TaskNarrative: "gemini-2.5-flash"},
	"claude": {llm.TaskDesign: "claude-sonnet-4-5", llm.TaskText: "claude-haiku-4-5", llm.TaskTyping: "claude-haiku-4-5", llm.TaskNarrative: "claude-sonnet-4-5"},
	"claude-vertex": {llm.TaskDesign: "claude-sonnet-4-5@20250929", llm.TaskText: "claude-haiku-4-5@20251001",
		llm.TaskTyping: "claude-haiku-4-5@20251001", llm.TaskNarrative: "claude-sonnet-4-5@20250929"},
}

// quality priors per provider and task (0..1), used by the policies; the
// offline provider is adequate for design (its packs validate and are
// rich) but plain for text.
var quality = map[string]map[llm.Task]float64{
	"offline":       {llm.TaskDesign: 0.6, llm.TaskText: 0.35, llm.TaskTyping: 0.5, llm.TaskNarrative: 0.5},
	"gemini":        {llm.TaskDesign: 0.85, llm.TaskText: 0.8, llm.TaskTyping: 0.8, llm.TaskNarrative: 0.8},
	"claude":        {llm.TaskDesign: 0.9, llm.TaskText: 0.85, llm.TaskTyping: 0.8, llm.TaskNarrative: 0.85},
	"claude-vertex": {llm.TaskDesign: 0.9, llm.TaskText: 0.85, llm.TaskTyping: 0.8, llm.TaskNarrative: 0.85},
}

var latency = map[string]time.Duration{"offline": time.Millisecond, "gemini": 2 * time.Second, "claude": 3 * time.Second, "claude-vertex": 3 * time.Second}

// Offline returns the offline provider with every task's handler.
func Offline() *llm.Offline {
	return &llm.Offline{Handlers: map[llm.Task]func(context.Context, llm.Request) (string, error){
		llm.TaskDesign:    design.OfflineDesign,
		llm.TaskTyping:    semantic.OfflineTyping,
		llm.TaskNarrative: narrative.OfflineNarrative,
		llm.TaskText:      design.OfflineTextTask,
	}}
}

// New builds the assistant.
func New(ctx context.Context, ai config.AI, o Options) (*Assistant, error) {
	prices, err := llm.ParsePrices(strings.Join(ai.Prices, ","), llm.DefaultPrices)
	if err != nil {
		return nil, fmt.Errorf("assist: SYNTHOS_AI_PRICES: %w", err)
	}
	meter := &llm.Meter{Store: o.State}
	if o.PlanOf != nil {
		overrides, err := plans.ParseAIBudgets(ai.Budgets)
		if err != nil {
			return nil, fmt.Errorf("assist: %w", err)
		}
		meter.Limit = func(ctx context.Context, tenant string) (llm.Micros, bool, error) {
			plan, err := o.PlanOf(ctx, tenant)
			if err != nil {
				return 0, false, err
			}
			usd, ok := plan.AIBudget(overrides)
			return llm.Dollars(usd), ok, nil
		}
	}
	cache := llm.NewCache(1024, 24*time.Hour)
	models, err := parseModels(ai.Models)
	if err != nil {
		return nil, err
	}
	rt := &llm.Router{Policies: map[llm.Task]llm.Policy{}, Ensemble: map[llm.Task]int{},
		MinQuality: map[llm.Task]float64{llm.TaskDesign: 0.5, llm.TaskText: 0.5, llm.TaskTyping: 0.5, llm.TaskNarrative: 0.5}}
	for _, kv := range ai.Policies {
		task, pol, _ := strings.Cut(kv, "=")
		p := llm.Policy(strings.TrimSpace(pol))
		if p != llm.Cheapest && p != llm.BestQuality && p != llm.LowestLatency {
			return nil, fmt.Errorf("assist: SYNTHOS_AI_POLICIES: %q is not cheapest, best_quality or lowest_latency: %w", pol, llm.ErrInvalid)
		}
		rt.Policies[llm.Task(strings.TrimSpace(task))] = p
	}
	for _, kv := range ai.Ensemble {
		task, n, _ := strings.Cut(kv, "=")
		k, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || k < 1 || k > 4 {
			return nil, fmt.Errorf("assist: SYNTHOS_AI_ENSEMBLE: %q: want task=1..4: %w", kv, llm.ErrInvalid)
		}
		rt.Ensemble[llm.Task(strings.TrimSpace(task))] = k
	}
	var token oauth2.TokenSource
	vertexToken := func() (oauth2.TokenSource, error) {
		if token != nil {
			return token, nil
		}
		ts, err := vertexCredentials(ctx, o.Secrets)
		token = ts
		return ts, err
	}
	names := append([]string(nil), ai.Providers...)
	hasOffline := false
	for _, n := range names {
		hasOffline = hasOffline || n == llm.OfflineName
	}
	if !hasOffline {
		names = append(names, llm.OfflineName)
	}
	for _, name := range names {
		var p llm.Provider
		tr := &llm.Transport{MaxRetries: ai.MaxRetries}
		switch name {
		case llm.OfflineName:
			p = Offline()
		case "gemini":
			ts, err := vertexToken()
			if err != nil {
				return nil, err
			}
			tr.Token = ts
			p, err = llm.NewGemini(ctx, llm.GeminiConfig{Project: o.Project, Location: ai.VertexLocation, HTTPClient: tr.HTTPClient()})
			if err != nil {
				return nil, err
			}
		case "claude":
			key, err := o.Secrets.Get(ctx, llm.AnthropicKeySecret)
			if err != nil {
				return nil, fmt.Errorf("assist: SYNTHOS_AI_PROVIDERS lists claude but the secret %s cannot be read (create it with the Anthropic API key): %w", llm.AnthropicKeySecret, err)
			}
			p, err = llm.NewClaude(ctx, llm.ClaudeConfig{APIKey: strings.TrimSpace(string(key)), HTTPClient: tr.HTTPClient()})
			if err != nil {
				return nil, err
			}
		case "claude-vertex":
			ts, err := vertexToken()
			if err != nil {
				return nil, err
			}
			p, err = llm.NewClaude(ctx, llm.ClaudeConfig{Vertex: true, Project: o.Project, Location: ai.ClaudeVertexLocation, Token: ts, HTTPClient: tr.HTTPClient()})
			if err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("assist: unknown provider %q: %w", name, llm.ErrInvalid)
		}
		m := map[llm.Task]string{}
		for t, v := range defaultModels[name] {
			m[t] = v
		}
		for t, v := range models[name] {
			m[t] = v
		}
		client := &llm.Client{Provider: p, Models: m, Default: m[llm.TaskDesign], Timeout: ai.Timeout, Cache: cache, Meter: meter, Prices: prices}
		if name == llm.OfflineName {
			client.Default, client.Cache = llm.OfflineName, nil // offline answers are computed, not worth caching
		}
		rt.Routes = append(rt.Routes, &llm.Route{Provider: client, Quality: quality[name], DefaultQuality: 0.5, Latency: latency[name]})
	}
	return &Assistant{Router: rt, Meter: meter, Cache: cache}, nil
}

// vertexCredentials builds Vertex AI credentials: a service-account key
// from the secret when it exists, else Application Default Credentials.
// Errors name the fix; nothing here can panic.
func vertexCredentials(ctx context.Context, sec secrets.Source) (oauth2.TokenSource, error) {
	const scope = "https://www.googleapis.com/auth/cloud-platform"
	if sec != nil {
		b, err := sec.Get(ctx, VertexCredentialsSecret)
		switch {
		case err == nil:
			creds, err := google.CredentialsFromJSON(ctx, b, scope)
			if err != nil {
				return nil, fmt.Errorf("assist: secret %s is not a service-account key: %w", VertexCredentialsSecret, err)
			}
			return creds.TokenSource, nil
		case !errors.Is(err, secrets.ErrNotFound):
			return nil, fmt.Errorf("assist: read secret %s: %w", VertexCredentialsSecret, err)
		}
	}
	creds, err := google.FindDefaultCredentials(ctx, scope)
	if err != nil {
		return nil, fmt.Errorf("assist: Vertex AI needs credentials: create the secret %s with a service-account key or run with Application Default Credentials: %w", VertexCredentialsSecret, err)
	}
	return creds.TokenSource, nil
}

func parseModels(items []string) (map[string]map[llm.Task]string, error) {
	out := map[string]map[llm.Task]string{}
	for _, it := range items {
		k, model, _ := strings.Cut(it, "=")
		prov, task, ok := strings.Cut(strings.TrimSpace(k), ".")
		if !ok || defaultModels[prov] == nil {
			return nil, fmt.Errorf("assist: SYNTHOS_AI_MODELS: %q: want provider.task=model with provider gemini, claude or claude-vertex: %w", it, llm.ErrInvalid)
		}
		if _, known := defaultModels[prov][llm.Task(task)]; !known {
			return nil, fmt.Errorf("assist: SYNTHOS_AI_MODELS: %q: task must be design, text, typing or narrative: %w", it, llm.ErrInvalid)
		}
		if out[prov] == nil {
			out[prov] = map[llm.Task]string{}
		}
		out[prov][llm.Task(task)] = strings.TrimSpace(model)
	}
	return out, nil
}

// Lazy returns a function that builds the assistant from env's
// configuration (the defaults, offline only, when env has none) on its
// first call and returns the same one afterwards, so that a misconfigured
// provider fails only the requests and jobs that use AI, not the process.
// planOf resolves plan budgets (nil: none enforced).
func Lazy(env *platform.Env, planOf PlanOf) func() (*Assistant, error) {
	var once sync.Once
	var a *Assistant
	var err error
	return func() (*Assistant, error) {
		once.Do(func() {
			cfg := env.Config
			if cfg == nil {
				if cfg, err = config.LoadMap(context.Background(), nil); err != nil {
					err = fmt.Errorf("assist: default configuration: %w", err)
					return
				}
			}
			a, err = New(context.Background(), cfg.AI, Options{Project: cfg.Project, Secrets: env.Secrets, State: env.State, PlanOf: planOf})
		})
		return a, err
	}
}
