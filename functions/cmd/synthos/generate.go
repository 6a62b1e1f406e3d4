package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"synthos.dev/synthos/internal/cputime"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/jobspec"
	"synthos.dev/synthos/shared/model"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/rules"
	"synthos.dev/synthos/shared/sample"
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

	sampleMB int64
}

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if rc := remoteFrom(ctx); rc != nil {
		return rc.generate(ctx, args, stdout, stderr)
	}
	var f generateFlags
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Int64Var(&f.rows, "n", 0, "number of synthetic rows to write (required)")
	fs.StringVar(&f.out, "o", "", "output file; its extension picks the format unless --format is set (required)")
	fs.StringVar(&f.model, "model", synth.KindTree, "model: tree (sequential trees, the most faithful), copula (Gaussian copula, fastest) or dp (differentially private; needs --epsilon)")
	fs.Float64Var(&f.epsilon, "epsilon", 0, "differential privacy: the ε of an (ε, δ) guarantee, greater than 0 and at most 100; implies --model dp")
	fs.Float64Var(&f.delta, "delta", dp.DefaultDelta, "differential privacy: the δ of the guarantee")
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
	fs.Int64Var(&f.sampleMB, "sample-mb", sample.DefaultBudget>>20, "memory budget (MiB) of the rows fitted on: a larger input is fitted on a seeded, stratified sample of it (rare categories and tails kept); 0 fits on every row. DP models always fit on every row")
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
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	if !set["n"] {
		return fmt.Errorf("%w: -n ROWS is required: the number of synthetic rows to write", errUsage)
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
	if f.modelFile != "" && (set["epsilon"] || set["delta"]) {
		return fmt.Errorf("%w: --epsilon and --delta apply when fitting; the model in --model-file is fitted already", errUsage)
	}
	// --epsilon, even 0, asks for differential privacy.
	if set["epsilon"] && !set["model"] {
		f.model = dp.KindDP
	}
	req, err := f.request(set)
	if err != nil {
		return err
	}
	if err := jobspec.Validate(req); err != nil {
		return requestError(err, f, true)
	}
	format, err := outputFormat(f.out, f.format)
	if err != nil {
		return err
	}
	return generate(ctx, in, format, f, req, stdout, stderr)
}

// request is the job request the flags describe, for jobspec, the
// validator the API and upload-created jobs share. The output format is
// the CLI's own (it also writes TSV), so the request leaves it out.
func (f *generateFlags) request(set map[string]bool) (jobs.Request, error) {
	req := jobs.Request{Rows: f.rows, Model: f.model, Seed: f.seed, Target: f.target}
	if f.modelFile != "" {
		req.Model = "" // the saved model's own; it needs no fitting options
	}
	if set["epsilon"] {
		req.Epsilon = f.epsilon
	}
	if set["delta"] {
		req.Delta = f.delta
	}
	if len(f.where) > 0 {
		req.Conditions = map[string]string{}
		for _, w := range f.where {
			col, val, err := rules.ParseWhere(w)
			if err != nil {
				return req, fmt.Errorf("%w: --where %q: use column=value", errUsage, w)
			}
			req.Conditions[col] = val
		}
	}
	for _, doc := range []struct {
		flag, path string
		dst        *json.RawMessage
	}{{"--rules", f.rules, &req.Rules}, {"--thresholds", f.thresholds, &req.Thresholds}} {
		if doc.path == "" {
			continue
		}
		b, err := os.ReadFile(doc.path)
		if err != nil {
			return req, fmt.Errorf("%s: %w", doc.flag, err)
		}
		if !json.Valid(b) {
			return req, fmt.Errorf("%w: %s %s: not valid JSON", errUsage, doc.flag, doc.path)
		}
		*doc.dst = b
	}
	return req, nil
}

// requestError words a jobspec error in the CLI's terms: the flag instead
// of the API's field ("--epsilon must be …", "--rules r.json: rules[2] …").
// usage marks it a command-line mistake (exit status 2).
func requestError(err error, f generateFlags, usage bool) error {
	var fe *jobspec.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	var msg string
	switch field := fe.Field; {
	case field == "rows":
		msg = "-n " + fe.Reason
	case field == "conditions":
		msg = "--where: " + fe.Reason
	case strings.HasPrefix(field, "conditions."):
		msg = fmt.Sprintf("--where %s: %s", strings.TrimPrefix(field, "conditions."), fe.Reason)
	case strings.HasPrefix(field, "rules"):
		msg = fmt.Sprintf("--rules %s: %s", f.rules, fe.Error())
	case field == "thresholds":
		msg = fmt.Sprintf("--thresholds %s: %s", f.thresholds, fe.Reason)
	case strings.HasPrefix(field, "thresholds."):
		msg = fmt.Sprintf("--thresholds %s: %s %s", f.thresholds, strings.TrimPrefix(field, "thresholds."), fe.Reason)
	default:
		msg = "--" + field + " " + fe.Reason
	}
	return &flagError{msg: msg, err: fe, usage: usage}
}

// flagError is a job-request error worded for the command line.
type flagError struct {
	msg   string
	err   error
	usage bool
}

func (e *flagError) Error() string { return e.msg }

func (e *flagError) Unwrap() []error {
	if e.usage {
		return []error{errUsage, e.err}
	}
	return []error{e.err}
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

func generate(ctx context.Context, in string, format table.Format, f generateFlags, req jobs.Request, stdout, stderr io.Writer) error {
	start := time.Now()
	// Leftovers of killed runs writing the same files go first; a second
	// interrupt removes this run's own (see main).
	for _, p := range []string{f.out, f.saveModel} {
		if p == "" {
			continue
		}
		removed, err := table.RemoveStaleTemps(p)
		if err != nil {
			return err
		}
		for _, r := range removed {
			fmt.Fprintf(stderr, "removed %s, left by an interrupted run\n", r)
		}
		defer onForcedExit(func() { _, _ = table.RemoveTemps(p) })()
	}

	wantReport := f.reportHTML != "" || f.reportJSON != ""
	thresholds, err := jobspec.Thresholds(req)
	if err != nil {
		return requestError(err, f, true)
	}
	if f.sampleMB > 0 && req.Model != dp.KindDP {
		defer fewerCollections(f.sampleMB << 20)()
	}
	var t, holdout *table.Table
	var sampling *report.Sampling
	var streamed *profile.Profile // of every row, when the input was sampled
	if in != "" {
		readStart, readCPU := time.Now(), cputime.Process().Seconds()
		drawn, err := drawTable(ctx, in, f, req, wantReport)
		if err != nil {
			return err
		}
		t, holdout, streamed = drawn.Train, drawn.Holdout, drawn.Profile
		if drawn.Sampled {
			sampling = &report.Sampling{RowsSeen: drawn.Seen(), RowsTotal: drawn.Total}
			fmt.Fprintf(stderr, "%s has %d rows, more than --sample-mb %d holds: fitting on a stratified sample of %d (read and sampled in %s, %.1f CPU-s)\n", in, drawn.Total, f.sampleMB, drawn.Seen(), time.Since(readStart).Round(time.Millisecond), cputime.Process().Seconds()-readCPU)
		}
		if wantReport {
			fmt.Fprintf(stderr, "set aside %d rows as a holdout for the report; fitting on %d\n", len(holdout.Rows), len(t.Rows))
		}
	}

	var m synth.Model
	if f.modelFile != "" {
		r, err := os.Open(f.modelFile)
		if err != nil {
			return fmt.Errorf("open model: %w", err)
		}
		m, err = model.Load(r)
		r.Close()
		if err != nil {
			return fmt.Errorf("load model %s: %w", f.modelFile, err)
		}
		// What is sampled are the model's columns.
		if err := jobspec.Check(req, m.Columns()); err != nil {
			return requestError(err, f, false)
		}
	}

	// The request is checked against the data, and its rules compiled,
	// before anything is fitted or written.
	opts := synth.SampleOptions{Fixed: req.Conditions}
	var p *profile.Profile
	if t != nil && (m == nil || f.rules != "") {
		if streamed != nil {
			p, err = applySchema(streamed, f.schema)
		} else {
			p, err = profileTable(t, f.schema)
		}
		if err != nil {
			return err
		}
		set, err := jobspec.Prepare(req, p, t)
		if err != nil {
			return requestError(err, f, false)
		}
		if set != nil {
			opts.Accept = set.Accept
		}
	}
	if m == nil {
		fmt.Fprintf(stderr, "fitting %s model on %s (%d rows × %d columns)…\n", f.model, in, len(t.Rows), len(t.Columns))
		fitStart, fitCPU := time.Now(), cputime.Process().Seconds()
		if m, err = model.Fit(ctx, t, p, model.Options{Kind: req.Model, Seed: req.Seed, Epsilon: req.Epsilon, Delta: req.Delta}); err != nil {
			return fmt.Errorf("fit: %w", err)
		}
		fmt.Fprintf(stderr, "fitted in %s (%.1f CPU-s)\n", time.Since(fitStart).Round(time.Millisecond), cputime.Process().Seconds()-fitCPU)
		if d, ok := model.Unwrap(m).(*dp.Model); ok {
			fmt.Fprintf(stderr, "privacy guarantee: %s\n", d.Report.Statement)
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
	var stats model.SampleStats
	opts.Stats = &stats
	var sink synth.RowWriter = w
	var captured *capture
	if wantReport {
		captured = &capture{RowWriter: w, limit: f.evalRows}
		for _, c := range m.Columns() {
			captured.t.Columns = append(captured.t.Columns, c.Name)
		}
		sink = captured
	}
	if err := synth.SampleParallel(ctx, m, f.rows, 0, 1, f.seed, opts, sink, 0); err != nil {
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
	resampled := &report.Resampled{NearCopies: stats.NearCopies.Load(), ExactCopies: stats.ExactCopies.Load()}
	if resampled.NearCopies+resampled.ExactCopies > 0 {
		fmt.Fprintf(stderr, "privacy guard redrew %d near-copies and %d exact copies of training rows\n", resampled.NearCopies, resampled.ExactCopies)
	}
	if !wantReport {
		return nil
	}
	fmt.Fprintf(stderr, "evaluating %d synthetic rows against %d training and %d holdout rows…\n", len(captured.t.Rows), len(t.Rows), len(holdout.Rows))
	rep, err := report.Build(ctx, report.Inputs{
		Train: t, Holdout: holdout, Synthetic: &captured.t, Target: f.target, Conditions: req.Conditions, Seed: f.seed,
		Thresholds: thresholds, TrainName: in, SyntheticName: f.out, Model: m.Kind(), Resampled: resampled,
		Sampling: sampling,
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

// fewerCollections lets the garbage collector run a quarter as often as by
// default (GOGC=300) while a bounded sample of budget bytes is read and
// fitted, capped by a soft memory limit of 2.75 budgets (704 MiB for the
// default 256): the pass over a large input allocates every cell it
// parses while the sample it keeps is live, and each collection marks that
// sample again (about 4 of the read pass's 18 CPU-seconds at 5M rows).
// Settings from GOGC or GOMEMLIMIT are left alone. It returns the restore.
func fewerCollections(budget int64) func() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	pct := debug.SetGCPercent(300)
	limit := debug.SetMemoryLimit(budget * 11 / 4)
	return func() {
		debug.SetGCPercent(pct)
		debug.SetMemoryLimit(limit)
	}
}

// drawTable reads INPUT once, keeping the rows to fit on (a sample when
// the input is larger than --sample-mb; every row for a DP fit, whose
// guarantee does not cover a subsample) and, for a report, the holdout.
func drawTable(ctx context.Context, in string, f generateFlags, req jobs.Request, wantReport bool) (*sample.Result, error) {
	r, err := table.Open(in, *f.limits)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in, err)
	}
	defer r.Close()
	// A sampled input is profiled in the same pass, over every row.
	o := sample.Options{Budget: f.sampleMB << 20, Seed: f.seed, Profile: &profile.Options{Seed: f.seed}}
	if f.sampleMB <= 0 || req.Model == dp.KindDP {
		o.Budget = sample.All
	}
	if wantReport {
		o.HoldoutShare = f.holdout
		o.Split = func(t *table.Table) (*table.Table, *table.Table) { return splitHoldout(t, f.holdout, f.seed) }
	}
	res, err := sample.Draw(ctx, r, o)
	if errors.Is(err, sample.ErrEmpty) {
		return &sample.Result{Train: &table.Table{Columns: r.Columns()}, Holdout: &table.Table{Columns: r.Columns()}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in, err)
	}
	if wantReport && res.Holdout == nil {
		res.Holdout = &table.Table{Columns: res.Train.Columns}
	}
	return res, nil
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
	tmp, err := table.CreateTemp(path)
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := model.Save(tmp, m); err != nil {
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
	if f, ok := w.(*os.File); quiet || !ok || !isTerminal(f) {
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

// isTerminal reports whether f is a terminal (progress bars draw only there).
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
