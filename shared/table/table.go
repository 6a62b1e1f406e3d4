// Package table holds the row-oriented table types every engine package shares,
// and streaming readers and writers for CSV, JSON Lines and Parquet.
//
// Cells travel as strings: readers never guess types (that is the profile
// package's job), and writers are told each column's Kind so that numbers stay
// numbers in JSON Lines and Parquet and are not formula-escaped in CSV.
package table

// Kind is how a writer stores a column's cells.
type Kind int

const (
	String Kind = iota // text; CSV output is formula-escaped
	Int                // base-10 integer
	Float              // floating point
	Bool               // true/false
)

func (k Kind) String() string {
	switch k {
	case Int:
		return "int"
	case Float:
		return "float"
	case Bool:
		return "bool"
	default:
		return "string"
	}
}

// Column names a column and says how writers store it.
type Column struct {
	Name string
	Kind Kind
}

// Table is a whole table in memory, row-major. Missing cells are "" unless a
// reader was told otherwise.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Col returns the index of the named column, or -1.
func (t *Table) Col(name string) int {
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// Reader streams rows. Read returns io.EOF after the last row. The slice
// returned by Read may be reused by the next call: copy it to keep it.
type Reader interface {
	Columns() []string
	Read() ([]string, error)
}

// Writer streams rows to an output that becomes visible only when Close
// succeeds. Abort discards everything written; after a failed Write the
// caller must Abort. Neither Close nor Abort may leave a partial output.
type Writer interface {
	Write(row []string) error
	Close() error
	Abort() error
}
