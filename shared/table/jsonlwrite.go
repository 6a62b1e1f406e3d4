package table

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// jsonlEncoder writes one JSON object per row, keys in column order. String
// cells become JSON strings (invalid UTF-8 is ErrInvalidUTF8, never
// silently replaced); Int, Float and Bool cells become numbers and
// true/false, with "" as null. A numeric cell already in JSON's number
// grammar is copied verbatim; one that Go parses but JSON does not spell
// ("+5", "007", "1.") is normalised; anything else, NaN and infinities
// included, is ErrType.
type jsonlEncoder struct {
	w    io.Writer
	buf  []byte
	keys [][]byte // `{"name":` for the first column, `,"name":` after
	cols []Column
}

func newJSONLEncoder(w io.Writer, cols []Column) *jsonlEncoder {
	e := &jsonlEncoder{w: w, buf: make([]byte, 0, flushAt+4096), cols: cols, keys: make([][]byte, len(cols))}
	for i, c := range cols {
		k := []byte{','}
		if i == 0 {
			k[0] = '{'
		}
		k = appendJSONString(k, c.Name)
		e.keys[i] = append(k, ':')
	}
	return e
}

func (e *jsonlEncoder) encode(row []string, n int) error {
	b, err := e.appendRow(e.buf, row, n)
	e.buf = b
	if err != nil {
		return err
	}
	if len(e.buf) >= flushAt {
		return e.flush()
	}
	return nil
}

// writeEncoded implements encodedSink: bytes already encoded by appendRow.
func (e *jsonlEncoder) writeEncoded(b []byte) error { return writeEncoded(&e.buf, e.w, b) }

// appendRow appends row n's line to b; on a cell that does not fit its
// column it returns b as it was and the error. It only reads e's settings,
// so several goroutines may call it at once (see RowEncoder).
func (e *jsonlEncoder) appendRow(b []byte, row []string, n int) ([]byte, error) {
	start := len(b)
	for i, cell := range row {
		b = append(b, e.keys[i]...)
		var ok bool
		switch k := e.cols[i].Kind; {
		case k == String:
			if jsonPlain(cell) { // what appendJSONString would write, found in one pass
				b = append(b, '"')
				b = append(b, cell...)
				b, ok = append(b, '"'), true
				break
			}
			ok = utf8.ValidString(cell)
			if ok {
				b = appendJSONString(b, cell)
			}
		case cell == "":
			b, ok = append(b, "null"...), true
		case k == Int:
			b, ok = appendJSONInt(b, cell)
		case k == Float:
			b, ok = appendJSONFloat(b, cell)
		default:
			b, ok = appendJSONBool(b, cell)
		}
		if !ok {
			return b[:start], cellError(n, i, e.cols[i], cell)
		}
	}
	return append(b, '}', '\n'), nil
}

// cellError reports a cell that does not fit its column's kind.
func cellError(row, i int, c Column, cell string) error {
	if !utf8.ValidString(cell) {
		return &Error{Row: row, Column: i + 1, ColumnName: c.Name, Err: ErrInvalidUTF8}
	}
	const show = 40
	if len(cell) > show {
		cell = cell[:show] + "..."
	}
	return &Error{Row: row, Column: i + 1, ColumnName: c.Name, Detail: fmt.Sprintf("%q is not %s", cell, c.Kind), Err: ErrType}
}

func appendJSONInt(b []byte, s string) ([]byte, bool) {
	if jsonDigits(s) {
		return append(b, s...), true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return b, false
	}
	return strconv.AppendInt(b, v, 10), true
}

// jsonDigits reports whether s is an integer in JSON's number grammar,
// -?(0|[1-9][0-9]*): numberEnd(s, 0) == len(s) with
// nothing but digits after an optional '-', in one pass.
func jsonDigits(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || s[0] == '0' && len(s) > 1 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i]-'0' > 9 {
			return false
		}
	}
	return true
}

// jsonPlain reports whether s is printable ASCII without '"' or '\\', so
// that as a JSON string it is itself between quotes (valid UTF-8, nothing
// to escape). A word at a time (see tailWord), it looks for bytes below
// 0x20 or from 0x80 up, '"' and '\\' all at once.
func jsonPlain(s string) bool {
	if s == "" {
		return true
	}
	hit := func(x uint64) bool {
		q, bs := x^(swarOnes*'"'), x^(swarOnes*'\\')
		// (v - ones*n) &^ v & highs is nonzero exactly when a byte of v
		// is below n (n <= 0x80); x & highs when one is 0x80 or above.
		return (x|(x-swarOnes*0x20)&^x|(q-swarOnes)&^q|(bs-swarOnes)&^bs)&swarHighs != 0
	}
	for i := 0; i+8 < len(s); i += 8 {
		if hit(le64(s, i)) {
			return false
		}
	}
	return !hit(tailWord(s))
}

func appendJSONFloat(b []byte, s string) ([]byte, bool) {
	if numberEnd(s, 0) == len(s) {
		return append(b, s...), true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return b, false
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64), true
}

func appendJSONBool(b []byte, s string) ([]byte, bool) {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return b, false
	}
	return strconv.AppendBool(b, v), true
}

const hexDigits = "0123456789abcdef"

// jsonSafe marks the bytes that need no escaping inside a JSON string.
var jsonSafe = func() (t [256]bool) {
	for i := 0x20; i < 256; i++ {
		t[i] = true
	}
	t['"'], t['\\'] = false, false
	return t
}()

// appendJSONString appends s, which must be valid UTF-8, as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if jsonSafe[c] {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func (e *jsonlEncoder) flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}

func (e *jsonlEncoder) finish() error { return e.flush() }
