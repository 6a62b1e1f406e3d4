package table

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// datasets is the shared test data directory, relative to this package.
const datasets = "../../../shared/datasets"

// adultPath returns adult.train.csv's path, failing clearly when it is missing.
func adultPath(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(datasets, "adult.train.csv")
	if _, err := os.Stat(path); err != nil {
		abs, _ := filepath.Abs(path)
		tb.Fatalf("dataset missing: %v (expected at %s)", err, abs)
	}
	return path
}

// adultCols types adult's numeric columns as Int and the rest as String.
var adultCols = []Column{
	{"age", Int}, {"workclass", String}, {"fnlwgt", Int}, {"education", String},
	{"education-num", Int}, {"marital-status", String}, {"occupation", String},
	{"relationship", String}, {"race", String}, {"sex", String}, {"capital-gain", Int},
	{"capital-loss", Int}, {"hours-per-week", Int}, {"native-country", String}, {"income", String},
}

func TestAdultDataset(t *testing.T) {
	t.Parallel()
	tab := readTable(t, adultPath(t), Options{})
	if len(tab.Columns) != 15 || len(tab.Rows) != 26049 {
		t.Fatalf("adult.train.csv: %d rows x %d columns, want 26049 x 15", len(tab.Rows), len(tab.Columns))
	}
	for i, c := range adultCols {
		if tab.Columns[i] != c.Name {
			t.Errorf("column %d = %q, want %q", i+1, tab.Columns[i], c.Name)
		}
	}
	// Every format carries the real table unchanged.
	for _, ext := range []string{"csv", "jsonl", "parquet"} {
		path := filepath.Join(t.TempDir(), "adult."+ext)
		writeTable(t, path, Auto, adultCols, tab.Rows)
		got := readTable(t, path, Options{})
		if len(got.Rows) != len(tab.Rows) {
			t.Fatalf("%s: %d rows back, want %d", ext, len(got.Rows), len(tab.Rows))
		}
		for i := range got.Rows {
			for j := range got.Rows[i] {
				if got.Rows[i][j] != tab.Rows[i][j] {
					t.Fatalf("%s: row %d column %q = %q, want %q", ext, i+1, got.Columns[j], got.Rows[i][j], tab.Rows[i][j])
				}
			}
		}
	}
}

func loadAdult(b *testing.B) ([]byte, *Table) {
	b.Helper()
	raw, err := os.ReadFile(adultPath(b))
	if err != nil {
		b.Fatal(err)
	}
	r, err := OpenReader(bytes.NewReader(raw), CSV, Options{})
	if err != nil {
		b.Fatal(err)
	}
	tab, err := ReadAll(r)
	if err != nil {
		b.Fatal(err)
	}
	return raw, tab
}

// countingWriter discards bytes and counts them.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func reportRows(b *testing.B, rows int) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkCSVRead(b *testing.B) {
	raw, tab := loadAdult(b)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := OpenReader(bytes.NewReader(raw), CSV, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Read(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
	reportRows(b, len(tab.Rows))
}

func benchWrite(b *testing.B, f Format) {
	_, tab := loadAdult(b)
	var size countingWriter
	writeAll(b, &size, f, tab)
	b.SetBytes(size.n)
	b.ReportAllocs()
	for b.Loop() {
		writeAll(b, io.Discard, f, tab)
	}
	reportRows(b, len(tab.Rows))
}

func writeAll(b *testing.B, out io.Writer, f Format, tab *Table) {
	w, err := NewWriter(out, f, adultCols)
	if err != nil {
		b.Fatal(err)
	}
	for _, row := range tab.Rows {
		if err := w.Write(row); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkCSVWrite(b *testing.B)     { benchWrite(b, CSV) }
func BenchmarkJSONLWrite(b *testing.B)   { benchWrite(b, JSONL) }
func BenchmarkParquetWrite(b *testing.B) { benchWrite(b, Parquet) }

func BenchmarkJSONLRead(b *testing.B)   { benchRead(b, JSONL) }
func BenchmarkParquetRead(b *testing.B) { benchRead(b, Parquet) }

func benchRead(b *testing.B, f Format) {
	_, tab := loadAdult(b)
	var buf bytes.Buffer
	writeAll(b, &buf, f, tab)
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		r, err := OpenReader(bytes.NewReader(buf.Bytes()), f, Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, err := r.Read(); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != len(tab.Rows) {
			b.Fatalf("read %d rows, want %d", n, len(tab.Rows))
		}
	}
	reportRows(b, len(tab.Rows))
}

// BenchmarkCSVWriteRow measures one 15-column row, the unit the synthesis
// engine's 1,000,000 rows/s per core budget is stated in.
func BenchmarkCSVWriteRow(b *testing.B) {
	_, tab := loadAdult(b)
	var size countingWriter
	writeAll(b, &size, CSV, tab)
	w, err := NewWriter(io.Discard, CSV, adultCols)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size.n / int64(len(tab.Rows)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := w.Write(tab.Rows[i]); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(tab.Rows) {
			i = 0
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
