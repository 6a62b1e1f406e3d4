package table

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// escapeCell is the CSV writer's formula escaping of a String cell.
func escapeCell(s string) string {
	if s != "" && (formulaStart[s[0]] || s[0] == '\'' && escaped(s[1:])) {
		return "'" + s
	}
	return s
}

// FuzzCSVReader checks that the CSV reader never panics and that whatever it
// reads survives a write and a second read unchanged, up to the writer's
// documented formula escaping, and reads back exactly with Unescape.
func FuzzCSVReader(f *testing.F) {
	for _, seed := range []string{
		"age,workclass,fnlwgt\n39,State-gov,77516\n50,Self-emp-not-inc,83311\n",
		"\uFEFFa;b\r\n\"1;5\";\"x\"\"y\"\r\n",
		"a\tb\n\"multi\nline\"\t2\n",
		"a|b\n=cmd|' /C calc'!A0|-5\n",
		"a,b\n1,\"unterminated\n",
		"a,b\n1,x\"y\n",
		"a,a\n1,2\n",
		",\n",
		"\"\"\n\"\"\n",
		"a\n\"\r\"\n",
		"x\n\xff\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := OpenReader(bytes.NewReader(in), CSV, Options{MaxCellBytes: 1 << 16})
		if err != nil {
			var e *Error
			if !errors.As(err, &e) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("open error is not classified: %v", err)
			}
			return
		}
		first, err := ReadAll(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("read error is not a *table.Error: %v", err)
			}
			return
		}
		cols := make([]Column, len(first.Columns))
		want := &Table{Columns: make([]string, len(cols))}
		for i, name := range first.Columns {
			cols[i] = Column{Name: name}
			want.Columns[i] = escapeCell(name)
		}
		for _, row := range first.Rows {
			esc := make([]string, len(row))
			for i, c := range row {
				esc[i] = escapeCell(c)
			}
			want.Rows = append(want.Rows, esc)
		}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, CSV, cols)
		if err != nil {
			t.Fatalf("NewWriter(%q): %v", first.Columns, err)
		}
		for _, row := range first.Rows {
			if err := w.Write(row); err != nil {
				t.Fatalf("Write(%q): %v", row, err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r2, err := OpenReader(bytes.NewReader(buf.Bytes()), CSV, Options{Delimiter: ',', MaxCellBytes: 1<<16 + 1})
		if err != nil {
			t.Fatalf("re-open %q: %v", buf.String(), err)
		}
		second, err := ReadAll(r2)
		if err != nil {
			t.Fatalf("re-read %q: %v", buf.String(), err)
		}
		if len(want.Rows) == 0 {
			want.Rows = nil
		}
		if !reflect.DeepEqual(second, want) {
			t.Fatalf("input %q\nwrote %q\nfirst read %q\nsecond read %q\nwant %q", in, buf.String(), first, second, want)
		}
		r3, err := OpenReader(bytes.NewReader(buf.Bytes()), CSV, Options{Delimiter: ',', MaxCellBytes: 1<<16 + 1, Unescape: true})
		if err != nil {
			t.Fatalf("re-open %q unescaping: %v", buf.String(), err)
		}
		third, err := ReadAll(r3)
		if err != nil {
			t.Fatalf("re-read %q unescaping: %v", buf.String(), err)
		}
		if len(third.Rows) == 0 {
			third.Rows = first.Rows
		}
		if !reflect.DeepEqual(third, first) {
			t.Fatalf("input %q\nwrote %q\nread unescaped %q\nwant %q", in, buf.String(), third, first)
		}
		if strings.Count(buf.String(), "\n") < len(first.Rows)+1 {
			t.Fatalf("wrote %q: fewer lines than rows", buf.String())
		}
	})
}
