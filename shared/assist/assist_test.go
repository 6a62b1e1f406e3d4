package assist

import (
	"context"
	"errors"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/secrets"
)

func aiConfig(t *testing.T, env map[string]string) config.AI {
	t.Helper()
	c, err := config.LoadMap(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	return c.AI
}

func TestNew(t *testing.T) {
	t.Parallel()
	sec := secrets.Env(func(k string) (string, bool) {
		if k == secrets.EnvName(llm.AnthropicKeySecret) {
			return "sk-ant-test", true
		}
		return "", false
	})
	env := map[string]string{"SYNTHOS_AI_PROVIDERS": "claude", "SYNTHOS_AI_MODELS": "claude.text=claude-3-5-haiku",
		"SYNTHOS_AI_ENSEMBLE": "design=2"}
	ai := aiConfig(t, env)
	a, err := New(context.Background(), ai, Options{Secrets: sec, PlanOf: func(context.Context, string) (plans.Plan, error) { return plans.Default().Free(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(a.Router.Routes); n != 2 || a.Router.Routes[1].Provider.Name() != llm.OfflineName {
		t.Fatalf("%d routes; want claude then offline", n)
	}
	c := a.Router.Routes[0].Provider.(*llm.Client)
	if c.Models[llm.TaskText] != "claude-3-5-haiku" || c.Models[llm.TaskDesign] != "claude-sonnet-4-5" {
		t.Errorf("models %v", c.Models)
	}
	if a.Router.Ensemble[llm.TaskDesign] != 2 || a.Router.Policies[llm.TaskDesign] != llm.BestQuality {
		t.Errorf("ensemble %v policies %v", a.Router.Ensemble, a.Router.Policies)
	}
	// The free plan's $1 budget: a tenant past it is refused before any call.
	if err := a.Meter.Check(context.Background(), "t", 2_000_000); !errors.Is(err, llm.ErrQuota) {
		t.Errorf("over budget: %v", err)
	}
	// SYNTHOS_AI_BUDGETS overrides the catalog's $1: at $5, a $2 call fits.
	env["SYNTHOS_AI_BUDGETS"] = "free=5"
	five, err := New(context.Background(), aiConfig(t, env), Options{Secrets: sec, PlanOf: func(context.Context, string) (plans.Plan, error) { return plans.Default().Free(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	if err := five.Meter.Check(context.Background(), "t", 2_000_000); err != nil {
		t.Errorf("$2 under a $5 override: %v", err)
	}
	// Default configuration: offline only, and it designs.
	off, err := New(context.Background(), aiConfig(t, nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, res, err := design.Design(context.Background(), off.Router, "t", "employees of a UK company with attrition", 500)
	if err != nil || res.Provider != llm.OfflineName || s.Domain != "hr" {
		t.Fatalf("offline design: %v %s", err, res.Provider)
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	empty := secrets.Env(func(string) (string, bool) { return "", false })
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"SYNTHOS_AI_PROVIDERS": "claude"}, "anthropic-api-key"},
		{map[string]string{"SYNTHOS_AI_MODELS": "mistral.design=x"}, "provider.task=model"},
		{map[string]string{"SYNTHOS_AI_MODELS": "gemini.poetry=x"}, "task must be"},
		{map[string]string{"SYNTHOS_AI_POLICIES": "design=fastest"}, "not cheapest"},
		{map[string]string{"SYNTHOS_AI_ENSEMBLE": "design=9"}, "task=1..4"},
	}
	for _, tc := range tests {
		_, err := New(context.Background(), aiConfig(t, tc.env), Options{Secrets: empty})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error mentioning %q", tc.env, err, tc.want)
		}
	}
	if _, err := config.LoadMap(context.Background(), map[string]string{"SYNTHOS_AI_PROVIDERS": "openai"}); err == nil || !strings.Contains(err.Error(), "SYNTHOS_AI_PROVIDERS") {
		t.Errorf("unknown provider accepted: %v", err)
	}
}
