package platform

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
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
