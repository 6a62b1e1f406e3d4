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

	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/billing/entitlements"
	"synthos.dev/synthos/shared/billing/plans"
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
	s, err := NewService(st, bucket, nopPublisher{}, keys, catalog)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestReserveQuotaKeys: reserving the same job id again reuses the open
// reservation; once the job id's reservation was released (an attempt that
// could not queue the job), the same job id reserves afresh under the next
// key instead of getting a reservation that holds nothing. Refusals name
// the limit and are 429.
func TestReserveQuotaKeys(t *testing.T) {
	t.Parallel()
	s := quotaService(t, 100)
	ctx := context.Background()
	p := &apikeys.Principal{Tenant: "acme", KeyID: "k1"}
	req := jobs.Request{Dataset: "ds", Rows: 60, Model: "tree"}
	usage := func() entitlements.Usage {
		t.Helper()
		u, err := s.Entitlements.Usage(ctx, "acme", entitlements.MonthOf(s.Now()))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	r1, err := s.reserveQuota(ctx, p, req, "job_a", 0)
	if err != nil || r1.JobID != "job_a" || r1.Rows != 60 {
		t.Fatalf("first reservation: %+v %v", r1, err)
	}
	again, err := s.reserveQuota(ctx, p, req, "job_a", 0)
	if err != nil || *again != *r1 || usage().Reserved != 60 {
		t.Fatalf("replay: %+v %v, usage %+v", again, err, usage())
	}
	if err := s.releaseQuota(ctx, &jobs.Job{ID: "job_a", QuotaReservation: r1}); err != nil {
		t.Fatal(err)
	}
	r2, err := s.reserveQuota(ctx, p, req, "job_a", 0)
	if err != nil || r2.JobID != "job_a.1" || r2.Rows != 60 {
		t.Fatalf("after a release: %+v %v", r2, err)
	}
	if u := usage(); u.Reserved != 60 || u.Jobs["job_a.1"] != 60 {
		t.Errorf("usage after re-reserving: %+v", u)
	}
	if r3, err := s.reserveQuota(ctx, p, req, "job_a", 0); err != nil || *r3 != *r2 || usage().Reserved != 60 {
		t.Errorf("replay of the re-reservation: %+v %v, usage %+v", r3, err, usage())
	}

	_, err = s.reserveQuota(ctx, p, req, "job_b", 0)
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
