// Package model is the model-neutral core of synthesis: the Model interface
// every synthesis model implements (fit from a profile and rows, sample
// blocks of rows into a row writer, save and load with a versioned header)
// and the registry of model drivers. Package synth registers the tree and
// copula models and package dp the differentially private one; callers (the
// CLI, the pipeline) fit, save and load through this package alone and never
// branch on a model's kind.
package model

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Model is a fitted synthesis model.
type Model interface {
	// Kind is the name the model's driver is registered under.
	Kind() string
	// Columns are the output columns in source order, with the kind a
	// writer should store each as.
	Columns() []table.Column
	// Sample writes shard `shard` (0-based) of `shards` of an n-row sample
	// drawn with seed to w. The same model, n, seed and shard always give the
	// same rows, and the shards concatenated in order give the 1-shard sample.
	Sample(ctx context.Context, n int64, shard, shards int, seed uint64, opts SampleOptions, w RowWriter) error
}

// RowWriter receives sampled rows. The row slice is reused by the next call;
// the strings in it are immutable and may be kept. table.Writer satisfies it.
type RowWriter interface {
	Write(row []string) error
}

// SampleOptions steer sampling.
type SampleOptions struct {
	// Fixed holds conditions column=value that every row satisfies
	// (conditional sampling). Only modelled columns (numeric, datetime,
	// categorical, boolean) can be fixed; a value the model cannot produce
	// is an impossible condition.
	Fixed map[string]string
	// Accept, when set, is a business-rule check: rows it rejects are
	// redrawn. It must not keep the row slice.
	Accept func(row []string) bool
	// MaxTriesPerRow bounds the candidates drawn for one output row before
	// Sample fails; 0 means DefaultMaxTries.
	MaxTriesPerRow int
	// Progress, when set, is called after each block with the number of
	// rows this shard has written so far.
	Progress func(rowsDone int64)
	// Stats, when set, receives counts of what the privacy guards redrew
	// (safe to share between shards sampled concurrently).
	Stats *SampleStats
}

// SampleStats counts candidate rows the privacy guards redrew.
type SampleStats struct {
	// NearCopies were closer to a training row than the model's near-copy
	// threshold; ExactCopies equalled a training row on every modelled cell.
	NearCopies, ExactCopies atomic.Int64
}

// Add adds a shard's counts.
func (s *SampleStats) Add(near, exact int64) {
	s.NearCopies.Add(near)
	s.ExactCopies.Add(exact)
}

// DefaultMaxTries is the MaxTriesPerRow used when the option is 0.
const DefaultMaxTries = 10000

// Options select and steer a fit. Kind picks the driver (DefaultKind when
// empty); the other fields are read by the drivers they apply to.
type Options struct {
	Kind string
	Seed uint64
	// Epsilon and Delta are a private model's (ε, δ) target; Rho, when
	// set, is a budget already reserved in the ledger and wins over them.
	Epsilon, Delta, Rho float64
}

// DefaultKind is the model fitted when Options.Kind is empty.
const DefaultKind = "tree"

// Driver is one kind of model.
type Driver struct {
	Kind string
	Fit  func(ctx context.Context, t *table.Table, p *profile.Profile, o Options) (Model, error)
	// Magic starts every file Save writes (the driver's versioned header
	// follows it); Load picks the driver by it.
	Magic []byte
	Save  func(w io.Writer, m Model) error
	Load  func(r io.Reader) (Model, error)
	// Private says the fit is differentially private: what Fit adds to
	// the driver's model (the relations' parameters, see relations.go)
	// then comes from the model's own sample, never from the rows.
	Private bool
}

// ErrKind reports an unknown model kind or a file no driver reads.
var ErrKind = errs.New(errs.InvalidArgument, "model: unknown model kind")

// ErrFormat reports a model file whose relations section is corrupt.
var ErrFormat = errs.New(errs.Internal, "model: bad model file")

var (
	mu      sync.RWMutex
	drivers = map[string]Driver{}
)

// Register adds a driver; drivers register from their package's init. A
// second driver of one kind, or one without its functions, is a programming
// error and panics at start-up.
func Register(d Driver) {
	mu.Lock()
	defer mu.Unlock()
	if d.Kind == "" || d.Fit == nil || d.Save == nil || d.Load == nil || len(d.Magic) == 0 {
		panic(fmt.Sprintf("model.Register: incomplete driver %q", d.Kind))
	}
	if _, dup := drivers[d.Kind]; dup {
		panic(fmt.Sprintf("model.Register: kind %q registered twice", d.Kind))
	}
	drivers[d.Kind] = d
}

// Kinds lists the registered kinds, DefaultKind first, the rest sorted.
func Kinds() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(drivers))
	for k := range drivers {
		if k != DefaultKind {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	if _, ok := drivers[DefaultKind]; ok {
		out = append([]string{DefaultKind}, out...)
	}
	return out
}

func driver(kind string) (Driver, error) {
	if kind == "" {
		kind = DefaultKind
	}
	mu.RLock()
	d, ok := drivers[kind]
	mu.RUnlock()
	if !ok {
		return d, fmt.Errorf("%w %q: use one of %v", ErrKind, kind, Kinds())
	}
	return d, nil
}

// Fit fits the model o.Kind to t as profiled by p. The model keeps the
// profile's relations in every sample (see relations.go).
func Fit(ctx context.Context, t *table.Table, p *profile.Profile, o Options) (Model, error) {
	d, err := driver(o.Kind)
	if err != nil {
		return nil, err
	}
	o.Kind = d.Kind
	// A model that is not private keeps relations fitted on the rows
	// alone (see withRelations), which need not wait for the model: they
	// are fitted on another core meanwhile.
	var pre *repairFit
	if !d.Private && p != nil && t != nil && len(p.Relations) > 0 {
		pre = &repairFit{}
		pre.wg.Go(func() { pre.rep, pre.err = newRepairer(t.Rows, p, nil) })
	}
	m, err := d.Fit(ctx, t, p, o)
	if pre != nil {
		pre.wg.Wait()
	}
	if err != nil || p == nil || t == nil {
		return m, err
	}
	if m, err = withRelations(ctx, m, t, p, d.Private, pre); err != nil {
		return nil, fmt.Errorf("model.Fit: %w", err)
	}
	return m, nil
}

// repairFit is a Repairer fitted beside the model.
type repairFit struct {
	wg  sync.WaitGroup
	rep *Repairer
	err error
}

// Save writes m in its driver's versioned format, preceded by its
// relations section when it keeps relations.
func Save(w io.Writer, m Model) error {
	d, err := driver(m.Kind())
	if err != nil {
		return err
	}
	if e, ok := m.(*enforced); ok {
		if err := saveRelations(w, e.rep); err != nil {
			return err
		}
		m = e.Model
	}
	return d.Save(w, m)
}

// Load reads a model written by Save, whatever its kind.
func Load(r io.Reader) (Model, error) {
	mu.RLock()
	ds := make([]Driver, 0, len(drivers))
	longest := 0
	for _, d := range drivers {
		ds = append(ds, d)
		longest = max(longest, len(d.Magic))
	}
	mu.RUnlock()
	br := bufio.NewReader(r)
	var rep *Repairer
	if head, _ := br.Peek(len(relMagic)); bytes.Equal(head, relMagic) {
		var err error
		if rep, err = loadRelations(br); err != nil {
			return nil, err
		}
	}
	head, _ := br.Peek(longest)
	for _, d := range ds {
		if bytes.HasPrefix(head, d.Magic) {
			m, err := d.Load(br)
			if err != nil || rep == nil {
				return m, err
			}
			if len(rep.Cols) != len(m.Columns()) {
				return nil, fmt.Errorf("model.Load: relations of %d columns, model of %d: %w", len(rep.Cols), len(m.Columns()), ErrFormat)
			}
			return &enforced{Model: m, rep: rep}, nil
		}
	}
	return nil, fmt.Errorf("model.Load: not a model file of any kind %v: %w", Kinds(), ErrKind)
}
