package table

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func readJSONL(in string, opts Options) (*Table, error) {
	r, err := OpenReader(strings.NewReader(in), JSONL, opts)
	if err != nil {
		return nil, err
	}
	return ReadAll(r)
}

func TestJSONLRead(t *testing.T) {
	t.Parallel()
	in := "\uFEFF{\"z\": 1.50, \"a\": \"x\\ny\\u00e9\\ud83d\\ude00\", \"n\": null, \"o\": {\"k\": [1, 2, {\"q\": \"r s\"}]}, \"b\": true}\n" +
		"\n" +
		"{\"a\": \"only a\", \"z\": -0e+10}\r\n" +
		"  {\"b\": false, \"o\": [], \"n\": 12345678901234567890123}  \n"
	got, err := readJSONL(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := &Table{
		Columns: []string{"z", "a", "n", "o", "b"},
		Rows: [][]string{
			{"1.50", "x\nyé😀", "", `{"k":[1,2,{"q":"r s"}]}`, "true"},
			{"-0e+10", "only a", "", "", ""},
			{"", "", "12345678901234567890123", "[]", "false"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestJSONLReadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		opts Options
		err  error
		msg  string
	}{
		{"empty", "", Options{}, ErrEmpty, "header: no object (empty input)"},
		{"blank lines", "\n  \n", Options{}, ErrEmpty, "header: no object (empty input)"},
		{"no keys", "{}\n", Options{}, ErrEmpty, "row 1 (line 1): first object has no keys (empty input)"},
		{"unknown key", "{\"a\":1}\n{\"a\":2}\n\n{\"a\":3,\"b\":4}\n", Options{}, ErrUnknownColumn,
			`row 3 (line 4), column "b": not a key of the first object (unknown column)`},
		{"duplicate first key", "{\"a\":1,\"a\":2}\n", Options{}, ErrDuplicateHeader,
			`row 1 (line 1), column "a": also column 1 (duplicate column name)`},
		{"duplicate later key", "{\"a\":1}\n{\"a\":1,\"a\":2}\n", Options{}, ErrSyntax,
			`row 2 (line 2), column "a": key appears twice (syntax error)`},
		{"empty key", "{\"\":1}\n", Options{}, ErrEmptyHeader, `header (line 1), column 1: empty column name`},
		{"not an object", "[1,2]\n", Options{}, ErrSyntax, `row 1 (line 1): not a JSON object at byte 1 (syntax error)`},
		{"bad number", "{\"a\":01}\n", Options{}, ErrSyntax, `row 1 (line 1): expected ',' or '}' at byte 7 (syntax error)`},
		{"bad value", "{\"a\":1}\n{\"a\":nope}\n", Options{}, ErrSyntax, `row 2 (line 2), column "a": expected a value at byte 6 (syntax error)`},
		{"trailing text", "{\"a\":1} x\n", Options{}, ErrSyntax, `row 1 (line 1): text after the object at byte 9 (syntax error)`},
		{"unterminated string", "{\"a\":\"x}\n", Options{}, ErrSyntax, `row 1 (line 1), column "a": unterminated string at byte 6 (syntax error)`},
		{"bad nested", "{\"a\":{\"b\":}}\n", Options{}, ErrSyntax, `row 1 (line 1), column "a": bad nested value at byte 6 (syntax error)`},
		{"invalid utf8", "{\"a\":\"\xff\"}\n", Options{}, ErrInvalidUTF8, `row 1 (line 1): invalid UTF-8`},
		{"too many rows", "{\"a\":1}\n{\"a\":2}\n", Options{MaxRows: 1}, ErrTooManyRows, `row 2 (line 2): limit 1 (too many rows)`},
		{"too many columns", "{\"a\":1,\"b\":2}\n", Options{MaxColumns: 1}, ErrTooManyColumns, `row 1 (line 1): more than 1 keys (too many columns)`},
		{"cell too large", "{\"a\":\"12345\"}\n", Options{MaxCellBytes: 4}, ErrCellTooLarge, `row 1 (line 1), column "a": a cell of 5 bytes, over the 4 bytes limit (cell too large)`},
		{"line too long", "{\"a\":1}\n{\"a\":\"" + strings.Repeat("x", 200<<10) + "\"}\n", Options{MaxCellBytes: 10}, ErrCellTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := readJSONL(tt.in, tt.opts)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("message\n got %s\nwant %s", err, tt.msg)
			}
		})
	}
}

func TestJSONLWrite(t *testing.T) {
	t.Parallel()
	cols := []Column{{"s", String}, {"i", Int}, {"f", Float}, {"b", Bool}}
	tests := []struct {
		row  []string
		want string
	}{
		{[]string{"x", "1", "2.5", "true"}, `{"s":"x","i":1,"f":2.5,"b":true}`},
		{[]string{"", "", "", ""}, `{"s":"","i":null,"f":null,"b":null}`},
		{[]string{"q\"\\\n\t\r\x01</>é", "-0", "-1.5E+3", "false"}, `{"s":"q\"\\\n\t\r\u0001</>é","i":-0,"f":-1.5E+3,"b":false}`},
		{[]string{"x", "+5", "1.", "1"}, `{"s":"x","i":5,"f":1,"b":true}`},
		{[]string{"x", "007", ".5", "F"}, `{"s":"x","i":7,"f":0.5,"b":false}`},
		{[]string{"x", "123456789012345678901234567890", "1e999", "true"}, `{"s":"x","i":123456789012345678901234567890,"f":1e999,"b":true}`},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, JSONL, cols)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(tt.row); err != nil {
			t.Fatalf("Write(%q): %v", tt.row, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if buf.String() != tt.want+"\n" {
			t.Errorf("Write(%q)\n got %s\nwant %s", tt.row, buf.String(), tt.want)
		}
	}
}

func TestJSONLWriteErrors(t *testing.T) {
	t.Parallel()
	cols := []Column{{"s", String}, {"i", Int}, {"f", Float}, {"b", Bool}}
	tests := []struct {
		row []string
		err error
		msg string
	}{
		{[]string{"x", "1.5", "1", "true"}, ErrType, `table: write: row 1, column "i": "1.5" is not int (cell does not fit column kind)`},
		{[]string{"x", "1", "NaN", "true"}, ErrType, `table: write: row 1, column "f": "NaN" is not float (cell does not fit column kind)`},
		{[]string{"x", "1", "-Inf", "true"}, ErrType, ""},
		{[]string{"x", "1", "1", "yes"}, ErrType, `table: write: row 1, column "b": "yes" is not bool (cell does not fit column kind)`},
		{[]string{"\xff", "1", "1", "true"}, ErrInvalidUTF8, `table: write: row 1, column "s": invalid UTF-8`},
		{[]string{"x", "1"}, ErrRagged, `table: write: row 1, column "f": 2 cells, header has 4 (ragged row)`},
	}
	for _, tt := range tests {
		w, err := NewWriter(&bytes.Buffer{}, JSONL, cols)
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(tt.row)
		if !errors.Is(err, tt.err) {
			t.Errorf("Write(%q) = %v, want %v", tt.row, err, tt.err)
			continue
		}
		if tt.msg != "" && err.Error() != tt.msg {
			t.Errorf("message\n got %s\nwant %s", err, tt.msg)
		}
	}
}

// TestJSONLFastPaths checks the one-pass tests the JSON Lines writer takes
// before its general paths: jsonPlain against the escaping table and UTF-8
// validity, with every byte value at every position of strings up to 20
// bytes long, and jsonDigits against JSON's number grammar.
func TestJSONLFastPaths(t *testing.T) {
	for n := 1; n <= 20; n++ {
		cell := []byte(strings.Repeat("Never-married", 2)[:n])
		for pos := range n {
			for c := range 256 {
				old := cell[pos]
				cell[pos] = byte(c)
				s := string(cell)
				want := true
				for i := range len(s) {
					if s[i] >= 0x80 || !jsonSafe[s[i]] {
						want = false
					}
				}
				if got := jsonPlain(s); got != want {
					t.Fatalf("jsonPlain(%q) = %v, want %v", s, got, want)
				}
				if want && string(appendJSONString(nil, s)) != `"`+s+`"` {
					t.Fatalf("jsonPlain(%q) but appendJSONString escapes it", s)
				}
				cell[pos] = old
			}
		}
	}
	digits := func(s string) bool {
		s = strings.TrimPrefix(s, "-")
		return s != "" && strings.Trim(s, "0123456789") == ""
	}
	for _, s := range []string{"", "-", "0", "-0", "00", "-00", "01", "10", "123", "-123", "1a", "a1", "+1", "1.5", "1e3",
		"--1", "12345678901234567890123", "0x1", " 1", "1 ", "９"} {
		if got, want := jsonDigits(s), numberEnd(s, 0) == len(s) && digits(s); got != want {
			t.Fatalf("jsonDigits(%q) = %v, want %v", s, got, want)
		}
	}
}
