package table

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"synthos.dev/synthos/shared/errs"
	"unicode/utf8"
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// sniffBytes is how much of a CSV stream the delimiter sniffer looks at.
const sniffBytes = 64 << 10

// errRecordTooLarge is guardReader's signal that one record grew past its cap.
var errRecordTooLarge = errors.New("record too large")

// guardReader caps the bytes one CSV record may pull in, so that a
// gigantic unterminated quote cannot exhaust memory before cell sizes can be
// checked. The count is reset after every record.
type guardReader struct {
	r     io.Reader
	n     int64
	limit int64
}

func (g *guardReader) Read(p []byte) (int, error) {
	if g.n > g.limit {
		return 0, errRecordTooLarge
	}
	n, err := g.r.Read(p)
	g.n += int64(n)
	return n, err
}

// recordLimit is the byte cap on one record of ncols cells: ncols full cells
// plus their quotes and delimiters, and slack for buffered read-ahead.
func recordLimit(maxCell, ncols int) int64 {
	const slack = 64 << 10
	const unlimited = 1<<63 - 1
	if maxCell <= 0 || ncols <= 0 {
		return unlimited
	}
	cells := int64(maxCell) * int64(ncols) * 2
	if cells/2/int64(ncols) != int64(maxCell) || cells > unlimited-slack {
		return unlimited
	}
	return cells + slack
}

type csvReader struct {
	cr      *csv.Reader
	guard   *guardReader
	cols    []string
	rows    int
	maxRows int
	maxCell int
	// unescape undoes formula escaping (Options.Unescape).
	unescape bool
	err      error // sticky: once Read fails it keeps failing
	comma    rune
	// par is the state of a parallel read (csvpar.go), nil when serial;
	// lineBase is the lines before what c.cr reads, when a parallel read
	// handed the rest of the stream back to it.
	par      *parCSV
	lineBase int
}

// newCSVReader reads a CSV stream; par, when set and the stream is large
// (longer than the sniffed head), parses it on several goroutines (see
// csvpar.go), which the caller must stop with stopPar.
func newCSVReader(r io.Reader, opts Options, delim rune, par *parConfig) (*csvReader, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("table: read csv: %w", err)
	}
	complete := err != nil // the peek saw the end of the stream
	if bytes.HasPrefix(head, bom) {
		br.Discard(len(bom))
		head = head[len(bom):]
	}
	if delim == 0 {
		delim = sniff(head, complete)
	}
	if delim == '"' || delim == '\r' || delim == '\n' || delim == utf8.RuneError || !utf8.ValidRune(delim) {
		return nil, fmt.Errorf("table: read csv: delimiter %q: %w", delim, ErrUnsupported)
	}
	c := &csvReader{
		guard:    &guardReader{r: br},
		maxRows:  opts.MaxRows,
		maxCell:  opts.maxCell(),
		unescape: opts.Unescape,
	}
	maxCols := opts.maxColumns()
	c.guard.limit = recordLimit(c.maxCell, min(maxCols, DefaultMaxColumns))
	c.comma = delim
	c.cr = c.newCSV(c.guard)
	// A parallel read parses the header alone (the bytes up to its end, so
	// that the csv.Reader buffers nothing past it); it needs the header to
	// end in the head and to start on its first line.
	hdrEnd := -1
	if par != nil && par.workers > 1 && (!complete || par.anySize) && len(head) > 0 && head[0] != '\n' && head[0] != '\r' {
		hdrEnd = firstBoundary(head)
	}
	var hr *csv.Reader
	if hdrEnd > 0 {
		hr = c.newCSV(bytes.NewReader(head[:hdrEnd]))
	} else {
		hr, par = c.cr, nil
	}

	header, err := hr.Read()
	c.guard.n = 0
	if err == io.EOF {
		return nil, &Error{Detail: "no header row", Err: ErrEmpty}
	}
	if err != nil {
		return nil, c.wrap(err, 0, 0)
	}
	if len(header) > maxCols {
		return nil, &Error{Line: 1, Detail: fmt.Sprintf("%d columns, limit %d", len(header), maxCols), Err: ErrTooManyColumns}
	}
	line, _ := hr.FieldPos(0)
	if c.unescape {
		for i, name := range header {
			header[i] = Unescape(name)
		}
	}
	if err := checkHeader(header, line, c.maxCell); err != nil {
		return nil, err
	}
	c.cols = append([]string(nil), header...)
	c.guard.limit = recordLimit(c.maxCell, len(header))
	if cfg, ok := par.fit(c.maxCell, len(header)); ok {
		br.Discard(hdrEnd)
		c.startPar(br, bytes.Count(head[:hdrEnd], []byte{'\n'}), cfg)
	} else if par != nil {
		// The header was read alone: the serial reader starts after it.
		br.Discard(hdrEnd)
		c.lineBase = bytes.Count(head[:hdrEnd], []byte{'\n'})
	}
	return c, nil
}

// newCSV is the csv.Reader every part of a read uses.
func (c *csvReader) newCSV(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = c.comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

// checkHeader rejects empty, duplicate, oversized or non-UTF-8 column names.
func checkHeader(names []string, line, maxCell int) error {
	seen := make(map[string]int, len(names))
	for i, name := range names {
		e := &Error{Line: line, Column: i + 1, ColumnName: name}
		switch {
		case len(name) > maxCell:
			e.ColumnName = ""
			e.Detail, e.Err = fmt.Sprintf("a name of %s, over the %s limit", errs.Size(int64(len(name))), errs.Size(int64(maxCell))), ErrCellTooLarge
		case !utf8.ValidString(name):
			e.ColumnName = ""
			e.Err = ErrInvalidUTF8
		case name == "":
			e.Err = ErrEmptyHeader
		case seen[name] > 0:
			e.Detail, e.Err = fmt.Sprintf("also column %d", seen[name]), ErrDuplicateHeader
		default:
			seen[name] = i + 1
			continue
		}
		return e
	}
	return nil
}

func (c *csvReader) Columns() []string { return c.cols }

func (c *csvReader) Read() ([]string, error) {
	if c.err != nil {
		return nil, c.err
	}
	if c.par != nil {
		return c.readPar()
	}
	rec, err := c.cr.Read()
	c.guard.n = 0
	n := c.rows + 1
	if err != nil {
		c.err = c.wrap(err, n, c.lineBase)
		return nil, c.err
	}
	line, _ := c.cr.FieldPos(0)
	line += c.lineBase
	if c.maxRows > 0 && n > c.maxRows {
		c.err = &Error{Row: n, Line: line, Detail: fmt.Sprintf("limit %d", c.maxRows), Err: ErrTooManyRows}
		return nil, c.err
	}
	if err := c.check(rec, n, line, false); err != nil {
		c.err = err
		return nil, err
	}
	c.rows = n
	return rec, nil
}

// check applies the per-record checks to data row n (on line) and undoes
// formula escaping; utf8OK says the cells are known to be valid UTF-8.
// It only reads c, so parallel workers share it.
func (c *csvReader) check(rec []string, n, line int, utf8OK bool) error {
	if len(rec) != len(c.cols) {
		e := &Error{Row: n, Line: line, Detail: fmt.Sprintf("%d cells, header has %d", len(rec), len(c.cols)), Err: ErrRagged}
		if len(rec) < len(c.cols) {
			e.Column, e.ColumnName = len(rec)+1, c.cols[len(rec)]
		} else {
			e.Column = len(c.cols) + 1
		}
		return e
	}
	for i, cell := range rec {
		if len(cell) > c.maxCell {
			return &Error{Row: n, Line: line, Column: i + 1, ColumnName: c.cols[i],
				Detail: fmt.Sprintf("a cell of %s, over the %s limit", errs.Size(int64(len(cell))), errs.Size(int64(c.maxCell))), Err: ErrCellTooLarge}
		}
		if !utf8OK && !utf8.ValidString(cell) {
			return &Error{Row: n, Line: line, Column: i + 1, ColumnName: c.cols[i], Err: ErrInvalidUTF8}
		}
		if c.unescape {
			rec[i] = Unescape(cell)
		}
	}
	return nil
}

// wrap classifies an error of encoding/csv while reading data row n.
// lineBase is the lines before what the csv.Reader read.
func (c *csvReader) wrap(err error, n, lineBase int) error {
	if err == io.EOF {
		return io.EOF
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{Row: n, Line: pe.Line + lineBase, Detail: fmt.Sprintf("%v at byte %d", pe.Err, pe.Column), Err: ErrSyntax}
	}
	if errors.Is(err, errRecordTooLarge) {
		return &Error{Row: n, Detail: fmt.Sprintf("the row is too long: a cell is over the %s limit, or a quote is left open", errs.Size(int64(c.maxCell))), Err: ErrCellTooLarge}
	}
	return fmt.Errorf("table: read csv row %d: %w", n, err)
}

// sniff picks the delimiter among ',' ';' '\t' '|' from the first lines of
// head (quotes respected, so delimiters and newlines inside quoted cells do
// not count). The winner occurs the same nonzero number of times on every
// line; among such candidates the most frequent wins; failing that, the one
// most frequent on the header line; ties go to the earlier candidate, and a
// file with none of them is read as one ',' column.
func sniff(head []byte, complete bool) rune {
	const maxLines = 20
	cands := [...]byte{',', ';', '\t', '|'}
	var counts [maxLines][len(cands)]int
	lines := 0
	inQuote := false
	var cur [len(cands)]int
	empty := true
	for i := 0; i < len(head) && lines < maxLines; i++ {
		b := head[i]
		switch {
		case b == '"':
			inQuote = !inQuote
			empty = false
		case inQuote:
		case b == '\n':
			if !empty {
				counts[lines] = cur
				lines++
			}
			cur = [len(cands)]int{}
			empty = true
		case b == '\r':
		default:
			empty = false
			for k, c := range cands {
				if b == c {
					cur[k]++
				}
			}
		}
	}
	if complete && !empty && lines < maxLines {
		counts[lines] = cur
		lines++
	}
	if lines == 0 {
		return ','
	}
	best, bestN, bestConsistent := -1, 0, false
	for k := range cands {
		h := counts[0][k]
		if h == 0 {
			continue
		}
		consistent := true
		for l := 1; l < lines; l++ {
			if counts[l][k] != h {
				consistent = false
				break
			}
		}
		better := best < 0 ||
			(consistent && !bestConsistent) ||
			(consistent == bestConsistent && h > bestN)
		if better {
			best, bestN, bestConsistent = k, h, consistent
		}
	}
	if best < 0 {
		return ','
	}
	return rune(cands[best])
}
