package platform

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"synthos.dev/synthos/shared/config"
	"synthos.dev/synthos/shared/events"
)

func openTemp(t *testing.T, extra map[string]string) *Env {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SYNTHOS_STATE_URL":    "bolt://" + filepath.Join(dir, "state.db"),
		"SYNTHOS_OBJECTS_URL":  "file://" + filepath.Join(dir, "objects"),
		"SYNTHOS_SECRETS_URL":  "file://" + filepath.Join(dir, "secrets"),
		"SYNTHOS_MAX_ATTEMPTS": "2",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.LoadMap(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	e, err := Open(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func TestOpenRegistersReadinessChecks(t *testing.T) {
	t.Parallel()
	e := openTemp(t, nil)
	rep := e.Health.Run(context.Background())
	if rep.Status != "ready" {
		t.Fatalf("report %+v", rep)
	}
	for _, dep := range []string{"state", "objects", "events", "secrets"} {
		if rep.Checks[dep].Status != "ok" {
			t.Errorf("%s: %+v", dep, rep.Checks[dep])
		}
	}
}

func TestOpenFailsClearlyAndClosesWhatItOpened(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg, err := config.LoadMap(context.Background(), map[string]string{
		"SYNTHOS_STATE_URL":   "bolt://" + filepath.Join(dir, "state.db"),
		"SYNTHOS_OBJECTS_URL": "s3://",
		"SYNTHOS_SECRETS_URL": "env://",
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), cfg, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SYNTHOS_OBJECTS_URL") {
		t.Fatalf("err = %v, want one naming SYNTHOS_OBJECTS_URL", err)
	}
	// The state file was closed again: opening it now does not hit its lock.
	cfg.ObjectsURL = "mem://"
	e, err := Open(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatalf("state left locked by the failed Open: %v", err)
	}
	e.Close()
}

func TestDeadLetterIsRecordedAndHooked(t *testing.T) {
	t.Parallel()
	e := openTemp(t, nil)
	hooked := make(chan string, 1)
	e.OnDeadLetter = func(_ context.Context, topic string, m *events.Message) { hooked <- topic + "/" + m.ID }
	if err := e.Bus.Subscribe("t1", "s1", func(context.Context, *events.Message) error { return errors.New("poison") }); err != nil {
		t.Fatal(err)
	}
	id, err := e.Bus.Publish(context.Background(), "t1", []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.Bus.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-hooked:
		if got != "t1/"+id {
			t.Errorf("hook got %s", got)
		}
	default:
		t.Fatal("OnDeadLetter was not called")
	}
	var dl DeadLetter
	if err := e.State.Get(context.Background(), CollDeadLetters, "t1-"+id, &dl); err != nil {
		t.Fatal(err)
	}
	if dl.Attempts != 2 || dl.LastError != "poison" || string(dl.Data) != "x" {
		t.Errorf("dead letter %+v", dl)
	}
}

func TestServeHTTPAnswersMisconfigurationWith503(t *testing.T) {
	t.Parallel()
	h := ServeHTTP(func(context.Context) (*Env, error) {
		return nil, errors.New("SYNTHOS_EVENTS: \"kafka\" is not supported")
	}, func(*Env) (http.Handler, error) { t.Fatal("factory called without an Env"); return nil, nil })
	rec := httptest.NewRecorder()
	h(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "SYNTHOS_EVENTS") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}

// TestServePushNeedsAToken drives a push entry point as Cloud Functions
// serves it: without a token (or with a malformed one) it answers 401 and
// the consumer never runs; without the audience and accounts to check
// against it refuses to start (503 naming the variables); with
// SYNTHOS_PUSH_AUTH=none it passes requests through. Valid and forged
// tokens are covered by shared/pushauth's tests.
func TestServePushNeedsAToken(t *testing.T) {
	t.Parallel()
	envelope := `{"message":{"data":"eA==","messageId":"1"},"subscription":"s"}`
	serve := func(cfg map[string]string) (*httptest.ResponseRecorder, func(auth string) *httptest.ResponseRecorder, *atomic.Int32) {
		c, err := config.LoadMap(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		env := &Env{Config: c, Logger: slog.New(slog.DiscardHandler)}
		var calls atomic.Int32
		h := ServePush(func(context.Context) (*Env, error) { return env, nil }, func(*Env) (events.Handler, error) {
			return func(context.Context, *events.Message) error { calls.Add(1); return nil }, nil
		})
		post := func(auth string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(envelope))
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			rec := httptest.NewRecorder()
			h(rec, req)
			return rec
		}
		return post(""), post, &calls
	}

	verified := map[string]string{
		"SYNTHOS_PUSH_AUDIENCE":         "https://europe-west1-p.cloudfunctions.net/synthos-generate",
		"SYNTHOS_PUSH_SERVICE_ACCOUNTS": "synthos-pubsub-invoker@p.iam.gserviceaccount.com",
	}
	first, post, calls := serve(verified)
	if first.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d %s, want 401", first.Code, first.Body)
	}
	if rec := post("Bearer not.a.jwt"); rec.Code != http.StatusUnauthorized {
		t.Errorf("malformed token: %d %s, want 401", rec.Code, rec.Body)
	}
	if calls.Load() != 0 {
		t.Errorf("the consumer ran %d times for unauthenticated requests", calls.Load())
	}

	if rec, _, calls := serve(map[string]string{}); rec.Code != http.StatusServiceUnavailable ||
		!strings.Contains(rec.Body.String(), "SYNTHOS_PUSH_AUDIENCE") || calls.Load() != 0 {
		t.Errorf("unconfigured: %d %s, want 503 naming SYNTHOS_PUSH_AUDIENCE", rec.Code, rec.Body)
	}

	if rec, _, calls := serve(map[string]string{"SYNTHOS_PUSH_AUTH": "none"}); rec.Code/100 != 2 || calls.Load() != 1 {
		t.Errorf("SYNTHOS_PUSH_AUTH=none: %d %s, %d calls; want 2xx and the consumer called", rec.Code, rec.Body, calls.Load())
	}
}
