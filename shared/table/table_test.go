package table

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// tricky is a table whose cells exercise quoting, escaping and typing.
var tricky = struct {
	cols []Column
	rows [][]string
}{
	cols: []Column{{"name", String}, {"age", Int}, {"score", Float}, {"ok", Bool}, {"note, with \"quotes\"", String}},
	rows: [][]string{
		{"Ann", "34", "1.5", "true", "plain"},
		{"Bob \"the\" Builder", "-7", "-0.25", "false", "comma, inside"},
		{"multi\nline\nname", "0", "1e-300", "", "tab\tinside"},
		{"Zoë 日本語 🙂", "", "", "true", ""},
		{"", "9223372036854775807", "3.141592653589793", "false", "semi;colon|pipe"},
		{"trailing space ", "-9223372036854775808", "-1e+300", "true", "\"\""},
	},
}

// readTable opens path with opts and reads it whole.
func readTable(t *testing.T, path string, opts Options) *Table {
	t.Helper()
	r, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", filepath.Base(path), err)
	}
	defer r.Close()
	tab, err := ReadAll(r)
	if err != nil {
		t.Fatalf("ReadAll(%s): %v", filepath.Base(path), err)
	}
	return tab
}

func writeTable(t *testing.T, path string, format Format, cols []Column, rows [][]string) {
	t.Helper()
	w, err := Create(path, format, cols)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	for _, row := range rows {
		if err := w.Write(row); err != nil {
			t.Fatalf("Write(%q): %v", row, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func names(cols []Column) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, ext := range []string{"csv", "tsv", "jsonl", "ndjson", "parquet"} {
		t.Run(ext, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "t."+ext)
			writeTable(t, path, Auto, tricky.cols, tricky.rows)
			got := readTable(t, path, Options{})
			want := &Table{Columns: names(tricky.cols), Rows: tricky.rows}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip through %s:\n got %q\nwant %q", ext, got, want)
			}
		})
	}
}

// TestStreamRoundTrip goes through NewWriter and OpenReader, reusing the row
// slice between writes as stream producers do.
func TestStreamRoundTrip(t *testing.T) {
	t.Parallel()
	for _, f := range []Format{CSV, TSV, JSONL, Parquet} {
		t.Run(f.String(), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			w, err := NewWriter(&buf, f, tricky.cols)
			if err != nil {
				t.Fatal(err)
			}
			row := make([]string, len(tricky.cols))
			for i := 0; i < 3000; i++ {
				copy(row, tricky.rows[i%len(tricky.rows)])
				if err := w.Write(row); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			r, err := OpenReader(bytes.NewReader(buf.Bytes()), f, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Rows) != 3000 {
				t.Fatalf("read %d rows, want 3000", len(got.Rows))
			}
			for i, row := range got.Rows {
				if want := tricky.rows[i%len(tricky.rows)]; !reflect.DeepEqual(row, want) {
					t.Fatalf("row %d = %q, want %q", i+1, row, want)
				}
			}
		})
	}
}

func TestFormatOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path string
		want Format
		err  error
	}{
		{"a.csv", CSV, nil},
		{"dir/A.CSV", CSV, nil},
		{"a.tsv", TSV, nil},
		{"a.jsonl", JSONL, nil},
		{"a.ndjson", JSONL, nil},
		{"a.parquet", Parquet, nil},
		{"a.json", Auto, ErrUnsupported},
		{"noext", Auto, ErrUnsupported},
	}
	for _, tt := range tests {
		got, err := FormatOf(tt.path)
		if got != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("FormatOf(%q) = %v, %v; want %v, %v", tt.path, got, err, tt.want, tt.err)
		}
	}
}

func TestOpenExplicitFormat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "data.txt")
	if err := os.WriteFile(path, []byte("a|b\n1|2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Open without format: err = %v, want ErrUnsupported", err)
	}
	got := readTable(t, path, Options{Format: CSV})
	want := &Table{Columns: []string{"a", "b"}, Rows: [][]string{{"1", "2"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestOpenReaderParquetNeedsSize(t *testing.T) {
	t.Parallel()
	r := strings.NewReader("PAR1")
	tests := []struct {
		name string
		in   io.Reader
	}{
		{"plain reader", struct{ io.Reader }{r}},
		{"reader at without size", struct {
			io.Reader
			io.ReaderAt
		}{r, r}},
	}
	for _, tt := range tests {
		if _, err := OpenReader(tt.in, Parquet, Options{}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", tt.name, err)
		}
	}
	if _, err := OpenReader(r, Auto, Options{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Auto: err = %v, want ErrUnsupported", err)
	}
}

// errorsAs is errors.As for *Error, failing the test when err is not one.
func errorsAs(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *table.Error", err, err)
	}
	return e
}
