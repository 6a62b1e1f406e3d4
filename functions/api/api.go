// Package api is the HTTPS API function: health and readiness, and the REST
// surface under /v1 (datasets, jobs, reports, outputs, keys, webhooks)
// described by the OpenAPI document served at /v1/openapi.json.
//
// Every /v1 route except the document is authenticated with an API key
// (Authorization: Bearer sk_… or X-API-Key), scoped to the key's tenant
// (another tenant's ids are 404, never 403) and to its scopes (read for GET,
// write for datasets and jobs changes and webhook replays, admin for keys,
// privacy budget caps and webhook endpoints). Every POST honours
// Idempotency-Key. Handlers decode, call shared/api and encode.
package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"synthos.dev/synthos/shared/admission"
	"synthos.dev/synthos/shared/analytics"
	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/console"
	"synthos.dev/synthos/shared/edge"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/health"
	"synthos.dev/synthos/shared/idempotency"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/models"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/vertex"
	"synthos.dev/synthos/shared/web"
	"synthos.dev/synthos/shared/webhooks"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 1 << 20

// Options tune the API beyond what the Env provides.
type Options struct {
	// AuthTTL is how long a verified key is cached (api.DefaultAuthTTL when
	// zero; negative disables the cache).
	AuthTTL time.Duration
	// MaxUpload bounds a table uploaded directly (api.DefaultMaxUpload
	// when zero).
	MaxUpload int64
	// MaxResumable bounds a table sent through an upload session (the
	// configuration's SYNTHOS_MAX_UPLOAD_BYTES when zero).
	MaxResumable int64
	// Sessions starts upload sessions; nil: Cloud Storage resumable
	// sessions when the object store is gs://, else the API's own chunked
	// PUT.
	Sessions api.SessionStarter
	// ChunkGranularity overrides the 256 KiB multiple of chunked PUTs
	// (tests of small tables).
	ChunkGranularity int64
	// Pepper overrides the api-key-pepper secret (tests).
	Pepper []byte
	// Plans is the plan catalog enforced on new jobs; nil reads it with
	// plans.FromEnv (SYNTHOS_PLANS_FILE / SYNTHOS_PLANS_JSON, else the
	// default plans).
	Plans *plans.Catalog
	// WebhookClient configures the client that replays webhook deliveries
	// and the check of endpoint URLs. The zero value is production's: https
	// only, public addresses only (the SSRF guard); tests of loopback
	// receivers set AllowHTTP and AllowLoopbackForTests.
	WebhookClient webhooks.ClientOptions
	// Keyring overrides the Env's keyring (tests).
	Keyring *keyring.Keyring
	// PlatformAdmins are the tenants whose admin keys read the
	// platform-wide analytics; nil takes SYNTHOS_PLATFORM_ADMIN_TENANTS.
	PlatformAdmins []string
	// Vertex deploys custom models (tests pass a client of a fake Vertex
	// AI); nil builds one from SYNTHOS_VERTEX_REGION when it is set.
	Vertex api.ModelDeployer
	// PredictRowsPerSecond overrides SYNTHOS_PREDICT_ROWS_PER_SECOND
	// (negative: unbounded).
	PredictRowsPerSecond float64
	// Edge is the security layer (rate limits, IP rules and bans, the WAF,
	// security rules, security headers); nil builds it from the
	// configuration (edge.FromConfig).
	Edge *edge.Guard
	// BillingLinks overrides the billing link configuration (tests); nil
	// reads it from the environment (billing.LoadLinksConfig).
	BillingLinks *billing.LinksConfig
}

// New returns the API's routes.
func New(env *platform.Env) (http.Handler, error) {
	return NewWithOptions(env, Options{})
}

// NewWithOptions returns the API's routes with o.
func NewWithOptions(env *platform.Env, o Options) (http.Handler, error) {
	pepper := o.Pepper
	if pepper == nil {
		var err error
		// Read once at start: the pepper does not rotate without a redeploy
		// (rotating it invalidates every key).
		pepper, err = env.Secrets.Get(context.Background(), apikeys.PepperSecret)
		if err != nil {
			return nil, fmt.Errorf("api: read the %s secret (locally, `synthos serve` or `synthos keys create` creates it): %w", apikeys.PepperSecret, err)
		}
	}
	keys, err := apikeys.New(env.State, pepper)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	catalog := o.Plans
	if catalog == nil {
		if catalog, err = plans.FromEnv(nil); err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
	}
	// The default cap of every dataset's privacy budget comes from the
	// configuration (SYNTHOS_DP_BUDGET_EPSILON / _DELTA).
	eps, delta := env.Config.DPBudget()
	aopts := admission.Options{Catalog: catalog, BudgetEpsilon: eps, BudgetDelta: delta}
	// SYNTHOS_AI_BUDGETS overrides the catalog's AI budgets per plan.
	if aopts.AIBudgets, err = plans.ParseAIBudgets(env.Config.AIBudgets()); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if env.Destinations != nil {
		aopts.Place = admission.PlaceWith(env.Destinations.Store(), env.Placement())
	}
	adm, err := admission.New(env.State, aopts)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	svc, err := api.NewService(env.State, env.Objects, env.Events, keys, adm)
	if err != nil {
		return nil, err
	}
	svc.Destinations, svc.Placement, svc.Zones = env.Destinations, env.Placement(), env.Zones
	if o.MaxUpload > 0 {
		svc.MaxUpload = o.MaxUpload
	}
	switch {
	case o.MaxResumable > 0:
		svc.MaxResumable = o.MaxResumable
	case env.Config != nil:
		svc.MaxResumable = env.Config.MaxUploadBytes
	}
	svc.Sessions, svc.ChunkGranularity = o.Sessions, o.ChunkGranularity
	if env.Config != nil {
		svc.Regimes = env.Config.Regimes
	}
	svc.Secrets = env.Secrets
	svc.Models = models.New(env.State, env.Objects)
	svc.Vertex = o.Vertex
	switch {
	case o.PredictRowsPerSecond != 0:
		svc.PredictRowsPerSecond = o.PredictRowsPerSecond
	case env.Config != nil:
		svc.PredictRowsPerSecond = env.Config.PredictRowsPerSecond
	}
	if svc.Vertex == nil && env.Config != nil && env.Config.VertexRegion != "" {
		u, err := url.Parse(env.Config.ObjectsURL)
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		vc, err := vertex.New(context.Background(), vertex.Config{Project: env.Config.Project, Region: env.Config.VertexRegion, Bucket: u.Host, Objects: env.Objects})
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		svc.Vertex = vc
	}
	if svc.Sessions == nil && env.Config != nil {
		if u, err := url.Parse(env.Config.ObjectsURL); err == nil && u.Scheme == "gs" {
			svc.Sessions = api.NewGCSSessions(u.Host)
		}
	}
	// The key that encrypts webhook signing secrets is read on first use
	// (a missing secret answers 503 on /v1/webhooks only).
	svc.Webhooks = api.NewWebhooks(env.State, env.Secrets, webhooks.Options{Client: o.WebhookClient, Logger: env.Logger})
	svc.Keyring = env.Keyring
	if o.Keyring != nil {
		svc.Keyring = func(context.Context) (*keyring.Keyring, error) { return o.Keyring, nil }
	}
	svc.Webhooks.Keyring = svc.Keyring
	ttl := o.AuthTTL
	if ttl == 0 {
		ttl = api.DefaultAuthTTL
	}
	idem, err := idempotency.New(env.State, idempotency.Options{})
	if err != nil {
		return nil, err
	}
	kmsKey, keyName := "", ""
	if env.Config != nil {
		kmsKey, keyName = env.Config.AuditKMSKey, env.Config.AuditKeyName
	}
	an, err := analytics.New(env.State)
	if err != nil {
		return nil, err
	}
	ent, err := entitlements.New(env.State, catalog, nil)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	guard := o.Edge
	if guard == nil {
		guard, err = edge.FromConfig(context.Background(), env.Config, edge.Deps{State: env.State, Events: env.Events,
			Plans: adm.Entitlements().Plan, Logger: env.Logger})
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
	}
	s := &server{svc: svc, auth: api.NewAuthenticator(keys, ttl), idem: idem, edge: guard,
		audit: api.NewAuditProofs(env.State, kmsKey, keyName, env.Secrets), designs: newDesigns(env, ent),
		analytics: an}
	svc.Assistant, svc.Designs = s.designs.lazy, s.designs.store
	s.platformAdmins = o.PlatformAdmins
	if s.console, err = console.New(); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if s.billing, err = newBillingLinks(env, catalog, o.BillingLinks); err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	if s.platformAdmins == nil && env.Config != nil {
		s.platformAdmins = env.Config.PlatformAdminTenants
	}
	return guard.Wrap(s.routes(env)), nil
}

type server struct {
	svc       *api.Service
	auth      *api.Authenticator
	idem      *idempotency.Store
	audit     *api.AuditProofs
	designs   *designs
	analytics *analytics.Store
	edge      *edge.Guard
	// platformAdmins are the tenants whose admin keys see the platform-wide
	// analytics (SYNTHOS_PLATFORM_ADMIN_TENANTS).
	platformAdmins []string
	// console is the web console at / and /console/… (shared/console).
	console *console.Handler
	// billing hands out Paddle checkout and Stripe portal links.
	billing *billingLinks
}

// route is one authenticated endpoint.
type route struct {
	method, path string
	scope        apikeys.Scope
	h            http.HandlerFunc
}

func (s *server) table() []route {
	return []route{
		{"POST", "/v1/datasets", apikeys.Write, s.uploadDataset},
		{"GET", "/v1/datasets", apikeys.Read, s.listDatasets},
		{"POST", "/v1/datasets/uploads", apikeys.Write, s.beginUpload},
		{"GET", "/v1/datasets/{id}", apikeys.Read, s.getDataset},
		{"PUT", "/v1/datasets/{id}/content", apikeys.Write, s.putContent},
		{"POST", "/v1/datasets/{id}/complete", apikeys.Write, s.completeUpload},
		{"GET", "/v1/datasets/{id}/privacy-budget", apikeys.Read, s.getPrivacyBudget},
		{"PUT", "/v1/datasets/{id}/privacy-budget", apikeys.Admin, s.putPrivacyBudget},
		{"POST", "/v1/datasets/{id}/anonymize", apikeys.Write, s.anonymizeDataset},
		{"POST", "/v1/models", apikeys.Write, s.uploadModel},
		{"GET", "/v1/models", apikeys.Read, s.listModels},
		{"GET", "/v1/models/{id}", apikeys.Read, s.getModel},
		{"DELETE", "/v1/models/{id}", apikeys.Write, s.deleteModel},
		{"POST", "/v1/models/{id}", apikeys.Read, s.modelAction},
		{"POST", "/v1/models/uploads", apikeys.Write, s.beginModelUpload},
		{"PUT", "/v1/models/{id}/content", apikeys.Write, s.putModelContent},
		{"POST", "/v1/models/{id}/complete", apikeys.Write, s.completeModelUpload},
		{"POST", "/v1/jobs", apikeys.Write, s.createJob},
		{"GET", "/v1/jobs", apikeys.Read, s.listJobs},
		{"GET", "/v1/jobs/{id}", apikeys.Read, s.getJob},
		{"POST", "/v1/jobs/{id}/cancel", apikeys.Write, s.cancelJob},
		{"GET", "/v1/jobs/{id}/report", apikeys.Read, s.getReport},
		{"GET", "/v1/jobs/{id}/compliance", apikeys.Read, s.getCompliance},
		{"GET", "/v1/jobs/{id}/output", apikeys.Read, s.getOutput},
		{"GET", "/v1/jobs/{id}/output/content", apikeys.Read, s.getOutputContent},
		{"GET", "/v1/jobs/{id}/model-test", apikeys.Read, s.getModelTest},
		{"POST", "/v1/keys", apikeys.Admin, s.createKey},
		{"GET", "/v1/keys", apikeys.Admin, s.listKeys},
		{"DELETE", "/v1/keys/{id}", apikeys.Admin, s.revokeKey},
		{"GET", "/v1/usage", apikeys.Read, s.getUsage},
		{"GET", "/v1/analytics/usage", apikeys.Read, s.getAnalytics("usage")},
		{"GET", "/v1/analytics/quality", apikeys.Read, s.getAnalytics("quality")},
		{"GET", "/v1/analytics/privacy", apikeys.Read, s.getAnalytics("privacy")},
		{"GET", "/v1/analytics/insights", apikeys.Read, s.getInsights},
		{"GET", "/v1/analytics/live", apikeys.Read, s.getLive},
		{"GET", "/v1/analytics/report", apikeys.Read, s.getExecutiveReport},
		{"POST", "/v1/webhooks", apikeys.Admin, s.createWebhook},
		{"GET", "/v1/webhooks", apikeys.Read, s.listWebhooks},
		{"GET", "/v1/webhooks/deliveries", apikeys.Read, s.listWebhookDeliveries},
		{"GET", "/v1/webhooks/deliveries/{id}", apikeys.Read, s.getWebhookDelivery},
		{"POST", "/v1/webhooks/deliveries/{id}/replay", apikeys.Write, s.replayWebhookDelivery},
		{"GET", "/v1/webhooks/{id}", apikeys.Read, s.getWebhook},
		{"PATCH", "/v1/webhooks/{id}", apikeys.Admin, s.patchWebhook},
		{"DELETE", "/v1/webhooks/{id}", apikeys.Admin, s.deleteWebhook},
		{"POST", "/v1/webhooks/{id}/rotate", apikeys.Admin, s.rotateWebhookSecret},
		{"GET", "/v1/audit/checkpoint", apikeys.Read, s.getAuditCheckpoint},
		{"GET", "/v1/audit/consistency", apikeys.Read, s.getAuditConsistency},
		{"GET", "/v1/audit/{seq}/proof", apikeys.Read, s.getAuditProof},
		{"GET", "/v1/encryption", apikeys.Admin, s.getEncryption},
		{"PUT", "/v1/encryption", apikeys.Admin, s.putEncryption},
		{"POST", "/v1/encryption/rotate", apikeys.Admin, s.rotateEncryption},
		{"DELETE", "/v1/tenant", apikeys.Admin, s.deleteTenant},
		{"POST", "/v1/designs", apikeys.Write, s.createDesign},
		{"GET", "/v1/designs", apikeys.Read, s.listDesigns},
		{"GET", "/v1/designs/schema", apikeys.Read, s.getDesignSchema},
		{"GET", "/v1/designs/{name}", apikeys.Read, s.getDesign},
		{"PUT", "/v1/designs/{name}", apikeys.Write, s.putDesign},
		{"GET", "/v1/designs/{name}/versions", apikeys.Read, s.listDesignVersions},
		{"POST", "/v1/destinations", apikeys.Admin, s.createDestination},
		{"POST", "/v1/datasets/import", apikeys.Write, s.importDataset},
		{"GET", "/v1/destinations", apikeys.Read, s.listDestinations},
		{"GET", "/v1/destinations/{id}", apikeys.Read, s.getDestination},
		{"POST", "/v1/destinations/{id}/verify", apikeys.Admin, s.verifyDestination},
		{"DELETE", "/v1/destinations/{id}", apikeys.Admin, s.deleteDestination},
		{"GET", "/v1/storage-policy", apikeys.Read, s.getStoragePolicy},
		{"PUT", "/v1/storage-policy", apikeys.Admin, s.putStoragePolicy},
		{"GET", "/v1/datasets/{id}/storage-policy", apikeys.Read, s.getStoragePolicy},
		{"PUT", "/v1/datasets/{id}/storage-policy", apikeys.Admin, s.putStoragePolicy},
		{"GET", "/v1/security/ip-rules", apikeys.Admin, s.getIPRules},
		{"PUT", "/v1/security/ip-rules", apikeys.Admin, s.putIPRules},
		{"GET", "/v1/anonymize/keys", apikeys.Admin, s.getAnonymizeKeys},
		{"POST", "/v1/anonymize/keys/rotate", apikeys.Admin, s.rotateAnonymizeKeys},
		{"POST", "/v1/anonymize/detokenize", apikeys.Admin, s.detokenize},
		{"POST", "/v1/billing/checkout", apikeys.Admin, s.createCheckout},
		{"POST", "/v1/billing/portal", apikeys.Admin, s.createPortal},
	}
}

func (s *server) routes(env *platform.Env) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", health.Healthz())
	mux.Handle("GET /readyz", env.Health.Readyz())
	mux.HandleFunc("GET /v1/openapi.json", serveOpenAPI)

	// Methods in the order the table first names them, for Allow.
	var methods []string
	for _, rt := range s.table() {
		mux.Handle(rt.method+" "+rt.path, s.authenticated(rt.scope, s.idempotent(rt.h)))
		if !slices.Contains(methods, rt.method) {
			methods = append(methods, rt.method)
		}
	}
	const fallback = "/v1/"
	mux.HandleFunc(fallback, func(w http.ResponseWriter, r *http.Request) {
		// A known path with another method is 405 with Allow: the methods
		// some route answers on this path.
		var allow []string
		for _, m := range methods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != fallback && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			web.WriteError(w, http.StatusMethodNotAllowed, "method_not_allowed",
				r.Method+" is not allowed on "+r.URL.Path, map[string]any{"allow": allow})
			return
		}
		web.WriteError(w, http.StatusNotFound, "not_found", "no route for "+r.Method+" "+r.URL.Path,
			map[string]any{"see": "/v1/openapi.json"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// The web console owns the page and its asset paths; anything else
		// outside /v1 stays a JSON 404.
		if console.Owns(r.URL.Path) {
			s.console.ServeHTTP(w, r)
			return
		}
		web.WriteError(w, http.StatusNotFound, "not_found", "no route for "+r.Method+" "+r.URL.Path,
			map[string]any{"see": "/v1/openapi.json", "routes": []string{"GET /healthz", "GET /readyz", "GET / (web console)", "/v1/..."}})
	})
	return mux
}

// authenticated verifies the key and the scope, then runs h with the
// principal in the context.
func (s *server) authenticated(scope apikeys.Scope, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		presented := api.KeyFromRequest(r)
		p, err := s.auth.Authenticate(ctx, presented)
		if err != nil {
			if errors.Is(err, apikeys.ErrUnauthenticated) {
				s.edge.AuthFailed(r, presented)
				w.Header().Set("WWW-Authenticate", `Bearer realm="synthos"`)
				web.WriteError(w, http.StatusUnauthorized, "unauthenticated",
					"a valid API key is required: send Authorization: Bearer sk_… (or X-API-Key)", nil)
				return
			}
			writeErr(w, r, err)
			return
		}
		// The tenant's IP rules, the plan's rate limits and the security
		// rules apply before the scope: a refused key still counts.
		r, ok := s.edge.Authorized(w, r, p)
		if !ok {
			return
		}
		ctx = r.Context()
		if !p.Has(scope) {
			s.svc.EmitDenied(ctx, p, r.Method+" "+r.URL.Path, "missing scope "+string(scope))
			web.WriteError(w, http.StatusForbidden, "forbidden",
				fmt.Sprintf("this key lacks the %s scope needed for %s %s", scope, r.Method, r.URL.Path),
				map[string]any{"required_scope": string(scope)})
			return
		}
		h.ServeHTTP(w, r.WithContext(api.WithPrincipal(ctx, p)))
	})
}

// idempotent applies Idempotency-Key handling to POSTs.
func (s *server) idempotent(h http.Handler) http.Handler {
	return s.idem.Middleware(idempotency.HTTPOptions{
		Tenant: func(r *http.Request) string {
			p, _ := api.PrincipalFrom(r.Context())
			return p.Tenant
		},
		MaxBody:   maxJSONBody,
		MaxUpload: s.svc.MaxUpload + maxJSONBody, // multipart framing on top of the table
	}, h)
}

// principal returns the caller; authenticated guarantees it.
func principal(r *http.Request) *apikeys.Principal {
	p, _ := api.PrincipalFrom(r.Context())
	return p
}

// writeErr answers err as the JSON error envelope with its status.
func writeErr(w http.ResponseWriter, r *http.Request, err error) {
	status, code, details := api.Status(err)
	msg := errs.Message(err) // the user-facing message when the error has one
	if status >= 500 {
		ctx := r.Context()
		obs.Logger(ctx).ErrorContext(ctx, "request failed", "path", r.URL.Path, "error", err)
		if status == http.StatusInternalServerError {
			msg = "internal error; the request id is in the traceparent response header"
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "5")
		}
	}
	web.WriteError(w, status, code, msg, details)
}

// baseURL is the scheme and host the client used.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
