package quality

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"synthos.dev/synthos/shared/ml"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// MaxClasses is the most classes a categorical ML efficacy target may have.
const MaxClasses = 32

// Task names.
const (
	TaskBinary     = "binary"
	TaskMulticlass = "multiclass"
	TaskRegression = "regression"
)

// target decodes the ML efficacy target of one table.
type target struct {
	task    string
	pc      *profile.Column
	classes []string // binary and multiclass: class labels, index = class
	missing ml.Missing
}

// newTarget inspects the real training table's target column.
func newTarget(real *table.Table, p *profile.Profile, name string) (*target, error) {
	pc := p.Col(name)
	if pc == nil {
		return nil, fmt.Errorf("column %q is not in the profile: %w", name, ErrTarget)
	}
	t := &target{pc: pc, missing: ml.NewMissing(pc.MissingTokens)}
	switch pc.Kind {
	case profile.Numeric:
		t.task = TaskRegression
		return t, nil
	case profile.Categorical, profile.Boolean:
	default:
		return nil, fmt.Errorf("column %q has kind %q; want numeric, categorical or boolean: %w", name, pc.Kind, ErrTarget)
	}
	ci := real.Col(name)
	counts := map[string]int{}
	for _, r := range real.Rows {
		if !t.missing.Is(r[ci]) {
			counts[ml.Label(pc.Kind, r[ci])]++
		}
	}
	for l := range counts {
		t.classes = append(t.classes, l)
	}
	// Most frequent first, so that the binary positive class (index 1) is
	// the minority class.
	slices.SortFunc(t.classes, func(a, b string) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	switch n := len(t.classes); {
	case n < 2:
		return nil, fmt.Errorf("column %q has %d classes in the real table: %w", name, n, ErrTarget)
	case n == 2:
		t.task = TaskBinary
	case n <= MaxClasses:
		t.task = TaskMulticlass
	default:
		return nil, fmt.Errorf("column %q has %d classes, more than %d: %w", name, n, MaxClasses, ErrTarget)
	}
	return t, nil
}

// values returns the rows of t with a usable target and their targets
// (numbers for regression, class indices otherwise), and how many rows were
// dropped (missing target, unparseable, or a class the real table lacks).
func (tg *target) values(t *table.Table) (rows [][]string, y []float64, dropped int) {
	ci := t.Col(tg.pc.Name)
	index := make(map[string]int, len(tg.classes))
	for i, c := range tg.classes {
		index[c] = i
	}
	for _, r := range t.Rows {
		cell := r[ci]
		var v float64
		if tg.task == TaskRegression {
			x, ok := ml.Number(cell, tg.pc, tg.missing)
			if !ok {
				dropped++
				continue
			}
			v = x
		} else {
			c, ok := index[ml.Label(tg.pc.Kind, cell)]
			if !ok || tg.missing.Is(cell) {
				dropped++
				continue
			}
			v = float64(c)
		}
		rows = append(rows, r)
		y = append(y, v)
	}
	return rows, y, dropped
}

// efficacy trains the same model on the real rows and on the synthetic rows
// and scores both on the real holdout. It returns notes on rows dropped
// and a nil result, with a note, when the holdout metric is undefined.
func efficacy(ctx context.Context, real, synth, holdout *table.Table, p *profile.Profile, opts Options) (*Efficacy, []string, error) {
	if _, err := checkTable("holdout", holdout, p); err != nil {
		return nil, nil, err
	}
	tg, err := newTarget(real, p, opts.Target)
	if err != nil {
		return nil, nil, err
	}
	sp := scoredProfile(p)
	var notes []string
	type side struct {
		name  string
		t     *table.Table
		rows  [][]string
		y     []float64
		score float64
	}
	sides := []*side{{name: "real", t: real}, {name: "synthetic", t: synth}, {name: "holdout", t: holdout}}
	for _, s := range sides {
		var dropped int
		s.rows, s.y, dropped = tg.values(s.t)
		if dropped > 0 {
			notes = append(notes, fmt.Sprintf("ML efficacy: %d %s rows dropped (missing or unknown target)", dropped, s.name))
		}
		if len(s.rows) == 0 {
			return nil, notes, fmt.Errorf("no %s rows with a usable target %q: %w", s.name, opts.Target, ErrTarget)
		}
	}
	hold := sides[2]
	eff := &Efficacy{Target: opts.Target, Task: tg.task, TrainRows: len(sides[0].rows), SynthRows: len(sides[1].rows), HoldoutRows: len(hold.rows)}
	if tg.task == TaskBinary {
		eff.PositiveClass = tg.classes[1]
	}
	err = parallel(ctx, 2, func(i int) error {
		s := sides[i]
		tr := project(s.t, sp, s.rows)
		enc, err := ml.FitEncoder(tr, sp, opts.Target)
		if err != nil {
			return fmt.Errorf("train on %s: %w", s.name, err)
		}
		x, err := enc.Transform(tr)
		if err != nil {
			return fmt.Errorf("train on %s: %w", s.name, err)
		}
		xh, err := enc.Transform(project(holdout, sp, hold.rows))
		if err != nil {
			return fmt.Errorf("holdout for %s: %w", s.name, err)
		}
		params := ml.DefaultParams(ml.SquaredError)
		switch tg.task {
		case TaskBinary:
			params = ml.DefaultParams(ml.Logistic)
		case TaskMulticlass:
			params = ml.DefaultParams(ml.Softmax)
			params.Classes = len(tg.classes)
		}
		params.Seed = opts.Seed
		m, err := ml.Fit(ctx, x, s.y, params)
		if err != nil {
			return fmt.Errorf("train on %s: %w", s.name, err)
		}
		pred, err := m.Predict(xh)
		if err != nil {
			return fmt.Errorf("predict holdout from %s: %w", s.name, err)
		}
		s.score, err = holdoutScore(tg, pred, hold.y)
		if err != nil {
			return fmt.Errorf("score model trained on %s: %w", s.name, err)
		}
		return nil
	})
	if errors.Is(err, ml.ErrUndefined) {
		return nil, append(notes, "ML efficacy skipped: "+err.Error()), nil
	}
	if err != nil {
		return nil, notes, err
	}
	eff.Metric = map[string]string{TaskBinary: "auc", TaskMulticlass: "macro_f1", TaskRegression: "r2"}[tg.task]
	eff.Real, eff.Synthetic = sides[0].score, sides[1].score
	if eff.Real > 0 {
		eff.Ratio = eff.Synthetic / eff.Real
	}
	return eff, notes, nil
}

// holdoutScore is AUC of the positive class, macro-F1 or R².
func holdoutScore(tg *target, pred, y []float64) (float64, error) {
	switch tg.task {
	case TaskBinary:
		pos := make([]bool, len(y))
		for i, v := range y {
			pos[i] = v == 1
		}
		return ml.AUC(pred, pos)
	case TaskMulticlass:
		truth := make([]int, len(y))
		for i, v := range y {
			truth[i] = int(v)
		}
		return ml.MacroF1(ml.Argmax(pred, len(tg.classes)), truth, len(tg.classes))
	default:
		return ml.R2(pred, y)
	}
}

// MLEfficacy trains the same gradient-boosted model on real rows (train on
// real, test on real: TRTR) and on synthetic rows (train on synthetic,
// test on real: TSTR) and scores both on the holdout, predicting
// opts.Target. It is the ML efficacy of Evaluate on its own, for the
// custom-model report (shared/modeleval).
func MLEfficacy(ctx context.Context, real, synth, holdout *table.Table, p *profile.Profile, opts Options) (*Efficacy, []string, error) {
	return efficacy(ctx, real, synth, holdout, p, opts)
}
