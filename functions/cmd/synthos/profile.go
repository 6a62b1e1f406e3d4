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

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/semantic"
	"synthos.dev/synthos/shared/table"
)

func runProfile(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("profile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	jsonOut := fs.String("json", "", "where to write the profile as JSON (default INPUT's name + .profile.json in the current directory; - for none)")
	schemaPath := fs.String("schema", "", "JSON schema file overriding inferred column kinds")
	limits := limitFlags(fs)
	labels := fs.Bool("labels", false, "ask the configured AI provider (offline by default) what ambiguous columns mean; it sees only names, kinds and masked samples")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: synthos profile FILE [--json OUT] [--schema F]")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return fmt.Errorf("%w: profile takes exactly one input file, got %d", errUsage, len(pos))
	}
	in := pos[0]
	p, t, err := streamProfile(in, *limits)
	if err != nil {
		return err
	}
	if p, err = applySchema(p, *schemaPath); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", in)
	if err := profile.WriteText(stdout, p); err != nil {
		return err
	}
	if *labels {
		if err := printLabels(ctx, t, p, stdout); err != nil {
			return err
		}
	}
	out := *jsonOut
	if out == "-" {
		return nil
	}
	if out == "" {
		base := filepath.Base(in)
		out = strings.TrimSuffix(base, filepath.Ext(base)) + ".profile.json"
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode profile: %w", err)
	}
	if err := writeFileAtomic(out, append(b, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nprofile written to %s\n", out)
	return nil
}

// readTable reads a whole table file, with errors that name the file.
func readTable(path string, opts table.Options) (*table.Table, error) {
	r, err := table.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer r.Close()
	t, err := table.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return t, nil
}

// streamProfile profiles a table file in one pass (profile.Stream), in
// memory that does not grow with the file; a file of at most
// profile.DefaultSample rows is profiled exactly, as profile.Infer does.
// It also returns the rows the kinds were chosen on (every row of a small
// file), for the labels' masked samples.
func streamProfile(path string, opts table.Options) (*profile.Profile, *table.Table, error) {
	r, err := table.Open(path, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer r.Close()
	s, err := profile.NewStream(r.Columns(), profile.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: %w", path, err)
	}
	for {
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		if err := s.Add(row); err != nil {
			return nil, nil, fmt.Errorf("profile %s: %w", path, err)
		}
	}
	p, err := s.Profile()
	if err != nil {
		return nil, nil, fmt.Errorf("profile %s: %w", path, err)
	}
	return p, s.Sample(), nil
}

// profileTable infers a profile and applies the schema overrides, if any.
func profileTable(t *table.Table, schemaPath string) (*profile.Profile, error) {
	p, err := profile.Infer(t, profile.Options{})
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	return applySchema(p, schemaPath)
}

// applySchema applies the schema file's overrides to p, if there is one.
func applySchema(p *profile.Profile, schemaPath string) (*profile.Profile, error) {
	if schemaPath != "" {
		s, err := profile.LoadSchema(schemaPath)
		if err != nil {
			return nil, err
		}
		if err := s.Apply(p); err != nil {
			return nil, fmt.Errorf("apply schema %s: %w", schemaPath, err)
		}
	}
	return p, nil
}

// writeFileAtomic writes b to path through a temp file and a rename, so a
// failure never leaves a partial file.
func writeFileAtomic(path string, b []byte) error {
	f, err := table.CreateTemp(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // no-op after a successful rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// limitFlags registers the input limits every command that reads tables
// takes, and returns the options they fill in.
func limitFlags(fs *flag.FlagSet) *table.Options {
	var o table.Options
	fs.IntVar(&o.MaxRows, "max-rows", 0, "refuse inputs with more data rows than this (0: no limit)")
	fs.IntVar(&o.MaxColumns, "max-columns", table.DefaultMaxColumns, "refuse inputs with more columns than this (-1: no limit)")
	fs.IntVar(&o.MaxCellBytes, "max-cell-bytes", table.DefaultMaxCellBytes, "refuse cells longer than this many bytes (-1: no limit)")
	return &o
}

// printLabels labels the profile's ambiguous columns through the router.
func printLabels(ctx context.Context, t *table.Table, p *profile.Profile, stdout io.Writer) error {
	cols := semantic.Ambiguous(p)
	if len(cols) == 0 {
		_, err := fmt.Fprintln(stdout, "\nno ambiguous column to label")
		return err
	}
	a, done, err := localAssistant(ctx)
	if err != nil {
		return err
	}
	defer done()
	ls, res, err := semantic.Labels(ctx, a.Router, "local", semantic.NewViews(t, p, cols))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nlabels (%s):\n", res.Provider)
	for _, l := range ls {
		fmt.Fprintf(stdout, "  %-24s %s", l.Column, l.Meaning)
		if l.PII != "" {
			fmt.Fprintf(stdout, " [pii: %s]", l.PII)
		}
		if l.Unit != "" {
			fmt.Fprintf(stdout, " [unit: %s]", l.Unit)
		}
		fmt.Fprintf(stdout, " (%.2f)\n", l.Confidence)
	}
	return nil
}
