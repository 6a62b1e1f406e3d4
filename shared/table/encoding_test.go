package table

import (
	"bytes"
	"errors"
	"testing"
)

// TestEncodingMatchesWrite checks that rows encoded apart with RowEncoder
// and handed over with WriteEncoded give the bytes Write gives, in every
// line format, with formula escaping, quoting and a lone empty cell.
func TestEncodingMatchesWrite(t *testing.T) {
	cols := []Column{{Name: "a", Kind: String}, {Name: "n", Kind: Int}, {Name: "x", Kind: Float}, {Name: "b", Kind: Bool}}
	rows := [][]string{
		{"plain", "1", "2.5", "true"},
		{"=cmd", "-3", "-0.5", "false"},
		{"with,comma \"q\"", "", "", ""},
		{"line\nbreak", "7", "1e3", "true"},
	}
	for _, f := range []Format{CSV, TSV, JSONL} {
		var want, got bytes.Buffer
		ww, err := NewWriter(&want, f, cols)
		if err != nil {
			t.Fatal(err)
		}
		gw, err := NewWriter(&got, f, cols)
		if err != nil {
			t.Fatal(err)
		}
		enc := gw.(Encoding).RowEncoder()
		if enc == nil {
			t.Fatalf("%v: no RowEncoder", f)
		}
		var b []byte
		for i, r := range rows {
			if err := ww.Write(r); err != nil {
				t.Fatal(err)
			}
			if b, err = enc.AppendRow(b, r, i+1); err != nil {
				t.Fatalf("%v row %d: %v", f, i+1, err)
			}
		}
		if err := gw.(Encoding).WriteEncoded(b, len(rows)); err != nil {
			t.Fatal(err)
		}
		if err := ww.Close(); err != nil {
			t.Fatal(err)
		}
		if err := gw.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%v: encoded\n%q\nwant\n%q", f, got.String(), want.String())
		}
		if err := gw.(Encoding).WriteEncoded(nil, 0); !errors.Is(err, ErrClosed) {
			t.Errorf("%v: WriteEncoded after Close: %v, want ErrClosed", f, err)
		}
	}
}

// TestRowEncoderRefuses checks that RowEncoder refuses what Write refuses,
// leaving dst as it was: a ragged row in any format, a cell that does not
// fit its column's kind in JSON Lines.
func TestRowEncoderRefuses(t *testing.T) {
	cols := []Column{{Name: "a", Kind: String}, {Name: "n", Kind: Int}}
	cases := []struct {
		format Format
		row    []string
		want   error
	}{
		{CSV, []string{"x"}, ErrRagged},
		{TSV, []string{"x", "1", "2"}, ErrRagged},
		{JSONL, []string{"x"}, ErrRagged},
		{JSONL, []string{"x", "one"}, ErrType},
	}
	for _, c := range cases {
		var out bytes.Buffer
		w, err := NewWriter(&out, c.format, cols)
		if err != nil {
			t.Fatal(err)
		}
		dst := []byte("kept")
		got, err := w.(Encoding).RowEncoder().AppendRow(dst, c.row, 3)
		if !errors.Is(err, c.want) {
			t.Errorf("%v %q: %v, want %v", c.format, c.row, err, c.want)
		}
		var te *Error
		if errors.As(err, &te) && te.Row != 3 {
			t.Errorf("%v %q: error names row %d, want 3", c.format, c.row, te.Row)
		}
		if string(got) != "kept" {
			t.Errorf("%v %q: dst %q, want it unchanged", c.format, c.row, got)
		}
		if err := w.Write(c.row); !errors.Is(err, c.want) {
			t.Errorf("%v %q: Write: %v, want %v", c.format, c.row, err, c.want)
		}
	}
}

// TestParquetNoRowEncoder: a columnar format cannot encode rows apart.
func TestParquetNoRowEncoder(t *testing.T) {
	var out bytes.Buffer
	w, err := NewWriter(&out, Parquet, []Column{{Name: "a", Kind: String}})
	if err != nil {
		t.Fatal(err)
	}
	if w.(Encoding).RowEncoder() != nil {
		t.Fatal("Parquet writer returned a RowEncoder")
	}
	if err := w.(Encoding).WriteEncoded([]byte("x\n"), 1); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("WriteEncoded: %v, want ErrUnsupported", err)
	}
	_ = w.Abort()
}
