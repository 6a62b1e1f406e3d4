package llm

import (
	"context"
	"fmt"
)

// Offline is the provider that needs no model: deterministic heuristics and
// built-in domain knowledge, one handler per task registered by the package
// that owns the task (design, semantic, narrative). It is the default, so
// every feature works without a model; it costs nothing and its answers go
// through the same schema and checks as a model's.
type Offline struct {
	Handlers map[Task]func(ctx context.Context, req Request) (string, error)
}

// OfflineName is the offline provider's name in configuration.
const OfflineName = "offline"

// Name implements Provider.
func (o *Offline) Name() string { return OfflineName }

// Generate implements Provider.
func (o *Offline) Generate(ctx context.Context, req Request) (Response, error) {
	h := o.Handlers[req.Task]
	if h == nil {
		return Response{}, fmt.Errorf("llm: the offline provider has no handler for task %q: %w", req.Task, ErrUnavailable)
	}
	text, err := h(ctx, req)
	if err != nil {
		return Response{}, err
	}
	return Response{Text: text, Provider: OfflineName, Model: OfflineName}, nil
}
