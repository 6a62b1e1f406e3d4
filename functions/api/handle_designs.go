package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/assist"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/web"
)

// designs serves /v1/designs: the realism engine. The assistant (router
// and providers) is built on first use, so a misconfigured provider answers
// 503 on these routes only.
type designs struct {
	store *design.Store
	build func() (*assist.Assistant, error)
	// lazy is build without the API's error class, for the service
	// (design jobs, AI usage).
	lazy func() (*assist.Assistant, error)
}

func newDesigns(env *platform.Env, ent *entitlements.Entitlements) *designs {
	var planOf assist.PlanOf
	if ent != nil {
		planOf = ent.Plan
	}
	lazy := assist.Lazy(env, planOf)
	return &designs{store: &design.Store{State: env.State}, lazy: lazy, build: func() (*assist.Assistant, error) {
		a, err := lazy()
		if err != nil {
			return nil, fmt.Errorf("%w: AI providers: %v", api.ErrUnavailable, err)
		}
		return a, nil
	}}
}

// designErr maps the realism engine's and the router's errors to the
// API's classes.
func designErr(err error) error {
	switch errs.CodeOf(err) {
	case errs.InvalidArgument, errs.FailedPrecondition:
		return fmt.Errorf("%w: %w", api.ErrInvalid, err)
	case errs.NotFound:
		return fmt.Errorf("%w: %w", api.ErrNotFound, err)
	case errs.ResourceExhausted:
		return &api.CodedError{Code: "ai_quota_exceeded", Msg: errs.Message(err), Kind: &entitlements.LimitError{}}
	case errs.Unavailable:
		return fmt.Errorf("%w: %w", api.ErrUnavailable, err)
	}
	return err
}

// designView is a saved or designed spec as the API shows it.
type designView struct {
	Name      string       `json:"name,omitempty"`
	Version   int64        `json:"version,omitempty"`
	Source    string       `json:"source,omitempty"`
	CreatedAt string       `json:"created_at,omitempty"`
	Spec      *design.Spec `json:"spec"`
	Provider  string       `json:"provider,omitempty"`
	Model     string       `json:"model,omitempty"`
	Usage     *llm.Usage   `json:"usage,omitempty"`
	Cost      *llm.Micros  `json:"cost_micros,omitempty"`
	Score     *float64     `json:"score,omitempty"`
}

// createDesign: POST /v1/designs {"description", "rows", "name"} designs a
// spec with one model call (or the offline provider) → 201; with "spec"
// instead of "description" it validates a hand-written spec. A "name"
// saves the result as the next version of that spec.
func (s *server) createDesign(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Description string          `json:"description"`
		Rows        int64           `json:"rows"`
		Name        string          `json:"name"`
		Spec        json.RawMessage `json:"spec"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	if (body.Description == "") == (len(body.Spec) == 0) {
		writeErr(w, r, &api.FieldError{Field: "description", Reason: "give a description or a spec, not both"})
		return
	}
	if body.Rows < 0 || body.Rows > 1_000_000_000 {
		writeErr(w, r, &api.FieldError{Field: "rows", Reason: "must be 0 (keep the spec's) to 1000000000"})
		return
	}
	ctx := r.Context()
	tenant := principal(r).Tenant
	view := designView{}
	source := "hand"
	if len(body.Spec) > 0 {
		sp, err := design.Parse(body.Spec)
		if err != nil {
			writeErr(w, r, designErr(err))
			return
		}
		if body.Rows > 0 {
			if sp, err = sp.Scale(body.Rows); err != nil {
				writeErr(w, r, designErr(err))
				return
			}
		}
		view.Spec = sp
	} else {
		a, err := s.designs.build()
		if err != nil {
			writeErr(w, r, err)
			return
		}
		sp, res, err := design.Design(ctx, a.Router, tenant, body.Description, body.Rows)
		if err != nil {
			writeErr(w, r, designErr(err))
			return
		}
		source = "designed"
		view.Spec, view.Provider, view.Model = sp, res.Provider, res.Model
		view.Usage, view.Cost, view.Score = &res.Usage, &res.Cost, &res.Score
	}
	if body.Name != "" {
		sv, err := s.designs.store.Save(ctx, tenant, body.Name, source, view.Spec)
		if err != nil {
			writeErr(w, r, designErr(err))
			return
		}
		view.Name, view.Version, view.Source, view.CreatedAt = sv.Name, sv.Version, sv.Source, sv.CreatedAt.Format(time.RFC3339)
	}
	web.WriteJSON(w, http.StatusCreated, view)
}

// listDesigns: GET /v1/designs → the tenant's saved specs and their latest
// versions.
func (s *server) listDesigns(w http.ResponseWriter, r *http.Request) {
	heads, err := s.designs.store.List(r.Context(), principal(r).Tenant)
	if err != nil {
		writeErr(w, r, designErr(err))
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"designs": heads})
}

// getDesign: GET /v1/designs/{name}[?version=N] → a saved spec (latest
// by default).
func (s *server) getDesign(w http.ResponseWriter, r *http.Request) {
	var v int64
	if q := r.URL.Query().Get("version"); q != "" {
		n, err := strconv.ParseInt(q, 10, 64)
		if err != nil || n < 1 {
			writeErr(w, r, &api.FieldError{Field: "version", Reason: "must be a positive integer"})
			return
		}
		v = n
	}
	sv, sp, err := s.designs.store.Get(r.Context(), principal(r).Tenant, r.PathValue("name"), v)
	if err != nil {
		writeErr(w, r, designErr(err))
		return
	}
	web.WriteJSON(w, http.StatusOK, designView{Name: sv.Name, Version: sv.Version, Source: sv.Source, CreatedAt: sv.CreatedAt.Format(time.RFC3339), Spec: sp})
}

// putDesign: PUT /v1/designs/{name} {spec} saves an edited spec as the
// next version → 201.
func (s *server) putDesign(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Spec json.RawMessage `json:"spec"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		writeErr(w, r, err)
		return
	}
	sp, err := design.Parse(body.Spec)
	if err != nil {
		writeErr(w, r, designErr(err))
		return
	}
	sv, err := s.designs.store.Save(r.Context(), principal(r).Tenant, r.PathValue("name"), "hand", sp)
	if err != nil {
		writeErr(w, r, designErr(err))
		return
	}
	web.WriteJSON(w, http.StatusCreated, designView{Name: sv.Name, Version: sv.Version, Source: sv.Source, CreatedAt: sv.CreatedAt.Format(time.RFC3339), Spec: sp})
}

// listDesignVersions: GET /v1/designs/{name}/versions → every version,
// oldest first (without the specs).
func (s *server) listDesignVersions(w http.ResponseWriter, r *http.Request) {
	vs, err := s.designs.store.Versions(r.Context(), principal(r).Tenant, r.PathValue("name"))
	if err != nil {
		writeErr(w, r, designErr(err))
		return
	}
	if len(vs) == 0 {
		writeErr(w, r, fmt.Errorf("design %q: %w", r.PathValue("name"), api.ErrNotFound))
		return
	}
	web.WriteJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

// getDesignSchema: GET /v1/designs/schema → the spec's JSON Schema.
func (s *server) getDesignSchema(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/schema+json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(design.Schema())
}
