package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"gocloud.dev/blob/memblob"

	"synthos.dev/synthos/shared/admission"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/idempotency"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/state"
)

type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, string, []byte, map[string]string) (string, error) {
	return "1", nil
}
func (nopPublisher) Close() error { return nil }

func quotaService(t *testing.T, perMonth int64) *Service {
	t.Helper()
	st, err := state.OpenBolt(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bucket := memblob.OpenBucket(nil)
	t.Cleanup(func() { bucket.Close() })
	keys, err := apikeys.New(st, bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := plans.New([]plans.Plan{{Name: plans.Free, RowsPerMonth: perMonth, RowsPerJob: perMonth, ConcurrentJobs: 10, ReportRetentionDays: 1}})
	if err != nil {
		t.Fatal(err)
	}
	adm, err := admission.New(st, admission.Options{Catalog: catalog})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewService(st, bucket, nopPublisher{}, keys, adm)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCreateJobQuota: a job reserves its rows when it is admitted; a
// replay under the same Idempotency-Key finds the same job and reserves
// nothing more; a job over the month's quota is refused with 429 naming
// the limit, and holds nothing.
func TestCreateJobQuota(t *testing.T) {
	t.Parallel()
	s := quotaService(t, 100)
	ctx := context.Background()
	p := &apikeys.Principal{Tenant: "acme", KeyID: "k1"}
	if err := s.Datasets.Create(ctx, &datasets.Dataset{ID: "ds", Tenant: "acme", Name: "t.csv", Key: "tenants/acme/datasets/ds/t.csv", Format: "csv", Status: "ready"}); err != nil {
		t.Fatal(err)
	}
	req := jobs.Request{Dataset: "ds", Rows: 60, Model: "tree", Format: "csv"}
	usage := func() entitlements.Usage {
		t.Helper()
		u, err := s.Entitlements.Usage(ctx, "acme", entitlements.MonthOf(s.Now()))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	ictx := idempotency.WithSeed(ctx, "seed-1")
	j1, err := s.CreateJob(ictx, p, req, true)
	if err != nil || j1.QuotaReservation == nil || j1.QuotaReservation.Rows != 60 {
		t.Fatalf("first job: %+v %v", j1, err)
	}
	again, err := s.CreateJob(ictx, p, req, true)
	if err != nil || again.ID != j1.ID || usage().Reserved != 60 {
		t.Fatalf("replay: %+v %v, usage %+v", again, err, usage())
	}
	_, err = s.CreateJob(ctx, p, req, true)
	var le *entitlements.LimitError
	if !errors.As(err, &le) || le.Limit != entitlements.LimitRowsPerMonth || entitlements.HTTPStatus(err) != http.StatusTooManyRequests {
		t.Fatalf("over the quota: %v", err)
	}
	if status, code, d := Status(err); status != 429 || code != "quota_exceeded" || d["limit"] != "rows_per_month" {
		t.Errorf("status of the refusal: %d %s %v", status, code, d)
	}
	if msg := err.Error(); !strings.Contains(msg, "limit rows_per_month") {
		t.Errorf("message %q does not name the limit", msg)
	}
	if u := usage(); u.Reserved != 60 || len(u.Jobs) != 1 {
		t.Errorf("a refusal reserved rows: %+v", u)
	}
}
