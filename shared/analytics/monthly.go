package analytics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/webhooks"
)

// Executive gathers the executive report of month (any day in it) for
// tenant ("" for the platform) as of now: the month's days for its charts
// and the 56 days before the month's end (or now, within the month) for
// the insights. quota and rowsPerMonth come from the tenant's plan (nil
// and 0: unknown, or the platform).
func (s *Store) Executive(ctx context.Context, tenant string, month, now time.Time, quota *Quota, rowsPerMonth int64) (Executive, error) {
	month = time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	end := month.AddDate(0, 1, -1)
	asOf := end
	if now.Before(end) {
		asOf = now
	}
	days, err := s.Days(ctx, Query{Tenant: tenant, From: asOf.AddDate(0, 0, -55), To: asOf})
	if err != nil {
		return Executive{}, err
	}
	var inMonth []Daily
	for _, d := range days {
		if d.Day >= month.Format(time.DateOnly) {
			inMonth = append(inMonth, d)
		}
	}
	e := Executive{Scope: "platform", Month: month, Days: Summarize(inMonth, month, end, Day), RowsPerMonth: rowsPerMonth}
	if tenant != "" {
		e.Scope = "tenant " + tenant
	}
	e.Insights = Analyze(days, asOf, quota)
	return e, nil
}

// ReportEventType is the webhook event type of the monthly executive
// report. Endpoints subscribed to it (or to report.* or every type) get
// the page of the month just ended, once.
const ReportEventType = "report.monthly"

// CollReportsSent marks each tenant's monthly report as sent
// ("<tenant>|<YYYY-MM>"), and a month whose every report was sent
// ("*|<YYYY-MM>"), so a pass after that costs one read.
const CollReportsSent = "analytics_reports_sent"

// ReportPayload is the webhook's data: the month, the scope and the
// self-contained HTML page (as GET /v1/analytics/report serves it).
type ReportPayload struct {
	Month       string `json:"month"` // YYYY-MM
	Scope       string `json:"scope"`
	ContentType string `json:"content_type"`
	HTML        string `json:"html"`
}

// maxReportBytes keeps a report inside a delivery-log document (Firestore
// allows 1 MiB a document, and the log keeps the exact body).
const maxReportBytes = 700 << 10

type sentMark struct {
	At time.Time `json:"at"`
}

// SendMonthly sends last month's executive report (the month before now)
// to every tenant subscribed to ReportEventType, each at most once: a tenant
// whose endpoints all accepted it is marked; the others are tried again on
// the next pass (the reaper's tick calls it). Each report's event id is
// stable ("report.monthly:<tenant>:<YYYY-MM>"), so endpoints that accepted
// it are not sent it again and receivers can dedupe on webhook-id. It
// returns how many tenants were sent their report, and the failures joined.
func SendMonthly(ctx context.Context, st state.Store, a *Store, hooks *webhooks.Service, now time.Time) (int, error) {
	now = now.UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	key := month.Format("2006-01")
	var mark sentMark
	if err := st.Get(ctx, CollReportsSent, DocID("*", key), &mark); err == nil {
		return 0, nil
	} else if !errors.Is(err, state.ErrNotFound) {
		return 0, fmt.Errorf("analytics.SendMonthly: %w", err)
	}
	tenants, err := hooks.Subscribers(ctx, ReportEventType)
	if err != nil {
		return 0, fmt.Errorf("analytics.SendMonthly: %w", err)
	}
	sent := 0
	var failed []error
	for _, tenant := range tenants {
		id := DocID(tenant, key)
		if err := st.Get(ctx, CollReportsSent, id, &mark); err == nil {
			continue
		} else if !errors.Is(err, state.ErrNotFound) {
			failed = append(failed, fmt.Errorf("tenant %s: %w", tenant, err))
			continue
		}
		if err := sendReport(ctx, a, hooks, tenant, month, now); err != nil {
			failed = append(failed, fmt.Errorf("tenant %s: %w", tenant, err))
			continue
		}
		if err := st.Set(ctx, CollReportsSent, id, sentMark{At: now}); err != nil {
			failed = append(failed, fmt.Errorf("tenant %s: mark sent: %w", tenant, err))
			continue
		}
		sent++
	}
	if len(failed) > 0 {
		return sent, fmt.Errorf("analytics.SendMonthly %s: %w", key, errors.Join(failed...))
	}
	if err := st.Set(ctx, CollReportsSent, DocID("*", key), sentMark{At: now}); err != nil {
		return sent, fmt.Errorf("analytics.SendMonthly %s: mark the month: %w", key, err)
	}
	return sent, nil
}

func sendReport(ctx context.Context, a *Store, hooks *webhooks.Service, tenant string, month, now time.Time) error {
	e, err := a.Executive(ctx, tenant, month, now, nil, 0)
	if err != nil {
		return err
	}
	var page bytes.Buffer
	if err := WriteExecutiveHTML(&page, e); err != nil {
		return err
	}
	if page.Len() > maxReportBytes {
		return fmt.Errorf("report of %d bytes exceeds the %d a webhook carries", page.Len(), maxReportBytes)
	}
	key := month.Format("2006-01")
	data, err := json.Marshal(ReportPayload{Month: key, Scope: e.Scope, ContentType: "text/html; charset=utf-8", HTML: page.String()})
	if err != nil {
		return err
	}
	return hooks.Deliver(ctx, webhooks.Event{ID: ReportEventType + ":" + tenant + ":" + key, Tenant: tenant, Type: ReportEventType, At: now, Data: data})
}
