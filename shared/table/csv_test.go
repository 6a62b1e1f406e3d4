package table

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func readCSV(in string, opts Options) (*Table, error) {
	r, err := OpenReader(strings.NewReader(in), CSV, opts)
	if err != nil {
		return nil, err
	}
	return ReadAll(r)
}

func TestCSVReadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		opts Options
		err  error
		msg  string
	}{
		{"empty file", "", Options{}, ErrEmpty, "header: no header row (empty input)"},
		{"only blank lines", "\n\n\r\n", Options{}, ErrEmpty, "header: no header row (empty input)"},
		{"only BOM", "\uFEFF", Options{}, ErrEmpty, "header: no header row (empty input)"},
		{"ragged short", "a,b,c\n1,2,3\n1,2\n", Options{}, ErrRagged,
			`row 2 (line 3), column "c": 2 cells, header has 3 (ragged row)`},
		{"ragged long", "a,b\n1,2,3\n", Options{}, ErrRagged,
			`row 1 (line 2), column 3: 3 cells, header has 2 (ragged row)`},
		{"invalid utf8 cell", "a,b\nx,\xff\n", Options{}, ErrInvalidUTF8,
			`row 1 (line 2), column "b": invalid UTF-8`},
		{"invalid utf8 header", "a,\xff\n", Options{}, ErrInvalidUTF8,
			`header (line 1), column 2: invalid UTF-8`},
		{"duplicate header", "a,b,a\n", Options{}, ErrDuplicateHeader,
			`header (line 1), column "a": also column 1 (duplicate column name)`},
		{"empty header", "a,,c\n", Options{}, ErrEmptyHeader,
			`header (line 1), column 2: empty column name`},
		{"bare quote", "a,b\n1,x\"y\n", Options{}, ErrSyntax,
			`row 1 (line 2): bare " in non-quoted-field at byte 4 (syntax error)`},
		{"unterminated quote", "a,b\n1,\"open\n", Options{}, ErrSyntax,
			`row 1 (line 2): extraneous or missing " in quoted-field at byte 9 (syntax error)`},
		{"cell too large", "a,b\n1,12345\n", Options{MaxCellBytes: 4}, ErrCellTooLarge,
			`row 1 (line 2), column "b": a cell of 5 bytes, over the 4 bytes limit (cell too large)`},
		{"too many rows", "a\n1\n2\n3\n", Options{MaxRows: 2}, ErrTooManyRows,
			`row 3 (line 4): limit 2 (too many rows)`},
		{"too many columns", "a,b,c\n", Options{MaxColumns: 2}, ErrTooManyColumns,
			`header (line 1): 3 columns, limit 2 (too many columns)`},
		{"bad delimiter", "a\n", Options{Delimiter: '"'}, ErrUnsupported, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := readCSV(tt.in, tt.opts)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("message\n got %s\nwant %s", err, tt.msg)
			}
		})
	}
}

// TestCSVRecordGuard checks that an unterminated quote cannot pull an
// unbounded amount of input into memory.
func TestCSVRecordGuard(t *testing.T) {
	t.Parallel()
	in := "a\n\"" + strings.Repeat("x", 1<<20)
	_, err := readCSV(in, Options{MaxCellBytes: 1000})
	if !errors.Is(err, ErrCellTooLarge) {
		t.Fatalf("err = %v, want ErrCellTooLarge", err)
	}
	if e := errorsAs(t, err); e.Row != 1 {
		t.Errorf("Row = %d, want 1", e.Row)
	}
}

func TestCSVErrorIsSticky(t *testing.T) {
	t.Parallel()
	r, err := OpenReader(strings.NewReader("a,b\n1\n1,2\n"), CSV, Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := r.Read()
	_, err2 := r.Read()
	if !errors.Is(err1, ErrRagged) || err2 != err1 {
		t.Errorf("errors %v then %v, want the same ragged error twice", err1, err2)
	}
}

func TestCSVBOMAndLineEndings(t *testing.T) {
	t.Parallel()
	want := &Table{Columns: []string{"id", "name"}, Rows: [][]string{{"1", "x"}, {"2", "y\nz"}}}
	tests := []struct{ name, in string }{
		{"no BOM, LF", "id,name\n1,x\n2,\"y\nz\"\n"},
		{"BOM, LF", "\uFEFFid,name\n1,x\n2,\"y\nz\"\n"},
		{"BOM, CRLF", "\uFEFFid,name\r\n1,x\r\n2,\"y\r\nz\"\r\n"},
		{"no final newline", "id,name\n1,x\n2,\"y\nz\""},
		{"blank lines skipped", "id,name\n\n1,x\n\n2,\"y\nz\"\n\n"},
	}
	for _, tt := range tests {
		got, err := readCSV(tt.in, Options{})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, want)
		}
	}
}

func TestSniff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want rune
	}{
		{"comma", "a,b,c\n1,2,3\n", ','},
		{"semicolon", "a;b;c\n1;2,5;3\n", ';'},
		{"tab", "a\tb\n1\t2\n", '\t'},
		{"pipe", "a|b|c\n1|2|3\n", '|'},
		{"single column", "a\n1\n", ','},
		{"comma inside quotes", "\"a,x\";\"b,y\"\n\"1,2\";3\n", ';'},
		{"newline inside quotes", "a;b\n\"x\ny,z,w\";2\n", ';'},
		{"consistent beats frequent", "a,b;c;d\n1,2;3\n4,5;6;7;8\n", ','},
		{"semicolon decimals", "x;y\n1,5;2,5\n3,0;4,25\n", ';'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniff([]byte(tt.in), true); got != tt.want {
				t.Errorf("sniff = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCSVSniffedRead(t *testing.T) {
	t.Parallel()
	got, err := readCSV("\uFEFFx;y\n\"1;5\";2\n", Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := &Table{Columns: []string{"x", "y"}, Rows: [][]string{{"1;5", "2"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// An explicit delimiter wins over sniffing.
	got, err = readCSV("a;b,c\n1;2,3\n", Options{Delimiter: ','})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a;b", "c"}; !reflect.DeepEqual(got.Columns, want) {
		t.Errorf("columns %q, want %q", got.Columns, want)
	}
}

func TestCSVFormulaEscaping(t *testing.T) {
	t.Parallel()
	cols := []Column{{"s", String}, {"i", Int}, {"f", Float}, {"b", Bool}}
	tests := []struct {
		row  []string
		want string
	}{
		{[]string{"=1+2", "-5", "-2.5e3", "true"}, "'=1+2,-5,-2.5e3,true"},
		{[]string{"+x", "+7", "+.5", "false"}, "'+x,+7,+.5,false"},
		{[]string{"-x", "", "-Inf", ""}, "'-x,,-Inf,"},
		{[]string{"@SUM(A1)", "1", "1", "true"}, "'@SUM(A1),1,1,true"},
		{[]string{"\tx", "1", "1", "true"}, "'\tx,1,1,true"},
		{[]string{"\rx", "1", "1", "true"}, "\"'\rx\",1,1,true"},
		{[]string{"=HYPERLINK(\"http://x\")", "1", "1", "true"}, "\"'=HYPERLINK(\"\"http://x\"\")\",1,1,true"},
		{[]string{"a=b", "1", "1", "true"}, "a=b,1,1,true"},
		// Numeric columns only keep real numbers raw.
		{[]string{"x", "-2+3+cmd|' /C calc'!A0", "=1", "-1"}, "x,'-2+3+cmd|' /C calc'!A0,'=1,'-1"},
		{[]string{"x", "-1,5", "1", "true"}, "x,\"'-1,5\",1,true"},

		// A quote already in front of such a byte gets one more, so that
		// Unescape can tell it from an escaped cell; other quotes stay.
		{[]string{"'=x", "'-5", "'1", "'"}, "''=x,''-5,'1,'"},
		{[]string{"''@a", "1", "1", "'true"}, "'''@a,1,1,'true"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, CSV, cols)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(tt.row); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		got := strings.TrimPrefix(buf.String(), "s,i,f,b\n")
		if got != tt.want+"\n" {
			t.Errorf("Write(%q) wrote %q, want %q", tt.row, got, tt.want+"\n")
		}
		r, err := OpenReader(strings.NewReader(buf.String()), CSV, Options{Unescape: true})
		if err != nil {
			t.Fatal(err)
		}
		back, err := ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if len(back.Rows) != 1 || !reflect.DeepEqual(back.Rows[0], tt.row) {
			t.Errorf("Write(%q) read back unescaped as %q", tt.row, back.Rows)
		}
	}
}

func TestCSVWriterQuoting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cols []Column
		row  []string
		want string
	}{
		{"plain", []Column{{"a", String}, {"b", String}}, []string{"x", "y"}, "a,b\nx,y\n"},
		{"comma quote newline", []Column{{"a", String}, {"b", String}}, []string{"x,y", "say \"hi\"\n"}, "a,b\n\"x,y\",\"say \"\"hi\"\"\n\"\n"},
		{"lone empty cell", []Column{{"a", String}}, []string{""}, "a\n\"\"\n"},
		{"header needing quotes", []Column{{"a,b", String}, {"=c", String}}, []string{"1", "2"}, "\"a,b\",'=c\n1,2\n"},
		{"header starting with BOM", []Column{{"\uFEFFa", String}}, []string{"1"}, "\"\uFEFFa\"\n1\n"},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, CSV, tt.cols)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(tt.row); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tt.want {
			t.Errorf("%s: wrote %q, want %q", tt.name, buf.String(), tt.want)
		}
	}
	// TSV quotes tabs, not commas.
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, TSV, []Column{{"a", String}, {"b", String}})
	if err := w.Write([]string{"x,y", "p\tq"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if want := "a\tb\nx,y\t\"p\tq\"\n"; buf.String() != want {
		t.Errorf("TSV wrote %q, want %q", buf.String(), want)
	}
}

func TestCSVReadEOFAfterLastRow(t *testing.T) {
	t.Parallel()
	r, err := OpenReader(strings.NewReader("a\n1\n"), CSV, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.Read(); err != io.EOF {
			t.Fatalf("Read after last row: %v, want io.EOF", err)
		}
	}
}

// TestCSVPlainMatchesTable checks the eight-bytes-at-a-time scan for bytes
// that force quotes against the byte table, for each delimiter, with every
// byte value at every position of cells up to 20 bytes long, and that rows
// encode as cell-by-cell appendCell does.
func TestCSVPlainMatchesTable(t *testing.T) {
	for _, delim := range []byte{',', '\t', ';', '|'} {
		e := newCSVEncoder(io.Discard, []Column{{Name: "a", Kind: String}, {Name: "b", Kind: Int}}, delim)
		for n := 1; n <= 20; n++ {
			cell := []byte(strings.Repeat("Married-civ-spouse", 2)[:n])
			for pos := range n {
				for c := range 256 {
					old := cell[pos]
					cell[pos] = byte(c)
					s := string(cell)
					want := true
					for i := range len(s) {
						if e.special[s[i]] {
							want = false
						}
					}
					if got := e.plain(s); got != want {
						t.Fatalf("delim %q: plain(%q) = %v, want %v", delim, s, got, want)
					}
					row := []string{s, s}
					got, _ := e.appendRow(nil, row, 1)
					exp := append(e.appendCell(nil, s, String, false), delim)
					exp = append(e.appendCell(exp, s, Int, false), '\n')
					if !bytes.Equal(got, exp) {
						t.Fatalf("delim %q: row %q encodes as %q, want %q", delim, row, got, exp)
					}
					cell[pos] = old
				}
			}
		}
	}
}
