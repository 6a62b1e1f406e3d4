package ledger

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/state/statetest"
)

func TestLedger(t *testing.T) {
	t.Parallel()
	for name, open := range statetest.Drivers() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// Collections of its own: the emulator's database is shared.
			s, prefix := open(t), statetest.Collection(t)+"_"
			l, err := New(s, Options{Prefix: prefix, DefaultEpsilon: 1, DefaultDelta: 1e-9})
			if err != nil {
				t.Fatal(err)
			}
			t.Run("Lifecycle", func(t *testing.T) { testLifecycle(t, l) })
			t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, l) })
			t.Run("Invalid", func(t *testing.T) { testInvalid(t, l) })
		})
	}
}

func testLifecycle(t *testing.T, l *Ledger) {
	ctx := t.Context()
	const tenant, dataset = "acme", "people/2024" // a slash, which ids may not hold
	b, err := l.Get(ctx, tenant, dataset)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := dp.Rho(1, 1e-9)
	if b.CapRho != want || b.RemainingRho() != want {
		t.Fatalf("default budget %+v, want cap %v", b, want)
	}
	a, err := l.Reserve(ctx, tenant, dataset, "job-a", 0.006)
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.Reserve(ctx, tenant, dataset, "job-b", 0.006)
	if err != nil {
		t.Fatal(err)
	}
	// 0.012 of about 0.01497 is set aside: 0.006 more does not fit.
	_, err = l.Reserve(ctx, tenant, dataset, "job-c", 0.006)
	var be *BudgetError
	if !errors.As(err, &be) || !errors.Is(err, ErrOverBudget) {
		t.Fatalf("over-budget reserve: %v", err)
	}
	if math.Abs(be.RemainingRho-(want-0.012)) > 1e-12 || !(be.RemainingEpsilon > 0 && be.RemainingEpsilon < 1) {
		t.Errorf("BudgetError %+v", be)
	}
	if err := l.Commit(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, a); err != nil {
		t.Errorf("second commit: %v", err)
	}
	if err := l.Release(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(ctx, a); !errors.Is(err, ErrState) {
		t.Errorf("release after commit: %v, want ErrState", err)
	}
	if err := l.Commit(ctx, c); !errors.Is(err, ErrState) {
		t.Errorf("commit after release: %v, want ErrState", err)
	}
	if err := l.Commit(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("commit unknown: %v, want ErrNotFound", err)
	}
	b, err = l.Get(ctx, tenant, dataset)
	if err != nil {
		t.Fatal(err)
	}
	if b.Spent != 0.006 || b.Pending != 0 {
		t.Errorf("after commit and release: spent %v pending %v", b.Spent, b.Pending)
	}
	hist, err := l.History(ctx, tenant, dataset)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist {
		got = append(got, h.Job+":"+h.State)
		if h.Created.IsZero() || h.Settled.IsZero() {
			t.Errorf("charge %+v lacks times", h)
		}
	}
	if strings.Join(got, ",") != "job-a:committed,job-b:released" {
		t.Errorf("history %v", got)
	}
	// Raising the cap makes room again; composition is additive.
	if err := l.SetCap(ctx, tenant, dataset, 10, 1e-9); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(ctx, tenant, dataset, "job-d", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(ctx, tenant, dataset, "job-e", 0.1); !errors.Is(err, ErrOverBudget) {
		t.Errorf("reserve past the raised cap (about 1.09): %v", err)
	}
}

// testConcurrent races many reservations against a cap that fits exactly
// some of them: no interleaving may overspend.
func testConcurrent(t *testing.T, l *Ledger) {
	ctx := t.Context()
	const tenant, dataset, workers, fits = "race", "d", 24, 7
	// Cap eps 1 (rho about 0.01497): reservations of cap/7.5 fit 7 times.
	capRho, _ := dp.Rho(1, 1e-9)
	rho := capRho / (fits + 0.5)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, over, aborted := 0, 0, 0
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.Reserve(ctx, tenant, dataset, "job-"+string(rune('a'+i)), rho)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, ErrOverBudget):
				over++
			case errors.Is(err, state.ErrAborted):
				aborted++ // contention exhausted the retries: nothing spent
			default:
				t.Errorf("reserve: %v", err)
			}
		}()
	}
	wg.Wait()
	b, err := l.Get(ctx, tenant, dataset)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d reserved, %d over budget, %d aborted; pending %v of cap %v", ok, over, aborted, b.Pending, b.CapRho)
	if ok > fits || b.Pending > b.CapRho {
		t.Fatalf("overspent: %d reservations of %v against cap %v (pending %v)", ok, rho, b.CapRho, b.Pending)
	}
	if math.Abs(b.Pending-float64(ok)*rho) > 1e-12 {
		t.Errorf("pending %v, want %d × %v", b.Pending, ok, rho)
	}
	if aborted == 0 && ok != fits {
		t.Errorf("%d reservations succeeded, want %d", ok, fits)
	}
	hist, err := l.History(ctx, tenant, dataset)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != ok {
		t.Errorf("history has %d charges, want %d", len(hist), ok)
	}
}

func testInvalid(t *testing.T, l *Ledger) {
	ctx := t.Context()
	cases := []struct {
		name string
		err  error
	}{
		{"empty tenant", func() error { _, err := l.Reserve(ctx, "", "d", "j", 0.1); return err }()},
		{"empty job", func() error { _, err := l.Reserve(ctx, "t", "d", "", 0.1); return err }()},
		{"zero rho", func() error { _, err := l.Reserve(ctx, "t", "d", "j", 0); return err }()},
		{"nan rho", func() error { _, err := l.Reserve(ctx, "t", "d", "j", math.NaN()); return err }()},
		{"bad cap", l.SetCap(ctx, "t", "d", -1, 1e-9)},
		{"bad delta", l.SetCap(ctx, "t", "d", 1, 2)},
		{"empty id", l.Release(ctx, "")},
	}
	for _, c := range cases {
		if !errors.Is(c.err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", c.name, c.err)
		}
	}
}

func TestNoDefaultBudget(t *testing.T) {
	t.Parallel()
	s, err := state.Open(t.Context(), "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := New(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Reserve(t.Context(), "t", "d", "j", 0.001)
	var be *BudgetError
	if !errors.As(err, &be) || be.RemainingRho != 0 {
		t.Fatalf("reserve without a cap: %v", err)
	}
}
