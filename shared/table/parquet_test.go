package table

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

func TestParquetSchema(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	cols := []Column{{"zeta", String}, {"alpha", Int}, {"mid", Float}, {"b", Bool}}
	w, err := NewWriter(&buf, Parquet, cols)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"x", "-3", "2.5", "true"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]string{"", "", "", ""}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, typ string
	}{{"zeta", "STRING"}, {"alpha", "INT(64,true)"}, {"mid", "DOUBLE"}, {"b", "BOOLEAN"}}
	leaves := f.Root().Columns()
	if len(leaves) != len(want) {
		t.Fatalf("%d columns, want %d", len(leaves), len(want))
	}
	for i, c := range leaves {
		if c.Name() != want[i].name || c.Type().String() != want[i].typ || !c.Optional() {
			t.Errorf("column %d: %s %s optional=%v, want optional %s %s", i+1, c.Name(), c.Type(), c.Optional(), want[i].name, want[i].typ)
		}
	}
	r, err := OpenReader(bytes.NewReader(buf.Bytes()), Parquet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{{"x", "-3", "2.5", "true"}, {"", "", "", ""}}
	if !reflect.DeepEqual(got.Rows, wantRows) {
		t.Errorf("rows %q, want %q", got.Rows, wantRows)
	}
}

func TestParquetWriteErrors(t *testing.T) {
	t.Parallel()
	cols := []Column{{"s", String}, {"i", Int}, {"f", Float}, {"b", Bool}}
	tests := []struct {
		row []string
		err error
		msg string
	}{
		{[]string{"x", "12abc", "1", "true"}, ErrType, `table: write: row 1, column "i": "12abc" is not int (cell does not fit column kind)`},
		{[]string{"x", "1", "1,5", "true"}, ErrType, `table: write: row 1, column "f": "1,5" is not float (cell does not fit column kind)`},
		{[]string{"x", "1", "1", "maybe"}, ErrType, `table: write: row 1, column "b": "maybe" is not bool (cell does not fit column kind)`},
		{[]string{"\xff", "1", "1", "true"}, ErrInvalidUTF8, `table: write: row 1, column "s": invalid UTF-8`},
	}
	for _, tt := range tests {
		w, err := NewWriter(&bytes.Buffer{}, Parquet, cols)
		if err != nil {
			t.Fatal(err)
		}
		err = w.Write(tt.row)
		if !errors.Is(err, tt.err) || err.Error() != tt.msg {
			t.Errorf("Write(%q) = %v, want %s", tt.row, err, tt.msg)
		}
	}
}

// foreign is a file another producer might write, with types the typed
// writer never uses.
type foreign struct {
	I32   int32      `parquet:"i32"`
	U64   uint64     `parquet:"u64"`
	F32   float32    `parquet:"f32"`
	Bin   []byte     `parquet:"bin"`
	TSms  time.Time  `parquet:"ts_ms,timestamp(millisecond)"`
	TSns  time.Time  `parquet:"ts_ns,timestamp(nanosecond)"`
	Day   int32      `parquet:"day,date"` // days since 1970-01-01
	Dec   int64      `parquet:"dec,decimal(2:10)"`
	Maybe *int64     `parquet:"maybe,optional"`
	When  *time.Time `parquet:"when,optional,timestamp(microsecond)"`
}

func TestParquetReadForeignTypes(t *testing.T) {
	t.Parallel()
	ts := time.Date(2024, 2, 29, 13, 4, 5, 123000000, time.UTC)
	seven := int64(7)
	rows := []foreign{
		{I32: -5, U64: 1<<64 - 1, F32: 0.1, Bin: []byte("héllo"), TSms: ts, TSns: ts.Add(456), Day: 19782, Dec: -12345, Maybe: &seven, When: &ts},
		{I32: 0, U64: 0, F32: -2.5, Bin: []byte{}, TSms: time.Unix(0, 0), TSns: time.Unix(0, 0), Day: -1, Dec: 5},
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReader(bytes.NewReader(buf.Bytes()), Parquet, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	want := &Table{
		Columns: []string{"i32", "u64", "f32", "bin", "ts_ms", "ts_ns", "day", "dec", "maybe", "when"},
		Rows: [][]string{
			{"-5", "18446744073709551615", "0.1", "héllo", "2024-02-29T13:04:05.123Z", "2024-02-29T13:04:05.123000456Z", "2024-02-29", "-123.45", "7", "2024-02-29T13:04:05.123Z"},
			{"0", "0", "-2.5", "", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1969-12-31", "0.05", "", ""},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestParquetReadErrors(t *testing.T) {
	t.Parallel()
	type nested struct {
		A string   `parquet:"a"`
		L []string `parquet:"l,list"`
	}
	var nestedBuf bytes.Buffer
	if err := parquet.Write(&nestedBuf, []nested{{A: "x", L: []string{"y"}}}); err != nil {
		t.Fatal(err)
	}
	var good bytes.Buffer
	w, _ := NewWriter(&good, Parquet, []Column{{"a", String}})
	for range 10 {
		if err := w.Write([]string{"x"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(good.Bytes())
	for i := 4; i < len(corrupt)-8; i++ {
		corrupt[i] ^= 0x5A
	}
	var binary bytes.Buffer
	type bin struct {
		B []byte `parquet:"b"`
	}
	if err := parquet.Write(&binary, []bin{{B: []byte{0xff, 0xfe}}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		opts Options
		err  error
	}{
		{"nested", nestedBuf.Bytes(), Options{}, ErrUnsupported},
		{"not parquet", []byte("a,b\n1,2\n"), Options{}, ErrSyntax},
		{"truncated", good.Bytes()[:good.Len()/2], Options{}, ErrSyntax},
		{"corrupt", corrupt, Options{}, ErrSyntax},
		{"too many rows", good.Bytes(), Options{MaxRows: 5}, ErrTooManyRows},
		{"invalid utf8", binary.Bytes(), Options{}, ErrInvalidUTF8},
	}
	for _, tt := range tests {
		r, err := OpenReader(bytes.NewReader(tt.in), Parquet, tt.opts)
		if err == nil {
			_, err = ReadAll(r)
		}
		if !errors.Is(err, tt.err) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.err)
		}
	}
}
