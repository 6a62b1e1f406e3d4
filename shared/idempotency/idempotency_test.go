package idempotency

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"synthos.dev/synthos/shared/state"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newStore(t *testing.T) (*Store, *clock) {
	t.Helper()
	st, err := state.Open(context.Background(), "bolt://"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	s, err := New(st, Options{TTL: time.Hour, LeaseTTL: time.Minute, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := newStore(t)
	claim, err := s.Begin(ctx, "t", "k", "fp1")
	if err != nil || claim.Replay != nil {
		t.Fatalf("first begin: %+v %v", claim, err)
	}
	steps := []struct {
		name    string
		tenant  string
		fp      string
		advance time.Duration
		want    error
	}{
		{"duplicate while running", "t", "fp1", 0, ErrInProgress},
		{"other request, same key", "t", "fp2", 0, ErrMismatch},
		{"other tenant, same key", "u", "fp2", 0, nil},
	}
	for _, st := range steps {
		c.add(st.advance)
		_, err := s.Begin(ctx, st.tenant, "k", st.fp)
		if !errors.Is(err, st.want) {
			t.Errorf("%s: %v, want %v", st.name, err, st.want)
		}
	}
	resp := Response{Status: 202, ContentType: "application/json", Body: []byte(`{"id":"j"}`)}
	if err := s.Complete(ctx, claim, resp); err != nil {
		t.Fatal(err)
	}
	again, err := s.Begin(ctx, "t", "k", "fp1")
	if err != nil || again.Replay == nil || again.Replay.Status != 202 || string(again.Replay.Body) != `{"id":"j"}` {
		t.Fatalf("replay: %+v %v", again, err)
	}
	if _, err := s.Begin(ctx, "t", "k", "fp2"); !errors.Is(err, ErrMismatch) {
		t.Errorf("mismatch after completion: %v", err)
	}
	c.add(2 * time.Hour) // past the TTL: the key is free again
	fresh, err := s.Begin(ctx, "t", "k", "fp2")
	if err != nil || fresh.Replay != nil || fresh.Seed == claim.Seed {
		t.Errorf("after expiry (a new record, a new seed): %+v %v", fresh, err)
	}
}

func TestLeaseTakeoverAndAbandon(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, c := newStore(t)
	old, err := s.Begin(ctx, "t", "k", "fp")
	if err != nil {
		t.Fatal(err)
	}
	c.add(2 * time.Minute) // the first attempt's process died
	newer, err := s.Begin(ctx, "t", "k", "fp")
	if err != nil || newer.Replay != nil {
		t.Fatalf("takeover: %+v %v", newer, err)
	}
	if newer.Seed != old.Seed || old.Seed == "" {
		t.Errorf("a takeover must keep the seed: %q then %q", old.Seed, newer.Seed)
	}
	if err := s.Complete(ctx, old, Response{Status: 500}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("stale complete: %v", err)
	}
	if err := s.Abandon(ctx, old); err != nil {
		t.Errorf("stale abandon: %v", err)
	}
	if _, err := s.Begin(ctx, "t", "k", "fp"); !errors.Is(err, ErrInProgress) {
		t.Errorf("stale abandon released the newer claim: %v", err)
	}
	if err := s.Abandon(ctx, newer); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Begin(ctx, "t", "k", "fp"); err != nil || c.Replay != nil {
		t.Errorf("after abandon: %+v %v", c, err)
	}
}

func TestConcurrentBeginOneWins(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	var won, busy atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := s.Begin(context.Background(), "t", "k", "fp")
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, ErrInProgress):
				busy.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 || busy.Load() != 19 {
		t.Errorf("won %d, in progress %d", won.Load(), busy.Load())
	}
}

func TestCanonicalJSONAndKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		same bool
	}{
		{`{"a":1,"b":[1,2]}`, "{ \"b\": [1, 2],\n \"a\": 1 }", true},
		{`{"a":1.0}`, `{"a":1}`, false}, // numbers kept as written
		{`{"a":1}`, `{"a":2}`, false},
		{`not json`, `not json`, true},
		{`not json`, `not  json`, false},
	}
	for _, tc := range tests {
		if got := string(CanonicalJSON([]byte(tc.a))) == string(CanonicalJSON([]byte(tc.b))); got != tc.same {
			t.Errorf("%q vs %q: same = %v", tc.a, tc.b, got)
		}
	}
	for _, k := range []string{"", string(make([]byte, 256)), "tab\tkey"} {
		if err := CheckKey(k); !errors.Is(err, ErrInvalid) {
			t.Errorf("CheckKey(%q) = %v", k, err)
		}
	}
	if DeriveID("t", "k", "job", "job_") != DeriveID("t", "k", "job", "job_") || DeriveID("t", "k", "job", "") == DeriveID("u", "k", "job", "") {
		t.Error("DeriveID is not a function of tenant and key")
	}
}
