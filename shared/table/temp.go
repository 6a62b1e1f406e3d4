package table

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Temporary files. Create writes path through a hidden file beside it,
// ".BASE.tmp-PID-RANDOM", which Close renames over path and Abort removes.
// A process killed before either (kill -9, a crash, a power cut) leaves it
// behind; the PID in its name lets a later run tell it from the temporary
// file of a run still going (RemoveStaleTemps), and a process that is being
// interrupted can remove its own at once (RemoveTemps).

// StaleAfter is the age (time since the last write) past which a temporary
// file whose name holds no process id is taken as abandoned.
const StaleAfter = time.Hour

// tempPrefix is the prefix of path's temporary files, and dir their
// directory.
func tempPrefix(path string) (dir, prefix string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	return dir, "." + base + ".tmp-"
}

// CreateTemp creates a temporary file for path in path's directory, named
// as Create names its own, for writers of other files (a model, a profile)
// that commit by renaming it over path.
func CreateTemp(path string) (*os.File, error) {
	dir, prefix := tempPrefix(path)
	f, err := os.CreateTemp(dir, prefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, fmt.Errorf("table: create %s: %w", filepath.Base(path), err)
	}
	return f, nil
}

// temps lists path's temporary files with the process id their name holds
// (0 for none, as older releases named them).
func temps(path string) (map[string]int, error) {
	dir, prefix := tempPrefix(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("table: list temporary files of %s: %w", filepath.Base(path), err)
	}
	out := map[string]int{}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || e.IsDir() {
			continue
		}
		pid := 0
		if p, _, ok := strings.Cut(rest, "-"); ok {
			if n, err := strconv.Atoi(p); err == nil && n > 0 {
				pid = n
			}
		}
		out[filepath.Join(dir, e.Name())] = pid
	}
	return out, nil
}

// RemoveTemps removes the temporary files this process has open for path,
// for a process about to exit without closing its writers (a second
// interrupt). It returns the names removed.
func RemoveTemps(path string) ([]string, error) {
	ts, err := temps(path)
	if err != nil {
		return nil, err
	}
	var mine []string
	for name, pid := range ts {
		if pid == os.Getpid() {
			mine = append(mine, name)
		}
	}
	return removeAll(mine)
}

// removeAll removes the named files, returning those removed (or already
// gone).
func removeAll(names []string) ([]string, error) {
	var removed []string
	var errs []error
	for _, name := range names {
		if err := os.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, name)
	}
	return removed, errors.Join(errs...)
}

// RemoveStaleTemps removes the temporary files that killed runs left for
// path: those whose process is gone, and those not written for StaleAfter
// (an abandoned file whose process id was reused by another process, or
// whose name holds none). Files another live run is writing now are kept.
// Call it before creating path's own temporary files: a file named with
// this process's id is then a dead process's whose id was reused (a
// container's CLI is often pid 1 every time). It returns the names
// removed.
func RemoveStaleTemps(path string) ([]string, error) {
	ts, err := temps(path)
	if err != nil {
		return nil, err
	}
	var stale []string
	for name, pid := range ts {
		if pid > 0 && pid != os.Getpid() && alive(pid) || pid == 0 {
			st, err := os.Stat(name)
			if err != nil || time.Since(st.ModTime()) < StaleAfter {
				continue
			}
		}
		stale = append(stale, name)
	}
	return removeAll(stale)
}
