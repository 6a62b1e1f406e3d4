package table

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestRemoveStaleTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	// A process that has exited: its id names no live process (unless the
	// system reuses it at once, which it does not within a test).
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.ProcessState.Pid()
	live := os.Getppid() // the go command running this test
	touch := func(name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := time.Now().Add(-age)
		if err := os.Chtimes(p, mt, mt); err != nil {
			t.Fatal(err)
		}
		return p
	}
	deadTemp := touch(".out.csv.tmp-"+strconv.Itoa(dead)+"-123", 0)
	oldTemp := touch(".out.csv.tmp-4242424", 2*StaleAfter) // no process id, abandoned
	newTemp := touch(".out.csv.tmp-99999", 0)              // no process id, recent: maybe a live old release
	liveTemp := touch(".out.csv.tmp-"+strconv.Itoa(live)+"-5", 0)
	liveOld := touch(".out.csv.tmp-"+strconv.Itoa(live)+"-6", 2*StaleAfter) // id reused by a live process
	mine := touch(".out.csv.tmp-"+strconv.Itoa(os.Getpid())+"-7", 0)        // reused by this process
	other := touch(".other.csv.tmp-"+strconv.Itoa(dead)+"-1", 0)            // another output's
	removed, err := RemoveStaleTemps(out)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{deadTemp, oldTemp, liveOld, mine}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
	for _, p := range []string{newTemp, liveTemp, other} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

func TestRemoveTemps(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.csv")
	w, err := Create(out, CSV, []Column{{Name: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"x"}); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, ".out.csv.tmp-1-1") // pid 1's, not this process's
	if err := os.WriteFile(keep, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	removed, err := RemoveTemps(out)
	if err != nil || len(removed) != 1 {
		t.Fatalf("RemoveTemps = %q, %v; want this process's one temporary file", removed, err)
	}
	_ = w.Abort()
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != filepath.Base(keep) {
		t.Errorf("left %v, want only %s", ents, keep)
	}
}
