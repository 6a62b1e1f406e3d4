package table

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// flushAt is the buffered output size at which encoders hand bytes to the
// underlying writer.
const flushAt = 64 << 10

// formulaStart marks the first bytes that make a spreadsheet evaluate a cell
// as a formula: '=', '+', '-', '@', tab and CR (OWASP, "CSV Injection").
var formulaStart = [256]bool{'=': true, '+': true, '-': true, '@': true, '\t': true, '\r': true}

// csvEncoder writes RFC 4180 CSV (LF line endings) with formula escaping.
//
// Formula escaping follows OWASP's recommendation: a cell that starts with
// '=', '+', '-', '@', tab or CR gets a leading single quote, so spreadsheets
// show it as text instead of running it. Cells of Int and Float columns that
// parse as numbers (negative ones included) are written raw so that numbers
// stay numbers; any other cell of such a column, and every cell of String and
// Bool columns, is escaped. Column names are escaped too. So that escaping
// can be undone without knowing the column kinds, a cell that already
// starts with quotes followed by such a byte ("'=x") gets one more quote
// ("”=x"). Reading an escaped file back yields the quoted cells, e.g.
// "'=1+2", unless the reader is asked to unescape (Options.Unescape, or
// Unescape on one cell), which gives back exactly the cells written.
type csvEncoder struct {
	w       io.Writer
	buf     []byte
	delim   byte
	kinds   []Kind
	special [256]bool // bytes that force a cell into quotes
}

func newCSVEncoder(w io.Writer, cols []Column, delim byte) *csvEncoder {
	e := &csvEncoder{w: w, buf: make([]byte, 0, flushAt+4096), delim: delim, kinds: make([]Kind, len(cols))}
	e.special['"'], e.special['\n'], e.special['\r'], e.special[delim] = true, true, true, true
	for i, c := range cols {
		e.kinds[i] = c.Kind
		if i > 0 {
			e.buf = append(e.buf, delim)
		}
		// A leading BOM in the first name would be taken for the file's
		// own BOM and dropped on read: quote it to keep it.
		e.buf = e.appendCell(e.buf, c.Name, String, i == 0 && strings.HasPrefix(c.Name, "\uFEFF"))
	}
	e.buf = append(e.buf, '\n')
	return e
}

func (e *csvEncoder) encode(row []string, n int) error {
	e.buf, _ = e.appendRow(e.buf, row, n)
	if len(e.buf) >= flushAt {
		return e.flush()
	}
	return nil
}

// appendRow appends one row's line to b. It only reads e's settings, so
// several goroutines may call it at once (see RowEncoder); a CSV row
// always encodes.
func (e *csvEncoder) appendRow(b []byte, row []string, _ int) ([]byte, error) {
	kinds := e.kinds[:len(row)]
	quote, delim := swarOnes*uint64('"'), swarOnes*uint64(e.delim)
	for i, cell := range row {
		if i > 0 {
			b = append(b, e.delim)
		}
		// Most cells start with no byte formula escaping looks at and hold
		// none that forces quotes: appendCell would copy them as they are.
		if n := len(cell); n > 0 && n <= 8 && !formulaStart[cell[0]] && cell[0] != '\'' {
			// A short cell is one word (see tailWord), tested here
			// rather than in a call.
			var x uint64
			if n == 8 {
				x = le64(cell, 0)
			} else if n >= 4 {
				x = uint64(cell[0]) | uint64(cell[1])<<8 | uint64(cell[2])<<16 | uint64(cell[3])<<24 |
					(uint64(cell[n-4])|uint64(cell[n-3])<<8|uint64(cell[n-2])<<16|uint64(cell[n-1])<<24)<<32
			} else {
				x = uint64(cell[0]) | uint64(cell[n>>1])<<8 | uint64(cell[n-1])<<16 | 0x6161616161000000
			}
			q, d := x^quote, x^delim
			if ((x-swarOnes*0x0E)&^x|(q-swarOnes)&^q|(d-swarOnes)&^d)&swarHighs == 0 || e.plainBytes(cell) {
				b = append(b, cell...)
				continue
			}
		} else if n > 8 && !formulaStart[cell[0]] && cell[0] != '\'' && e.plain(cell) {
			b = append(b, cell...)
			continue
		}
		b = e.appendCell(b, cell, kinds[i], false)
	}
	// A lone empty cell would be an empty line, which readers skip.
	if len(row) == 1 && row[0] == "" {
		b = append(b, '"', '"')
	}
	return append(b, '\n'), nil
}

// writeEncoded implements encodedSink: bytes already encoded by appendRow.
func (e *csvEncoder) writeEncoded(b []byte) error { return writeEncoded(&e.buf, e.w, b) }

func (e *csvEncoder) appendCell(b []byte, s string, k Kind, quote bool) []byte {
	if s == "" {
		return b
	}
	escape := formulaStart[s[0]] && (k != Int && k != Float || !isNumber(s)) || s[0] == '\'' && escaped(s[1:])
	if !quote {
		for i := 0; i < len(s); i++ {
			if e.special[s[i]] {
				quote = true
				break
			}
		}
	}
	if !quote {
		if escape {
			b = append(b, '\'')
		}
		return append(b, s...)
	}
	b = append(b, '"')
	if escape {
		b = append(b, '\'')
	}
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}

// plain reports whether s (not empty) holds no byte of e.special. A word
// at a time (see tailWord), it looks for bytes below 0x0E (which holds
// '\n', '\r' and a tab delimiter), '"' and the delimiter all at once, and
// lets the table decide when any turns up.
func (e *csvEncoder) plain(s string) bool {
	quote, delim := swarOnes*uint64('"'), swarOnes*uint64(e.delim)
	hit := func(x uint64) bool {
		q, d := x^quote, x^delim
		// (v - ones*n) &^ v & highs is nonzero exactly when a byte of v
		// is below n (n <= 0x80): with n = 1, when one is zero.
		return ((x-swarOnes*0x0E)&^x|(q-swarOnes)&^q|(d-swarOnes)&^d)&swarHighs != 0
	}
	for i := 0; i+8 < len(s); i += 8 {
		if hit(le64(s, i)) {
			return e.plainBytes(s)
		}
	}
	if hit(tailWord(s)) {
		return e.plainBytes(s)
	}
	return true
}

// plainBytes is plain a byte at a time.
func (e *csvEncoder) plainBytes(s string) bool {
	for i := 0; i < len(s); i++ {
		if e.special[s[i]] {
			return false
		}
	}
	return true
}

const swarOnes, swarHighs = 0x0101010101010101, 0x8080808080808080

// le64 is the little-endian word of s[i:i+8].
func le64(s string, i int) uint64 {
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// tailWord is a word whose bytes are the last min(len(s), 8) bytes of s
// (not empty), some twice, and for fewer than 4 bytes 'a' as padding: the
// words le64(s, 0), le64(s, 8), ... below len(s)-8 and tailWord together
// hold every byte of s, and nothing else but 'a'.
func tailWord(s string) uint64 {
	n := len(s)
	switch {
	case n >= 8:
		return le64(s, n-8)
	case n >= 4:
		lo := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
		hi := uint64(s[n-4]) | uint64(s[n-3])<<8 | uint64(s[n-2])<<16 | uint64(s[n-1])<<24
		return lo | hi<<32
	}
	return uint64(s[0]) | uint64(s[n>>1])<<8 | uint64(s[n-1])<<16 | 0x6161616161000000
}

// escaped reports whether s, after any leading single quotes, starts with a
// byte that formula escaping quotes: a cell "'"+s was then escaped.
func escaped(s string) bool {
	s = strings.TrimLeft(s, "'")
	return s != "" && formulaStart[s[0]]
}

// Unescape returns the cell a CSV or TSV writer of this package was given,
// from the cell it wrote: it removes the quote formula escaping added. It
// is exact for every cell and column kind.
func Unescape(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && escaped(cell[1:]) {
		return cell[1:]
	}
	return cell
}

// isNumber reports whether s is a number strconv.ParseFloat accepts, out of
// range ones included.
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil || errors.Is(err, strconv.ErrRange)
}

func (e *csvEncoder) flush() error {
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

func (e *csvEncoder) finish() error { return e.flush() }

// writeEncoded appends encoded rows to an encoder's buffer buf, or, when
// they would take it past flushAt, flushes the buffer and hands them to w
// directly: a large block is not copied twice.
func writeEncoded(buf *[]byte, w io.Writer, b []byte) error {
	if len(*buf)+len(b) < flushAt {
		*buf = append(*buf, b...)
		return nil
	}
	if len(*buf) > 0 {
		_, err := w.Write(*buf)
		*buf = (*buf)[:0]
		if err != nil {
			return fmt.Errorf("flush: %w", err)
		}
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	return nil
}
