package table

import (
	"strconv"
	"strings"

	"synthos.dev/synthos/shared/errs"
)

// Sentinel errors classify every failure of the readers and writers; test
// them with errors.Is. An *Error wraps one of them with the row, line and
// column where it happened.
var (
	ErrEmpty           = errs.New(errs.InvalidArgument, "empty input")                   // no header, no first object, no columns
	ErrRagged          = errs.New(errs.InvalidArgument, "ragged row")                    // a row's cell count differs from the header's
	ErrInvalidUTF8     = errs.New(errs.InvalidArgument, "invalid UTF-8")                 // a cell or name is not valid UTF-8
	ErrDuplicateHeader = errs.New(errs.InvalidArgument, "duplicate column name")         // two columns share a name
	ErrEmptyHeader     = errs.New(errs.InvalidArgument, "empty column name")             // a column has no name
	ErrCellTooLarge    = errs.New(errs.TooLarge, "cell too large")                       // a cell or record exceeds Options.MaxCellBytes
	ErrTooManyRows     = errs.New(errs.TooLarge, "too many rows")                        // more rows than Options.MaxRows
	ErrTooManyColumns  = errs.New(errs.TooLarge, "too many columns")                     // more columns than Options.MaxColumns
	ErrSyntax          = errs.New(errs.InvalidArgument, "syntax error")                  // malformed CSV, JSON or Parquet
	ErrUnknownColumn   = errs.New(errs.InvalidArgument, "unknown column")                // a JSON Lines key not in the first object
	ErrType            = errs.New(errs.InvalidArgument, "cell does not fit column kind") // e.g. "abc" in an Int column
	ErrUnsupported     = errs.New(errs.InvalidArgument, "unsupported input")             // unknown format, nested Parquet, non-seekable Parquet stream
	ErrFailed          = errs.New(errs.Internal, "writer failed earlier; abort it")      // Write or Close after a failed Write
	ErrClosed          = errs.New(errs.Internal, "writer already closed")                // Write, Close after Close or Abort
)

// Error locates a read or write failure. Row is the 1-based data row (0 for
// the header or the file as a whole), Line the 1-based input line when the
// format has lines (0 otherwise), Column the 1-based column (0 when the
// failure is not about one column). Detail says what was found; Err is one of
// the sentinels above, or an I/O error.
type Error struct {
	Row        int
	Line       int
	Column     int
	ColumnName string
	Detail     string
	Err        error
}

// Error reads like `row 17 (line 18), column "age": 3 cells, header has 15 (ragged row)`.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Row > 0 {
		b.WriteString("row ")
		b.WriteString(strconv.Itoa(e.Row))
	} else {
		b.WriteString("header")
	}
	if e.Line > 0 {
		b.WriteString(" (line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(")")
	}
	switch {
	case e.ColumnName != "":
		b.WriteString(", column ")
		b.WriteString(strconv.Quote(e.ColumnName))
	case e.Column > 0:
		b.WriteString(", column ")
		b.WriteString(strconv.Itoa(e.Column))
	}
	b.WriteString(": ")
	if e.Detail != "" {
		b.WriteString(e.Detail)
		if e.Err != nil {
			b.WriteString(" (")
			b.WriteString(e.Err.Error())
			b.WriteString(")")
		}
	} else if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel or I/O error.
func (e *Error) Unwrap() error { return e.Err }
