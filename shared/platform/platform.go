// Package platform opens the adapters a function needs (state, objects,
// events, secrets) from the validated configuration, and registers each as a
// readiness check. The same code serves Cloud Functions (production drivers
// chosen by URL) and the local runner (embedded drivers).
package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"synthos.dev/synthos/shared/destinations"
	"time"

	"gocloud.dev/blob"

	"github.com/tink-crypto/tink-go/v2/tink"

	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
	"synthos.dev/synthos/shared/health"
	"synthos.dev/synthos/shared/keyring"
	"synthos.dev/synthos/shared/metrics"
	"synthos.dev/synthos/shared/objects"
	"synthos.dev/synthos/shared/obs"
	"synthos.dev/synthos/shared/secrets"
	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/topics"
)

// Env is what every function is built from.
type Env struct {
	Config  *config.Config
	Logger  *slog.Logger
	State   state.Store
	Objects *blob.Bucket
	// Zones routes tenants' objects to their residency zone's bucket
	// (SYNTHOS_ZONE_BUCKETS); nil with one platform bucket.
	Zones  *destinations.PlatformBuckets
	Events events.Publisher
	// Bus is the embedded dispatcher when Config.Events is "embedded"; the
	// local runner subscribes handlers to it. Nil with Pub/Sub.
	Bus     *events.Bus
	Secrets secrets.Source
	Health  *health.Checker
	// Destinations reaches tenants' own buckets (storage destinations) and
	// delivers job outputs to them with failover; nil when the platform
	// has no key to seal their credentials with.
	Destinations *destinations.Router
	// OnDeadLetter, when set, is called after the embedded dispatcher
	// dead-letters a message (the local runner fails the message's job
	// here; in production a push consumer of the dead-letter topic does).
	OnDeadLetter func(ctx context.Context, topic string, m *events.Message)
	// Stopping, when set, is closed as the local runner begins to shut
	// down: long pipeline steps stop at once rather than hold the drain,
	// since the runner resumes every unfinished job when it starts again.
	// Nil (never closed) in the cloud, where Pub/Sub redelivers instead.
	Stopping <-chan struct{}
	// Metrics is the metrics pipeline Open installed as metrics.Default;
	// its Handler serves /metrics when SYNTHOS_METRICS=prometheus.
	Metrics *metrics.Provider

	closers []io.Closer

	keyringMu sync.Mutex
	keyring   *keyring.Keyring
}

// Keyring returns the tenants' keyring (Tink envelope encryption). The
// key-encryption key named by SYNTHOS_KEK_URI is opened on the first
// operation that needs key material, not here: a deployment whose tenants
// encrypt nothing never needs it. Without a configuration (tests that build
// an Env by hand) it is nil, nil: nothing is encrypted with tenant keys.
func (e *Env) Keyring(ctx context.Context) (*keyring.Keyring, error) {
	if e == nil || e.Config.KEK() == "" || e.State == nil {
		return nil, nil
	}
	e.keyringMu.Lock()
	defer e.keyringMu.Unlock()
	if e.keyring != nil {
		return e.keyring, nil
	}
	uri := e.Config.KEK()
	k, err := keyring.NewLazy(e.State, func(ctx context.Context) (tink.AEAD, error) {
		kek, err := keyring.OpenKEK(ctx, uri)
		if err != nil {
			return nil, fmt.Errorf("open the key-encryption key (SYNTHOS_KEK_URI=%s): %w", uri, err)
		}
		return kek, nil
	})
	if err != nil {
		return nil, err
	}
	e.keyring = k
	return k, nil
}

// Open opens every adapter named by cfg. On error, whatever was opened is
// closed again.
func Open(ctx context.Context, cfg *config.Config, logOut io.Writer) (_ *Env, err error) {
	level, _ := cfg.Level() // validated by config
	if logOut == nil {
		logOut = os.Stderr
	}
	env := &Env{
		Config: cfg,
		Logger: obs.NewLogger(logOut, level, cfg.Project),
		Health: health.New(cfg.ReadyTimeout),
	}
	defer func() {
		if err != nil {
			_ = env.Close()
		}
	}()

	if err := env.openTelemetry(ctx); err != nil {
		return nil, err
	}

	if env.State, err = state.Open(ctx, cfg.StateURL); err != nil {
		return nil, fmt.Errorf("open state store (SYNTHOS_STATE_URL=%s): %w", cfg.StateURL, err)
	}
	env.closers = append(env.closers, env.State)
	env.Health.Add("state", env.State.Ping)

	if env.Objects, err = objects.Open(ctx, cfg.ObjectsURL); err != nil {
		return nil, fmt.Errorf("open object store (SYNTHOS_OBJECTS_URL=%s): %w", cfg.ObjectsURL, err)
	}
	if cfg.ZoneBuckets != "" {
		if err := env.openZoneBuckets(ctx); err != nil {
			_ = env.Objects.Close()
			return nil, err
		}
	}
	// Job outputs and reports are sealed at rest for tenants that chose
	// encryption, like their datasets and models (keyring.Outputs).
	env.Objects = keyring.Outputs(env.Objects, env.Keyring)
	env.closers = append(env.closers, env.Objects)
	env.Health.Add("objects", func(ctx context.Context) error {
		// Reading a missing key proves credentials and reachability without
		// needing list permission on the whole bucket.
		_, err := env.Objects.Exists(ctx, "healthz/probe")
		return err
	})

	if env.Secrets, err = secrets.Open(ctx, cfg.SecretsURL); err != nil {
		return nil, fmt.Errorf("open secrets (SYNTHOS_SECRETS_URL=%s): %w", cfg.SecretsURL, err)
	}
	env.closers = append(env.closers, env.Secrets)
	env.Health.Add("secrets", func(ctx context.Context) error {
		_, err := env.Secrets.Get(ctx, "healthz-probe")
		if errors.Is(err, secrets.ErrNotFound) {
			return nil // reachable; the probe secret need not exist
		}
		return err
	})

	switch cfg.Events {
	case "pubsub":
		ps, err := events.NewPubSub(ctx, cfg.Project)
		if err != nil {
			return nil, fmt.Errorf("open Pub/Sub publisher (GOOGLE_CLOUD_PROJECT=%s): %w", cfg.Project, err)
		}
		env.Events = ps
		env.closers = append(env.closers, ps)
		// Each function checks the topics it publishes to; topic existence
		// is what breaks when Terraform and the code disagree.
		env.Health.Add("events", func(ctx context.Context) error { return ps.Ping(ctx, topics.All()...) })
	default:
		env.Bus = events.NewBus(events.BusOptions{
			MaxAttempts: cfg.MaxAttempts,
			MinBackoff:  100 * time.Millisecond,
			MaxBackoff:  10 * time.Second,
			DeadLetter:  env.deadLetter,
			Logger:      env.Logger,
			// A job fans out one message per shard; the pool bounds how
			// many run at once, the rest wait in the queue.
			Workers:             cfg.Workers,
			SubscriptionWorkers: cfg.SubscriptionWorkers,
		})
		env.Events = env.Bus
		env.closers = append(env.closers, env.Bus)
		// The in-process bus has no remote dependency: it is ready while
		// it accepts messages.
		env.Health.Add("events", func(context.Context) error { return nil })
	}
	// Tenants' storage destinations keep their credentials sealed under the
	// tenant's keyset, so they exist only where a keyring does (the KEK
	// itself is opened on first use).
	ring, err := env.Keyring(ctx)
	if err != nil {
		return nil, err
	}
	if ring != nil {
		if err := env.EnableDestinations(ring); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// openTelemetry sets up the metrics and trace exporters of
// SYNTHOS_METRICS and SYNTHOS_TRACES, installs them process-wide (metrics
// and spans are recorded by shared code through metrics.Default and the
// global tracer provider) and flushes them on Close.
func (env *Env) openTelemetry(ctx context.Context) error {
	cfg := env.Config
	service := os.Getenv("K_SERVICE") // Cloud Functions' (Cloud Run's) service name
	mp, err := metrics.Setup(ctx, metrics.Options{Exporter: cfg.Metrics, Project: cfg.Project, Service: service})
	if err != nil {
		return fmt.Errorf("metrics (SYNTHOS_METRICS=%s): %w", cfg.Metrics, err)
	}
	env.Metrics = mp
	metrics.SetDefault(mp.Recorder)
	env.closers = append(env.closers, closerFunc(func() error { return mp.Shutdown(context.Background()) }))
	shutdown, err := obs.SetupTracing(ctx, obs.TracingOptions{Exporter: cfg.Traces, Project: cfg.Project, Service: service, SampleRatio: cfg.TraceSampleRatio})
	if err != nil {
		return fmt.Errorf("traces (SYNTHOS_TRACES=%s): %w", cfg.Traces, err)
	}
	env.closers = append(env.closers, closerFunc(func() error { return shutdown(context.Background()) }))
	return nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// DeadLetter is the record kept of a message the embedded dispatcher gave
// up on, as Pub/Sub's dead-letter topic keeps it in production.
type DeadLetter struct {
	Topic      string            `json:"topic"`
	MessageID  string            `json:"message_id"`
	Data       []byte            `json:"data"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Attempts   int               `json:"attempts"`
	LastError  string            `json:"last_error"`
	At         time.Time         `json:"at"`
}

// CollDeadLetters is the state collection of dead-lettered messages.
const CollDeadLetters = "dead_letters"

func (e *Env) deadLetter(ctx context.Context, topic string, m *events.Message, lastErr error) {
	errText := ""
	if lastErr != nil {
		errText = lastErr.Error()
	}
	e.Logger.ErrorContext(ctx, "message dead-lettered", "topic", topic, "message_id", m.ID, "attempts", m.DeliveryAttempt, "error", errText)
	dl := DeadLetter{Topic: topic, MessageID: m.ID, Data: m.Data, Attributes: m.Attributes, Attempts: m.DeliveryAttempt, LastError: errText, At: time.Now().UTC()}
	if err := e.State.Set(ctx, CollDeadLetters, topic+"-"+m.ID, dl); err != nil {
		e.Logger.ErrorContext(ctx, "record dead letter", "error", err)
	}
	if e.OnDeadLetter != nil {
		e.OnDeadLetter(ctx, topic, m)
	}
}

// Close closes the adapters in reverse order of opening.
func (e *Env) Close() error {
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		if err := e.closers[i].Close(); err != nil {
			errs = append(errs, err)
		}
	}
	e.closers = nil
	return errors.Join(errs...)
}

// Placement says where the platform keeps a tenant's input and working
// copies, for residency checks: the bucket of the tenant's zone where the
// deployment has one per zone, else SYNTHOS_OBJECTS_URL's.
func (e *Env) Placement() destinations.PlatformPlacer {
	if e.Zones != nil {
		return e.Zones.Placement
	}
	return destinations.Fixed(e.ownPlacement())
}

func (e *Env) ownPlacement() destinations.Placement {
	pl := destinations.Placement{What: "input and working copies", Name: "the platform bucket"}
	if e.Config != nil {
		if u, err := url.Parse(e.Config.ObjectsURL); err == nil {
			pl.Provider = u.Scheme
		}
		pl.Region = e.Config.ObjectsRegion
	}
	return pl
}

// openZoneBuckets opens SYNTHOS_ZONE_BUCKETS and makes Objects route each
// tenant's keys to its zone's bucket (destinations.PlatformBuckets).
func (e *Env) openZoneBuckets(ctx context.Context) error {
	urls, err := destinations.ParseZoneBuckets(e.Config.ZoneBuckets)
	if err != nil {
		return fmt.Errorf("SYNTHOS_ZONE_BUCKETS: %w", err)
	}
	own := e.ownPlacement()
	ownZone, _ := destinations.ZoneOf(own.Provider, own.Region)
	var zones []destinations.ZoneBucket
	closeAll := func() {
		for _, z := range zones {
			_ = z.Bucket.Close()
		}
	}
	for _, zu := range urls {
		b, err := objects.Open(ctx, zu.URL)
		if err != nil {
			closeAll()
			return fmt.Errorf("open zone bucket (SYNTHOS_ZONE_BUCKETS, %s=%s): %w", zu.Region, zu.URL, err)
		}
		u, _ := url.Parse(zu.URL)
		zones = append(zones, destinations.ZoneBucket{Zone: zu.Zone, Bucket: b, Place: destinations.Placement{
			What: "input and working copies", Name: "the platform bucket of zone " + zu.Zone + " (" + u.Host + ")",
			Provider: u.Scheme, Region: zu.Region}})
		if e.Health != nil {
			e.Health.Add("objects-"+zu.Zone, func(ctx context.Context) error {
				_, err := b.Exists(ctx, "healthz/probe")
				return err
			})
		}
	}
	st := e.State
	e.Zones = destinations.NewPlatformBuckets(destinations.ZoneBucket{Zone: ownZone, Place: own, Bucket: e.Objects}, zones,
		func(ctx context.Context, tenant string) (string, error) {
			return destinations.TenantResidency(ctx, st, tenant)
		})
	e.Objects = e.Zones.Bucket()
	return nil
}

// EnableDestinations gives the platform a router to tenants' own storage
// destinations, with their credentials sealed by seal (the keyring), and
// shows each destination's health on /readyz (without judging readiness by
// it: one customer's failing bucket must not take an instance out).
func (e *Env) EnableDestinations(seal destinations.Sealer) error {
	local := e.Config == nil || e.Config.Events == "embedded"
	store, err := destinations.NewStore(e.State, seal, destinations.StoreOptions{AllowLocal: local})
	if err != nil {
		return err
	}
	e.Destinations = destinations.NewRouter(store, e.Objects, destinations.RouterOptions{})
	e.closers = append(e.closers, e.Destinations)
	if e.Health != nil {
		e.Health.AddInfo("destinations", func() any { return e.Destinations.Health() })
	}
	return nil
}
