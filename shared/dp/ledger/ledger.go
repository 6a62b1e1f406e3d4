// Package ledger keeps the differential-privacy budget of each tenant's
// datasets on a state.Store.
//
// Every dataset has a cap, stated in (epsilon, delta) and stored as the
// rho-zCDP that the tight conversion allows (dp.Rho). A job reserves the rho
// it will spend before fitting; the reservation counts against the cap at
// once, so concurrent jobs cannot overspend. It is committed when the model
// is kept and released (refunded) when the fit fails, since a failed fit
// releases nothing. Rho adds up across jobs (zCDP composition), so the
// remaining budget is cap - committed - reserved. Every step is one
// serializable transaction, and every charge is kept as a document, so the
// history of a dataset's spending can be listed.
package ledger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// Errors callers act on.
var (
	// ErrOverBudget: the reservation would exceed the cap. The error is a
	// *BudgetError carrying the remaining budget; the API answers 409.
	ErrOverBudget = errs.New(errs.ResourceExhausted, "ledger: privacy budget exhausted")
	// ErrInvalid: a bad argument (empty tenant, dataset or job, a
	// non-positive rho, a bad cap).
	ErrInvalid = errs.New(errs.InvalidArgument, "ledger: invalid argument")
	// ErrNotFound: no reservation has that id.
	ErrNotFound = errs.New(errs.NotFound, "ledger: reservation not found")
	// ErrState: the reservation was already settled the other way (commit
	// after release or release after commit).
	ErrState = errs.New(errs.FailedPrecondition, "ledger: reservation already settled")
)

// BudgetError reports a reservation refused for lack of budget; nothing was
// spent. It wraps ErrOverBudget.
type BudgetError struct {
	Tenant, Dataset string
	// Requested is the rho asked for.
	Requested float64
	// RemainingRho is what may still be reserved, RemainingEpsilon the same
	// budget as epsilon at Delta.
	RemainingRho     float64
	RemainingEpsilon float64
	Delta            float64
}

func (e *BudgetError) Error() string {
	return fmt.Sprintf("ledger: privacy budget exhausted for %s/%s: requested rho %.6g, remaining rho %.6g (epsilon %.4g at delta %.3g)",
		e.Tenant, e.Dataset, e.Requested, e.RemainingRho, e.RemainingEpsilon, e.Delta)
}

func (e *BudgetError) Unwrap() error { return ErrOverBudget }

// PublicMessage is the refusal as the user reads it.
func (e *BudgetError) PublicMessage() string {
	return fmt.Sprintf("privacy budget exhausted on dataset %s: the job needs rho %.4g and %.4g remains (epsilon %.4g at delta %g); "+
		"ask for a smaller epsilon, or an admin may raise the dataset's cap", e.Dataset, e.Requested, e.RemainingRho, e.RemainingEpsilon, e.Delta)
}

// Charge states.
const (
	Reserved  = "reserved"
	Committed = "committed"
	Released  = "released"
)

// Charge is one reservation and what became of it.
type Charge struct {
	ID      string    `json:"id"`
	Tenant  string    `json:"tenant"`
	Dataset string    `json:"dataset"`
	Job     string    `json:"job"`
	Rho     float64   `json:"rho"`
	State   string    `json:"state"`
	Created time.Time `json:"created"`
	Settled time.Time `json:"settled,omitzero"`
}

// Budget is the state of one dataset's budget.
type Budget struct {
	Tenant  string  `json:"tenant"`
	Dataset string  `json:"dataset"`
	CapRho  float64 `json:"cap_rho"`
	// CapEpsilon and Delta are the cap as it was set.
	CapEpsilon float64   `json:"cap_epsilon"`
	Delta      float64   `json:"delta"`
	Spent      float64   `json:"spent_rho"`    // committed
	Pending    float64   `json:"reserved_rho"` // reserved, not yet settled
	Updated    time.Time `json:"updated"`
}

// RemainingRho is the rho that may still be reserved.
func (b *Budget) RemainingRho() float64 { return math.Max(0, b.CapRho-b.Spent-b.Pending) }

// RemainingEpsilon is RemainingRho as epsilon at the budget's delta.
func (b *Budget) RemainingEpsilon() float64 {
	if !(b.Delta > 0 && b.Delta < 1) {
		return 0
	}
	e, err := dp.Epsilon(b.RemainingRho(), b.Delta)
	if err != nil {
		return 0
	}
	return e
}

// Options configure a Ledger.
type Options struct {
	// DefaultEpsilon and DefaultDelta are the cap of a dataset that has none
	// set; a zero DefaultEpsilon means such datasets have no budget at all.
	DefaultEpsilon float64
	DefaultDelta   float64
	// Prefix names the collections (Prefix+"budgets", Prefix+"charges");
	// default "dp_".
	Prefix string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Ledger is the budget book over a store. It is safe for concurrent use.
type Ledger struct {
	s                state.Store
	budgets, charges string
	defEps, defDelta float64
	defRho           float64
	now              func() time.Time
}

// New returns a ledger on s.
func New(s state.Store, opts Options) (*Ledger, error) {
	if s == nil {
		return nil, fmt.Errorf("ledger.New: nil store: %w", ErrInvalid)
	}
	l := &Ledger{s: s, defEps: opts.DefaultEpsilon, defDelta: opts.DefaultDelta, now: opts.Now}
	if l.defDelta == 0 {
		l.defDelta = dp.DefaultDelta
	}
	if opts.Prefix == "" {
		opts.Prefix = "dp_"
	}
	l.budgets, l.charges = opts.Prefix+"budgets", opts.Prefix+"charges"
	if l.now == nil {
		l.now = time.Now
	}
	if l.defEps != 0 {
		r, err := dp.Rho(l.defEps, l.defDelta)
		if err != nil {
			return nil, fmt.Errorf("ledger.New: default cap: %w: %w", ErrInvalid, err)
		}
		l.defRho = r
	}
	return l, nil
}

// budgetID keys a dataset's budget document: a hash, since tenant and
// dataset names may hold characters document ids may not.
func budgetID(tenant, dataset string) string {
	h := sha256.Sum256([]byte(tenant + "\x00" + dataset))
	return hex.EncodeToString(h[:16])
}

func checkNames(tenant, dataset string) error {
	if tenant == "" || dataset == "" {
		return fmt.Errorf("empty tenant or dataset: %w", ErrInvalid)
	}
	return nil
}

// load reads a budget in a transaction, or the default one when none is set.
func (l *Ledger) load(tx state.Tx, tenant, dataset string) (Budget, error) {
	var b Budget
	err := tx.Get(l.budgets, budgetID(tenant, dataset), &b)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return Budget{Tenant: tenant, Dataset: dataset, CapRho: l.defRho, CapEpsilon: l.defEps, Delta: l.defDelta}, nil
	case err != nil:
		return Budget{}, fmt.Errorf("read budget: %w", err)
	}
	return b, nil
}

// SetCap sets a dataset's cap to (eps, delta), stored as rho. A cap below
// what is already spent leaves nothing to reserve; it never refunds.
func (l *Ledger) SetCap(ctx context.Context, tenant, dataset string, eps, delta float64) error {
	if err := checkNames(tenant, dataset); err != nil {
		return fmt.Errorf("ledger.SetCap: %w", err)
	}
	rho, err := dp.Rho(eps, delta)
	if err != nil {
		return fmt.Errorf("ledger.SetCap: %w: %w", ErrInvalid, err)
	}
	err = l.s.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		b, err := l.load(tx, tenant, dataset)
		if err != nil {
			return err
		}
		b.CapRho, b.CapEpsilon, b.Delta, b.Updated = rho, eps, delta, l.now().UTC()
		return tx.Set(l.budgets, budgetID(tenant, dataset), b)
	})
	if err != nil {
		return fmt.Errorf("ledger.SetCap %s/%s: %w", tenant, dataset, err)
	}
	return nil
}

// Get returns a dataset's budget (the default one if none is set).
func (l *Ledger) Get(ctx context.Context, tenant, dataset string) (Budget, error) {
	if err := checkNames(tenant, dataset); err != nil {
		return Budget{}, fmt.Errorf("ledger.Get: %w", err)
	}
	var b Budget
	err := l.s.Get(ctx, l.budgets, budgetID(tenant, dataset), &b)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return Budget{Tenant: tenant, Dataset: dataset, CapRho: l.defRho, CapEpsilon: l.defEps, Delta: l.defDelta}, nil
	case err != nil:
		return Budget{}, fmt.Errorf("ledger.Get %s/%s: %w", tenant, dataset, err)
	}
	return b, nil
}

// tolerance absorbs float rounding when a reservation exactly fills the cap.
const tolerance = 1e-12

// Reserve sets rho aside for job on a dataset and returns the reservation
// id. Over the cap it returns a *BudgetError and changes nothing.
func (l *Ledger) Reserve(ctx context.Context, tenant, dataset, job string, rho float64) (string, error) {
	if err := checkNames(tenant, dataset); err != nil {
		return "", fmt.Errorf("ledger.Reserve: %w", err)
	}
	if job == "" || !(rho > 0) || math.IsInf(rho, 0) {
		return "", fmt.Errorf("ledger.Reserve: job %q, rho %v: %w", job, rho, ErrInvalid)
	}
	var idb [16]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", fmt.Errorf("ledger.Reserve: reservation id: %w", err)
	}
	id := hex.EncodeToString(idb[:])
	err := l.s.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		b, err := l.load(tx, tenant, dataset)
		if err != nil {
			return err
		}
		if b.Spent+b.Pending+rho > b.CapRho*(1+tolerance)+tolerance {
			return &BudgetError{Tenant: tenant, Dataset: dataset, Requested: rho,
				RemainingRho: b.RemainingRho(), RemainingEpsilon: b.RemainingEpsilon(), Delta: b.Delta}
		}
		now := l.now().UTC()
		b.Pending += rho
		b.Updated = now
		if err := tx.Set(l.budgets, budgetID(tenant, dataset), b); err != nil {
			return err
		}
		return tx.Create(l.charges, id, Charge{ID: id, Tenant: tenant, Dataset: dataset, Job: job, Rho: rho, State: Reserved, Created: now})
	})
	if err != nil {
		return "", fmt.Errorf("ledger.Reserve %s/%s: %w", tenant, dataset, err)
	}
	return id, nil
}

// Commit makes a reservation spent. Committing twice is a no-op; committing
// a released reservation is ErrState.
func (l *Ledger) Commit(ctx context.Context, id string) error {
	if err := l.settle(ctx, id, Committed); err != nil {
		return fmt.Errorf("ledger.Commit %s: %w", id, err)
	}
	return nil
}

// Release refunds a reservation. Releasing twice is a no-op; releasing a
// committed reservation is ErrState (what was published stays spent).
func (l *Ledger) Release(ctx context.Context, id string) error {
	if err := l.settle(ctx, id, Released); err != nil {
		return fmt.Errorf("ledger.Release %s: %w", id, err)
	}
	return nil
}

func (l *Ledger) settle(ctx context.Context, id, to string) error {
	if id == "" {
		return fmt.Errorf("empty id: %w", ErrInvalid)
	}
	return l.s.RunTransaction(ctx, func(ctx context.Context, tx state.Tx) error {
		var c Charge
		if err := tx.Get(l.charges, id, &c); err != nil {
			if errors.Is(err, state.ErrNotFound) {
				return fmt.Errorf("%w: %w", ErrNotFound, err)
			}
			return fmt.Errorf("read reservation: %w", err)
		}
		switch c.State {
		case to:
			return nil
		case Reserved:
		default:
			return fmt.Errorf("reservation is %s: %w", c.State, ErrState)
		}
		b, err := l.load(tx, c.Tenant, c.Dataset)
		if err != nil {
			return err
		}
		now := l.now().UTC()
		b.Pending = math.Max(0, b.Pending-c.Rho)
		if to == Committed {
			b.Spent += c.Rho
		}
		b.Updated = now
		c.State, c.Settled = to, now
		if err := tx.Set(l.budgets, budgetID(c.Tenant, c.Dataset), b); err != nil {
			return err
		}
		return tx.Set(l.charges, id, c)
	})
}

// History lists a dataset's charges, oldest first.
func (l *Ledger) History(ctx context.Context, tenant, dataset string) ([]Charge, error) {
	if err := checkNames(tenant, dataset); err != nil {
		return nil, fmt.Errorf("ledger.History: %w", err)
	}
	docs, err := l.s.Query(ctx, l.charges, state.Query{Where: []state.Eq{{Field: "tenant", Value: tenant}, {Field: "dataset", Value: dataset}}})
	if err != nil {
		return nil, fmt.Errorf("ledger.History %s/%s: %w", tenant, dataset, err)
	}
	out := make([]Charge, 0, len(docs))
	for _, d := range docs {
		var c Charge
		if err := d.DataTo(&c); err != nil {
			return nil, fmt.Errorf("ledger.History %s/%s: %w", tenant, dataset, err)
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Charge) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmpString(a.ID, b.ID)
	})
	return out, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// The transactional pieces, for an admission that reserves a privacy
// budget together with other things in one transaction of its own. Each
// reads and checks at once and returns the write to run once every piece
// of the transaction has read.

// ReserveTx sets rho aside for job on a dataset inside tx and returns the
// new reservation's id and the write. Over the cap it returns a
// *BudgetError.
func (l *Ledger) ReserveTx(tx state.Tx, tenant, dataset, job string, rho float64) (string, func() error, error) {
	if err := checkNames(tenant, dataset); err != nil {
		return "", nil, fmt.Errorf("ledger.ReserveTx: %w", err)
	}
	if job == "" || !(rho > 0) || math.IsInf(rho, 0) {
		return "", nil, fmt.Errorf("ledger.ReserveTx: job %q, rho %v: %w", job, rho, ErrInvalid)
	}
	b, err := l.load(tx, tenant, dataset)
	if err != nil {
		return "", nil, fmt.Errorf("ledger.ReserveTx %s/%s: %w", tenant, dataset, err)
	}
	if b.Spent+b.Pending+rho > b.CapRho*(1+tolerance)+tolerance {
		return "", nil, &BudgetError{Tenant: tenant, Dataset: dataset, Requested: rho,
			RemainingRho: b.RemainingRho(), RemainingEpsilon: b.RemainingEpsilon(), Delta: b.Delta}
	}
	// A fresh id per run of the transaction: only the run that commits
	// writes its charge.
	var idb [16]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return "", nil, fmt.Errorf("ledger.ReserveTx: reservation id: %w", err)
	}
	id := hex.EncodeToString(idb[:])
	now := l.now().UTC()
	b.Pending += rho
	b.Updated = now
	write := func() error {
		if err := tx.Set(l.budgets, budgetID(tenant, dataset), b); err != nil {
			return err
		}
		return tx.Create(l.charges, id, Charge{ID: id, Tenant: tenant, Dataset: dataset, Job: job, Rho: rho, State: Reserved, Created: now})
	}
	return id, write, nil
}

// SettleTx settles reservation id inside tx (to Committed or Released) and
// returns the write; settling it the way it already is needs none, the
// other way is ErrState.
func (l *Ledger) SettleTx(tx state.Tx, id, to string) (func() error, error) {
	if id == "" || (to != Committed && to != Released) {
		return nil, fmt.Errorf("ledger.SettleTx: id %q to %q: %w", id, to, ErrInvalid)
	}
	var c Charge
	if err := tx.Get(l.charges, id, &c); err != nil {
		if errors.Is(err, state.ErrNotFound) {
			return nil, fmt.Errorf("ledger.SettleTx %s: %w: %w", id, ErrNotFound, err)
		}
		return nil, fmt.Errorf("ledger.SettleTx %s: read reservation: %w", id, err)
	}
	switch c.State {
	case to:
		return func() error { return nil }, nil
	case Reserved:
	default:
		return nil, fmt.Errorf("ledger.SettleTx %s: reservation is %s: %w", id, c.State, ErrState)
	}
	b, err := l.load(tx, c.Tenant, c.Dataset)
	if err != nil {
		return nil, fmt.Errorf("ledger.SettleTx %s: %w", id, err)
	}
	now := l.now().UTC()
	b.Pending = math.Max(0, b.Pending-c.Rho)
	if to == Committed {
		b.Spent += c.Rho
	}
	b.Updated = now
	c.State, c.Settled = to, now
	return func() error {
		if err := tx.Set(l.budgets, budgetID(c.Tenant, c.Dataset), b); err != nil {
			return err
		}
		return tx.Set(l.charges, id, c)
	}, nil
}
