package subscriptions_test

import (
	"context"
	"testing"
	"time"

	"synthos.dev/synthos/functions/subscriptions"
	"synthos.dev/synthos/shared/billing"
	"synthos.dev/synthos/shared/billing/billingtest"
	"synthos.dev/synthos/shared/billing/subscription"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/platform"
)

func TestNew(t *testing.T) {
	st := billingtest.Bolt(t)
	t.Setenv("SYNTHOS_PLANS_JSON", `{"plans":[{"name":"free","rows_per_month":10,"rows_per_job":10,"concurrent_jobs":1,"report_retention_days":1},
		{"name":"pro","rows_per_month":1000,"rows_per_job":100,"dp_allowed":true,"concurrent_jobs":2,"report_retention_days":30,"price_ids":["pri_pro"]}]}`)
	h, err := subscriptions.New(&platform.Env{State: st})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	m := &events.Message{ID: "1", Data: billingtest.PaddleSubscription("evt_1", "subscription.activated", at, "sub_1", "active", "tenant-f", "pri_pro"),
		Attributes: map[string]string{billing.AttrProvider: "paddle", billing.AttrEventID: "evt_1", billing.AttrEventType: "subscription.activated"}}
	if err := h(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	var r subscription.Record
	if err := st.Get(context.Background(), subscription.CollRecords, "tenant-f", &r); err != nil || r.Plan != "pro" {
		t.Fatalf("record = %+v, %v; want the configured catalog's pro plan", r, err)
	}

	t.Setenv("SYNTHOS_PLANS_JSON", `{"plans":[]}`)
	if _, err := subscriptions.New(&platform.Env{State: st}); err == nil {
		t.Fatal("an invalid plans catalog was accepted")
	}
}
