package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/engine"
	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/rules"
	"synthos.dev/synthos/shared/synth"
	"synthos.dev/synthos/shared/table"
)

// multiFlag collects a repeatable flag such as --where.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

type generateFlags struct {
	rows      int64
	out       string
	model     string
	seed      uint64
	schema    string
	rules     string
	where     multiFlag
	format    string
	saveModel string
	modelFile string
	limits    *table.Options
	quiet     bool

	reportHTML string
	reportJSON string
	holdout    float64
	target     string
	thresholds string
	evalRows   int

	epsilon float64
	delta   float64
}

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f generateFlags
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Int64Var(&f.rows, "n", 0, "number of synthetic rows to write (required)")
	fs.StringVar(&f.out, "o", "", "output file; its extension picks the format unless --format is set (required)")
	fs.StringVar(&f.model, "model", synth.KindTree, "model: tree (sequential trees, the most faithful), copula (Gaussian copula, fastest) or dp (differentially private; needs --epsilon)")
	fs.Float64Var(&f.epsilon, "epsilon", 0, "differential privacy: the ε of an (ε, δ) guarantee; implies --model dp")
	fs.Float64Var(&f.delta, "delta", engine.DefaultDelta, "differential privacy: the δ of the guarantee")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed, model and input give the same output bytes")
	fs.StringVar(&f.schema, "schema", "", "JSON schema file overriding inferred column kinds")
	fs.StringVar(&f.rules, "rules", "", "JSON business-rules file; every output row satisfies every rule")
	fs.Var(&f.where, "where", "condition col=value that every output row satisfies (repeatable)")
	fs.StringVar(&f.format, "format", "", "output format: csv, jsonl or parquet (default: from -o's extension)")
	fs.StringVar(&f.saveModel, "save-model", "", "also write the fitted model to this file, to sample again later with --model-file")
	fs.StringVar(&f.modelFile, "model-file", "", "sample from a saved model instead of fitting (INPUT is then needed only for --rules)")
	f.limits = limitFlags(fs)
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	fs.StringVar(&f.reportHTML, "report", "", "write a quality and privacy report (HTML) here; a holdout is set aside before fitting")
	fs.StringVar(&f.reportJSON, "json", "", "write the report as JSON here (implies a holdout, like --report)")
	fs.Float64Var(&f.holdout, "holdout", 0.2, "share of input rows set aside before fitting for the report (with --report/--json)")
	fs.StringVar(&f.target, "target", "", "column for the report's ML-efficacy test (train on synthetic, test on holdout)")
	fs.StringVar(&f.thresholds, "thresholds", "", "JSON file overriding the release gate's thresholds (with --report/--json)")
	fs.IntVar(&f.evalRows, "eval-rows", 50000, "synthetic rows the report evaluates (the first rows written: a random sample)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: synthos generate INPUT -n ROWS -o OUTPUT [flags]")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	var in string
	switch {
	case len(pos) == 1:
		in = pos[0]
	case len(pos) == 0 && f.modelFile != "" && f.rules == "":
	default:
		fs.Usage()
		return fmt.Errorf("%w: generate takes one INPUT file (optional with --model-file), got %d", errUsage, len(pos))
	}
	if f.rows <= 0 {
		return fmt.Errorf("%w: -n ROWS must be a positive number of rows", errUsage)
	}
	if f.out == "" {
		return fmt.Errorf("%w: -o OUTPUT is required", errUsage)
	}
	if f.reportHTML != "" || f.reportJSON != "" {
		if in == "" {
			return fmt.Errorf("%w: --report needs INPUT (the holdout comes from it)", errUsage)
		}
		if f.holdout <= 0 || f.holdout >= 0.9 {
			return fmt.Errorf("%w: --holdout %v: use a share between 0 and 0.9", errUsage, f.holdout)
		}
	}
	modelSet := false
	fs.Visit(func(fl *flag.Flag) { modelSet = modelSet || fl.Name == "model" })
	if f.epsilon != 0 && !modelSet {
		f.model = engine.KindDP
	}
	if !slices.Contains(engine.Kinds(), f.model) {
		return fmt.Errorf("%w: --model %q: use tree, copula or dp", errUsage, f.model)
	}
	if f.model == engine.KindDP && f.modelFile == "" && (f.epsilon <= 0 || f.delta <= 0 || f.delta >= 1) {
		return fmt.Errorf("%w: --model dp needs --epsilon > 0 (e.g. 1) and 0 < --delta < 1", errUsage)
	}
	if f.epsilon != 0 && f.model != engine.KindDP {
		return fmt.Errorf("%w: --epsilon applies to --model dp only", errUsage)
	}
	format, err := outputFormat(f.out, f.format)
	if err != nil {
		return err
	}
	return generate(ctx, in, format, f, stdout, stderr)
}

func outputFormat(out, name string) (table.Format, error) {
	if name == "" {
		fm, err := table.FormatOf(out)
		if err != nil {
			return 0, fmt.Errorf("%w: cannot tell the output format from %q: add --format csv|jsonl|parquet", errUsage, out)
		}
		return fm, nil
	}
	fm, err := table.FormatOf("x." + name)
	if err != nil {
		return 0, fmt.Errorf("%w: --format %q: use csv, jsonl or parquet", errUsage, name)
	}
	return fm, nil
}

func generate(ctx context.Context, in string, format table.Format, f generateFlags, stdout, stderr io.Writer) error {
	start := time.Now()
	var t *table.Table
	if in != "" {
		var err error
		if t, err = readTable(in, *f.limits); err != nil {
			return err
		}
	}

	var holdout *table.Table
	wantReport := f.reportHTML != "" || f.reportJSON != ""
	var thresholds *gate.Thresholds
	if wantReport {
		if f.thresholds != "" {
			th, err := gate.Load(f.thresholds)
			if err != nil {
				return err
			}
			thresholds = &th
		}
		t, holdout = splitHoldout(t, f.holdout, f.seed)
		fmt.Fprintf(stderr, "set aside %d rows as a holdout for the report; fitting on %d\n", len(holdout.Rows), len(t.Rows))
	}

	var m synth.Model
	if f.modelFile != "" {
		r, err := os.Open(f.modelFile)
		if err != nil {
			return fmt.Errorf("open model: %w", err)
		}
		m, err = engine.Load(r)
		r.Close()
		if err != nil {
			return fmt.Errorf("load model %s: %w", f.modelFile, err)
		}
	}

	opts := synth.SampleOptions{}
	if len(f.where) > 0 {
		opts.Fixed = map[string]string{}
		for _, w := range f.where {
			col, val, err := rules.ParseWhere(w)
			if err != nil {
				return fmt.Errorf("%w: --where %q: %v", errUsage, w, err)
			}
			opts.Fixed[col] = val
		}
	}

	if m == nil || f.rules != "" {
		p, err := profileTable(t, f.schema)
		if err != nil {
			return err
		}
		if f.rules != "" {
			file, err := rules.Load(f.rules)
			if err != nil {
				return err
			}
			set, err := rules.Compile(file, t, p)
			if err != nil {
				return fmt.Errorf("rules %s: %w", f.rules, err)
			}
			if err := set.Conditions(opts.Fixed); err != nil {
				return fmt.Errorf("rules %s with --where: %w", f.rules, err)
			}
			opts.Accept = set.Accept
		}
		if m == nil {
			fmt.Fprintf(stderr, "fitting %s model on %s (%d rows × %d columns)…\n", f.model, in, len(t.Rows), len(t.Columns))
			fitStart := time.Now()
			if m, err = engine.Fit(ctx, t, p, engine.Options{Kind: f.model, Seed: f.seed, Epsilon: f.epsilon, Delta: f.delta}); err != nil {
				return fmt.Errorf("fit: %w", err)
			}
			fmt.Fprintf(stderr, "fitted in %s\n", time.Since(fitStart).Round(time.Millisecond))
			if d, ok := m.(*dp.Model); ok {
				fmt.Fprintf(stderr, "privacy guarantee: %s\n", d.Report.Statement)
			}
		}
	}

	if f.saveModel != "" {
		if err := saveModel(f.saveModel, m); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "model saved to %s\n", f.saveModel)
	}

	w, err := table.Create(f.out, format, m.Columns())
	if err != nil {
		return fmt.Errorf("create %s: %w", f.out, err)
	}
	bar := newProgress(stderr, f.rows, f.quiet)
	opts.Progress = func(done int64) { _ = bar.Set64(done) }
	sampleStart := time.Now()
	var sink synth.RowWriter = w
	var captured *capture
	if wantReport {
		captured = &capture{RowWriter: w, limit: f.evalRows}
		for _, c := range m.Columns() {
			captured.t.Columns = append(captured.t.Columns, c.Name)
		}
		sink = captured
	}
	if err := m.Sample(ctx, f.rows, 0, 1, f.seed, opts, sink); err != nil {
		_ = w.Abort()
		_ = bar.Exit()
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted: %s was not written", f.out)
		}
		return fmt.Errorf("sample: %w (%s was not written)", err, f.out)
	}
	if err := w.Close(); err != nil {
		_ = bar.Exit()
		return fmt.Errorf("write %s: %w", f.out, err)
	}
	_ = bar.Finish()
	elapsed := time.Since(sampleStart)
	fmt.Fprintf(stdout, "wrote %d rows to %s in %s (%.0f rows/s sampling; %s total)\n",
		f.rows, f.out, elapsed.Round(time.Millisecond), float64(f.rows)/elapsed.Seconds(), time.Since(start).Round(time.Millisecond))
	if !wantReport {
		return nil
	}
	fmt.Fprintf(stderr, "evaluating %d synthetic rows against %d training and %d holdout rows…\n", len(captured.t.Rows), len(t.Rows), len(holdout.Rows))
	rep, err := report.Build(ctx, report.Inputs{
		Train: t, Holdout: holdout, Synthetic: &captured.t, Target: f.target, Seed: f.seed,
		Thresholds: thresholds, TrainName: in, SyntheticName: f.out, Model: m.Kind(),
	})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return finishReport(rep, f.reportHTML, f.reportJSON, in+" (training part)", f.out, in+" (holdout part)", stdout)
}

// capture forwards rows to the output and keeps a copy of the first limit
// rows for the report. Rows are independent draws, so the first rows are a
// random sample of the output.
type capture struct {
	synth.RowWriter
	t     table.Table
	limit int
}

func (c *capture) Write(row []string) error {
	if len(c.t.Rows) < c.limit {
		c.t.Rows = append(c.t.Rows, slices.Clone(row))
	}
	return c.RowWriter.Write(row)
}

// splitHoldout sets aside a seeded random share of t's rows.
func splitHoldout(t *table.Table, share float64, seed uint64) (train, holdout *table.Table) {
	idx := make([]int, len(t.Rows))
	for i := range idx {
		idx[i] = i
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	nh := int(float64(len(idx)) * share)
	train = &table.Table{Columns: t.Columns, Rows: make([][]string, 0, len(idx)-nh)}
	holdout = &table.Table{Columns: t.Columns, Rows: make([][]string, 0, nh)}
	for k, i := range idx {
		if k < nh {
			holdout.Rows = append(holdout.Rows, t.Rows[i])
		} else {
			train.Rows = append(train.Rows, t.Rows[i])
		}
	}
	return train, holdout
}

func saveModel(path string, m synth.Model) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := engine.Save(tmp, m); err != nil {
		tmp.Close()
		return fmt.Errorf("save model: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save model: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return nil
}

// newProgress draws a progress bar on stderr when it is a terminal; in logs
// and pipes it stays silent rather than printing carriage-return noise.
func newProgress(w io.Writer, total int64, quiet bool) *progressbar.ProgressBar {
	if f, ok := w.(*os.File); quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return progressbar.DefaultSilent(total)
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("sampling"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rows"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}
