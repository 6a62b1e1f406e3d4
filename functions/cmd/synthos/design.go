package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"synthos.dev/synthos/shared/assist"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/design"
	"synthos.dev/synthos/shared/llm"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/table"
)

func runDesign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("design", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int64("n", 0, "rows of the main table (the others keep their ratio to it); 0 keeps the spec's")
	out := fs.String("o", "", "where to write the main table (CSV, TSV, JSONL or Parquet by extension); the other tables go beside it as NAME.TABLE.EXT")
	specOut := fs.String("spec-out", "", "where to write the spec as JSON")
	specIn := fs.String("spec", "", "sample this spec file (hand-written or edited) instead of designing one")
	fromTable := fs.String("from-table", "", "derive the spec from this table's profile instead of a description")
	seed := fs.Uint64("seed", 1, "random seed")
	modelText := fs.Bool("model-text", false, "have the configured model write text columns (priced and shown before it runs); default: offline templates")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: synthos design "DESCRIPTION" -n ROWS -o OUTPUT [--spec-out spec.json]
       synthos design --spec spec.json -n ROWS -o OUTPUT
       synthos design --from-table data.csv --spec-out spec.json`)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	sources := 0
	for _, set := range []bool{len(pos) > 0, *specIn != "", *fromTable != ""} {
		if set {
			sources++
		}
	}
	if sources != 1 || len(pos) > 1 {
		fs.Usage()
		return fmt.Errorf("%w: give one description, or --spec, or --from-table", errUsage)
	}
	if *out == "" && *specOut == "" {
		fs.Usage()
		return fmt.Errorf("%w: nothing to write: give -o and/or --spec-out", errUsage)
	}
	var a *assist.Assistant
	if len(pos) == 1 || *modelText {
		var done func()
		if a, done, err = localAssistant(ctx); err != nil {
			return err
		}
		defer done()
	}
	var spec *design.Spec
	start := time.Now()
	switch {
	case *specIn != "":
		b, err := os.ReadFile(*specIn)
		if err != nil {
			return fmt.Errorf("read spec: %w", err)
		}
		if spec, err = design.Parse(b); err != nil {
			return fmt.Errorf("%s: %w", *specIn, err)
		}
	case *fromTable != "":
		t, err := readTable(*fromTable, table.Options{})
		if err != nil {
			return err
		}
		p, err := profileTable(t, "")
		if err != nil {
			return err
		}
		base := filepath.Base(*fromTable)
		if spec, err = design.FromProfile(strings.TrimSuffix(base, filepath.Ext(base)), t, p); err != nil {
			return err
		}
	default:
		var res llm.Result
		spec, res, err = design.Design(ctx, a.Router, "local", pos[0], *n)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "designed by %s (%s) in %s: %d tables, score %.2f, %d input + %d output tokens, %s\n",
			res.Provider, res.Model, time.Since(start).Round(time.Millisecond), len(spec.Tables), res.Score,
			res.Usage.InputTokens, res.Usage.OutputTokens, res.Cost)
	}
	if *n > 0 {
		if spec, err = spec.Scale(*n); err != nil {
			return err
		}
	}
	if *specOut != "" {
		b, err := json.MarshalIndent(spec, "", "  ")
		if err != nil {
			return fmt.Errorf("encode spec: %w", err)
		}
		if err := writeFileAtomic(*specOut, append(b, '\n')); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "spec written to %s\n", *specOut)
	}
	if *out == "" {
		return nil
	}
	opts := design.Options{Seed: *seed, Open: func(name string, cols []table.Column) (table.Writer, error) {
		return table.Create(tablePath(*out, spec, name), table.Auto, cols)
	}}
	if *modelText {
		filler := &design.TextFiller{Asker: a.Router, Tenant: "local"}
		if calls := filler.TextRequests(spec); calls > 0 {
			var price llm.Micros
			for _, r := range a.Router.Order(llm.Request{Task: llm.TaskText}) {
				if c, ok := r.Provider.(*llm.Client); ok {
					price = filler.Price(spec, c)
					fmt.Fprintf(stdout, "text columns: %d model calls, at most %s with %s\n", calls, price, c.Name())
					break
				}
			}
			opts.TextFiller = filler
		}
	}
	genStart := time.Now()
	res, err := design.Generate(ctx, spec, opts)
	if err != nil {
		return err
	}
	var total int64
	for _, r := range res {
		total += r.Rows
		fmt.Fprintf(stdout, "%s: %d rows -> %s\n", r.Name, r.Rows, tablePath(*out, spec, r.Name))
	}
	el := time.Since(genStart)
	fmt.Fprintf(stdout, "%d rows in %s (%.0f rows/s)\n", total, el.Round(time.Millisecond), float64(total)/max(el.Seconds(), 1e-9))
	return nil
}

// tablePath is where a table of the spec goes: the main table at out, the
// others beside it as NAME.TABLE.EXT.
func tablePath(out string, s *design.Spec, name string) string {
	if m := s.MainTable(); m != nil && m.Name == name {
		return out
	}
	ext := filepath.Ext(out)
	return strings.TrimSuffix(out, ext) + "." + name + ext
}

// localAssistant builds the router from the environment's configuration
// and secrets, for commands run locally; done releases the secrets.
func localAssistant(ctx context.Context) (*assist.Assistant, func(), error) {
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, nil, err
	}
	src, err := secrets.Open(ctx, cfg.SecretsURL)
	if err != nil {
		return nil, nil, fmt.Errorf("open secrets: %w", err)
	}
	a, err := assist.New(ctx, cfg.AI, assist.Options{Project: cfg.Project, Secrets: src})
	if err != nil {
		src.Close()
		return nil, nil, err
	}
	return a, func() { src.Close() }, nil
}
