package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"synthos.dev/synthos/shared/client"
	"synthos.dev/synthos/shared/gate"
)

// Remote mode: `synthos --api URL --key KEY CMD …` (or SYNTHOS_API and
// SYNTHOS_API_KEY) runs generate, evaluate, jobs, datasets, keys and the
// models registry against a deployment through shared/client instead of on
// this machine's files and store.

// remoteUsage is printed with the main usage.
const remoteUsage = `
Against a deployment: synthos --api URL --key KEY COMMAND … (or SYNTHOS_API, SYNTHOS_API_KEY)
  generate INPUT|--dataset ID -n ROWS -o OUTPUT [--model M --seed S --epsilon E --target COL --where c=v --report F.html --json F.json]
  evaluate JOB [--report F.html] [--json F.json]     the job's quality and privacy report; exit 1 when its gate failed
  jobs list | show ID | wait ID | cancel ID
  datasets list | show ID | upload FILE [--resumable]
  keys create [--scope read,write] [--name N] [--test] | list | revoke ID
  models upload FILE [--dataset ID] [--target COL] | list | show ID | delete ID`

type remoteKey struct{}

// remote is the deployment a command runs against.
type remote struct {
	api  *client.API
	base string
}

func remoteFrom(ctx context.Context) *remote {
	r, _ := ctx.Value(remoteKey{}).(*remote)
	return r
}

// globalFlags takes --api and --key (either form, --api=URL or --api URL)
// from the front of args; the environment fills what they leave empty.
func globalFlags(args []string, getenv func(string) string) (api, key string, rest []string, err error) {
	api, key = getenv("SYNTHOS_API"), getenv("SYNTHOS_API_KEY")
	for len(args) > 0 {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[0], "-"), "=")
		if !strings.HasPrefix(args[0], "-") || (name != "api" && name != "key") {
			break
		}
		args = args[1:]
		if !hasValue {
			if len(args) == 0 {
				return "", "", nil, fmt.Errorf("%w: --%s needs a value", errUsage, name)
			}
			value, args = args[0], args[1:]
		}
		if name == "api" {
			api = value
		} else {
			key = value
		}
	}
	return api, key, args, nil
}

func newRemote(api, key string) (*remote, error) {
	if key == "" {
		return nil, fmt.Errorf("%w: --api %s needs an API key: --key sk_… or SYNTHOS_API_KEY (make run prints an admin key on its first start)", errUsage, api)
	}
	c, err := client.New(api, key, client.Options{HTTPClient: &http.Client{Timeout: 10 * time.Minute}})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	return &remote{api: c, base: strings.TrimRight(api, "/")}, nil
}

// remoteOnly refuses a command that exists only against a deployment.
func remoteOnly(name string) func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		rc := remoteFrom(ctx)
		if rc == nil {
			if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
				fmt.Fprintln(stderr, "usage:"+remoteUsage)
				return flag.ErrHelp
			}
			return fmt.Errorf("%w: %s talks to a deployment: synthos --api URL --key KEY %s … (or set SYNTHOS_API and SYNTHOS_API_KEY)", errUsage, name, name)
		}
		switch name {
		case "jobs":
			return rc.jobs(ctx, args, stdout, stderr)
		default:
			return rc.datasets(ctx, args, stdout, stderr)
		}
	}
}

// subcommand splits "SUB args…", printing usage for help.
func subcommand(name string, args []string, stderr io.Writer, subs ...string) (string, []string, error) {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage:"+remoteUsage)
		if len(args) == 0 {
			return "", nil, fmt.Errorf("%w: %s needs a subcommand (%s)", errUsage, name, strings.Join(subs, ", "))
		}
		return "", nil, flag.ErrHelp
	}
	for _, s := range subs {
		if args[0] == s {
			return s, args[1:], nil
		}
	}
	return "", nil, fmt.Errorf("%w: unknown %s subcommand %q (%s)", errUsage, name, args[0], strings.Join(subs, ", "))
}

// oneID parses flags and exactly one positional id.
func oneID(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("%w: %s takes one %s", errUsage, fs.Name(), what)
	}
	return pos[0], nil
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// byteProgress draws a bytes progress bar (silent off a terminal, as
// newProgress).
func byteProgress(w io.Writer, total int64, desc string, quiet bool) (client.Progress, func()) {
	var bar *progressbar.ProgressBar
	if f, ok := w.(*os.File); quiet || !ok || !isTerminal(f) {
		bar = progressbar.DefaultSilent(total)
	} else {
		bar = progressbar.DefaultBytes(total, desc)
	}
	return func(sent, _ int64) { _ = bar.Set64(sent) }, func() { _ = bar.Finish() }
}

func (rc *remote) jobs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand("jobs", args, stderr, "list", "show", "wait", "cancel")
	if err != nil {
		return err
	}
	fs := newFlags("jobs "+sub, stderr)
	if sub == "list" {
		limit := fs.Int("limit", 20, "how many, newest first (1 to 100)")
		if _, err := parseInterleaved(fs, args); err != nil {
			return err
		}
		res, err := rc.api.ListJobsWithResponse(ctx, &client.ListJobsParams{Limit: limit})
		if err != nil {
			return fmt.Errorf("list jobs: %w", err)
		}
		if err := client.Check("GET /v1/jobs", res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATE\tDATASET\tROWS\tCREATED")
		for _, j := range res.JSON200.Jobs {
			fmt.Fprintf(tw, "%s\t%v\t%s\t%d\t%s\n", j.Id, j.State, j.Request.Dataset, j.Request.Rows, j.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	}
	id, err := oneID(fs, args, "job id")
	if err != nil {
		return err
	}
	var j *client.Job
	switch sub {
	case "show":
		j, err = rc.api.Job(ctx, id)
	case "wait":
		j, err = rc.api.WaitJob(ctx, id, client.Poll{OnState: func(j *client.Job) { fmt.Fprintf(stderr, "job %s is %v\n", j.Id, j.State) }})
	default: // cancel
		res, cerr := rc.api.CancelJobWithResponse(ctx, id, &client.CancelJobParams{})
		if cerr != nil {
			return fmt.Errorf("cancel job %s: %w", id, cerr)
		}
		if err := client.Check("POST /v1/jobs/"+id+"/cancel", res.StatusCode(), res.Body, http.StatusOK, http.StatusAccepted); err != nil {
			return err
		}
		j, err = rc.api.Job(ctx, id)
	}
	if err != nil {
		return err
	}
	return printJSON(stdout, j)
}

func (rc *remote) datasets(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand("datasets", args, stderr, "list", "show", "upload")
	if err != nil {
		return err
	}
	fs := newFlags("datasets "+sub, stderr)
	switch sub {
	case "list":
		limit := fs.Int("limit", 20, "how many, newest first (1 to 100)")
		if _, err := parseInterleaved(fs, args); err != nil {
			return err
		}
		res, err := rc.api.ListDatasetsWithResponse(ctx, &client.ListDatasetsParams{Limit: limit})
		if err != nil {
			return fmt.Errorf("list datasets: %w", err)
		}
		if err := client.Check("GET /v1/datasets", res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSTATE\tCREATED")
		for _, d := range res.JSON200.Datasets {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\n", d.Id, d.Name, d.Status, d.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "show":
		id, err := oneID(fs, args, "dataset id")
		if err != nil {
			return err
		}
		res, err := rc.api.GetDatasetWithResponse(ctx, id)
		if err != nil {
			return fmt.Errorf("show dataset %s: %w", id, err)
		}
		if err := client.Check("GET /v1/datasets/"+id, res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return err
		}
		return printJSON(stdout, res.JSON200)
	default: // upload
		resumable := fs.Bool("resumable", false, "send the table through an upload session in chunks (automatic above 64 MiB)")
		quiet := fs.Bool("quiet", false, "no progress bar")
		path, err := oneID(fs, args, "file")
		if err != nil {
			return err
		}
		d, err := rc.upload(ctx, path, *resumable, *quiet, stderr)
		if err != nil {
			return err
		}
		return printJSON(stdout, d)
	}
}

// upload sends a table with a progress bar.
func (rc *remote) upload(ctx context.Context, path string, resumable, quiet bool, stderr io.Writer) (*client.Dataset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	progress, done := byteProgress(stderr, st.Size(), "uploading "+filepath.Base(path), quiet)
	defer done()
	if resumable {
		return rc.api.UploadDatasetResumable(ctx, path, f, st.Size(), client.ResumableOptions{Progress: progress})
	}
	return rc.api.UploadDataset(ctx, path, f, st.Size(), progress)
}

// generateRemote: upload INPUT (or take --dataset), create the job with an
// Idempotency-Key (a retry of the request cannot start a second job), wait
// for it, download the output and the reports asked for.
func (rc *remote) generate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("generate", stderr)
	rows := fs.Int("n", 0, "number of synthetic rows (required)")
	out := fs.String("o", "", "where to write the output (required)")
	dataset := fs.String("dataset", "", "an uploaded dataset's id instead of INPUT")
	model := fs.String("model", "", "tree, copula or dp (the deployment's default when empty)")
	seed := fs.Int("seed", -1, "random seed (drawn and recorded when negative)")
	epsilon := fs.Float64("epsilon", 0, "differential privacy ε (implies --model dp)")
	delta := fs.Float64("delta", 0, "differential privacy δ")
	target := fs.String("target", "", "column for the report's ML-efficacy test")
	format := fs.String("format", "", "output format: csv, jsonl or parquet")
	var where multiFlag
	fs.Var(&where, "where", "condition col=value (repeatable)")
	reportHTML := fs.String("report", "", "also download the HTML report here")
	reportJSON := fs.String("json", "", "also download the JSON report here")
	quiet := fs.Bool("quiet", false, "no progress bars")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	switch {
	case *rows <= 0:
		return fmt.Errorf("%w: -n must be a positive number of rows", errUsage)
	case *out == "":
		return fmt.Errorf("%w: -o OUTPUT is required", errUsage)
	case (len(pos) == 1) == (*dataset != ""):
		return fmt.Errorf("%w: generate takes one INPUT file or --dataset ID", errUsage)
	}
	req := client.JobCreate{Dataset: dataset, Rows: rows}
	if *model != "" {
		req.Model = *model
	}
	if *seed >= 0 {
		req.Seed = seed
	}
	if *epsilon != 0 {
		e := float32(*epsilon)
		req.Epsilon = &e
	}
	if *delta != 0 {
		d := float32(*delta)
		req.Delta = &d
	}
	if *target != "" {
		req.Target = target
	}
	if *format != "" {
		req.Format = *format
	}
	if len(where) > 0 {
		conds := map[string]client.JobCreate_Conditions_AdditionalProperties{}
		for _, w := range where {
			col, val, ok := strings.Cut(w, "=")
			if !ok || col == "" {
				return fmt.Errorf("%w: --where %q: use column=value", errUsage, w)
			}
			var v client.JobCreate_Conditions_AdditionalProperties
			if err := v.FromJobCreateConditions0(val); err != nil {
				return fmt.Errorf("--where %q: %w", w, err)
			}
			conds[col] = v
		}
		req.Conditions = &conds
	}
	if len(pos) == 1 {
		d, err := rc.upload(ctx, pos[0], false, *quiet, stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "dataset %s (%s) is %v\n", d.Id, d.Name, d.Status)
		req.Dataset = &d.Id
	}
	job, err := rc.api.CreateJob(ctx, req, idempotencyKey())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "job %s created\n", job.Id)
	job, err = rc.api.WaitJob(ctx, job.Id, client.Poll{OnState: func(j *client.Job) {
		fmt.Fprintf(stderr, "job %s is %v\n", j.Id, j.State)
	}})
	if err != nil {
		return err
	}
	if fmt.Sprint(job.State) != "succeeded" {
		msg := ""
		if job.Error != nil {
			msg = ": " + *job.Error
		}
		return fmt.Errorf("job %s ended %v%s", job.Id, job.State, msg)
	}
	if err := rc.download(ctx, job.Id, *out, *quiet, stderr); err != nil {
		return err
	}
	if err := rc.reports(ctx, job.Id, *reportHTML, *reportJSON); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (job %s)\n", *out, job.Id)
	return err
}

// download writes a job's output atomically: a temporary file renamed
// into place, removed on failure.
func (rc *remote) download(ctx context.Context, id, path string, quiet bool, stderr io.Writer) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer os.Remove(tmp.Name())
	progress, done := byteProgress(stderr, -1, "downloading", quiet)
	_, err = rc.api.DownloadOutput(ctx, id, tmp, progress)
	done()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// reports downloads the job's report as HTML and/or JSON.
func (rc *remote) reports(ctx context.Context, id, htmlPath, jsonPath string) error {
	for _, r := range []struct{ path, format string }{{htmlPath, "html"}, {jsonPath, "json"}} {
		if r.path == "" {
			continue
		}
		format := client.GetReportParamsFormat(r.format)
		res, err := rc.api.GetReportWithResponse(ctx, id, &client.GetReportParams{Format: &format})
		if err != nil {
			return fmt.Errorf("report of %s: %w", id, err)
		}
		if err := client.Check("GET /v1/jobs/"+id+"/report", res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return err
		}
		if err := os.WriteFile(r.path, res.Body, 0o644); err != nil {
			return fmt.Errorf("write the report: %w", err)
		}
	}
	return nil
}

// evaluate: the quality and privacy report of a finished job; exit 1 when
// its release gate failed, as the local evaluate does.
func (rc *remote) evaluate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("evaluate", stderr)
	htmlOut := fs.String("report", "", "where to write the HTML report")
	jsonOut := fs.String("json", "", "where to write the JSON report")
	id, err := oneID(fs, args, "job id (remotely, evaluate reads the report the platform computed for a job)")
	if err != nil {
		return err
	}
	if err := rc.reports(ctx, id, *htmlOut, *jsonOut); err != nil {
		return err
	}
	res, err := rc.api.GetReportWithResponse(ctx, id, &client.GetReportParams{})
	if err != nil {
		return fmt.Errorf("report of %s: %w", id, err)
	}
	if err := client.Check("GET /v1/jobs/"+id+"/report", res.StatusCode(), res.Body, http.StatusOK); err != nil {
		return err
	}
	var rep struct {
		Gate *gate.Result `json:"gate"`
	}
	if err := json.Unmarshal(res.Body, &rep); err != nil {
		return fmt.Errorf("report of %s is not JSON: %w", id, err)
	}
	if rep.Gate == nil {
		return fmt.Errorf("the report of job %s has no release gate", id)
	}
	if !rep.Gate.Pass {
		fmt.Fprintf(stdout, "job %s: release gate FAILED\n", id)
		for _, r := range rep.Gate.Failures() {
			fmt.Fprintln(stdout, "  -", r.Message)
		}
		return errGateFailed
	}
	_, err = fmt.Fprintf(stdout, "job %s: release gate passed\n", id)
	return err
}

func (rc *remote) keys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand("keys", args, stderr, "create", "list", "revoke")
	if err != nil {
		return err
	}
	fs := newFlags("keys "+sub, stderr)
	// --tenant is the key's: remotely the tenant is the one of the key used.
	tenant := fs.String("tenant", "", "ignored remotely: keys belong to the tenant of --key")
	switch sub {
	case "create":
		scope := fs.String("scope", "read,write", "comma-separated scopes: read, write, admin")
		name := fs.String("name", "", "a label for the key")
		test := fs.Bool("test", false, "issue an sk_test_ key")
		if pos, err := parseInterleaved(fs, args); err != nil {
			return err
		} else if len(pos) != 0 {
			return fmt.Errorf("%w: keys create takes no arguments, got %q", errUsage, pos)
		}
		_ = tenant
		var scopes []interface{}
		for _, s := range strings.Split(*scope, ",") {
			if s = strings.TrimSpace(s); s != "" {
				scopes = append(scopes, s)
			}
		}
		body := client.KeyCreate{Scopes: &scopes, Test: test}
		if *name != "" {
			body.Name = name
		}
		res, err := rc.api.CreateKeyWithResponse(ctx, &client.CreateKeyParams{}, body)
		if err != nil {
			return fmt.Errorf("create key: %w", err)
		}
		if err := client.Check("POST /v1/keys", res.StatusCode(), res.Body, http.StatusCreated); err != nil {
			return err
		}
		k := res.JSON201
		fmt.Fprintf(stderr, "created key %s with scopes %v; it is shown once, store it now:\n", k.Id, k.Scopes)
		_, err = fmt.Fprintln(stdout, k.Key)
		return err
	case "list":
		if _, err := parseInterleaved(fs, args); err != nil {
			return err
		}
		res, err := rc.api.ListKeysWithResponse(ctx)
		if err != nil {
			return fmt.Errorf("list keys: %w", err)
		}
		if err := client.Check("GET /v1/keys", res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKEY\tSCOPES\tNAME\tCREATED\tREVOKED")
		for _, k := range res.JSON200.Keys {
			revoked, name := "-", "-"
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			if k.Name != nil && *k.Name != "" {
				name = *k.Name
			}
			fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%s\t%s\n", k.Id, k.Display, k.Scopes, name, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	default: // revoke
		id, err := oneID(fs, args, "key id")
		if err != nil {
			return err
		}
		res, err := rc.api.RevokeKeyWithResponse(ctx, id)
		if err != nil {
			return fmt.Errorf("revoke key %s: %w", id, err)
		}
		if err := client.Check("DELETE /v1/keys/"+id, res.StatusCode(), res.Body, http.StatusOK, http.StatusNoContent); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "revoked key %s\n", id)
		return err
	}
}

// models: the registry of a deployment (the offline validate, predict and
// test stay local).
func (rc *remote) models(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub, args, err := subcommand("models", args, stderr, "upload", "list", "show", "delete")
	if err != nil {
		return err
	}
	fs := newFlags("models "+sub, stderr)
	switch sub {
	case "upload":
		dataset := fs.String("dataset", "", "the dataset the model belongs to (its inputs are matched against its columns)")
		target := fs.String("target", "", "the column the model predicts")
		quiet := fs.Bool("quiet", false, "no progress bar")
		path, err := oneID(fs, args, "model file")
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		progress, done := byteProgress(stderr, st.Size(), "uploading "+filepath.Base(path), *quiet)
		m, err := rc.api.UploadModel(ctx, path, f, st.Size(), *dataset, *target, progress)
		done()
		if err != nil {
			return err
		}
		return printJSON(stdout, m)
	case "list":
		if _, err := parseInterleaved(fs, args); err != nil {
			return err
		}
		res, err := rc.api.ListModelsWithResponse(ctx)
		if err != nil {
			return fmt.Errorf("list models: %w", err)
		}
		if err := client.Check("GET /v1/models", res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tFRAMEWORK\tVERSION\tSTATUS\tCREATED")
		for _, m := range res.JSON200.Models {
			fmt.Fprintf(tw, "%s\t%s\t%v\t%d\t%v\t%s\n", m.Id, m.Name, m.Framework, m.Version, m.Status, m.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	case "show":
		id, err := oneID(fs, args, "model id")
		if err != nil {
			return err
		}
		res, err := rc.api.GetModelWithResponse(ctx, id)
		if err != nil {
			return fmt.Errorf("show model %s: %w", id, err)
		}
		if err := client.Check("GET /v1/models/"+id, res.StatusCode(), res.Body, http.StatusOK); err != nil {
			return err
		}
		return printJSON(stdout, res.JSON200)
	default: // delete
		id, err := oneID(fs, args, "model id")
		if err != nil {
			return err
		}
		res, err := rc.api.DeleteModelWithResponse(ctx, id)
		if err != nil {
			return fmt.Errorf("delete model %s: %w", id, err)
		}
		if err := client.Check("DELETE /v1/models/"+id, res.StatusCode(), res.Body, http.StatusOK, http.StatusNoContent); err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "deleted model %s\n", id)
		return err
	}
}

// idempotencyKey is a fresh key per invocation: the client's own retries
// of the create reuse it.
func idempotencyKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return "synthos-cli-" + hex.EncodeToString(b)
}
