// Package edge is the security layer in front of the public HTTP functions
// (the API and the billing webhooks). Per request, in this order:
//
//  1. security headers on every response (HSTS, nosniff, frame and
//     referrer policies);
//  2. the request validator: URL, header and body size limits, no control
//     bytes (414, 431, 413, 400);
//  3. the client address, through the configured number of trusted proxies;
//  4. the platform's allow and deny CIDR lists, then temporary bans (403);
//  5. the per-address rate limit (429 with Retry-After and RateLimit
//     headers);
//  6. the WAF (Coraza with the OWASP Core Rule Set; 403 with the request id
//     in block mode); repeated blocks from one address earn a ban;
//  7. after authentication (Authorized): the tenant's own CIDR lists, the
//     per-key and per-tenant rate limits of the tenant's plan, and Synthos'
//     request rules (secrules), which may score, block or ban;
//  8. after the handler: response rules (many 404s: enumeration).
//
// Failed authentications (AuthFailed) count against the address on a limit
// of their own; beyond it, and on secrules' credential-stuffing rule, the
// address is banned, for twice as long at each new strike.
//
// Every refusal that is a security matter (WAF block or detection, rule
// match, ban, denied address, failed key) is a security event: an audit
// record, a counter, and a log line. Rate-limit refusals are counted and
// logged but not audited one by one (a flood would flood the log).
//
// A failing dependency (Redis down) fails open, logged: the edge must not
// take the API down with it. Bans and rates then hold per instance only.
package edge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/edge/reqlimit"
	"synthos.dev/synthos/shared/ipfilter"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/ratelimit"
	"synthos.dev/synthos/shared/secrules"
	"synthos.dev/synthos/shared/waf"
	"synthos.dev/synthos/shared/web"
)

// PlanSource answers a tenant's current plan.
type PlanSource func(ctx context.Context, tenant string) (plans.Plan, error)

// Limits bound what a request may carry (package reqlimit).
type Limits = reqlimit.Limits

// DefaultLimits are reqlimit's defaults.
var DefaultLimits = reqlimit.Default

// Options configure a Guard. Zero limits disable what they limit.
type Options struct {
	TrustedProxies int
	// Platform is the configured allow and deny lists, for every caller.
	Platform ipfilter.Rules
	// Tenants holds each tenant's own lists (nil: none).
	Tenants *ipfilter.TenantStore
	WAF     *waf.WAF          // nil: no WAF
	Rules   *secrules.Engine  // nil: no rules
	Limiter ratelimit.Limiter // required
	Bans    ipfilter.Bans     // required
	Plans   PlanSource        // nil: DefaultKey/DefaultTenant for everyone
	// PlanTTL is how long a tenant's plan is cached (a plan change takes
	// effect within it).
	PlanTTL time.Duration
	// IPLimit limits every request from one address, before anything else
	// is spent on it.
	IPLimit ratelimit.Limit
	// AuthFailLimit limits failed authentications from one address; the
	// first one beyond it bans the address.
	AuthFailLimit ratelimit.Limit
	// WAFBlockLimit is how many WAF blocks one address may earn before it
	// is banned.
	WAFBlockLimit ratelimit.Limit
	// DefaultKey and DefaultTenant apply to plans without request limits.
	DefaultKey, DefaultTenant ratelimit.Limit
	// ScoreThreshold blocks a request whose rule score reaches it.
	ScoreThreshold int
	Limits         Limits
	// HSTSMaxAge is Strict-Transport-Security's max-age (0: a year).
	HSTSMaxAge time.Duration
	Sink       Sink
	Logger     *slog.Logger
}

// Guard is the edge; safe for concurrent use.
type Guard struct {
	o     Options
	plans *planCache
	hsts  string
}

// New returns a Guard.
func New(o Options) (*Guard, error) {
	if o.Limiter == nil || o.Bans == nil {
		return nil, fmt.Errorf("edge: a limiter and a ban store are required")
	}
	if o.Sink == nil {
		o.Sink = NopSink{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PlanTTL == 0 {
		o.PlanTTL = 30 * time.Second
	}
	if o.HSTSMaxAge == 0 {
		o.HSTSMaxAge = 365 * 24 * time.Hour
	}
	g := &Guard{o: o, hsts: fmt.Sprintf("max-age=%d; includeSubDomains", int64(o.HSTSMaxAge.Seconds()))}
	if o.Plans != nil {
		g.plans = newPlanCache(o.Plans, o.PlanTTL)
	}
	return g, nil
}

// SetSecurityHeaders writes the headers every response carries.
func (g *Guard) SetSecurityHeaders(h http.Header) {
	h.Set("Strict-Transport-Security", g.hsts)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// frame-ancestors only: the HTML report is one self-contained page
	// with inline styles and scripts, which a stricter policy would break.
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

type stateKey struct{}

// reqState is what the edge learns about a request as it goes.
type reqState struct {
	ip       netip.Addr
	keyID    string
	tenant   string
	policies []ratelimit.Policy
}

func stateFrom(ctx context.Context) *reqState {
	s, _ := ctx.Value(stateKey{}).(*reqState)
	return s
}

// ClientIP returns the client address the edge settled on ("" outside it).
func ClientIP(ctx context.Context) string {
	if s := stateFrom(ctx); s != nil && s.ip.IsValid() {
		return s.ip.String()
	}
	return ""
}

// Refusal is a request the edge answers itself.
type Refusal = reqlimit.Refusal

// Wrap returns next behind the pre-authentication checks (steps 1-6 and 8
// of the package comment).
func (g *Guard) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.SetSecurityHeaders(w.Header())
		if ref := g.o.Limits.Validate(r, waf.SynthosSkipBody(r)); ref != nil {
			g.refuse(w, r, ref, nil)
			return
		}
		ctx := r.Context()
		st := &reqState{ip: ipfilter.ClientIP(r, g.o.TrustedProxies)}
		ctx = context.WithValue(ctx, stateKey{}, st)
		// The ServeMux records the route it matched on the request it is
		// given, which is our copy; hand it back to the caller's request,
		// which the request logger, metrics and span read (obs.Middleware).
		orig := r
		defer func() { orig.Pattern = r.Pattern }()
		r = r.WithContext(ctx)

		if d := g.o.Platform.Check(st.ip); d != ipfilter.Admitted {
			g.record(ctx, r, SecurityEvent{Type: "ip.denied", Action: "block", Detail: string(d)})
			g.refuse(w, r, &Refusal{Status: http.StatusForbidden, Code: "ip_denied", Message: "requests from this address are not accepted"}, nil)
			return
		}
		if st.ip.IsValid() {
			until, banned, err := g.o.Bans.Banned(ctx, st.ip)
			if err != nil {
				g.o.Logger.WarnContext(ctx, "edge: ban lookup failed; letting the request through", "error", err)
			} else if banned {
				obs.Logger(ctx).InfoContext(ctx, "edge: banned address refused", "until", until)
				g.refuse(w, r, &Refusal{Status: http.StatusForbidden, Code: "ip_banned", Message: "this address is temporarily banned after repeated failures or attacks"}, &until)
				return
			}
		}
		if g.o.IPLimit.Valid() {
			if !g.limit(w, r, st, "ip", "ip:"+st.ip.String(), g.o.IPLimit) {
				return
			}
		}
		// No body (a GET: http.NoBody) stays none, so the WAF sees a
		// request without a body and runs its bodyless rule variant.
		if g.o.Limits.MaxBodyBytes > 0 && r.Body != nil && r.Body != http.NoBody && !waf.SynthosSkipBody(r) {
			r.Body = http.MaxBytesReader(w, r.Body, g.o.Limits.MaxBodyBytes)
		}
		if g.o.WAF != nil && g.o.WAF.Mode() != waf.Off {
			v, r2, err := g.o.WAF.Inspect(r, st.ip)
			if err != nil {
				// A body that cannot be read cannot be served either.
				g.refuse(w, r, &Refusal{Status: http.StatusBadRequest, Code: "invalid_request", Message: "the request body could not be read"}, nil)
				return
			}
			r = r2
			if v.Flagged {
				ev := SecurityEvent{Type: "waf.detected", Action: "log", Rule: v.RuleIDs()}
				if v.Blocked {
					ev.Type, ev.Action = "waf.blocked", "block"
				}
				g.record(ctx, r, ev)
			}
			if v.Blocked {
				g.strikeOnRate(ctx, r, st, "wafblock:", g.o.WAFBlockLimit, "waf")
				g.refuse(w, r, &Refusal{Status: http.StatusForbidden, Code: "request_blocked", Message: "the request was blocked by the web application firewall; if it is legitimate, contact support with the request id"}, nil)
				return
			}
		}
		rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		if g.o.Rules != nil {
			out, err := g.o.Rules.Evaluate(ctx, secrules.Event{On: secrules.OnResponse, Method: r.Method, Path: r.URL.Path,
				Status: rec.status, Header: r.Header, IP: st.ip.String(), Key: st.keyID, Tenant: st.tenant})
			g.applyRules(ctx, r, st, out, err)
		}
	})
}

// limit checks one rate limit, adds it to the request's RateLimit headers
// and answers 429 when it is spent.
func (g *Guard) limit(w http.ResponseWriter, r *http.Request, st *reqState, name, key string, l ratelimit.Limit) bool {
	res, err := g.o.Limiter.Allow(r.Context(), key, l)
	if err != nil {
		g.o.Logger.WarnContext(r.Context(), "edge: rate limiter failed; letting the request through", "limit", name, "error", err)
		g.o.Sink.Count("ratelimit.error", name)
		return true
	}
	st.policies = append(st.policies, ratelimit.Policy{Name: name, Result: res})
	ratelimit.SetHeaders(w.Header(), st.policies...)
	if res.Allowed {
		return true
	}
	g.o.Sink.Count("ratelimit.exceeded", name)
	web.WriteError(w, http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("too many requests (%s limit: %d per %s, burst %d); retry after %s", name, l.Rate, l.Period, l.Burst, w.Header().Get("Retry-After")+"s"),
		map[string]any{"limit": name, "retry_after_seconds": retryAfter(res.RetryAfter)})
	return false
}

func retryAfter(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(1, s)
}

// strikeOnRate counts an offence of st's address on l; beyond it the
// address earns a strike (a ban).
func (g *Guard) strikeOnRate(ctx context.Context, r *http.Request, st *reqState, prefix string, l ratelimit.Limit, why string) {
	if !l.Valid() || !st.ip.IsValid() {
		return
	}
	res, err := g.o.Limiter.Allow(ctx, prefix+st.ip.String(), l)
	if err != nil {
		g.o.Logger.WarnContext(ctx, "edge: offence counter failed", "error", err)
		return
	}
	if !res.Allowed {
		g.ban(ctx, r, st, why)
	}
}

func (g *Guard) ban(ctx context.Context, r *http.Request, st *reqState, why string) {
	if !st.ip.IsValid() {
		return
	}
	n, until, err := g.o.Bans.Strike(ctx, st.ip)
	if err != nil {
		g.o.Logger.WarnContext(ctx, "edge: ban failed", "error", err)
		return
	}
	g.record(ctx, r, SecurityEvent{Type: "ip.banned", Action: "ban", Detail: fmt.Sprintf("%s; strike %d; until %s", why, n, until.UTC().Format(time.RFC3339))})
}

// Authorized runs the checks that need the caller (step 7). It answers the
// request itself and returns false when the request must stop.
func (g *Guard) Authorized(w http.ResponseWriter, r *http.Request, p *apikeys.Principal) (*http.Request, bool) {
	ctx := r.Context()
	st := stateFrom(ctx)
	if st == nil { // not behind Wrap (a test, or a function without the edge)
		st = &reqState{ip: ipfilter.ClientIP(r, g.o.TrustedProxies)}
		ctx = context.WithValue(ctx, stateKey{}, st)
		r = r.WithContext(ctx)
	}
	st.keyID, st.tenant = p.KeyID, p.Tenant
	if g.o.Tenants != nil {
		rules, err := g.o.Tenants.Rules(ctx, p.Tenant)
		if err != nil {
			g.o.Logger.WarnContext(ctx, "edge: tenant IP rules unavailable; letting the request through", "error", err)
		} else if d := rules.Check(st.ip); d != ipfilter.Admitted {
			g.record(ctx, r, SecurityEvent{Type: "ip.denied", Action: "block", Detail: "tenant rules: " + string(d)})
			g.refuse(w, r, &Refusal{Status: http.StatusForbidden, Code: "ip_denied", Message: "your organisation's IP rules do not allow requests from this address (GET /v1/security/ip-rules)"}, nil)
			return r, false
		}
	}
	key, tenant := g.o.DefaultKey, g.o.DefaultTenant
	if g.plans != nil {
		pl, err := g.plans.get(ctx, p.Tenant)
		if err != nil {
			g.o.Logger.WarnContext(ctx, "edge: plan unavailable; default rate limits apply", "error", err)
		} else {
			if pl.RequestsPerMinute > 0 {
				key.Rate, key.Period = pl.RequestsPerMinute, time.Minute
			}
			if pl.RequestBurst > 0 {
				key.Burst = pl.RequestBurst
			}
			if pl.TenantRequestsPerMinute > 0 {
				tenant.Rate, tenant.Period = pl.TenantRequestsPerMinute, time.Minute
			}
			if pl.RequestBurst > 0 {
				tenant.Burst = 2 * pl.RequestBurst
			}
		}
	}
	if key.Valid() && !g.limit(w, r, st, "key", "key:"+p.KeyID, key) {
		return r, false
	}
	if tenant.Valid() && !g.limit(w, r, st, "tenant", "tenant:"+p.Tenant, tenant) {
		return r, false
	}
	if g.o.Rules != nil {
		ev := secrules.Event{On: secrules.OnRequest, Method: r.Method, Path: r.URL.Path, Header: r.Header,
			IP: st.ip.String(), Key: p.KeyID, Tenant: p.Tenant}
		if r.Body != nil && g.o.Rules.NeedsBody(r.Method, r.URL.Path) {
			// Bodies here are JSON bounded by MaxBodyBytes; the handler
			// reads the same bytes again.
			b, err := io.ReadAll(r.Body)
			if err != nil {
				g.refuse(w, r, &Refusal{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the request body could not be read: " + err.Error()}, nil)
				return r, false
			}
			ev.Body = b
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		out, err := g.o.Rules.Evaluate(ctx, ev)
		if g.applyRules(ctx, r, st, out, err) {
			g.refuse(w, r, &Refusal{Status: http.StatusForbidden, Code: "request_blocked", Message: "the request was blocked by a security rule (" + ruleIDs(out) + "); if it is legitimate, contact support with the request id"}, nil)
			return r, false
		}
	}
	return r, true
}

// AuthFailed counts a failed authentication against the client address
// (and runs the auth_failure rules); repeated failures ban the address.
// presented is the key as sent; only a digest prefix is kept.
func (g *Guard) AuthFailed(r *http.Request, presented string) {
	ctx := r.Context()
	st := stateFrom(ctx)
	if st == nil {
		st = &reqState{ip: ipfilter.ClientIP(r, g.o.TrustedProxies)}
	}
	g.o.Sink.Count("auth.failed", "")
	g.record(ctx, r, SecurityEvent{Type: "auth.failed", Action: "log", Detail: keyDigest(presented)})
	g.strikeOnRate(ctx, r, st, "authfail:", g.o.AuthFailLimit, "failed authentications")
	if g.o.Rules != nil {
		out, err := g.o.Rules.Evaluate(ctx, secrules.Event{On: secrules.OnAuthFailure, Method: r.Method, Path: r.URL.Path,
			Header: r.Header, IP: st.ip.String(), Key: keyDigest(presented)})
		g.applyRules(ctx, r, st, out, err)
	}
}

// applyRules records matches, bans when a ban rule fired, and reports
// whether the request must be refused.
func (g *Guard) applyRules(ctx context.Context, r *http.Request, st *reqState, out secrules.Outcome, err error) bool {
	if err != nil {
		g.o.Logger.WarnContext(ctx, "edge: security rules failed; letting the request through", "error", err)
	}
	for _, m := range out.Matches {
		g.record(ctx, r, SecurityEvent{Type: "rule.matched", Rule: m.RuleID, Action: string(m.Action), Detail: m.Description})
	}
	if out.Ban {
		g.ban(ctx, r, st, "rule "+ruleIDs(out))
	}
	return out.Block || (g.o.ScoreThreshold > 0 && out.Score >= g.o.ScoreThreshold)
}

func ruleIDs(out secrules.Outcome) string {
	var b []byte
	for i, m := range out.Matches {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, m.RuleID...)
	}
	return string(b)
}

// refuse answers a refusal with the request id (the trace id, also in the
// traceparent header) so support can find the record.
func (g *Guard) refuse(w http.ResponseWriter, r *http.Request, ref *Refusal, until *time.Time) {
	id := RequestID(r.Context())
	if id != "" {
		w.Header().Set("X-Request-Id", id)
	}
	details := map[string]any{"request_id": id}
	if until != nil {
		secs := retryAfter(time.Until(*until))
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		details["retry_after_seconds"] = secs
	}
	web.WriteError(w, ref.Status, ref.Code, ref.Message, details)
}

// RequestID is the id a refused client quotes: the request's trace id.
func RequestID(ctx context.Context) string {
	if t, ok := obs.TraceFrom(ctx); ok {
		return t.TraceID
	}
	return ""
}

func (g *Guard) record(ctx context.Context, r *http.Request, ev SecurityEvent) {
	st := stateFrom(ctx)
	if st != nil {
		ev.IP, ev.Tenant, ev.KeyID = st.ip, st.tenant, st.keyID
	}
	ev.Method, ev.Path, ev.RequestID = r.Method, r.URL.Path, RequestID(ctx)
	g.o.Sink.Count(ev.Type, ev.Rule)
	g.o.Sink.Record(ctx, ev)
	obs.Logger(ctx).WarnContext(ctx, "security event", "type", ev.Type, "rule", ev.Rule, "action", ev.Action,
		"path", ev.Path, "client_net", maskIP(ev.IP), "tenant", ev.Tenant, "detail", ev.Detail)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// ClientAddr returns the client address the edge settled on (invalid
// outside it).
func ClientAddr(ctx context.Context) netip.Addr {
	if s := stateFrom(ctx); s != nil {
		return s.ip
	}
	return netip.Addr{}
}
