package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"synthos.dev/synthos/shared/analytics"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/web"
)

// defaultAnalyticsDays is the range of a query without from: the last 30
// days to today (UTC).
const defaultAnalyticsDays = 30

// getAnalytics answers GET /v1/analytics/{view} (usage, quality or
// privacy): the tenant's daily aggregates summed by day, week or month
// over from..to, and per dataset. ?scope=platform gives every tenant's,
// to admin keys of the tenants in SYNTHOS_PLATFORM_ADMIN_TENANTS.
func (s *server) getAnalytics(view string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := s.analyticsQuery(r)
		if err != nil {
			writeErr(w, r, err)
			return
		}
		res, err := s.analytics.Aggregate(r.Context(), q)
		if err != nil {
			writeErr(w, r, err)
			return
		}
		web.WriteJSON(w, http.StatusOK, project(view, res, q.Tenant == ""))
	}
}

// analyticsQuery reads from, to, granularity, dataset and scope.
func (s *server) analyticsQuery(r *http.Request) (analytics.Query, error) {
	p := principal(r)
	v := r.URL.Query()
	q := analytics.Query{Tenant: p.Tenant, Dataset: v.Get("dataset")}
	switch v.Get("scope") {
	case "", "tenant":
	case "platform":
		if !p.Has(apikeys.Admin) || !slices.Contains(s.platformAdmins, p.Tenant) {
			return q, errs.Public(errs.PermissionDenied, "the platform view needs an admin key of a platform admin tenant (SYNTHOS_PLATFORM_ADMIN_TENANTS)")
		}
		q.Tenant = ""
	default:
		return q, errs.Public(errs.InvalidArgument, "scope %q: use tenant or platform", v.Get("scope"))
	}
	g, err := analytics.ParseGranularity(v.Get("granularity"))
	if err != nil {
		return q, err
	}
	q.Granularity = g
	q.To = time.Now().UTC()
	if t := v.Get("to"); t != "" {
		if q.To, err = time.Parse(time.DateOnly, t); err != nil {
			return q, errs.Public(errs.InvalidArgument, "to %q is not a date (YYYY-MM-DD)", t)
		}
	}
	q.From = q.To.AddDate(0, 0, -(defaultAnalyticsDays - 1))
	if f := v.Get("from"); f != "" {
		if q.From, err = time.Parse(time.DateOnly, f); err != nil {
			return q, errs.Public(errs.InvalidArgument, "from %q is not a date (YYYY-MM-DD)", f)
		}
	}
	return q, nil
}

// project keeps the figures of one view.
func project(view string, res *analytics.Result, platform bool) map[string]any {
	buckets := make([]map[string]any, 0, len(res.Buckets))
	for _, b := range res.Buckets {
		m := map[string]any{"start": b.Start, "jobs": b.Jobs}
		switch view {
		case "usage":
			m["succeeded"], m["failed"], m["cancelled"] = b.Succeeded, b.Failed, b.Cancelled
			m["rows"], m["compute_seconds"], m["epsilon"] = b.Rows, b.Seconds, b.Epsilon
			m["failures"] = orEmpty(b.Failures)
			m["cost_usd"], m["compute_cost_usd"], m["ai_cost_usd"] = b.Cost, b.ComputeCost, b.AICost
		case "quality":
			m["quality"], m["failed"] = b.Quality, b.Failed
		case "privacy":
			m["privacy"], m["epsilon"] = b.Privacy, b.Epsilon
		}
		buckets = append(buckets, m)
	}
	datasets := map[string]any{}
	for id, d := range res.Datasets {
		m := map[string]any{"jobs": d.Jobs}
		switch view {
		case "usage":
			m["rows"], m["failed"], m["epsilon"] = d.Rows, d.Failed, d.Epsilon
			m["cost_usd"] = d.Cost
		case "quality":
			byModel := map[string]any{}
			for model, sc := range d.QualityByModel {
				byModel[model] = map[string]any{"mean": sc.Mean(), "jobs": sc.N}
			}
			m["quality"], m["by_model"] = d.Quality, byModel
		case "privacy":
			m["privacy"], m["epsilon"] = d.Privacy, d.Epsilon
		}
		datasets[id] = m
	}
	scope := "tenant"
	if platform {
		scope = "platform"
	}
	return map[string]any{"view": view, "scope": scope, "from": res.From, "to": res.To,
		"granularity": res.Granularity, "buckets": buckets, "datasets": datasets}
}

func orEmpty(m map[string]int64) map[string]int64 {
	if m == nil {
		return map[string]int64{}
	}
	return m
}

// getInsights answers GET /v1/analytics/insights: 7- and 28-day trends,
// the forecast of the month's row quota, anomaly flags and recommendations
// with their evidence, from the last 56 days of the tenant's aggregates.
func (s *server) getInsights(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	now := time.Now().UTC()
	days, err := s.analytics.Days(r.Context(), analytics.Query{Tenant: p.Tenant, From: now.AddDate(0, 0, -55), To: now})
	if err != nil {
		writeErr(w, r, err)
		return
	}
	var quota *analytics.Quota
	if u, err := s.svc.Usage(r.Context(), p); err == nil && u.Limits.RowsPerMonth > 0 {
		quota = &analytics.Quota{Used: u.Used + u.Reserved, Limit: u.Limits.RowsPerMonth, ResetsAt: u.ResetsAt}
	}
	web.WriteJSON(w, http.StatusOK, analytics.Analyze(days, now, quota))
}

// liveInterval bounds ?interval= of the live view.
const (
	liveDefault = 2 * time.Second
	liveMin     = 500 * time.Millisecond
	liveMax     = time.Minute
)

// getLive streams GET /v1/analytics/live as server-sent events: a
// "snapshot" event (analytics.Live: running jobs, today's counts and rates)
// at once and every ?interval= (default 2s, 0.5s..60s) until the client
// leaves. ?max= ends the stream after that many events (scripts, tests).
func (s *server) getLive(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	interval := liveDefault
	if v := r.URL.Query().Get("interval"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < liveMin || d > liveMax {
			writeErr(w, r, errs.Public(errs.InvalidArgument, "interval %q: a duration from 500ms to 1m", v))
			return
		}
		interval = d
	}
	maxEvents := 0
	if v := r.URL.Query().Get("max"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeErr(w, r, errs.Public(errs.InvalidArgument, "max %q: a positive number of events", v))
			return
		}
		maxEvents = n
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	t := time.NewTicker(interval)
	defer t.Stop()
	ctx := r.Context()
	for n := 1; ; n++ {
		live, err := s.analytics.Snapshot(ctx, jobs.New(s.svc.State), s.svc.Admission.RunningJobs, p.Tenant, time.Now())
		if err != nil {
			obs.Logger(ctx).ErrorContext(ctx, "live analytics", "error", err)
			fmt.Fprintf(w, "event: error\ndata: {\"code\":\"unavailable\"}\n\n")
		} else {
			b, _ := json.Marshal(live)
			fmt.Fprintf(w, "id: %d\nevent: snapshot\ndata: %s\n\n", n, b)
		}
		if err := rc.Flush(); err != nil || maxEvents > 0 && n >= maxEvents {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// getExecutiveReport answers GET /v1/analytics/report?month=YYYY-MM: the
// month's self-contained executive HTML page (default this month), for the
// tenant or, with scope=platform, every tenant.
func (s *server) getExecutiveReport(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	q, err := s.analyticsQuery(r) // scope and its check
	if err != nil {
		writeErr(w, r, err)
		return
	}
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if v := r.URL.Query().Get("month"); v != "" {
		if month, err = time.Parse("2006-01", v); err != nil {
			writeErr(w, r, errs.Public(errs.InvalidArgument, "month %q: use YYYY-MM", v))
			return
		}
	}
	var quota *analytics.Quota
	var rowsPerMonth int64
	if q.Tenant != "" {
		if u, err := s.svc.Usage(r.Context(), p); err == nil && u.Limits.RowsPerMonth > 0 {
			rowsPerMonth = u.Limits.RowsPerMonth
			if u.Month == month.Format("2006-01") {
				quota = &analytics.Quota{Used: u.Used + u.Reserved, Limit: u.Limits.RowsPerMonth, ResetsAt: u.ResetsAt}
			}
		}
	}
	e, err := s.analytics.Executive(r.Context(), q.Tenant, month, now, quota, rowsPerMonth)
	if err != nil {
		writeErr(w, r, err)
		return
	}
	if q.Tenant != "" {
		e.Scope = "tenant " + p.Tenant
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="synthos-%s.html"`, month.Format("2006-01")))
	if err := analytics.WriteExecutiveHTML(w, e); err != nil {
		obs.Logger(r.Context()).ErrorContext(r.Context(), "executive report", "error", err)
	}
}
