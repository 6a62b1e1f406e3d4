package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/assist"
	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
	"synthos.dev/synthos/shared/llm"
)

// createDesignJob admits a job that samples a saved spec instead of a
// dataset. The spec's version is resolved now (the latest unless
// design_version names one), so the job samples what was admitted even if
// the spec is saved again; its main table is scaled to the rows asked for
// and the job reserves the rows of every table. Its text columns are
// priced over the providers the router may ask, and a price that would
// take the tenant past its monthly AI budget is refused (429
// ai_quota_exceeded) before anything is reserved.
func (s *Service) createDesignJob(ctx context.Context, p *apikeys.Principal, req jobs.Request, seedSet bool) (*jobs.Job, error) {
	store := s.Designs
	if store == nil {
		store = &design.Store{State: s.State}
	}
	sv, sp, err := store.Get(ctx, p.Tenant, req.Design, req.DesignVersion)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		msg := fmt.Sprintf("design %s has no saved spec; save one with POST /v1/designs or PUT /v1/designs/%s", req.Design, req.Design)
		if req.DesignVersion > 0 {
			msg = fmt.Sprintf("design %s has no version %d (GET /v1/designs/%s/versions lists them)", req.Design, req.DesignVersion, req.Design)
		}
		return nil, &CodedError{Code: "not_found", Kind: ErrNotFound, Msg: msg, Details: map[string]any{"field": "design_id"}}
	case err != nil:
		return nil, fmt.Errorf("%w: read design %s: %w", ErrUnavailable, req.Design, err)
	}
	scaled, err := sp.Scale(req.Rows)
	if err != nil {
		return nil, fmt.Errorf("%w: scale design %s: %w", ErrUnavailable, req.Design, err)
	}
	var total int64
	for _, t := range scaled.Tables {
		total += t.Rows
	}
	if total > jobspec.MaxRows {
		return nil, fieldErr("rows", "scales design %s to %d rows over all its tables, more than %d; ask for fewer", req.Design, total, jobspec.MaxRows)
	}
	req.DesignVersion, req.DesignRows, req.Rows = sv.Version, req.Rows, total
	ai := &jobs.AIUsage{}
	if hasText(scaled) {
		a, err := s.assistant()
		if err != nil {
			return nil, err
		}
		// Admission reserves the estimate of the month's AI budget (and
		// refuses a job it does not fit), so concurrent jobs cannot
		// together promise more than the budget.
		ai.EstimateMicros = int64((&design.TextFiller{}).Quote(scaled, a.Router))
	}
	return s.admitJob(ctx, p, req, seedSet, ai)
}

// hasText reports whether a spec has text columns (the only model calls
// sampling makes).
func hasText(s *design.Spec) bool {
	for _, t := range s.Tables {
		for _, c := range t.Columns {
			if c.Kind == design.KindText {
				return true
			}
		}
	}
	return false
}

// assistant returns the AI router, or 503 when it cannot be built.
func (s *Service) assistant() (*assist.Assistant, error) {
	if s.Assistant == nil {
		return nil, fmt.Errorf("%w: AI assistance is not configured in this deployment", ErrUnavailable)
	}
	a, err := s.Assistant()
	if err != nil {
		return nil, fmt.Errorf("%w: AI providers: %w", ErrUnavailable, err)
	}
	return a, nil
}

// aiRefused answers a job whose AI price the tenant's budget cannot meet.
func (s *Service) aiRefused(ctx context.Context, p *apikeys.Principal, err error) error {
	if !errors.Is(err, llm.ErrQuota) {
		return fmt.Errorf("%w: check the AI budget: %w", ErrUnavailable, err)
	}
	ce := &CodedError{Code: "ai_quota_exceeded", Kind: ErrRateLimited, Msg: errs.Message(err) + " (see GET /v1/usage)"}
	s.EmitDenied(ctx, p, "job.create", ce.Msg)
	return ce
}

// AIUsage is a tenant's model use this month, as GET /v1/usage shows it.
type AIUsage struct {
	Calls        int64 `json:"calls"`
	CacheHits    int64 `json:"cache_hits"`
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
	CostMicros   int64 `json:"cost_micros"`
	// BudgetMicros is the plan's monthly AI budget (its ai_budget_usd,
	// or SYNTHOS_AI_BUDGETS' override); absent when the plan has none.
	BudgetMicros    *int64 `json:"budget_micros,omitempty"`
	RemainingMicros *int64 `json:"remaining_micros,omitempty"`
	// ReservedMicros is what admitted, unfinished jobs hold of the
	// budget (their estimates), counted out of RemainingMicros.
	ReservedMicros int64 `json:"reserved_micros"`
}

// aiUsage reads the tenant's AI use this month (nil without an assistant).
func (s *Service) aiUsage(ctx context.Context, tenant string) (*AIUsage, error) {
	if s.Assistant == nil {
		return nil, nil
	}
	a, err := s.assistant()
	if err != nil {
		return nil, err
	}
	t, err := a.Meter.Month(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	u := &AIUsage{Calls: t.Calls, CacheHits: t.CacheHits, InputTokens: t.InputTokens, OutputTokens: t.OutputTokens, CostMicros: int64(t.Cost)}
	held, err := a.Meter.Held(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	u.ReservedMicros = int64(held)
	limit, ok, err := a.Meter.Budget(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("%w: read the AI budget: %w", ErrUnavailable, err)
	}
	if ok {
		b, r := int64(limit), max(0, int64(limit-t.Cost-held))
		u.BudgetMicros, u.RemainingMicros = &b, &r
	}
	return u, nil
}

// TableOutputKey returns the object of table tbl of a succeeded design
// job. Its main table is the job's output (OutputKey); every other table
// is an output of its own (jobs.OutputTable).
func (s *Service) TableOutputKey(ctx context.Context, p *apikeys.Principal, id, tbl string) (*jobs.Job, *blob.Bucket, string, error) {
	j, _, _, err := s.OutputKey(ctx, p, id)
	if err != nil {
		return nil, nil, "", err
	}
	name := jobs.OutputTable(tbl)
	key, ok := j.Outputs[name]
	if !ok {
		var tables []string
		for n := range j.Outputs {
			if t, ok := strings.CutPrefix(n, jobs.OutputTable("")); ok {
				tables = append(tables, t)
			}
		}
		slices.Sort(tables)
		return nil, nil, "", &CodedError{Code: "not_found", Kind: ErrNotFound, Details: map[string]any{"field": "table", "tables": tables},
			Msg: fmt.Sprintf("job %s has no table %q besides its main output; its other tables: %s", id, tbl, strings.Join(tables, ", "))}
	}
	if b, k, ok, err := s.delivered(ctx, j, name); ok || err != nil {
		return j, b, k, err
	}
	return j, s.Bucket, key, nil
}

// TableOutputURL is OutputURL for table tbl of a design job.
func (s *Service) TableOutputURL(ctx context.Context, p *apikeys.Principal, id, tbl string, localURL func(id string) string) (*Download, error) {
	_, b, key, err := s.TableOutputKey(ctx, p, id, tbl)
	if err != nil {
		return nil, err
	}
	return s.download(ctx, p, id, b, key, localURL)
}
