package statetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"synthos.dev/synthos/shared/state"
)

// Bolt opens an embedded store in a temporary directory, closed when the
// test ends.
func Bolt(t testing.TB) state.Store {
	t.Helper()
	s, err := state.Open(context.Background(), "bolt://"+filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatalf("open bolt: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Firestore opens the Firestore emulator (project synthos-test), closed
// when the test ends. Without FIRESTORE_EMULATOR_HOST the test is skipped,
// naming the emulator, or fails under CI=true. The emulator's database is
// shared: tests keep to collections or tenants of their own (Collection).
func Firestore(t testing.TB) state.Store {
	t.Helper()
	return FirestoreProject(t, "synthos-test")
}

// FirestoreProject is Firestore in a project of the caller's: the
// emulator keeps one database per project, so a suite whose fixed names
// (tenants, documents) could meet another's keeps to its own.
func FirestoreProject(t testing.TB, project string) state.Store {
	t.Helper()
	if os.Getenv("FIRESTORE_EMULATOR_HOST") == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("the Firestore emulator is required on CI: set FIRESTORE_EMULATOR_HOST")
		}
		t.Skip("the Firestore emulator is not running: set FIRESTORE_EMULATOR_HOST to run this test")
	}
	s, err := state.Open(context.Background(), "firestore://"+project)
	if err != nil {
		t.Fatalf("open firestore: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Drivers are the stores code over state is tested on: the embedded one
// always, Firestore's emulator when it runs (see Firestore).
func Drivers() map[string]func(t testing.TB) state.Store {
	return map[string]func(t testing.TB) state.Store{"bolt": Bolt, "firestore": Firestore}
}
