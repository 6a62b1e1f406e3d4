package design

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// Options steer Generate.
type Options struct {
	// Seed makes the output reproducible.
	Seed uint64
	// Open creates the writer of one table's rows; Generate closes it on
	// success and aborts it on failure, so no half-written table is left.
	Open func(table string, cols []table.Column) (table.Writer, error)
	// Text writes a text column's cell; nil uses OfflineText.
	Text func(t *Table, full []string, col int) string
	// TextFiller, when set, has a model write the text columns in batches
	// (the only model calls generation ever makes); Text is then unused.
	TextFiller *TextFiller
	// MaxTriesPerRow bounds the engine's redraws of a row the rules refuse
	// (synth.DefaultMaxTries when 0).
	MaxTriesPerRow int
}

// TableResult is what Generate wrote for one table.
type TableResult struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

// Generate samples every table of s (as scaled) with the engine, the
// tables in parallel, each row satisfying its table's rules. No model is
// called here: text comes from opts.Text.
func Generate(ctx context.Context, s *Spec, opts Options) ([]TableResult, error) {
	if err := Validate(s); err != nil {
		return nil, err
	}
	if opts.Open == nil {
		return nil, fmt.Errorf("design.Generate: no Open: %w", ErrInvalid)
	}
	plans := make([]*plan, len(s.Tables))
	for i := range s.Tables {
		p, err := compilePlan(s, &s.Tables[i])
		if err != nil {
			return nil, fmt.Errorf("design.Generate: %w", err)
		}
		plans[i] = p
	}
	writers := make([]table.Writer, len(plans))
	abort := func() {
		for _, w := range writers {
			if w != nil {
				_ = w.Abort()
			}
		}
	}
	for i, p := range plans {
		w, err := opts.Open(p.t.Name, p.cols)
		if err != nil {
			abort()
			return nil, fmt.Errorf("design.Generate: open %q: %w", p.t.Name, err)
		}
		writers[i] = w
	}
	errsOut := make([]error, len(plans))
	var wg sync.WaitGroup
	for i, p := range plans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errsOut[i] = p.sample(ctx, opts, writers[i])
		}()
	}
	wg.Wait()
	if err := errors.Join(errsOut...); err != nil {
		abort()
		return nil, fmt.Errorf("design.Generate: %w", err)
	}
	out := make([]TableResult, len(plans))
	for i, p := range plans {
		if err := writers[i].Close(); err != nil {
			writers[i] = nil
			abort()
			return nil, fmt.Errorf("design.Generate: close %q: %w", p.t.Name, err)
		}
		writers[i] = nil
		out[i] = TableResult{Name: p.t.Name, Rows: p.t.Rows}
	}
	return out, nil
}

// sample runs the engine over one table.
func (p *plan) sample(ctx context.Context, opts Options, w table.Writer) error {
	text := opts.Text
	if text == nil {
		text = OfflineText
	}
	var dst table.Writer = w
	var tw *textWriter
	if opts.TextFiller != nil && len(p.texts) > 0 {
		text = func(*Table, []string, int) string { return "" } // written by the filler
		tw = &textWriter{ctx: ctx, f: opts.TextFiller, t: p.t, texts: p.texts, w: w,
			chunk: opts.TextFiller.batch() * opts.TextFiller.concurrency()}
		dst = tw
	}
	f := p.newFinisher(func(full []string, col int) string { return text(p.t, full, col) })
	seed := opts.Seed ^ hashName(p.t.Name)
	out := fullWriter{f: f, w: dst}
	err := p.model.Sample(ctx, p.t.Rows, 0, 1, seed, synth.SampleOptions{Accept: f.accept, MaxTriesPerRow: opts.MaxTriesPerRow}, out)
	if err == nil && tw != nil {
		err = tw.flush()
	}
	if err != nil {
		return fmt.Errorf("table %q: %w", p.t.Name, err)
	}
	return nil
}

// textWriter buffers a chunk of rows, has the filler write their text
// columns (batches in parallel, bounded by its concurrency), then writes
// them in order.
type textWriter struct {
	ctx   context.Context
	f     *TextFiller
	t     *Table
	texts []int
	w     table.Writer
	buf   [][]string
	chunk int
}

func (tw *textWriter) Write(row []string) error {
	tw.buf = append(tw.buf, append([]string(nil), row...))
	if len(tw.buf) >= tw.chunk {
		return tw.flush()
	}
	return nil
}

func (tw *textWriter) Close() error { return tw.w.Close() }
func (tw *textWriter) Abort() error { return tw.w.Abort() }

func (tw *textWriter) flush() error {
	if len(tw.buf) == 0 {
		return nil
	}
	sem := make(chan struct{}, tw.f.concurrency())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	b := tw.f.batch()
	for _, col := range tw.texts {
		for lo := 0; lo < len(tw.buf); lo += b {
			rows := tw.buf[lo:min(lo+b, len(tw.buf))]
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := tw.f.fill(tw.ctx, tw.t, col, rows); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, r := range tw.buf {
		if err := tw.w.Write(r); err != nil {
			return err
		}
	}
	tw.buf = tw.buf[:0]
	return nil
}

// fullWriter writes the output row the finisher built for the row the
// engine just accepted (Accept runs right before Write for the same row).
type fullWriter struct {
	f *finisher
	w table.Writer
}

func (fw fullWriter) Write([]string) error { return fw.w.Write(fw.f.full) }

// hashName gives each table its own random stream under one seed.
func hashName(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
