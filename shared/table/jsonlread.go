package table

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"synthos.dev/synthos/shared/errs"
	"unicode/utf8"
)

// jsonlReader reads JSON Lines: one object per line. The first object's keys,
// in their order of appearance, are the columns. A later object may omit keys
// (their cells are "") but may not add any: an unknown key is ErrUnknownColumn
// naming the row, line and key, since a streaming reader cannot widen rows it
// has already returned. Cells are the values' text: strings unescaped,
// numbers exactly as written, true/false, null as "", and nested objects and
// arrays as compact JSON. Blank lines are skipped.
type jsonlReader struct {
	br      *bufio.Reader
	acc     []byte // a line longer than br's buffer
	line    int
	rows    int
	cols    []string
	index   map[string]int
	gen     []int // the row that last set each column, to catch duplicate keys
	out     []string
	pending bool // out holds the first object, not yet returned
	compact bytes.Buffer
	maxRows int
	maxCell int
	maxLine int64
	err     error
}

func newJSONLReader(r io.Reader, opts Options) (*jsonlReader, error) {
	maxCols := opts.maxColumns()
	j := &jsonlReader{
		br:      bufio.NewReaderSize(r, 64<<10),
		index:   make(map[string]int),
		maxRows: opts.MaxRows,
		maxCell: opts.maxCell(),
	}
	j.maxLine = recordLimit(j.maxCell, min(maxCols, DefaultMaxColumns))
	b, err := j.next()
	if err == io.EOF {
		return nil, &Error{Detail: "no object", Err: ErrEmpty}
	}
	if err != nil {
		return nil, err
	}
	j.rows = 1
	if bytes.HasPrefix(b, bom) && j.line == 1 {
		b = b[len(bom):]
	}
	if err := j.parse(b, true, maxCols); err != nil {
		return nil, err
	}
	if len(j.cols) == 0 {
		return nil, &Error{Row: 1, Line: j.line, Detail: "first object has no keys", Err: ErrEmpty}
	}
	if err := checkHeader(j.cols, j.line, j.maxCell); err != nil {
		return nil, err
	}
	j.gen = make([]int, len(j.cols))
	j.maxLine = recordLimit(j.maxCell, len(j.cols))
	j.pending = true
	return j, nil
}

func (j *jsonlReader) Columns() []string { return j.cols }

func (j *jsonlReader) Read() ([]string, error) {
	if j.err != nil {
		return nil, j.err
	}
	if j.pending {
		j.pending = false
		return j.out, nil
	}
	b, err := j.next()
	if err != nil {
		j.err = err
		return nil, err
	}
	j.rows++
	if j.maxRows > 0 && j.rows > j.maxRows {
		j.err = &Error{Row: j.rows, Line: j.line, Detail: fmt.Sprintf("limit %d", j.maxRows), Err: ErrTooManyRows}
		return nil, j.err
	}
	clear(j.out)
	if err := j.parse(b, false, 0); err != nil {
		j.err = err
		return nil, err
	}
	return j.out, nil
}

// next returns the next non-blank line without its line ending.
func (j *jsonlReader) next() ([]byte, error) {
	for {
		b, err := j.readLine()
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(b)) > 0 {
			return b, nil
		}
	}
}

func (j *jsonlReader) readLine() ([]byte, error) {
	j.line++
	b, err := j.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		j.acc = append(j.acc[:0], b...)
		for err == bufio.ErrBufferFull {
			if int64(len(j.acc)) > j.maxLine {
				return nil, &Error{Row: j.rows + 1, Line: j.line, Detail: fmt.Sprintf("the line is too long: a cell is over the %s limit", errs.Size(int64(j.maxCell))), Err: ErrCellTooLarge}
			}
			b, err = j.br.ReadSlice('\n')
			j.acc = append(j.acc, b...)
		}
		b = j.acc
	}
	if err == io.EOF {
		if len(b) == 0 {
			return nil, io.EOF
		}
	} else if err != nil {
		return nil, fmt.Errorf("table: read jsonl line %d: %w", j.line, err)
	}
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'}), nil
}

// syntax builds an ErrSyntax error at byte offset i of the current line.
func (j *jsonlReader) syntax(i int, col int, what string) error {
	e := &Error{Row: j.rows, Line: j.line, Detail: fmt.Sprintf("%s at byte %d", what, i+1), Err: ErrSyntax}
	if col >= 0 && col < len(j.cols) {
		e.Column, e.ColumnName = col+1, j.cols[col]
	}
	return e
}

// parse reads one object into j.out. With first set it also defines the
// columns (at most maxCols of them).
func (j *jsonlReader) parse(b []byte, first bool, maxCols int) error {
	if !utf8.Valid(b) {
		return &Error{Row: j.rows, Line: j.line, Err: ErrInvalidUTF8}
	}
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return j.syntax(i, -1, "not a JSON object")
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		i++
	} else {
		for {
			if i >= len(b) || b[i] != '"' {
				return j.syntax(i, -1, "expected a key")
			}
			key, end, err := j.str(b, i)
			if err != nil {
				return j.syntax(i, -1, err.Error())
			}
			i = skipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return j.syntax(i, -1, "expected ':'")
			}
			i = skipWS(b, i+1)
			col, err := j.column(key, first, maxCols)
			if err != nil {
				return err
			}
			cell, end, err := j.value(b, i)
			if err != nil {
				return j.syntax(i, col, err.Error())
			}
			if len(cell) > j.maxCell {
				return &Error{Row: j.rows, Line: j.line, Column: col + 1, ColumnName: j.cols[col],
					Detail: fmt.Sprintf("a cell of %s, over the %s limit", errs.Size(int64(len(cell))), errs.Size(int64(j.maxCell))), Err: ErrCellTooLarge}
			}
			if first {
				j.out = append(j.out, cell)
			} else {
				j.out[col] = cell
			}
			i = skipWS(b, end)
			if i < len(b) && b[i] == ',' {
				i = skipWS(b, i+1)
				continue
			}
			if i < len(b) && b[i] == '}' {
				i++
				break
			}
			return j.syntax(i, -1, "expected ',' or '}'")
		}
	}
	if i = skipWS(b, i); i < len(b) {
		return j.syntax(i, -1, "text after the object")
	}
	return nil
}

// column maps a key to its column, defining it on the first row.
func (j *jsonlReader) column(key []byte, first bool, maxCols int) (int, error) {
	col, ok := j.index[string(key)]
	if first {
		name := string(key)
		switch {
		case ok:
			return 0, &Error{Row: j.rows, Line: j.line, Column: len(j.cols) + 1, ColumnName: name,
				Detail: fmt.Sprintf("also column %d", col+1), Err: ErrDuplicateHeader}
		case len(j.cols) == maxCols:
			return 0, &Error{Row: j.rows, Line: j.line, Detail: fmt.Sprintf("more than %d keys", maxCols), Err: ErrTooManyColumns}
		}
		j.index[name] = len(j.cols)
		j.cols = append(j.cols, name)
		return len(j.cols) - 1, nil
	}
	if !ok {
		return 0, &Error{Row: j.rows, Line: j.line, ColumnName: string(key), Detail: "not a key of the first object", Err: ErrUnknownColumn}
	}
	if j.gen[col] == j.rows {
		return 0, &Error{Row: j.rows, Line: j.line, Column: col + 1, ColumnName: j.cols[col], Detail: "key appears twice", Err: ErrSyntax}
	}
	j.gen[col] = j.rows
	return col, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

type syntaxErr string

func (e syntaxErr) Error() string { return string(e) }

// str decodes the JSON string starting at b[i] == '"'. It returns the text
// (aliasing b when there are no escapes) and the offset after the string.
func (j *jsonlReader) str(b []byte, i int) ([]byte, int, error) {
	escaped := false
	for k := i + 1; k < len(b); k++ {
		switch c := b[k]; {
		case c == '"':
			if !escaped {
				return b[i+1 : k], k + 1, nil
			}
			var s string
			if err := json.Unmarshal(b[i:k+1], &s); err != nil {
				return nil, 0, syntaxErr("bad string escape")
			}
			return []byte(s), k + 1, nil
		case c == '\\':
			escaped = true
			k++
		case c < 0x20:
			return nil, 0, syntaxErr("control character in string")
		}
	}
	return nil, 0, syntaxErr("unterminated string")
}

// value reads the JSON value at b[i] and returns its cell text.
func (j *jsonlReader) value(b []byte, i int) (string, int, error) {
	if i >= len(b) {
		return "", 0, syntaxErr("expected a value")
	}
	switch c := b[i]; {
	case c == '"':
		s, end, err := j.str(b, i)
		return string(s), end, err
	case c == '-' || c >= '0' && c <= '9':
		end := numberEnd(b, i)
		if end < 0 {
			return "", 0, syntaxErr("bad number")
		}
		return string(b[i:end]), end, nil
	case c == 't' && bytes.HasPrefix(b[i:], []byte("true")):
		return "true", i + 4, nil
	case c == 'f' && bytes.HasPrefix(b[i:], []byte("false")):
		return "false", i + 5, nil
	case c == 'n' && bytes.HasPrefix(b[i:], []byte("null")):
		return "", i + 4, nil
	case c == '{' || c == '[':
		end, err := nestedEnd(b, i)
		if err != nil {
			return "", 0, err
		}
		j.compact.Reset()
		if err := json.Compact(&j.compact, b[i:end]); err != nil {
			return "", 0, syntaxErr("bad nested value")
		}
		return j.compact.String(), end, nil
	}
	return "", 0, syntaxErr("expected a value")
}

// numberEnd returns the end of the JSON number at b[i], or -1 when it does
// not follow JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd[T string | []byte](b T, i int) int {
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		k := digits(i + 1)
		if k == i+1 {
			return -1
		}
		i = k
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		k := digits(i)
		if k == i {
			return -1
		}
		i = k
	}
	return i
}

// nestedEnd returns the offset just past the object or array at b[i],
// matching brackets outside strings; json.Compact validates the rest.
func nestedEnd(b []byte, i int) (int, error) {
	depth := 0
	for k := i; k < len(b); k++ {
		switch b[k] {
		case '"':
			for k++; k < len(b) && b[k] != '"'; k++ {
				if b[k] == '\\' {
					k++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return k + 1, nil
			}
		}
	}
	return 0, syntaxErr("unterminated nested value")
}
