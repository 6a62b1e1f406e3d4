package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/tink-crypto/tink-go/v2/tink"
	"synthos.dev/synthos/shared/datasets"
	"synthos.dev/synthos/shared/keyring"

	"synthos.dev/synthos/shared/api"
	"synthos.dev/synthos/shared/compliance"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/dp"
	"synthos.dev/synthos/shared/jobs"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/privacy"
	"synthos.dev/synthos/shared/state"
)

// runCompliance builds the GDPR / HIPAA / CCPA evidence of an output table
// (synthetic or de-identified) against the real rows it came from and a
// holdout, and writes the JSON and HTML reports.
func runCompliance(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compliance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	limits := limitFlags(fs)
	holdout := fs.String("holdout", "", "real rows set aside before fitting (required: the control set of the attacks)")
	htmlOut := fs.String("html", "", "where to write the HTML report (printable to PDF)")
	jsonOut := fs.String("json", "", "where to write the JSON report")
	regimes := fs.String("regimes", "", "comma-separated regimes that apply: gdpr, hipaa, ccpa (default: all)")
	attacks := fs.Int("attacks", privacy.DefaultAttacks, "attacks of each kind (singling out, linkability, inference)")
	seed := fs.Uint64("seed", 1, "seed of the attacks")
	maxRisk := fs.Float64("max-risk", compliance.DefaultMaxRisk, "highest residual risk at which a GDPR criterion counts as met")
	model := fs.String("model", "", "generator kind, for the processing record (tree, copula, dp; \"anonymize\" for de-identified rows)")
	epsilon := fs.Float64("epsilon", 0, "the ε of the model's differential-privacy guarantee (dp models)")
	delta := fs.Float64("delta", dp.DefaultDelta, "the δ of the guarantee")
	schemaPath := fs.String("schema", "", "JSON schema file overriding inferred column kinds")
	job := fs.String("job", "", "build the report of this job of the local store (SYNTHOS_STATE_URL, SYNTHOS_OBJECTS_URL) instead of files; needs --tenant")
	tenant := fs.String("tenant", "", "the job's tenant (with --job)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: synthos compliance TRAIN OUTPUT --holdout HOLDOUT [--html F.html] [--json F.json] [--regimes gdpr,hipaa,ccpa]")
		fmt.Fprintln(stderr, "       synthos compliance --job ID --tenant T [--html F.html] [--json F.json] [--regimes ...]")
		fmt.Fprintln(stderr, "\nTRAIN are the real rows the output was made from, OUTPUT the synthetic or de-identified table.")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *job != "" {
		if len(pos) != 0 || *tenant == "" {
			fs.Usage()
			return fmt.Errorf("%w: --job takes no table arguments and needs --tenant", errUsage)
		}
		start := time.Now()
		r, err := localJobCompliance(ctx, *tenant, *job, splitList(*regimes))
		if err != nil {
			return err
		}
		return writeCompliance(r, *jsonOut, *htmlOut, stdout, time.Since(start))
	}
	if len(pos) != 2 || *holdout == "" {
		fs.Usage()
		return fmt.Errorf("%w: compliance takes a training and an output table and --holdout", errUsage)
	}
	in := compliance.Inputs{Regimes: splitList(*regimes), MaxRisk: *maxRisk,
		Attacks: privacy.AttackOptions{Attacks: *attacks, Seed: *seed}}
	if in.Train, err = readTable(pos[0], *limits); err != nil {
		return err
	}
	outOpts := *limits
	outOpts.Unescape = true
	if in.Output, err = readTable(pos[1], outOpts); err != nil {
		return err
	}
	if in.Holdout, err = readTable(*holdout, *limits); err != nil {
		return err
	}
	if in.Profile, err = profileTable(in.Train, *schemaPath); err != nil {
		return err
	}
	if *epsilon > 0 {
		in.DP = &compliance.DPGuarantee{Epsilon: *epsilon, Delta: *delta,
			Mechanism: "MST-style marginals with Gaussian noise", Accounting: "rho-zCDP converted to (epsilon, delta)"}
	}
	actor := "cli"
	if u, err := user.Current(); err == nil {
		actor = "cli:" + u.Username
	}
	settings := map[string]string{"seed": strconv.FormatUint(*seed, 10), "attacks": strconv.Itoa(*attacks)}
	if *model != "" {
		settings["model"] = *model
	}
	if *epsilon > 0 {
		settings["epsilon"], settings["delta"] = strconv.FormatFloat(*epsilon, 'g', -1, 64), strconv.FormatFloat(*delta, 'g', -1, 64)
	}
	digests := map[string]string{}
	for name, path := range map[string]string{"train": pos[0], "output": pos[1], "holdout": *holdout} {
		if d, err := fileDigest(path); err == nil {
			digests[name] = d
		}
	}
	in.Record = compliance.Processing{Actor: actor, Operation: operation(*model), Dataset: filepath.Base(pos[0]),
		At: time.Now().UTC(), Settings: settings, Digests: digests}
	start := time.Now()
	r, err := compliance.Build(ctx, in)
	if err != nil {
		return fmt.Errorf("compliance: %w", err)
	}
	return writeCompliance(r, *jsonOut, *htmlOut, stdout, time.Since(start))
}

// writeCompliance writes the report's files atomically (either path may be
// empty) and prints the summary.
func writeCompliance(r *compliance.Report, jsonOut, htmlOut string, stdout io.Writer, took time.Duration) error {
	for _, o := range []struct {
		path  string
		write func(io.Writer, *compliance.Report) error
	}{{jsonOut, compliance.WriteJSON}, {htmlOut, compliance.WriteHTML}} {
		if o.path == "" {
			continue
		}
		var buf bytes.Buffer
		if err := o.write(&buf, r); err != nil {
			return fmt.Errorf("render compliance report: %w", err)
		}
		if err := writeFileAtomic(o.path, buf.Bytes()); err != nil {
			return err
		}
	}
	return printCompliance(stdout, r, took)
}

// localJobCompliance builds a job's report from the local store, as the
// API's GET /v1/jobs/{id}/compliance does.
func localJobCompliance(ctx context.Context, tenant, id string, regimes []string) (*compliance.Report, error) {
	cfg, err := config.Load(ctx)
	if err != nil {
		return nil, err
	}
	st, err := state.Open(ctx, cfg.StateURL)
	if errors.Is(err, state.ErrLocked) {
		return nil, fmt.Errorf("the state store %s is in use, most likely by 'synthos serve': stop it, or use GET /v1/jobs/%s/compliance: %w", cfg.StateURL, id, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open state store (SYNTHOS_STATE_URL=%s): %w", cfg.StateURL, err)
	}
	defer st.Close()
	b, err := objects.Open(ctx, cfg.ObjectsURL)
	if err != nil {
		return nil, fmt.Errorf("open object store (SYNTHOS_OBJECTS_URL=%s): %w", cfg.ObjectsURL, err)
	}
	defer b.Close()
	j, err := jobs.New(st).Get(ctx, tenant, id)
	if err != nil {
		return nil, fmt.Errorf("job %s of tenant %s: %w", id, tenant, err)
	}
	if len(regimes) == 0 {
		regimes = cfg.Regimes(tenant)
	}
	// The local keyring (SYNTHOS_KEK_URI, or the master keyset `synthos
	// serve` created) opens tenants' encrypted training copies.
	var reveal datasets.Reveal
	if uri := cfg.KEK(); uri != "" {
		ring, err := keyring.NewLazy(st, func(ctx context.Context) (tink.AEAD, error) { return keyring.OpenKEK(ctx, uri) })
		if err != nil {
			return nil, err
		}
		reveal = ring.Reveal(ctx, tenant)
		// and its encrypted outputs, as the platform's bucket does.
		b = keyring.Outputs(b, func(context.Context) (*keyring.Keyring, error) { return ring, nil })
	}
	r, err := api.JobCompliance(ctx, st, b, reveal, j, regimes)
	if err != nil {
		return nil, fmt.Errorf("compliance: %w", err)
	}
	return r, nil
}

func operation(model string) string {
	if model == "anonymize" {
		return "de-identification of real rows"
	}
	return "synthetic data generation"
}

func fileDigest(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func printCompliance(w io.Writer, r *compliance.Report, took time.Duration) error {
	c := r.Criteria
	fmt.Fprintf(w, "attacks (%d each, %.1fs):\n", c.Attacks, took.Seconds())
	for _, a := range []privacy.AttackResult{c.SinglingOutUni, c.SinglingOutMult, c.Linkability, c.InferenceMax} {
		name := a.Attack
		if a.Attack == "inference" && len(a.Columns) > 0 {
			name += " (worst: " + a.Columns[0] + ")"
		}
		fmt.Fprintf(w, "  %-40s risk %.3f [%.3f, %.3f]  train %.3f  control %.3f\n", name, a.Risk.Value, a.Risk.Low, a.Risk.High, a.Train.Value, a.Control.Value)
	}
	if r.GDPR != nil {
		fmt.Fprintf(w, "GDPR:  %s\n", r.GDPR.Verdict)
	}
	if r.HIPAA != nil {
		fmt.Fprintf(w, "HIPAA: %s (Safe Harbor %s, Expert Determination pack %s)\n", r.HIPAA.Verdict, r.HIPAA.SafeHarbor.Verdict, r.HIPAA.Expert.Verdict)
	}
	if r.CCPA != nil {
		fmt.Fprintf(w, "CCPA:  %s\n", r.CCPA.Verdict)
	}
	fmt.Fprintln(w, "a person must still:")
	for _, a := range r.HumanActions {
		fmt.Fprintln(w, "  -", a)
	}
	return nil
}
