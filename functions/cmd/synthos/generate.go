package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

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
	maxRows   int
	quiet     bool
}

func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f generateFlags
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Int64Var(&f.rows, "n", 0, "number of synthetic rows to write (required)")
	fs.StringVar(&f.out, "o", "", "output file; its extension picks the format unless --format is set (required)")
	fs.StringVar(&f.model, "model", synth.KindTree, "model: tree (sequential trees, the most faithful) or copula (Gaussian copula, fastest)")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed, model and input give the same output bytes")
	fs.StringVar(&f.schema, "schema", "", "JSON schema file overriding inferred column kinds")
	fs.StringVar(&f.rules, "rules", "", "JSON business-rules file; every output row satisfies every rule")
	fs.Var(&f.where, "where", "condition col=value that every output row satisfies (repeatable)")
	fs.StringVar(&f.format, "format", "", "output format: csv, jsonl or parquet (default: from -o's extension)")
	fs.StringVar(&f.saveModel, "save-model", "", "also write the fitted model to this file, to sample again later with --model-file")
	fs.StringVar(&f.modelFile, "model-file", "", "sample from a saved model instead of fitting (INPUT is then needed only for --rules)")
	fs.IntVar(&f.maxRows, "max-rows", 0, "refuse inputs with more data rows than this (0: no limit)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress bar")
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
	if f.model != synth.KindTree && f.model != synth.KindCopula {
		return fmt.Errorf("%w: --model %q: use tree or copula", errUsage, f.model)
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
		if t, err = readTable(in, table.Options{MaxRows: f.maxRows}); err != nil {
			return err
		}
	}

	var m synth.Model
	if f.modelFile != "" {
		r, err := os.Open(f.modelFile)
		if err != nil {
			return fmt.Errorf("open model: %w", err)
		}
		m, err = synth.Load(r)
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
			if m, err = synth.Fit(ctx, t, p, synth.FitOptions{Kind: f.model, Seed: f.seed}); err != nil {
				return fmt.Errorf("fit: %w", err)
			}
			fmt.Fprintf(stderr, "fitted in %s\n", time.Since(fitStart).Round(time.Millisecond))
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
	if err := m.Sample(ctx, f.rows, 0, 1, f.seed, opts, w); err != nil {
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
	return nil
}

func saveModel(path string, m synth.Model) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := synth.Save(tmp, m); err != nil {
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
