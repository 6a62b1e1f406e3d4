// Command synthos is the Synthos CLI and local runner:
//
//	synthos serve                     run the whole platform in one process
//	synthos generate INPUT -n N -o F  fit a model and write synthetic rows
//	synthos profile FILE              describe a table's columns
//	synthos evaluate REAL SYNTH       quality and privacy report, release gate
//	synthos compliance TRAIN OUTPUT   GDPR, HIPAA and CCPA evidence
//	synthos anonymize IN -o OUT       de-identify real rows
//	synthos keys create --tenant T    API keys (list, revoke)
//	synthos models validate FILE      check a model file; predict with one
//	synthos version
//
// Each subcommand lives in its own file; main only dispatches.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name, usage string
	run         func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the platform locally (HTTP API on SYNTHOS_ADDR, embedded drivers)", runServe},
		{"generate", "INPUT -n ROWS -o OUTPUT [flags]: fit a model to a table and write synthetic rows", runGenerate},
		{"profile", "FILE [--json OUT]: infer each column's kind, format and missing values", runProfile},
		{"design", `"DESCRIPTION" -n ROWS -o OUTPUT [--spec-out F] | --spec F | --from-table F: design related tables from a description (or a spec) and sample them`, runDesign},
		{"evaluate", "REAL SYNTH [--holdout H] [--target COL] [--report F.html] [--json F.json]: score fidelity and privacy, apply the release gate", runEvaluate},
		{"compliance", "TRAIN OUTPUT --holdout H [--html F.html] [--json F.json] [--regimes gdpr,hipaa,ccpa]: GDPR, HIPAA and CCPA evidence", runCompliance},
		{"anonymize", "IN -o OUT [--k K --l L --quasi a,b --sensitive s] [--policy F] [--tenant T] [--rotate-key]: de-identify real rows", runAnonymize},
		{"models", "validate FILE | predict MODEL INPUT -o OUT | test MODEL --holdout H --synthetic S --target T: custom models offline", runModels},
		{"keys", "create|list|revoke --tenant T: manage API keys in the local state store (or through the API: see below)", runKeys},
		{"jobs", "list | show ID | wait ID | cancel ID: jobs of a deployment (needs --api)", remoteOnly("jobs")},
		{"datasets", "list | show ID | upload FILE: datasets of a deployment (needs --api)", remoteOnly("datasets")},
		{"audit", "verify|consistency|keygen: check audit bundles, the live log and proofs against signed checkpoints", runAudit},
		{"version", "print the version", func(_ context.Context, _ []string, stdout, _ io.Writer) error {
			_, err := fmt.Fprintln(stdout, "synthos", version)
			return err
		}},
	}
}

func main() {
	ctx, stop := interruptible(context.Background())
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "synthos:", err)
		}
		os.Exit(exitCode(err))
	}
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM,
// so that commands stop and remove what they were writing. A second signal
// does not wait for them: it runs the onForcedExit cleanups (removing
// temporary outputs) and exits with status 130 at once.
func interruptible(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			forced.run()
			fmt.Fprintln(os.Stderr, "synthos: interrupted twice: stopped without finishing")
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// cleanups are the functions a forced exit runs.
type cleanups struct {
	mu   sync.Mutex
	next int
	fns  map[int]func()
}

var forced cleanups

// onForcedExit registers fn to run if a second signal ends the process
// before the command returns; the returned function unregisters it.
func onForcedExit(fn func()) func() {
	forced.mu.Lock()
	defer forced.mu.Unlock()
	if forced.fns == nil {
		forced.fns = map[int]func(){}
	}
	id := forced.next
	forced.next++
	forced.fns[id] = fn
	return func() {
		forced.mu.Lock()
		defer forced.mu.Unlock()
		delete(forced.fns, id)
	}
}

func (c *cleanups) run() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, fn := range c.fns {
		fn()
	}
}

// errUsage marks a command-line mistake (exit status 2, like flag).
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0 // help was asked for and printed: success
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	api, key, args, err := globalFlags(args, os.Getenv)
	if err != nil {
		return err
	}
	if api != "" {
		rc, err := newRemote(api, key)
		if err != nil {
			return err
		}
		ctx = context.WithValue(ctx, remoteKey{}, rc)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printUsage(stderr)
		if len(args) == 0 {
			return fmt.Errorf("%w: no command given", errUsage)
		}
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	printUsage(stderr)
	return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Synthos: synthetic data that keeps the statistics and leaks no person.")
	fmt.Fprintln(w, "\nUsage: synthos COMMAND [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.usage)
	}
	fmt.Fprintln(w, remoteUsage)
	fmt.Fprintln(w, "\nRun 'synthos COMMAND -h' for a command's flags.")
}

// parseInterleaved parses flags that may come before, between or after
// positional arguments ("synthos generate in.csv -n 10 -o out.csv"), which
// the flag package alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
