package table

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// dirNames lists the names in dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func TestCreateAtomic(t *testing.T) {
	t.Parallel()
	cols := []Column{{"a", String}, {"n", Int}}
	for _, ext := range []string{"csv", "jsonl", "parquet"} {
		t.Run(ext, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "out."+ext)

			// Abort leaves nothing.
			w, err := Create(path, Auto, cols)
			if err != nil {
				t.Fatal(err)
			}
			for range 100000 {
				if err := w.Write([]string{"x", "1"}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output visible before Close: %v", err)
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("after Abort the directory holds %q", names)
			}
			if err := w.Write([]string{"x", "1"}); !errors.Is(err, ErrClosed) {
				t.Errorf("Write after Abort: %v, want ErrClosed", err)
			}
			if err := w.Close(); !errors.Is(err, ErrClosed) {
				t.Errorf("Close after Abort: %v, want ErrClosed", err)
			}

			// A failed Write poisons the writer: Close refuses and cleans up.
			w, err = Create(path, Auto, cols)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write([]string{"x", "1"}); err != nil {
				t.Fatal(err)
			}
			if err := w.Write([]string{"only one cell"}); !errors.Is(err, ErrRagged) {
				t.Fatalf("ragged Write: %v, want ErrRagged", err)
			}
			if err := w.Write([]string{"x", "1"}); !errors.Is(err, ErrFailed) {
				t.Errorf("Write after failure: %v, want ErrFailed", err)
			}
			if err := w.Close(); !errors.Is(err, ErrFailed) {
				t.Errorf("Close after failure: %v, want ErrFailed", err)
			}
			if err := w.Abort(); err != nil {
				t.Errorf("Abort after refused Close: %v", err)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("after a failed write the directory holds %q", names)
			}

			// Close publishes exactly the output, replacing an old file.
			if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			writeTable(t, path, Auto, cols, [][]string{{"x", "1"}, {"y", "-2"}})
			if names := dirNames(t, dir); len(names) != 1 || names[0] != "out."+ext {
				t.Errorf("after Close the directory holds %q", names)
			}
			got := readTable(t, path, Options{})
			if len(got.Rows) != 2 || got.Rows[1][1] != "-2" {
				t.Errorf("read back %q", got.Rows)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v, want 0644", st.Mode().Perm())
			}
		})
	}
}

func TestCreateErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
		cols []Column
		err  error
	}{
		{"no columns", "a.csv", nil, ErrEmpty},
		{"empty name", "a.csv", []Column{{"", String}}, ErrEmptyHeader},
		{"duplicate name", "a.csv", []Column{{"a", String}, {"a", Int}}, ErrDuplicateHeader},
		{"invalid name", "a.csv", []Column{{"\xff", String}}, ErrInvalidUTF8},
		{"bad kind", "a.csv", []Column{{"a", Kind(9)}}, ErrUnsupported},
		{"unknown extension", "a.xlsx", []Column{{"a", String}}, ErrUnsupported},
		{"missing directory", "nodir/a.csv", []Column{{"a", String}}, os.ErrNotExist},
	}
	for _, tt := range tests {
		if _, err := Create(filepath.Join(dir, tt.path), Auto, tt.cols); !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("failed Creates left %q", names)
	}
}

// failWriter fails every write, standing in for a full disk or a dropped
// connection.
type failWriter struct{}

var errDisk = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestWriterIOErrors(t *testing.T) {
	t.Parallel()
	for _, f := range []Format{CSV, JSONL, Parquet} {
		w, err := NewWriter(failWriter{}, f, []Column{{"a", String}})
		if err != nil {
			t.Fatal(err)
		}
		// Small outputs are buffered, so the failure shows at Close.
		if err := w.Write([]string{"x"}); err != nil {
			t.Fatalf("%v: Write: %v", f, err)
		}
		if err := w.Close(); !errors.Is(err, errDisk) {
			t.Errorf("%v: Close = %v, want the write error", f, err)
		}
		if err := w.Close(); !errors.Is(err, ErrClosed) {
			t.Errorf("%v: second Close = %v, want ErrClosed", f, err)
		}
	}
}
