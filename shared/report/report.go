// Package report combines the fidelity evaluation (package quality), the
// privacy evaluation (package privacy) and the release gate (package gate)
// of one synthetic table into one report, written as versioned JSON for
// machines (Schema describes it) and as one self-contained HTML page for
// people: scores and plain-language verdicts up front, the gate's decision
// and reasons, and charts drawn server-side as inline SVG, so the page opens
// anywhere, offline, and fetches nothing.
package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/gate"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/quality"
	"synthos.dev/synthos/shared/table"
)

// Version is the version of the Report JSON layout; Schema describes it.
const Version = 1

// ErrInput means Build was given unusable inputs (a nil table, invalid
// thresholds). Errors of the evaluations keep their own sentinels
// (quality.ErrInput, privacy.ErrSchema, ...), wrapped.
var ErrInput = errs.New(errs.InvalidArgument, "report: invalid input")

// Report is the whole evaluation of one synthetic table.
type Report struct {
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	Inputs    Summary   `json:"inputs"`
	// Verdicts are the plain-language reading of the scores, most
	// important first.
	Verdicts []Verdict       `json:"verdicts"`
	Quality  *quality.Report `json:"quality"`
	// Privacy is nil when no holdout was given: privacy is measured
	// against real records the model never saw.
	Privacy *privacy.Report `json:"privacy"`
	Gate    *gate.Result    `json:"gate"`
	Notes   []string        `json:"notes,omitempty"`
	// Narrative is an optional short reading of the report, written
	// through the AI router; every number in it appears in the report
	// (shared/narrative checks it).
	Narrative *Narrative `json:"narrative,omitempty"`
	// ModelTest links the test of the custom model pinned to the job
	// (shared/modeleval), when one is.
	ModelTest *ModelTestLink `json:"model_test,omitempty"`
}

// Narrative is a reading of the report and who wrote it.
type Narrative struct {
	Text     string `json:"text"`
	Provider string `json:"provider"`
	Model    string `json:"model,omitempty"`
}

// ModelTestLink summarises a pinned model's test of this output and says
// where its own report (JSON and HTML) is. Error says why it was not run.
type ModelTestLink struct {
	Model    string `json:"model"`
	Name     string `json:"name,omitempty"`
	Version  int    `json:"version,omitempty"`
	Faithful bool   `json:"faithful"`
	Level    string `json:"level,omitempty"` // good, fair, poor
	Title    string `json:"title,omitempty"`
	JSON     string `json:"json,omitempty"`
	HTML     string `json:"html,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Resampled counts candidate rows redrawn by the privacy guards: near
// copies (closer to a training row than the model's held-out threshold) and
// exact copies of a training row.
type Resampled struct {
	NearCopies  int64 `json:"near_copies"`
	ExactCopies int64 `json:"exact_copies"`
}

// Summary describes what was evaluated and how.
type Summary struct {
	Train     Dataset  `json:"train"`
	Holdout   *Dataset `json:"holdout,omitempty"`
	Synthetic Dataset  `json:"synthetic"`
	// Model is the kind of generator, when known.
	Model string `json:"model,omitempty"`
	// Resampled counts the candidate rows the model's privacy guards
	// redrew while sampling, when the model reports them.
	Resampled *Resampled `json:"resampled,omitempty"`
	// Sampling, set when the input was larger than the fit's memory
	// budget, says how many rows the model saw (package sample).
	Sampling *Sampling `json:"sampling,omitempty"`
	Seed     uint64    `json:"seed"`
	Target   string    `json:"target,omitempty"`
	// Conditions are the conditional job's fixed values (column → value):
	// the evaluation compared the output with the real rows that meet them.
	Conditions map[string]string `json:"conditions,omitempty"`
	Sensitive  []string          `json:"sensitive,omitempty"`
	Quasi      []string          `json:"quasi,omitempty"`
	Thresholds gate.Thresholds   `json:"thresholds"`
}

// Sampling is how many of the input's rows the model was fitted on: a
// seeded, stratified sample of RowsSeen of RowsTotal rows.
type Sampling struct {
	RowsSeen  int64 `json:"rows_seen"`
	RowsTotal int64 `json:"rows_total"`
}

// Dataset is one input table.
type Dataset struct {
	Name    string `json:"name,omitempty"`
	Rows    int    `json:"rows"`
	Columns int    `json:"columns"`
}

// Inputs are what Build evaluates.
type Inputs struct {
	// Train is the real table the model was fitted on; Synthetic its
	// output. Holdout, real rows set aside before fitting, may be nil: ML
	// efficacy and every privacy metric then go unmeasured, which the gate
	// fails by default.
	Train, Holdout, Synthetic *table.Table
	// Profile describes the columns; nil infers it from Train.
	Profile *profile.Profile
	// Target is the ML efficacy target column ("" skips it).
	Target string
	// Conditions are a conditional job's fixed values (column → value, as
	// synth.SampleOptions.Fixed): the output is then judged against the
	// real rows that meet them, and the fixed columns are left out of
	// every score (a constant compared with a distribution is nonsense).
	// See Build.
	Conditions map[string]string
	// Sensitive and Quasi are the attribute-inference targets and the
	// quasi-identifiers (see privacy.Options).
	Sensitive, Quasi []string
	Seed             uint64
	// Thresholds are the gate's; nil means gate.Default().
	Thresholds *gate.Thresholds

	// Names for the report: file names and the generator kind.
	TrainName, HoldoutName, SyntheticName, Model string
	// Resampled, when set, goes into the summary as is.
	Resampled *Resampled
	// Sampling, when set, goes into the summary as is, with a note.
	Sampling *Sampling

	// Quality and Privacy tune the evaluations (sample sizes, folds);
	// their Target, Seed, Sensitive and Quasi are ignored in favour of the
	// fields above.
	Quality quality.Options
	Privacy privacy.Options
}

// Build runs the quality and the privacy evaluations in parallel, then the
// gate, and assembles the report. It fails only on unusable inputs or a
// cancelled context; a failing gate is a result, not an error.
func Build(ctx context.Context, in Inputs) (*Report, error) {
	if in.Train == nil || in.Synthetic == nil {
		return nil, fmt.Errorf("report.Build: train and synthetic tables are required: %w", ErrInput)
	}
	th := gate.Default()
	if in.Thresholds != nil {
		th = *in.Thresholds
	}
	if err := th.Validate(); err != nil {
		return nil, fmt.Errorf("report.Build: %w: %w", err, ErrInput)
	}
	p := in.Profile
	if p == nil {
		var err error
		if p, err = profile.Infer(in.Train, profile.Options{}); err != nil {
			return nil, fmt.Errorf("report.Build: profile the training table: %w", err)
		}
	}
	r := &Report{
		Version:   Version,
		CreatedAt: time.Now().UTC().Truncate(time.Second),
		Inputs: Summary{
			Train:      Dataset{Name: in.TrainName, Rows: len(in.Train.Rows), Columns: len(in.Train.Columns)},
			Synthetic:  Dataset{Name: in.SyntheticName, Rows: len(in.Synthetic.Rows), Columns: len(in.Synthetic.Columns)},
			Model:      in.Model,
			Resampled:  in.Resampled,
			Sampling:   in.Sampling,
			Seed:       in.Seed,
			Target:     in.Target,
			Conditions: in.Conditions,
			Sensitive:  in.Sensitive,
			Quasi:      in.Quasi,
			Thresholds: th,
		},
	}
	if in.Holdout != nil {
		r.Inputs.Holdout = &Dataset{Name: in.HoldoutName, Rows: len(in.Holdout.Rows), Columns: len(in.Holdout.Columns)}
	}

	if s := in.Sampling; s != nil {
		r.Notes = append(r.Notes, fmt.Sprintf("The model was fitted on a seeded, stratified sample of %d of the input's %d rows (rare categories and the numeric tails kept), so its memory stays bounded; the training figures compare with that sample.", s.RowsSeen, s.RowsTotal))
	}

	ev, err := conditional(in, p)
	if err != nil {
		return nil, fmt.Errorf("report.Build: %w", err)
	}
	r.Notes = append(r.Notes, ev.notes...)

	qo := in.Quality
	qo.Target, qo.Seed = ev.target, in.Seed
	po := in.Privacy
	po.Sensitive, po.Quasi, po.Seed = in.Sensitive, in.Quasi, in.Seed

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg         sync.WaitGroup
		qErr, pErr error
	)
	if ev.train != nil {
		wg.Go(func() {
			r.Quality, qErr = quality.Evaluate(ctx, ev.train, in.Synthetic, ev.holdout, ev.profile, qo)
			if qErr != nil {
				cancel()
			}
		})
	}
	if in.Holdout != nil {
		wg.Go(func() {
			r.Privacy, pErr = privacy.Evaluate(ctx, ev.privTrain, ev.privHoldout, in.Synthetic, ev.profile, po)
			if pErr != nil {
				cancel()
			}
		})
	} else {
		r.Notes = append(r.Notes, "privacy not evaluated: no holdout table (privacy is measured against real records the model never saw)")
	}
	wg.Wait()
	// Report the error that caused a cancellation, not the cancellation.
	if err := firstCause(qErr, pErr); err != nil {
		return nil, fmt.Errorf("report.Build: %w", err)
	}
	if r.Quality != nil {
		for _, c := range ev.fixed {
			r.Quality.Excluded = append(r.Quality.Excluded, quality.Exclusion{Column: c,
				Reason: fmt.Sprintf("fixed by the job's condition %s=%s: every synthetic row has it", c, in.Conditions[c])})
		}
	}
	res := gate.CheckUnmeasurable(r.Quality, r.Privacy, th, ev.unmeasurable)
	r.Gate = &res
	r.Verdicts = verdicts(r.Quality, r.Privacy, th)
	return r, nil
}

// firstCause returns the error that is not a mere context cancellation, if
// any, else the first non-nil one.
func firstCause(errs ...error) error {
	var first error
	for _, err := range errs {
		if err == nil {
			continue
		}
		if !errors.Is(err, context.Canceled) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// WriteJSON writes r as indented JSON, the layout Schema describes.
func WriteJSON(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("report.WriteJSON: nil report: %w", ErrInput)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("report.WriteJSON: %w", err)
	}
	return nil
}
