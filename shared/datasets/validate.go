package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strings"

	"gocloud.dev/blob"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// MinRows is the fewest data rows a dataset must have. A job sets 20% of
// the rows aside as the holdout the privacy report measures against (2 of
// 10), the tree model's smallest leaf is 10 rows for small tables
// (synth.DefaultMinLeafSmall) and the quality report's discriminator
// cross-validates in 5 folds, so below 10 rows nothing meaningful can be
// fitted or measured. With so few rows the model mostly reproduces the
// marginals; hundreds of rows are needed for faithful relations.
const MinRows = 10

// Limits of validation's memory: kinds are inferred from an evenly
// seeded random sample of at most sampleRows rows and sampleBytes bytes of
// cells, so memory stays flat whatever the table's size.
const (
	sampleRows  = 10_000
	sampleBytes = 32 << 20
)

// Summary is what validation learnt about a table.
type Summary struct {
	Rows    int64
	Columns []Column
}

// InvalidError says why a table cannot be used, where, and how to fix it.
// Its errs code is InvalidArgument (TooLarge for a cell over the limit) and
// its errs.Message is Problem.Message.
type InvalidError struct {
	Problem Problem
	err     error
}

func (e *InvalidError) Error() string { return e.Problem.Message }

// Unwrap returns the coded cause, whose public message is Problem.Message.
func (e *InvalidError) Unwrap() error { return e.err }

func invalid(code errs.Code, row int, column, format string, args ...any) *InvalidError {
	msg := fmt.Sprintf(format, args...)
	return &InvalidError{Problem: Problem{Message: msg, Row: row, Column: column},
		err: &errs.Error{Code: code, Public: msg, Msg: msg}}
}

// UnknownFormat says that a file name gives no table format, and how to
// name it.
func UnknownFormat(name string) string {
	return fmt.Sprintf("cannot tell the table format of %q: name the file .csv, .tsv, .jsonl, .ndjson or .parquet", name)
}

// Reveal turns a stored object's bytes into the table's: the tenant's
// decryption when datasets are encrypted at rest (shared/keyring's
// Keyring.Reveal); nil reads the object as stored.
type Reveal func(r io.Reader) (io.Reader, error)

// ValidateObject reads the table stored at key in format (csv, tsv, jsonl
// or parquet) once and checks that it can be fitted (see Validate).
func ValidateObject(ctx context.Context, b *blob.Bucket, key, format string, reveal Reveal) (*Summary, error) {
	f, err := table.FormatOf("data." + format)
	if err != nil {
		return nil, invalid(errs.InvalidArgument, 0, "", "the table format %q is not supported: use csv, tsv, jsonl or parquet", format)
	}
	r, closer, err := OpenObject(ctx, b, key, f, table.Options{}, reveal)
	if err != nil {
		return nil, classify(err, f)
	}
	defer closer()
	return Validate(ctx, r, f)
}

// ValidateStream validates the CSV, TSV or JSON Lines table read from r
// (see Validate).
func ValidateStream(ctx context.Context, r io.Reader, format table.Format) (*Summary, error) {
	tr, err := table.OpenReader(r, format, table.Options{})
	if err != nil {
		return nil, classify(err, format)
	}
	return Validate(ctx, tr, format)
}

// OpenObject opens the table stored at key for streaming. Parquet keeps its
// footer at the end, so it is spooled to a temporary file first: memory
// stays bounded by the reader, not the object. close releases the object
// and any spool file.
func OpenObject(ctx context.Context, b *blob.Bucket, key string, format table.Format, opts table.Options, reveal Reveal) (_ table.Reader, close func(), err error) {
	br, err := b.NewReader(ctx, key, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", key, err)
	}
	var r io.Reader = br
	if reveal != nil {
		if r, err = reveal(br); err != nil {
			br.Close()
			return nil, nil, fmt.Errorf("read %s: %w", key, err)
		}
	}
	if format != table.Parquet {
		tr, err := table.OpenReader(r, format, opts)
		if err != nil {
			br.Close()
			return nil, nil, fmt.Errorf("read %s: %w", key, err)
		}
		return tr, func() { br.Close() }, nil
	}
	defer br.Close()
	f, err := os.CreateTemp("", "synthos-*.parquet")
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: spool: %w", key, err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, r)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("read %s: %w", key, err)
	}
	tr, err := table.OpenParquet(f, n, opts)
	if err != nil {
		cleanup()
		return nil, nil, fmt.Errorf("read %s: %w", key, err)
	}
	return tr, cleanup, nil
}

// Validate reads r to the end once and checks that the table can be
// fitted: every row parses and has one cell per column, the cells are
// UTF-8 text within the cell limit, and there are at least MinRows data
// rows. It returns the row count and each column's inferred kind (from a
// seeded sample of bounded size, so memory stays flat), or an
// *InvalidError naming the row, the column and the fix.
func Validate(ctx context.Context, r table.Reader, format table.Format) (*Summary, error) {
	cols := slices.Clone(r.Columns())
	missing := make([]int64, len(cols))
	rng := rand.New(rand.NewPCG(0x76616c6964617465, uint64(len(cols)))) // "validate"
	var (
		sample    [][]string
		sizes     []int
		bytes     int
		n         int64
		checkedAt int64
	)
	for {
		if n-checkedAt >= 4096 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			checkedAt = n
		}
		row, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, classify(err, format)
		}
		n++
		size := 0
		for j, cell := range row {
			if missingCell(cell) {
				missing[j]++
			}
			if strings.IndexByte(cell, 0) >= 0 {
				return nil, invalid(errs.InvalidArgument, int(n), cols[j],
					"row %d, column %q: the cell holds NUL bytes: this is a binary file or UTF-16 text, not a %s table; save it as UTF-8 %s", n, cols[j], format, format)
			}
			size += len(cell)
		}
		// Reservoir sampling (Algorithm R) within a byte budget.
		switch {
		case len(sample) < sampleRows && bytes+size <= sampleBytes:
			sample, sizes, bytes = append(sample, slices.Clone(row)), append(sizes, size), bytes+size
		case len(sample) > 0:
			if k := rng.Int64N(n); k < int64(len(sample)) && bytes-sizes[k]+size <= sampleBytes {
				sample[k], bytes, sizes[k] = slices.Clone(row), bytes-sizes[k]+size, size
			}
		}
	}
	if n < MinRows {
		what := fmt.Sprintf("%d data rows", n)
		switch n {
		case 0:
			what = "a header but no data rows"
		case 1:
			what = "1 data row"
		}
		return nil, invalid(errs.InvalidArgument, 0, "",
			"the table has %s: at least %d are needed to fit a model (a fifth of them is set aside to measure privacy); add rows and upload it again", what, MinRows)
	}
	for j, c := range cols {
		if strings.IndexByte(c, 0) >= 0 {
			return nil, invalid(errs.InvalidArgument, 0, "", "header, column %d: the name holds NUL bytes: this is a binary file or UTF-16 text, not a %s table; save it as UTF-8 %s", j+1, format, format)
		}
	}
	p, err := profile.Infer(&table.Table{Columns: cols, Rows: sample}, profile.Options{})
	if err != nil {
		return nil, invalid(errs.InvalidArgument, 0, "", "the table cannot be profiled: %s", errs.Message(err))
	}
	s := &Summary{Rows: n, Columns: make([]Column, len(p.Columns))}
	for i, c := range p.Columns {
		s.Columns[i] = Column{Name: c.Name, Kind: string(c.Kind), PII: string(c.PII), Missing: missing[i]}
	}
	return s, nil
}

// classify turns a reader's error into an *InvalidError that names the row,
// the column and the fix; errors that are not about the table (I/O,
// cancellation) are returned as they are.
func classify(err error, format table.Format) error {
	var te *table.Error
	if !errors.As(err, &te) {
		if errs.CodeOf(err) == errs.InvalidArgument || errs.CodeOf(err) == errs.TooLarge {
			return invalid(errs.CodeOf(err), 0, "", "the table cannot be read: %s", errs.Message(err))
		}
		return err
	}
	where := te.Error()
	if te.Err != nil {
		// te.Error ends with the sentinel's text in parentheses, or is it.
		where = strings.TrimSuffix(strings.TrimSuffix(where, " ("+te.Err.Error()+")"), te.Err.Error())
		where = strings.TrimSuffix(where, ": ")
	}
	col := te.ColumnName
	code, fix := errs.InvalidArgument, ""
	switch {
	case errors.Is(te, table.ErrEmpty):
		return invalid(code, 0, "", "the file is empty or has no header row: the first line must name the columns")
	case errors.Is(te, table.ErrRagged):
		fix = "every row needs one cell per header column; look for a missing or extra delimiter, or a delimiter inside a cell that is not quoted"
	case errors.Is(te, table.ErrInvalidUTF8):
		fix = fmt.Sprintf("the text is not UTF-8: is this a binary or compressed file? Save the table as UTF-8 %s", format)
	case errors.Is(te, table.ErrSyntax):
		fix = fmt.Sprintf("this is not valid %s: check the quoting around this place, or that the file really is %s", format, format)
	case errors.Is(te, table.ErrCellTooLarge):
		code = errs.TooLarge
		fix = fmt.Sprintf("each cell may hold up to %s; shorten it or split it into several columns", errs.Size(table.DefaultMaxCellBytes))
	case errors.Is(te, table.ErrDuplicateHeader), errors.Is(te, table.ErrEmptyHeader):
		fix = "give every column a unique, non-empty name in the header"
	case errors.Is(te, table.ErrTooManyColumns):
		code = errs.TooLarge
		fix = fmt.Sprintf("a table may have up to %d columns", table.DefaultMaxColumns)
	case errors.Is(te, table.ErrUnknownColumn):
		fix = "every JSON object must use the keys of the first object"
	case errors.Is(te, table.ErrUnsupported):
		fix = "nested values cannot be read: flatten the table to one value per cell"
	default:
		return err
	}
	return invalid(code, te.Row, col, "%s: %s", where, fix)
}

// missingCell reports whether cell is blank or one of
// profile.DefaultMissing once trimmed. Cells longer than the longest
// spelling with no surrounding space are values: the common case costs
// two comparisons.
func missingCell(cell string) bool {
	if len(cell) > maxMissingLen && cell[0] > ' ' && cell[len(cell)-1] > ' ' {
		return false
	}
	return profile.IsMissing(cell, nil)
}

var maxMissingLen = func() int {
	n := 0
	for _, m := range profile.DefaultMissing {
		n = max(n, len(m))
	}
	return n
}()
