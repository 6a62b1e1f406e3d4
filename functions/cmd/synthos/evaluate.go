package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/narrative"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/rules"
)

// errGateFailed is returned by evaluate when the release gate fails, after
// the summary and the reports have been written: the exit status is 1, so a
// pipeline stops (or quarantines the output) without parsing anything, and
// the reports say why.
var errGateFailed = errors.New("release gate failed")

// runEvaluate scores a synthetic table against the real one (fidelity,
// privacy, release gate), prints a summary and writes the JSON and HTML
// reports.
func runEvaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if rc := remoteFrom(ctx); rc != nil {
		return rc.evaluate(ctx, args, stdout, stderr)
	}
	fs := flag.NewFlagSet("evaluate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limits := limitFlags(fs)
	holdout := fs.String("holdout", "", "real rows set aside before fitting; needed for ML efficacy and every privacy metric (without it the gate fails)")
	target := fs.String("target", "", "column for ML efficacy (train on synthetic, test on the holdout)")
	sensitive := fs.String("sensitive", "", "comma-separated columns an attacker wants to learn (attribute inference)")
	quasi := fs.String("quasi", "", "comma-separated quasi-identifier columns an attacker knows (attribute inference, k-anonymity)")
	schemaPath := fs.String("schema", "", "JSON schema file overriding inferred column kinds")
	thresholdsPath := fs.String("thresholds", "", "JSON file overriding some or all of the gate's default thresholds")
	seed := fs.Uint64("seed", 1, "seed of every sample the evaluation draws")
	model := fs.String("model", "", "generator kind, for the report (e.g. copula)")
	discRows := fs.Int("discriminator-rows", 0, "rows per side for the real-vs-synthetic classifier (0: default 10000; -1 skips it, which fails the gate)")
	var where multiFlag
	fs.Var(&where, "where", "condition col=value the synthetic rows were generated with (repeatable): they are judged against the real rows that meet it")
	htmlOut := fs.String("report", "", "where to write the HTML report")
	jsonOut := fs.String("json", "", "where to write the JSON report")
	narrate := fs.Bool("narrative", false, "print a short reading of the report by the configured AI provider (offline by default), quoting only the report's numbers")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: synthos evaluate REAL SYNTH [--holdout H] [--target COL] [--sensitive COLS] [--quasi COLS]")
		fmt.Fprintln(stderr, "                        [--schema F] [--thresholds F] [--seed S] [--report report.html] [--json report.json]")
		fmt.Fprintln(stderr, "\nREAL is the table the model was fitted on, SYNTH its output. Exit status 1 when the release")
		fmt.Fprintln(stderr, "gate fails; the summary and the reports are written first and say why.")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		fs.Usage()
		return fmt.Errorf("%w: evaluate takes a real and a synthetic table, got %d arguments", errUsage, len(pos))
	}
	var th *gate.Thresholds
	if *thresholdsPath != "" {
		t, err := gate.Load(*thresholdsPath)
		if err != nil {
			return fmt.Errorf("evaluate: %w", err)
		}
		th = &t
	}
	in := report.Inputs{
		Target: *target, Sensitive: splitList(*sensitive), Quasi: splitList(*quasi), Seed: *seed,
		Thresholds: th, Model: *model,
		TrainName: filepath.Base(pos[0]), SyntheticName: filepath.Base(pos[1]),
		Quality: quality.Options{DiscriminatorRows: *discRows},
	}
	if in.Train, err = readTable(pos[0], *limits); err != nil {
		return err
	}
	for _, w := range where {
		col, val, err := rules.ParseWhere(w)
		if err != nil {
			return fmt.Errorf("%w: --where %q: use column=value", errUsage, w)
		}
		if in.Conditions == nil {
			in.Conditions = map[string]string{}
		}
		in.Conditions[col] = val
	}
	// A synthetic CSV is read as the cells that were written: the
	// spreadsheet escaping of synthos generate ("'=x") is undone.
	synOpts := *limits
	synOpts.Unescape = true
	if in.Synthetic, err = readTable(pos[1], synOpts); err != nil {
		return err
	}
	if *holdout != "" {
		if in.Holdout, err = readTable(*holdout, *limits); err != nil {
			return err
		}
		in.HoldoutName = filepath.Base(*holdout)
	}
	if in.Profile, err = profileTable(in.Train, *schemaPath); err != nil {
		return err
	}
	r, err := report.Build(ctx, in)
	if err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	if *narrate {
		if err := printNarrative(ctx, r, stdout); err != nil {
			return err
		}
	}
	return finishReport(r, *htmlOut, *jsonOut, pos[0], pos[1], *holdout, stdout)
}

// finishReport writes the report's files atomically (either path may be
// empty), prints the summary, and returns an error wrapping errGateFailed
// when the release gate failed, so that scripts can act on the exit status.
func finishReport(r *report.Report, htmlPath, jsonPath, real, synth, holdout string, stdout io.Writer) error {
	outputs := []struct {
		path  string
		write func(io.Writer, *report.Report) error
	}{{jsonPath, report.WriteJSON}, {htmlPath, report.WriteHTML}}
	var written []string
	for _, o := range outputs {
		if o.path == "" {
			continue
		}
		var buf bytes.Buffer
		if err := o.write(&buf, r); err != nil {
			return fmt.Errorf("render report: %w", err)
		}
		if err := writeFileAtomic(o.path, buf.Bytes()); err != nil {
			return err
		}
		written = append(written, o.path)
	}
	if err := printSummary(stdout, r, real, synth, holdout, written); err != nil {
		return err
	}
	if !r.Gate.Pass {
		return fmt.Errorf("%w: %d of %d checks failed", errGateFailed, len(r.Gate.Failures()), len(r.Gate.Reasons))
	}
	return nil
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// printSummary prints the scores, the verdicts and the gate's decision.
func printSummary(w io.Writer, r *report.Report, real, synth, holdout string, written []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%d rows) against %s (%d rows)", synth, r.Inputs.Synthetic.Rows, real, r.Inputs.Train.Rows)
	if h := r.Inputs.Holdout; h != nil {
		fmt.Fprintf(&b, ", holdout %s (%d rows)", holdout, h.Rows)
	}
	b.WriteString("\n\n")
	if q := r.Quality; q != nil {
		fmt.Fprintf(&b, "Quality   overall %.1f%%   column shapes %.1f%%   column pair trends %.1f%%", 100*q.Overall, 100*q.ColumnShapes, 100*q.ColumnPairTrends)
		if d := q.Discriminator; d != nil {
			fmt.Fprintf(&b, "   discriminator AUC %.3f", d.AUC)
		}
		if e := q.Efficacy; e != nil {
			fmt.Fprintf(&b, "   ML efficacy %s %.3f vs %.3f", e.Metric, e.Synthetic, e.Real)
		}
		b.WriteString("\n")
	}
	if p := r.Privacy; p != nil {
		fmt.Fprintf(&b, "Privacy   DCR share %.3f (ideal 0.5)   membership AUC %.3f   identical rows %.2f%% (unseen %.2f%%)   leaked identifiers %d\n",
			p.DCR.CloserToTrainShare, p.Membership.AUC, 100*p.Identical.SyntheticShare, 100*p.Identical.HoldoutShare, p.PII.LeakedCells)
	} else {
		b.WriteString("Privacy   not measured: no --holdout\n")
	}
	b.WriteString("\n")
	for _, v := range r.Verdicts {
		fmt.Fprintf(&b, "  %s\n", v)
	}
	b.WriteString("\n")
	if r.Gate.Pass {
		fmt.Fprintf(&b, "Release gate: PASS (%d checks)\n", len(r.Gate.Reasons))
	} else {
		fails := r.Gate.Failures()
		fmt.Fprintf(&b, "Release gate: FAIL (%d of %d checks)\n", len(fails), len(r.Gate.Reasons))
		for _, f := range fails {
			fmt.Fprintf(&b, "  - %s\n", f.Message)
		}
	}
	for _, p := range written {
		fmt.Fprintf(&b, "report written to %s\n", p)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("evaluate: %w", err)
	}
	return nil
}

// printNarrative asks the router for a reading of r grounded in its numbers.
func printNarrative(ctx context.Context, r *report.Report, stdout io.Writer) error {
	var buf bytes.Buffer
	if err := report.WriteJSON(&buf, r); err != nil {
		return err
	}
	a, done, err := localAssistant(ctx)
	if err != nil {
		return err
	}
	defer done()
	text, res, err := narrative.Narrate(ctx, a.Router, "local", buf.Bytes())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "Reading (%s):\n%s\n\n", res.Provider, text)
	return err
}
