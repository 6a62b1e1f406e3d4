package audit_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/state"
)

func openLog(t *testing.T) (*audit.Log, state.Store) {
	t.Helper()
	st, err := state.Open(context.Background(), "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return audit.NewLog(st), st
}

var day1 = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func ev(id, tenant string, at time.Time) audit.Event {
	return audit.Event{ID: id, Tenant: tenant, Actor: "system:test", Action: "job.created", Resource: "jobs/j1", Outcome: "success", At: at}
}

func TestAppendRedelivered(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log, _ := openLog(t)
	first, stored, err := log.Append(ctx, ev("e1", "t1", day1))
	if err != nil || !stored || first.Seq != 1 || first.Day != "2026-05-04" || first.StoredAt.IsZero() {
		t.Fatalf("first Append = %+v, stored %v, %v", first, stored, err)
	}
	again, stored, err := log.Append(ctx, ev("e1", "t1", day1.Add(time.Hour)))
	if err != nil || stored || again.Seq != 1 || !again.At.Equal(day1) {
		t.Fatalf("redelivered Append = %+v, stored %v, %v; want the first record, not stored", again, stored, err)
	}
	if h, err := log.Head(ctx, "t1"); err != nil || h.Seq != 1 || h.LastID != "e1" {
		t.Fatalf("Head = %+v, %v", h, err)
	}
	recs, err := log.List(ctx, "t1", audit.Query{})
	if err != nil || len(recs) != 1 {
		t.Fatalf("List = %d records, %v; want 1", len(recs), err)
	}
	if h, err := log.Head(ctx, "nobody"); err != nil || h.Seq != 0 {
		t.Fatalf("Head of an empty tenant = %+v, %v", h, err)
	}
}

// TestSeqGaplessConcurrent delivers every event twice from concurrent
// workers, for two tenants and platform-wide events at once.
func TestSeqGaplessConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log, _ := openLog(t)
	const perTenant = 40
	tenants := []string{"t1", "t2", ""}
	type job struct{ e audit.Event }
	jobs := make(chan job)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		newCount = map[string]int{}
		errs     []error
	)
	for range 6 {
		wg.Go(func() {
			for j := range jobs {
				_, stored, err := log.Append(ctx, j.e)
				mu.Lock()
				if err != nil {
					errs = append(errs, err)
				} else if stored {
					newCount[j.e.ID]++
				}
				mu.Unlock()
			}
		})
	}
	for i := range perTenant {
		for _, tn := range tenants {
			e := ev(fmt.Sprintf("%s-e%03d", tn, i), tn, day1.Add(time.Duration(i)*time.Minute))
			jobs <- job{e}
			jobs <- job{e} // the redelivery, possibly concurrent with the first
		}
	}
	close(jobs)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("Append failed: %v", errors.Join(errs...))
	}
	for id, n := range newCount {
		if n != 1 {
			t.Errorf("event %s stored %d times", id, n)
		}
	}
	for _, tn := range tenants {
		recs, err := log.List(ctx, tn, audit.Query{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != perTenant {
			t.Fatalf("tenant %q has %d records, want %d", tn, len(recs), perTenant)
		}
		seen := map[string]bool{}
		for i, r := range recs {
			if r.Seq != int64(i+1) {
				t.Fatalf("tenant %q: record %d has seq %d; sequence numbers must be 1..n without gaps", tn, i, r.Seq)
			}
			if r.Tenant != tn || seen[r.ID] {
				t.Fatalf("tenant %q: record %+v is foreign or repeated", tn, r)
			}
			seen[r.ID] = true
		}
		h, err := log.Head(ctx, tn)
		if err != nil || h.Seq != perTenant || h.LastID != recs[perTenant-1].ID {
			t.Fatalf("tenant %q head %+v (%v), last record %s", tn, h, err, recs[perTenant-1].ID)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log, _ := openLog(t)
	day2 := day1.Add(24 * time.Hour)
	for i, e := range []audit.Event{
		ev("a1", "t1", day1), ev("a2", "t1", day2), ev("a3", "t1", day1.Add(time.Hour)), ev("b1", "t2", day1),
	} {
		if _, _, err := log.Append(ctx, e); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	tests := []struct {
		name string
		q    audit.Query
		want []string
	}{
		{"all in seq order", audit.Query{}, []string{"a1", "a2", "a3"}},
		{"latest first", audit.Query{Desc: true}, []string{"a3", "a2", "a1"}},
		{"limit", audit.Query{Desc: true, Limit: 1}, []string{"a3"}},
		{"one day", audit.Query{Day: day1}, []string{"a1", "a3"}},
		{"the other day", audit.Query{Day: day2}, []string{"a2"}},
		{"a day without records", audit.Query{Day: day2.Add(48 * time.Hour)}, nil},
	}
	for _, tt := range tests {
		recs, err := log.List(ctx, "t1", tt.q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range recs {
			got = append(got, r.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if r, err := log.Get(ctx, "b1"); err != nil || r.Tenant != "t2" || r.Seq != 1 {
		t.Fatalf("Get = %+v, %v", r, err)
	}
	if _, err := log.Get(ctx, "zz"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Get of a missing id: %v", err)
	}
}

func TestAppendInvalid(t *testing.T) {
	t.Parallel()
	log, _ := openLog(t)
	tests := []struct {
		name string
		e    audit.Event
	}{
		{"no id", audit.Event{Action: "x", At: day1}},
		{"id with slash", audit.Event{ID: "a/b", Action: "x", At: day1}},
		{"reserved id", audit.Event{ID: "__x__", Action: "x", At: day1}},
		{"tenant with slash", audit.Event{ID: "e", Tenant: "a/b", Action: "x", At: day1}},
		{"no action", audit.Event{ID: "e", At: day1}},
		{"no time", audit.Event{ID: "e", Action: "x"}},
	}
	for _, tt := range tests {
		if _, _, err := log.Append(context.Background(), tt.e); !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("%s: Append = %v, want ErrInvalid", tt.name, err)
		}
	}
}
