package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"synthos.dev/synthos/shared/ensemble"
	"synthos.dev/synthos/shared/modelcheck"
	"synthos.dev/synthos/shared/modeleval"
	"synthos.dev/synthos/shared/modeleval/modeltest"
	"synthos.dev/synthos/shared/table"
)

const modelsUsage = `usage:
  synthos models validate FILE [--dataset TABLE --target COL] [--json]
  synthos models predict MODEL INPUT -o OUTPUT [--categories FILE.json]
  synthos models test MODEL --holdout REAL --synthetic SYNTH --target COL
         [--train REAL_TRAIN] [--categories FILE.json] [--report F.html] [--json F.json]

validate checks a model file offline as the platform does before accepting
it (format, size, pickle opcode scan, archive structure, ONNX graph; with
--dataset, the model's inputs against the table's columns) and exits with
status 1 when the model is rejected.

predict runs an XGBoost (JSON/UBJSON) or LightGBM (text) model in process
over a CSV, JSON Lines or Parquet table and writes the input columns plus
the prediction as the last column (class probabilities p_0.. before it for
multiclass models). Categorical features take integer codes, or category
names when --categories maps each feature to its categories in code order.
test scores the model on the real holdout and on the synthetic table,
measures the drift of every feature it reads and of its predictions, and
with --train compares gradient-boosted trees trained on synthetic and on real
rows (TSTR vs TRTR); it prints the verdict, writes the report, and exits with
status 1 when the synthetic data is not a faithful stand-in for the model.
--categories may also list the target's classes in code order.

Against a deployment (synthos --api URL --key KEY, or SYNTHOS_API and
SYNTHOS_API_KEY), the registry:
  synthos models upload FILE [--dataset ID] [--target COL]
  synthos models list | show ID | delete ID`

func runModels(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, modelsUsage)
		if len(args) == 0 {
			return fmt.Errorf("%w: models needs a subcommand (validate, predict)", errUsage)
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "upload", "list", "show", "delete":
		if rc := remoteFrom(ctx); rc != nil {
			return rc.models(ctx, args, stdout, stderr)
		}
		return fmt.Errorf("%w: models %s uses the registry of a deployment: synthos --api URL --key KEY models %s … (or set SYNTHOS_API and SYNTHOS_API_KEY)", errUsage, args[0], args[0])
	case "validate":
		return runModelsValidate(args[1:], stdout, stderr)
	case "predict":
		return runModelsPredict(ctx, args[1:], stdout, stderr)
	case "test":
		return runModelsTest(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintln(stderr, modelsUsage)
	return fmt.Errorf("%w: unknown models subcommand %q", errUsage, args[0])
}

// errRejected marks a model that failed validation (exit status 1).
var errRejected = errors.New("model rejected")

func runModelsValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("models validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataset := fs.String("dataset", "", "a table whose columns the model's inputs must match")
	target := fs.String("target", "", "the column the model predicts (with --dataset)")
	asJSON := fs.Bool("json", false, "print the full report as JSON")
	opts := limitFlags(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: models validate takes one FILE", errUsage)
	}
	data, err := readLimited(pos[0], modelcheck.DefaultLimits.MaxBytes)
	if err != nil {
		return err
	}
	r := modelcheck.Check(data, pos[0], modelcheck.DefaultLimits)
	var match *modelcheck.InputMatch
	if *dataset != "" {
		t, err := readTable(*dataset, *opts)
		if err != nil {
			return err
		}
		p, err := profileTable(t, "")
		if err != nil {
			return err
		}
		if len(r.Inputs) == 0 {
			fmt.Fprintln(stderr, "note: this format does not declare its inputs; nothing to match against the dataset")
		} else {
			m := modelcheck.MatchInputs(r.Inputs, p, *target)
			match = &m
		}
	}
	if *asJSON {
		b, err := json.MarshalIndent(struct {
			*modelcheck.Report
			Dataset *modelcheck.InputMatch `json:"dataset,omitempty"`
		}{r, match}, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, string(b))
	} else {
		printCheck(stdout, r, match)
	}
	switch {
	case !r.OK():
		return fmt.Errorf("%w: %s", errRejected, r.Reason())
	case match != nil && !match.OK():
		return fmt.Errorf("%w: %s", errRejected, match.String())
	}
	return nil
}

func printCheck(w io.Writer, r *modelcheck.Report, match *modelcheck.InputMatch) {
	status := "ready"
	if !r.OK() || match != nil && !match.OK() {
		status = "rejected"
	}
	fmt.Fprintf(w, "%s: %s model (%s), %d bytes\n", status, r.Framework, r.Format, r.Size)
	if r.Servable {
		fmt.Fprintf(w, "  served in process: %s, %d output(s), %v trees\n", r.Task, r.Outputs, r.Details["trees"])
	} else if r.OK() {
		fmt.Fprintln(w, "  not served in process: validate-and-store only (deployable to Vertex AI)")
	}
	if len(r.Inputs) > 0 {
		var in []string
		for _, i := range r.Inputs {
			in = append(in, i.Name+":"+i.Kind)
		}
		fmt.Fprintf(w, "  inputs: %s\n", strings.Join(in, ", "))
	}
	for _, f := range r.Findings {
		fmt.Fprintf(w, "  rejected: %s\n", f)
	}
	if match != nil {
		fmt.Fprintf(w, "  dataset: %s\n", match)
		if len(match.Extra) > 0 {
			fmt.Fprintf(w, "  columns the model does not read: %s\n", strings.Join(match.Extra, ", "))
		}
	}
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is over %d bytes", path, limit)
	}
	return b, nil
}

// predictBatch is how many rows predict hands the model at a time.
const predictBatch = 4096

func runModelsPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("models predict", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output table (CSV, JSON Lines or Parquet by extension; required)")
	catsPath := fs.String("categories", "", "JSON file: {feature: [category for code 0, code 1, ...]}")
	opts := limitFlags(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || *out == "" {
		return fmt.Errorf("%w: models predict takes MODEL INPUT -o OUTPUT", errUsage)
	}
	mf, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	m, err := ensemble.Parse(mf, "")
	mf.Close()
	if err != nil {
		return fmt.Errorf("%s: %w (in-process prediction serves XGBoost JSON/UBJSON and LightGBM text models)", pos[0], err)
	}
	var cats map[string][]string
	if *catsPath != "" {
		b, err := os.ReadFile(*catsPath)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &cats); err != nil {
			return fmt.Errorf("%s: %w", *catsPath, err)
		}
	}
	in, err := table.Open(pos[1], *opts)
	if err != nil {
		return fmt.Errorf("read %s: %w", pos[1], err)
	}
	defer in.Close()
	bind, err := m.Bind(in.Columns(), cats)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[1], err)
	}
	w, err := table.Create(*out, table.Auto, m.OutputColumns(in.Columns()))
	if err != nil {
		return err
	}
	defer onForcedExit(func() { w.Abort() })()
	sc := m.NewScorer(bind, predictBatch)
	n := 0
	flush := func() error {
		if err := sc.Flush(w.Write); err != nil {
			return err
		}
		return ctx.Err()
	}
	for {
		cells, err := in.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return errors.Join(fmt.Errorf("read %s: %w", pos[1], err), w.Abort())
		}
		n++
		if err := sc.Add(cells, n); err != nil {
			return errors.Join(fmt.Errorf("%s: %w", pos[1], err), w.Abort())
		}
		if sc.Full() {
			if err := flush(); err != nil {
				return errors.Join(err, w.Abort())
			}
		}
	}
	if err := flush(); err != nil {
		return errors.Join(err, w.Abort())
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "%d rows predicted with %s %s (%d trees) -> %s\n", n, m.Framework, m.Objective, m.Trees, *out)
	return nil
}

// errNotFaithful marks a model test whose verdict is "not a faithful
// stand-in" (exit status 1).
var errNotFaithful = errors.New("the synthetic data is not a faithful stand-in for the model")

func runModelsTest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("models test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	holdout := fs.String("holdout", "", "real rows neither the model nor the synthesizer saw (required)")
	synthetic := fs.String("synthetic", "", "the synthetic table (required)")
	train := fs.String("train", "", "the real rows the synthesizer was fitted on: enables TSTR vs TRTR")
	target := fs.String("target", "", "the column the model predicts (required)")
	catsPath := fs.String("categories", "", "JSON file: {column: [category for code 0, code 1, ...]}, features and target")
	htmlOut := fs.String("report", "", "write the HTML report here")
	jsonOut := fs.String("json", "", "write the JSON report here")
	opts := limitFlags(fs)
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *holdout == "" || *synthetic == "" || *target == "" {
		return fmt.Errorf("%w: models test takes MODEL --holdout REAL --synthetic SYNTH --target COL", errUsage)
	}
	mf, err := os.Open(pos[0])
	if err != nil {
		return err
	}
	m, err := ensemble.Parse(mf, "")
	mf.Close()
	if err != nil {
		return fmt.Errorf("%s: %w (the model test runs XGBoost and LightGBM models in process)", pos[0], err)
	}
	in := modeleval.Inputs{Model: m, ModelName: filepath.Base(pos[0]), Target: *target}
	if *catsPath != "" {
		b, err := os.ReadFile(*catsPath)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &in.Categories); err != nil {
			return fmt.Errorf("%s: %w", *catsPath, err)
		}
	}
	file := func(path string) modeltest.Table {
		return modeltest.Table{Name: filepath.Base(path), Read: func() (*table.Table, error) { return readTable(path, *opts) }}
	}
	tables := modeltest.Tables{Holdout: file(*holdout), Synthetic: file(*synthetic)}
	if *train != "" {
		tables.Train = file(*train)
	}
	r, err := modeltest.Run(ctx, in, tables)
	if err != nil {
		return err
	}
	modeltest.Summary(stdout, r)
	jsonDoc, html, err := modeltest.Render(r)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path, kind string
		body       []byte
	}{{*jsonOut, "JSON", jsonDoc}, {*htmlOut, "HTML", html}} {
		if f.path == "" {
			continue
		}
		if err := writeFileAtomic(f.path, f.body); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s report written to %s\n", f.kind, f.path)
	}
	if !r.Verdict.Faithful {
		return errNotFaithful
	}
	return nil
}
