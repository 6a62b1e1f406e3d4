package table

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Format names a table file format.
type Format int

const (
	Auto    Format = iota // pick from the file name's extension
	CSV                   // RFC 4180, delimiter sniffed on read, ',' on write
	TSV                   // CSV with a tab delimiter
	JSONL                 // JSON Lines: one object per line
	Parquet               // Apache Parquet, flat schema
)

func (f Format) String() string {
	switch f {
	case CSV:
		return "csv"
	case TSV:
		return "tsv"
	case JSONL:
		return "jsonl"
	case Parquet:
		return "parquet"
	default:
		return "auto"
	}
}

// ContentType is the MIME type objects of format f are stored with.
func (f Format) ContentType() string {
	switch f {
	case JSONL:
		return "application/x-ndjson"
	case Parquet:
		return "application/vnd.apache.parquet"
	case TSV:
		return "text/tab-separated-values"
	}
	return "text/csv"
}

// FormatOf picks the format from a path's extension: .csv, .tsv, .jsonl,
// .ndjson or .parquet (any case).
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, nil
	case ".tsv":
		return TSV, nil
	case ".jsonl", ".ndjson":
		return JSONL, nil
	case ".parquet":
		return Parquet, nil
	}
	return Auto, fmt.Errorf("table: format of %q: extension not one of .csv .tsv .jsonl .ndjson .parquet: %w", filepath.Base(path), ErrUnsupported)
}

// Default limits applied when an Options field is zero.
const (
	DefaultMaxColumns   = 2000
	DefaultMaxCellBytes = 1 << 20
)

// Options tune the readers. The zero value sniffs the CSV delimiter, reads any
// number of rows, and applies the default column and cell limits.
type Options struct {
	// Format overrides the extension in Open. OpenReader takes its own.
	Format Format
	// Delimiter fixes the CSV delimiter; 0 sniffs among ',' ';' '\t' '|'
	// (TSV always uses '\t').
	Delimiter rune
	// MaxRows caps the data rows: reading row MaxRows+1 fails with
	// ErrTooManyRows. 0 means unlimited.
	MaxRows int
	// MaxColumns caps the header's width (ErrTooManyColumns). 0 means
	// DefaultMaxColumns, negative means unlimited.
	MaxColumns int
	// MaxCellBytes caps one cell (ErrCellTooLarge). It also bounds the memory
	// one record may take while it is parsed, to MaxCellBytes per column.
	// 0 means DefaultMaxCellBytes, negative means unlimited.
	MaxCellBytes int
	// Unescape makes CSV and TSV readers undo the formula escaping of this
	// package's writers (see Unescape) in column names and cells, so that
	// a file written by Create or NewWriter reads back as the cells that
	// were written. Use it for files this package wrote, such as synthetic
	// outputs; other formats ignore it.
	Unescape bool
}

func (o Options) maxColumns() int {
	switch {
	case o.MaxColumns == 0:
		return DefaultMaxColumns
	case o.MaxColumns < 0:
		return int(^uint(0) >> 1)
	}
	return o.MaxColumns
}

func (o Options) maxCell() int {
	switch {
	case o.MaxCellBytes == 0:
		return DefaultMaxCellBytes
	case o.MaxCellBytes < 0:
		return int(^uint(0) >> 1)
	}
	return o.MaxCellBytes
}

// ReadCloser is a Reader over a file that must be closed.
type ReadCloser interface {
	Reader
	io.Closer
}

type fileReader struct {
	Reader
	f *os.File
}

func (r fileReader) Close() error {
	if c, ok := r.Reader.(*csvReader); ok {
		c.stopPar() // its goroutines read the file
	}
	return r.f.Close()
}

// Open opens a table file for streaming. The format comes from opts.Format or,
// when that is Auto, from the extension (see FormatOf). The header (or first
// JSON object, or Parquet footer) is read before Open returns, so header
// errors surface here.
func Open(path string, opts Options) (ReadCloser, error) {
	format := opts.Format
	if format == Auto {
		var err error
		if format, err = FormatOf(path); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("table: open: %w", err)
	}
	var r Reader
	if format == Parquet {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil {
			r, err = OpenParquet(f, st.Size(), opts)
		}
	} else {
		// A file is closed by its caller, which stops a parallel CSV
		// read's goroutines (a stream from OpenReader has no Close).
		cfg := defaultParConfig()
		r, err = openReader(f, format, opts, &cfg)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("table: open %s: %w", filepath.Base(path), err)
	}
	return fileReader{Reader: r, f: f}, nil
}

// OpenReader reads a table from a stream in the given format (Auto is not
// allowed here). Parquet keeps its footer at the end, so for Parquet r must
// also be an io.ReaderAt whose size is known: it must have a Size() int64
// method (bytes.Reader, io.SectionReader) or be an io.Seeker (os.File).
// Other streams fail with ErrUnsupported; use OpenParquet with an explicit
// size instead.
func OpenReader(r io.Reader, format Format, opts Options) (Reader, error) {
	return openReader(r, format, opts, nil)
}

// openReader is OpenReader; par, when not nil, lets a large CSV file be
// parsed on several goroutines (see csvpar.go).
func openReader(r io.Reader, format Format, opts Options, par *parConfig) (Reader, error) {
	switch format {
	case CSV:
		return newCSVReader(r, opts, opts.Delimiter, par)
	case TSV:
		return newCSVReader(r, opts, '\t', par)
	case JSONL:
		return newJSONLReader(r, opts)
	case Parquet:
		ra, ok := r.(io.ReaderAt)
		if !ok {
			return nil, fmt.Errorf("table: parquet stream is not an io.ReaderAt: %w", ErrUnsupported)
		}
		size, err := sizeOf(r)
		if err != nil {
			return nil, err
		}
		return OpenParquet(ra, size, opts)
	}
	return nil, fmt.Errorf("table: read format %v: %w", format, ErrUnsupported)
}

func sizeOf(r io.Reader) (int64, error) {
	if s, ok := r.(interface{ Size() int64 }); ok {
		return s.Size(), nil
	}
	if s, ok := r.(io.Seeker); ok {
		size, err := s.Seek(0, io.SeekEnd)
		if err != nil {
			return 0, fmt.Errorf("table: size of parquet stream: %w", err)
		}
		return size, nil
	}
	return 0, fmt.Errorf("table: parquet stream has no Size method and is not an io.Seeker: %w", ErrUnsupported)
}

// ReadAll reads every remaining row of r into a Table.
func ReadAll(r Reader) (*Table, error) {
	cols := r.Columns()
	t := &Table{Columns: append([]string(nil), cols...)}
	// Rows are carved from shared backing arrays so a table costs one
	// allocation per chunk of rows rather than one per row.
	const chunkRows = 1024
	var backing []string
	for {
		row, err := r.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		if len(backing) < len(row) {
			backing = make([]string, max(len(row), len(cols))*chunkRows)
		}
		n := copy(backing, row)
		t.Rows = append(t.Rows, backing[:n:n])
		backing = backing[n:]
	}
}

// NewWriter streams a table to w in the given format (CSV, TSV, JSONL or
// Parquet). Close flushes everything and writes any footer but does not close
// w; Abort only stops the writer. Use it with an output whose own commit and
// cancel are atomic (a blob writer: Close commits, cancelling its context
// discards); for files use Create.
func NewWriter(w io.Writer, format Format, cols []Column) (Writer, error) {
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	cols = slices.Clone(cols)
	var enc encoder
	var err error
	switch format {
	case CSV:
		enc = newCSVEncoder(w, cols, ',')
	case TSV:
		enc = newCSVEncoder(w, cols, '\t')
	case JSONL:
		enc = newJSONLEncoder(w, cols)
	case Parquet:
		enc, err = newParquetEncoder(w, cols)
	default:
		err = fmt.Errorf("table: write format %v: %w", format, ErrUnsupported)
	}
	if err != nil {
		return nil, err
	}
	return &writer{enc: enc, cols: cols}, nil
}

func checkColumns(cols []Column) error {
	if len(cols) == 0 {
		return fmt.Errorf("table: writer: no columns: %w", ErrEmpty)
	}
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		e := &Error{Column: i + 1, ColumnName: c.Name}
		switch {
		case c.Name == "":
			e.Err = ErrEmptyHeader
		case seen[c.Name]:
			e.Err = ErrDuplicateHeader
		case !utf8.ValidString(c.Name):
			e.Err = ErrInvalidUTF8
		case c.Kind < String || c.Kind > Bool:
			e.Detail, e.Err = fmt.Sprintf("kind %d", int(c.Kind)), ErrUnsupported
		default:
			seen[c.Name] = true
			continue
		}
		return fmt.Errorf("table: writer: %w", e)
	}
	return nil
}

// errRow reports a row whose width differs from the columns'.
func errRow(row int, got int, cols []Column) error {
	e := &Error{Row: row, Detail: fmt.Sprintf("%d cells, header has %d", got, len(cols)), Err: ErrRagged}
	if got < len(cols) {
		e.Column, e.ColumnName = got+1, cols[got].Name
	} else {
		e.Column = len(cols) + 1
	}
	return e
}
