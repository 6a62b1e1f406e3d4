package table

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// stickyError checks that r, having returned err, returns it again (as
// the serial reader does), and returns its text.
func stickyError(t *testing.T, r Reader, err error) string {
	t.Helper()
	if _, again := r.Read(); again == nil || again.Error() != err.Error() {
		t.Errorf("after %v, Read returned %v", err, again)
	}
	return err.Error()
}

// readAllRows reads r to its end or first error, keeping every row and the
// error's text.
func readAllRows(t *testing.T, r Reader) (rows [][]string, errText string) {
	t.Helper()
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows, ""
		}
		if err != nil {
			return rows, stickyError(t, r, err)
		}
		rows = append(rows, append([]string(nil), row...))
	}
}

// readRowsLent reads r as readAllRows does, but with ReadRows where it
// can (after a few rows read with Read, and again after every third
// chunk), holding each chunk's rows lent until the next one's came and
// checking they did not change meanwhile.
func readRowsLent(t *testing.T, r *csvReader) (rows [][]string, errText string) {
	t.Helper()
	var held [][]string
	release, heldFrom := func() {}, 0
	batched := true
	for i := 0; ; i++ {
		var got [][]string
		var rel func()
		var err error
		if batched && i >= 3 && i%4 != 0 {
			got, rel, err = r.ReadRows(nil)
			if err == ErrNoBatch {
				batched = false
				continue
			}
			if err == nil && len(got) == 0 {
				t.Fatalf("ReadRows lent no rows")
			}
		} else {
			var row []string
			row, err = r.Read()
			got, rel = [][]string{row}, func() {}
		}
		if err == nil && rel == nil {
			t.Fatalf("ReadRows lent rows without a release")
		}
		if held != nil && !reflect.DeepEqual(held, rows[heldFrom:]) {
			t.Fatalf("lent rows changed before their release")
		}
		release()
		if err == io.EOF {
			return rows, ""
		}
		if err != nil {
			return rows, stickyError(t, r, err)
		}
		held, release, heldFrom = nil, rel, len(rows)
		for _, row := range got {
			rows = append(rows, append([]string(nil), row...))
		}
		if len(got) > 1 || i >= 3 && batched && i%4 != 0 {
			held = got // lent until release (a row Read returns, until the next Read)
		}
	}
}

// messyCSV is a table of quoted cells with newlines, doubled quotes,
// delimiters, CRLF endings and blank lines, long enough for many chunks.
func messyCSV(rows int, seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("id,\"na\nme\",note\r\n")
	for i := range rows {
		fmt.Fprintf(&b, "%d,", i)
		switch rng.IntN(6) {
		case 0:
			b.WriteString("\"two\nlines\",")
		case 1:
			b.WriteString("\"say \"\"hi\"\", ok\",")
		case 2:
			b.WriteString("\"\",")
		default:
			fmt.Fprintf(&b, "v%d,", rng.IntN(100))
		}
		fmt.Fprintf(&b, "n%d", rng.IntN(10))
		if rng.IntN(3) == 0 {
			b.WriteString("\r\n")
		} else {
			b.WriteString("\n")
		}
		if rng.IntN(40) == 0 {
			b.WriteString("\n") // a blank line, which encoding/csv skips
		}
	}
	return b.String()
}

// TestCSVParallelMatchesSerial: the parallel read returns the serial
// read's rows and, at the first bad record, its error (row, line, text),
// with chunks small enough that records and quoted newlines straddle
// their cuts, and chunks that find no boundary handing over to the serial
// reader.
func TestCSVParallelMatchesSerial(t *testing.T) {
	t.Parallel()
	good := messyCSV(3000, 7)
	lines := strings.SplitAfter(good, "\n")
	at := func(line int, s string) string { // s in place of line (1-based)
		l := append([]string(nil), lines...)
		l[line-1] = s
		return strings.Join(l, "")
	}
	long := "id,name,note\n1,a,b\n2,\"" + strings.Repeat("x\n", 400) + "\",c\n3,d,e\n" + strings.Repeat("4,f,g\n", 200)
	// plain has no quotes (parsed without encoding/csv): CRLF and bare CR
	// line ends, a CR inside a cell and before CRLF, blank lines, empty
	// cells, a last line without a newline that ends in CR.
	var pb strings.Builder
	pb.WriteString("id,a,b\n")
	for i := range 400 {
		ends := []string{"\n", "\r\n", "\r\r\n", "\n\n", "\n\r\n"}
		fmt.Fprintf(&pb, "%d,%s,x\ry%s", i, strings.Repeat("é", i%3), ends[i%len(ends)])
	}
	pb.WriteString("400,,\r")
	plain := pb.String()
	tests := []struct {
		name string
		in   string
		opts Options
	}{
		{"messy", good, Options{}},
		{"no final newline", strings.TrimRight(good, "\r\n"), Options{}},
		{"ragged late", at(2500, "1,2\n"), Options{}},
		{"bare quote late", at(2000, "1,x\"y,z\n"), Options{}},
		{"open quote late", at(2900, "1,\"open,z\n"), Options{}},
		{"invalid utf8", at(1500, "1,\xff,z\n"), Options{}},
		{"cell too large", good, Options{MaxCellBytes: 13}},
		{"too many rows", good, Options{MaxRows: 1234}},
		{"too many rows at a ragged row", "a,b\n" + strings.Repeat("1,2\n", 500) + "1\n", Options{MaxRows: 500}},
		{"unescape", "a,b\n" + strings.Repeat("'=1,x\n", 500), Options{Unescape: true}},
		{"tsv", strings.ReplaceAll(good, ",", "\t"), Options{Delimiter: '\t'}},
		{"record longer than a chunk", long, Options{}},
		{"no quotes", plain, Options{}},
		{"no quotes, ragged", strings.Replace(plain, "\n317,", "\n317,x,", 1), Options{}},
		{"no quotes, bad utf8", strings.Replace(plain, "\n323,", "\n323\xff,", 1), Options{}},
		{"no quotes, multibyte delimiter", strings.ReplaceAll(plain, ",", "§"), Options{Delimiter: '§'}},
		{"no quotes, unescape", strings.ReplaceAll(plain, ",x", ",'=x"), Options{Unescape: true}},
	}
	configs := []parConfig{
		{chunk: 7, maxChunk: 64, workers: 2, anySize: true},
		{chunk: 100, maxChunk: 100_000, workers: 3, anySize: true},
		{chunk: 4096, maxChunk: 1 << 20, workers: 2, anySize: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sr, err := OpenReader(strings.NewReader(tt.in), CSV, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			wantRows, wantErr := readAllRows(t, sr)
			if len(wantRows) < 100 {
				t.Fatalf("the serial read stops after %d rows (%s): too few to test chunks", len(wantRows), wantErr)
			}
			for _, cfg := range configs {
				r, err := openReader(strings.NewReader(tt.in), CSV, tt.opts, &cfg)
				if err != nil {
					t.Fatal(err)
				}
				c := r.(*csvReader)
				// Records must be allowed a chunk's bytes for a parallel read.
				if _, wantPar := cfg.fit(tt.opts.maxCell(), len(c.cols)); (c.par != nil) != wantPar {
					t.Fatalf("%+v: read in parallel %v, want %v", cfg, c.par != nil, wantPar)
				}
				gotRows, gotErr := readAllRows(t, r)
				c.stopPar()
				if gotErr != wantErr {
					t.Errorf("%+v: error\n got %s\nwant %s", cfg, gotErr, wantErr)
				}
				if !reflect.DeepEqual(gotRows, wantRows) {
					t.Errorf("%+v: %d rows, serial %d, or they differ", cfg, len(gotRows), len(wantRows))
				}
				r, err = openReader(strings.NewReader(tt.in), CSV, tt.opts, &cfg)
				if err != nil {
					t.Fatal(err)
				}
				gotRows, gotErr = readRowsLent(t, r.(*csvReader))
				r.(*csvReader).stopPar()
				if gotErr != wantErr || !reflect.DeepEqual(gotRows, wantRows) {
					t.Errorf("%+v: with ReadRows, %d rows and error %q; serial %d, %q", cfg, len(gotRows), gotErr, len(wantRows), wantErr)
				}
			}
		})
	}
}

// TestCSVParallelOpen: Open reads a large file in parallel (on more than
// one core) and Close stops the read half-way without leaking goroutines.
func TestCSVParallelOpen(t *testing.T) {
	// On one core Open reads serially; the test needs the parallel path.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0), 2)))
	path := filepath.Join(t.TempDir(), "big.csv")
	in := messyCSV(50_000, 3)
	if err := os.WriteFile(path, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := readCSV(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.(fileReader).Reader.(*csvReader).par == nil {
		t.Fatal("a large file is not read in parallel")
	}
	got, err := ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parallel read of %s differs from the serial one", path)
	}

	before := runtime.NumGoroutine()
	for range 5 {
		r, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if _, err := r.Read(); err != nil {
				t.Fatal(err)
			}
		}
		r.Close()
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines after closing readers half-way, %d before", after, before)
	}
}

func TestBoundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in          string
		first, last int
	}{
		{"", -1, -1},
		{"abc", -1, -1},
		{"a\nb\n", 2, 4},
		{"\"a\nb\"\nc", 6, 6},
		{"x,\"a\"\"\nb\"\n\"\n", 10, 10},
		{"\"open\n", -1, -1},
	}
	for _, tt := range tests {
		if f, l := firstBoundary([]byte(tt.in)), lastBoundary([]byte(tt.in)); f != tt.first || l != tt.last {
			t.Errorf("%q: boundaries %d, %d; want %d, %d", tt.in, f, l, tt.first, tt.last)
		}
	}
}
