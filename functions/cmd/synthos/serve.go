package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"synthos.dev/synthos/functions/registry"
	"synthos.dev/synthos/shared/apikeys"
	"synthos.dev/synthos/shared/audit"
	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/pipeline"
	"synthos.dev/synthos/shared/platform"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/topics"
	"synthos.dev/synthos/shared/webhooks"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "listen address (default $SYNTHOS_ADDR or 127.0.0.1:8080)")
	if _, err := parseInterleaved(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(ctx)
	if err != nil {
		return err
	}
	if *addr != "" {
		cfg.Addr = *addr
	}
	if err := makeLocalDirs(cfg); err != nil {
		return err
	}
	env, err := platform.Open(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer env.Close()
	// After Open: the embedded state file is locked to this process now.
	tmp, err := scratchDir(cfg)
	if err != nil {
		return err
	}
	if tmp != "" {
		defer os.RemoveAll(tmp)
	}
	env.OnDeadLetter = failDeadLetteredJob(env)
	slog.SetDefault(env.Logger) // the process is the runner: its default logger is env's

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (set SYNTHOS_ADDR or --addr to another port): %w", cfg.Addr, err)
	}
	return serve(ctx, env, ln, stdout)
}

// serve runs the platform on ln until ctx is done, then stops accepting
// requests, drains in-flight deliveries and returns.
func serve(ctx context.Context, env *platform.Env, ln net.Listener, stdout io.Writer) error {
	stopping := make(chan struct{})
	env.Stopping = stopping
	stop := sync.OnceFunc(func() { close(stopping) })
	defer stop()
	handler, err := localRoutes(env)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           obs.Middleware(env.Logger, handler),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	// The bootstrap key is created before the first request is served, so
	// a client that sees /readyz answer also finds the key printed.
	key, keyErr := bootstrapKey(ctx, env)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, `Synthos is running at %s (state %s, objects %s, events %s)
  curl %s/healthz
  curl %s/readyz
`, base, env.Config.StateURL, env.Config.ObjectsURL, env.Config.Events, base, base)
	if keyErr != nil {
		env.Logger.WarnContext(ctx, "no bootstrap key", "error", keyErr)
	} else if key != "" {
		fmt.Fprintf(stdout, `First start: an admin API key for tenant %q (shown once; keep it):
  export KEY=%s
  export SYNTHOS_API=%s SYNTHOS_API_KEY=$KEY   # for the CLI: bin/synthos keys create, jobs list, generate …
  curl -H "Authorization: Bearer $KEY" -F file=@examples/insurance.csv %s/v1/datasets
The README's walk-through goes on from there.
`, bootstrapTenant, key, base, base)
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop; in-flight work is drained first.")
	env.Logger.InfoContext(ctx, "serving", "addr", ln.Addr().String())
	if env.Bus != nil {
		// The in-process dispatcher lost every message of the last run with
		// it: resume every unfinished job now, then reap on a ticker (Cloud
		// Scheduler's tick in the cloud).
		recoverJobs(ctx, env)
		go reapTicker(ctx, env)
	}

	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	env.Logger.Info("shutting down: draining in-flight requests and deliveries")
	dctx, cancel := context.WithTimeout(context.Background(), env.Config.DrainTimeout)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(dctx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown http: %w", err))
	}
	// Long pipeline steps stop now; the next start resumes their jobs.
	stop()
	if env.Bus != nil {
		if err := env.Bus.Drain(dctx); err != nil {
			errs = append(errs, fmt.Errorf("drain deliveries: %w", err))
		}
		// Stop what the drain left: queued deliveries are dropped (counted in
		// the log), running handlers are canceled and waited for, briefly.
		if err := env.Bus.Close(); err != nil {
			errs = append(errs, fmt.Errorf("stop deliveries: %w", err))
		}
		if n := env.Bus.Stats().Dropped; n > 0 {
			env.Logger.Warn("deliveries dropped at shutdown; their jobs resume or fail on the next start", "dropped", n)
		}
	}
	env.Logger.Info("stopped")
	return errors.Join(errs...)
}

// localRoutes mounts the HTTP functions on their routes in one mux and
// subscribes the push consumers to the embedded bus, which calls them in
// process. Push consumers get no route: in the cloud only Pub/Sub, with a
// signed token, reaches them; here nothing but the bus does, so that nobody
// who reaches the port can forge pipeline messages (cancel or fail another
// tenant's job).
func localRoutes(env *platform.Env) (http.Handler, error) {
	mux := http.NewServeMux()
	for _, e := range registry.All() {
		switch e.Kind {
		case registry.HTTP:
			h, err := e.HTTP(env)
			if err != nil {
				return nil, fmt.Errorf("build %s: %w", e.Name, err)
			}
			for _, r := range e.Routes {
				mux.Handle(r, h)
			}
		case registry.Push:
			h, err := e.Push(env)
			if err != nil {
				return nil, fmt.Errorf("build %s: %w", e.Name, err)
			}
			if env.Bus != nil && !e.DeadLetter {
				if err := env.Bus.Subscribe(e.Topic, "local-"+strings.ToLower(e.Name), h); err != nil {
					return nil, fmt.Errorf("subscribe %s to %s: %w", e.Name, e.Topic, err)
				}
			}
		case registry.CloudEvent:
			// Locally there is no bucket trigger; uploads arrive through the API.
		}
	}
	if env.Metrics != nil && env.Metrics.Handler != nil {
		// SYNTHOS_METRICS=prometheus: the local runner is scraped here (it
		// listens on loopback by default; in the cloud metrics go to Cloud
		// Monitoring instead).
		mux.Handle("GET /metrics", env.Metrics.Handler)
	}
	return mux, nil
}

// recoverJobs resumes the jobs a previous run left unfinished (see
// pipeline.Recover) and settles those it left unsettled.
func recoverJobs(ctx context.Context, env *platform.Env) {
	p, err := pipeline.New(env, pipeline.Options{})
	if err != nil {
		env.Logger.ErrorContext(ctx, "recover jobs", "error", err)
		return
	}
	r, err := p.Recover(ctx)
	if err != nil {
		env.Logger.ErrorContext(ctx, "recover jobs", "error", err)
	}
	if r != (pipeline.Reaped{}) {
		env.Logger.InfoContext(ctx, "recovered the jobs of the last run", "resumed", r.Resumed, "failed", r.Failed, "settled", r.Settled)
	}
}

// reapTicker publishes a reaper tick every SYNTHOS_REAP_INTERVAL until ctx
// ends; the Reap function consumes it, as in the cloud.
func reapTicker(ctx context.Context, env *platform.Env) {
	t := time.NewTicker(env.Config.ReapInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := env.Events.Publish(ctx, topics.ReaperTicks, []byte(`{"tick":true}`), nil); err != nil && ctx.Err() == nil {
			env.Logger.WarnContext(ctx, "publish reaper tick", "error", err)
		}
	}
}

// scratchDir points the process's temporary files (object writes in
// progress, spooled uploads and Parquet files) at a directory of the local
// runner's own, beside its objects or state, and empties it: the state file
// is locked to one process, so whatever is there was left by a run that
// died (kill -9). The caller removes it on exit. It returns "" unless the
// state is the embedded (locked) file (then TMPDIR is left alone).
func scratchDir(cfg *config.Config) (string, error) {
	if !strings.HasPrefix(cfg.StateURL, "bolt://") {
		return "", nil
	}
	base := filepath.Dir(strings.TrimPrefix(cfg.StateURL, "bolt://"))
	if strings.HasPrefix(cfg.ObjectsURL, "file://") {
		// Beside the objects: fileblob renames its temporary files into
		// place, which needs the same filesystem.
		base = filepath.Dir(filepath.Clean(strings.SplitN(strings.TrimPrefix(cfg.ObjectsURL, "file://"), "?", 2)[0]))
	}
	dir := filepath.Join(base, "tmp")
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("clean the temporary directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("create the temporary directory %s: %w", dir, err)
	}
	// os.TempDir reads TMPDIR on every call, so every later temporary file
	// of this process lands here.
	if err := os.Setenv("TMPDIR", dir); err != nil {
		return "", err
	}
	return dir, nil
}

// makeLocalDirs creates the directories of file-backed drivers and a random
// API-key pepper in a file secrets directory, so that the defaults work on a
// fresh clone.
func makeLocalDirs(cfg *config.Config) error {
	if dir, ok := strings.CutPrefix(cfg.SecretsURL, "file://"); ok {
		for _, name := range []string{apikeys.PepperSecret, webhooks.KeySecret} {
			if err := ensureSecret(dir, name); err != nil {
				return err
			}
		}
		if cfg.AuditKMSKey == "" {
			if err := ensureAuditKey(dir, cfg.AuditKeyName); err != nil {
				return err
			}
		}
	}
	// The embedded mode's key-encryption key: every tenant's keysets are
	// wrapped by it, so it is made once and kept.
	if path, ok := strings.CutPrefix(cfg.KEK(), "file://"); ok {
		if _, err := keyring.CreateMasterKeyset(path); err != nil {
			return err
		}
	}
	for _, u := range []string{cfg.StateURL, cfg.ObjectsURL} {
		var dir string
		switch {
		case strings.HasPrefix(u, "bolt://"):
			dir = filepath.Dir(strings.TrimPrefix(u, "bolt://"))
		case strings.HasPrefix(u, "file://"):
			dir = strings.SplitN(strings.TrimPrefix(u, "file://"), "?", 2)[0]
		default:
			continue
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	return nil
}

// ensureAuditKey writes a note signing key as the audit-signing-key secret
// when it does not exist. It is kept: checkpoints signed with it stay
// checkable only with its verifier key (`synthos audit verify` derives it).
func ensureAuditKey(dir, name string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create secrets directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, audit.SigningKeySecret)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	skey, _, err := audit.GenerateKey(name)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(skey); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// ensureSecret writes 32 random bytes (hex) as secret name into dir when it
// does not exist: the API-key pepper and the key that encrypts webhook
// signing secrets. They are created once and kept: replacing the pepper
// invalidates every key, replacing the webhook key every endpoint secret.
func ensureSecret(dir, name string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create secrets directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil // another process created it first
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteString(hex.EncodeToString(b)); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}

// failDeadLetteredJob marks the job of a dead-lettered pipeline message
// failed, as the dead-letter consumers do in production.
func failDeadLetteredJob(env *platform.Env) func(ctx context.Context, topic string, m *events.Message) {
	return func(ctx context.Context, topic string, m *events.Message) {
		if topic != topics.GenerateRequests && topic != topics.PrivacyChecks {
			return
		}
		if err := pipeline.DeadLetter(ctx, env, m); err != nil {
			env.Logger.ErrorContext(ctx, "fail dead-lettered job", "topic", topic, "message_id", m.ID, "error", err)
		}
	}
}

// ensurePepper creates the API-key pepper in dir if missing.
func ensurePepper(dir string) error { return ensureSecret(dir, apikeys.PepperSecret) }

// bootstrapTenant owns the key a fresh local platform prints.
const bootstrapTenant = "local"

// bootstrapKey creates an admin key for tenant "local" when the embedded
// store holds no key at all, so `make run` on a fresh clone can be called
// at once (the state file is locked while serve runs, so the keys command
// cannot add one then). It does nothing on Firestore: production keys come
// from `synthos keys create` or the admin API.
func bootstrapKey(ctx context.Context, env *platform.Env) (string, error) {
	if !strings.HasPrefix(env.Config.StateURL, "bolt:") {
		return "", nil
	}
	docs, err := env.State.Query(ctx, apikeys.Collection, state.Query{Limit: 1})
	if err != nil || len(docs) > 0 {
		return "", err
	}
	pepper, err := env.Secrets.Get(ctx, apikeys.PepperSecret)
	if err != nil {
		return "", err
	}
	keys, err := apikeys.New(env.State, pepper)
	if err != nil {
		return "", err
	}
	key, _, err := keys.Create(ctx, apikeys.CreateOptions{Tenant: bootstrapTenant, Name: "bootstrap (synthos serve)",
		Scopes: []apikeys.Scope{apikeys.Read, apikeys.Write, apikeys.Admin}})
	return key, err
}
