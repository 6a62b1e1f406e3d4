// Package modeltest runs a custom model's test (package modeleval) the
// same way wherever it is asked for — `synthos models test` on local
// files, POST /v1/models/{id}:test on a job's stored tables, the pipeline's
// scoring of a pinned model — and renders and stores its report (JSON and
// the HTML of package report). It is not part of modeleval because
// report, which draws the HTML, imports modeleval.
package modeltest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/modeleval"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/report"
	"synthos.dev/synthos/shared/table"
)

// Table is one table of a model test: the name the report shows and how
// to read it.
type Table struct {
	Name string
	Read func() (*table.Table, error)
}

// Tables are the tables of a test. Train is optional (Read nil leaves
// TSTR vs TRTR out); with TrainOptional a Train that cannot be read is
// left out too (a job's training rows may have expired) instead of
// failing the test.
type Tables struct {
	Holdout, Synthetic, Train Table
	TrainOptional             bool
}

// Run reads the tables into in (with their names) and runs the test.
func Run(ctx context.Context, in modeleval.Inputs, t Tables) (*modeleval.Report, error) {
	var err error
	in.HoldoutName, in.SyntheticName = t.Holdout.Name, t.Synthetic.Name
	if in.Holdout, err = t.Holdout.Read(); err != nil {
		return nil, fmt.Errorf("model test: holdout: %w", err)
	}
	if in.Synthetic, err = t.Synthetic.Read(); err != nil {
		return nil, fmt.Errorf("model test: synthetic: %w", err)
	}
	if t.Train.Read != nil {
		if in.Train, err = t.Train.Read(); err != nil {
			if !t.TrainOptional {
				return nil, fmt.Errorf("model test: train: %w", err)
			}
			in.Train = nil // the report says TSTR vs TRTR was left out
		}
	}
	return modeleval.Run(ctx, in)
}

// Target is the column a test scores: the first of the candidates that is
// set, in the caller's order of precedence (the request's, the model's,
// the job's).
func Target(candidates ...string) string {
	for _, c := range candidates {
		if c != "" {
			return c
		}
	}
	return ""
}

// Render returns the report as indented JSON (with a final newline) and
// as the HTML page of package report.
func Render(rep *modeleval.Report) (jsonDoc, html []byte, err error) {
	j, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("model test: encode JSON: %w", err)
	}
	var h bytes.Buffer
	if err := report.WriteModelHTML(&h, rep); err != nil {
		return nil, nil, fmt.Errorf("model test: render HTML: %w", err)
	}
	return append(j, '\n'), h.Bytes(), nil
}

// Store renders the report and writes it to b at jsonKey and htmlKey.
func Store(ctx context.Context, b *blob.Bucket, jsonKey, htmlKey string, rep *modeleval.Report) error {
	j, h, err := Render(rep)
	if err != nil {
		return err
	}
	for _, o := range []struct {
		key, contentType string
		body             []byte
	}{{jsonKey, "application/json", j}, {htmlKey, "text/html; charset=utf-8", h}} {
		if err := objects.Put(ctx, b, o.key, func(w io.Writer) error {
			_, err := w.Write(o.body)
			return err
		}, &blob.WriterOptions{ContentType: o.contentType}); err != nil {
			return fmt.Errorf("model test: store %s: %w", o.key, err)
		}
	}
	return nil
}

// Summary writes the verdict and the figures behind it as text.
func Summary(w io.Writer, r *modeleval.Report) {
	fmt.Fprintf(w, "%s: %s\n", r.Verdict.Title, r.Verdict.Text)
	for _, mt := range r.Metrics {
		fmt.Fprintf(w, "  %-9s real %.4g  synthetic %.4g  gap %.3g\n", mt.Name, mt.Real, mt.Synthetic, mt.Gap)
	}
	fmt.Fprintf(w, "  predictions similarity %.3f · mean feature drift %.3f\n", r.Predictions.Similarity, r.MeanDrift)
	if e := r.TSTR; e != nil {
		fmt.Fprintf(w, "  TSTR %s %.3f vs TRTR %.3f (ratio %.3f)\n", e.Metric, e.Synthetic, e.Real, e.Ratio)
	}
}
