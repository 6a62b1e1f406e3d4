package state_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"synthos.dev/synthos/shared/state"
	"synthos.dev/synthos/shared/state/statetest"
)

func openBolt(t *testing.T) state.Store {
	t.Helper()
	s, err := state.Open(t.Context(), "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestBolt(t *testing.T) {
	statetest.Run(t, openBolt)
}

// emulator returns FIRESTORE_EMULATOR_HOST, skipping (or failing on CI) when it is unset.
func emulator(t *testing.T) string {
	t.Helper()
	host := os.Getenv("FIRESTORE_EMULATOR_HOST")
	if host == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("the Firestore emulator is required on CI: set FIRESTORE_EMULATOR_HOST")
		}
		t.Skip("the Firestore emulator is not running: set FIRESTORE_EMULATOR_HOST to run these tests")
	}
	return host
}

func TestFirestore(t *testing.T) {
	emulator(t)
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := state.Open(t.Context(), "firestore://synthos-test")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestFirestoreNamedDatabase(t *testing.T) {
	emulator(t)
	ctx := t.Context()
	coll := statetest.Collection(t)
	type doc struct {
		V string `json:"v"`
	}
	open := func(url string) state.Store {
		s, err := state.Open(ctx, url)
		if err != nil {
			t.Fatalf("Open %s: %v", url, err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	named := open("firestore://synthos-test?database=other")
	def := open("firestore://synthos-test")
	if err := named.Set(ctx, coll, "d", doc{V: "named"}); err != nil {
		t.Fatalf("Set: %v", err)
	}
	var got doc
	if err := named.Get(ctx, coll, "d", &got); err != nil || got.V != "named" {
		t.Fatalf("Get from the named database = %q, %v", got.V, err)
	}
	if err := def.Get(ctx, coll, "d", &got); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Get from the default database: err = %v, want ErrNotFound (databases are separate)", err)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	tests := []struct {
		url  string
		file string // the file it must create; "" when Open must fail
		err  error
	}{
		{url: "bolt://" + filepath.Join(dir, "abs", "s.db"), file: filepath.Join(dir, "abs", "s.db")},
		{url: "bolt://./rel/s.db", file: filepath.Join(dir, "rel", "s.db")},
		{url: filepath.Join(dir, "plain.db"), file: filepath.Join(dir, "plain.db")},
		{url: "plain-rel.db", file: filepath.Join(dir, "plain-rel.db")},
		{url: "bolt://", err: state.ErrInvalid},
		{url: "", err: state.ErrInvalid},
		{url: "mongodb://host/db", err: state.ErrInvalid},
		{url: "firestore://proj/extra/path", err: state.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			s, err := state.Open(t.Context(), tt.url)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("Open: err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if _, err := os.Stat(tt.file); err != nil {
				t.Fatalf("store file: %v", err)
			}
		})
	}
}

func TestBoltLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	first, err := state.OpenBolt(path)
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	defer first.Close()
	second, err := state.OpenBolt(path)
	if err == nil {
		second.Close()
		t.Fatal("second OpenBolt of a held file succeeded")
	}
	if !errors.Is(err, state.ErrLocked) || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("second OpenBolt: err = %v, want ErrLocked saying the file is in use", err)
	}
}

func TestBoltClosed(t *testing.T) {
	s, err := state.OpenBolt(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatalf("OpenBolt: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded")
	}
	if err := s.Set(t.Context(), "c", "id", map[string]int{"a": 1}); err == nil {
		t.Error("Set after Close succeeded")
	}
}

func TestTxAfterFinish(t *testing.T) {
	s := openBolt(t)
	defer s.Close()
	var kept state.Tx
	if err := s.RunTransaction(t.Context(), func(_ context.Context, tx state.Tx) error {
		kept = tx
		return nil
	}); err != nil {
		t.Fatalf("RunTransaction: %v", err)
	}
	if err := kept.Set("c", "id", map[string]int{"a": 1}); !errors.Is(err, state.ErrInvalid) {
		t.Fatalf("Set on a finished Tx: err = %v, want ErrInvalid", err)
	}
	if err := kept.Get("c", "id", &map[string]int{}); !errors.Is(err, state.ErrInvalid) {
		t.Fatalf("Get on a finished Tx: err = %v, want ErrInvalid", err)
	}
}
