package table

import (
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"reflect"
	"strconv"
	"synthos.dev/synthos/shared/errs"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/format"
)

// protect turns a panic of parquet-go, which panics on some malformed files,
// into an ErrSyntax error: bad input must never crash the caller.
func protect(err *error) {
	if p := recover(); p != nil {
		*err = &Error{Detail: fmt.Sprintf("parquet: %v", p), Err: ErrSyntax}
	}
}

// cellFunc renders one non-null Parquet value as a cell.
type cellFunc func(v parquet.Value) (string, error)

// parquetReader reads the leaf columns of a flat Parquet file as strings:
// integers in base 10 (unsigned ones as unsigned), floats in their shortest
// form (strconv 'g', -1), booleans as true/false, strings and byte arrays as
// their bytes (which must be UTF-8), dates as 2006-01-02, timestamps
// (INT64 with a unit, or legacy INT96) as RFC 3339 in UTC, decimals with
// their scale, UUIDs in their canonical form; null as "".
type parquetReader struct {
	groups  []parquet.RowGroup
	g       int
	rows    parquet.Rows
	buf     []parquet.Row
	bufN    int
	bufI    int
	cols    []string
	cells   []cellFunc
	out     []string
	n       int
	maxRows int
	maxCell int
	err     error
}

// OpenParquet reads a flat Parquet file of size bytes from r. Nested
// columns (groups, lists, maps, repeated fields) are ErrUnsupported.
func OpenParquet(r io.ReaderAt, size int64, opts Options) (_ Reader, err error) {
	defer protect(&err)
	f, err := parquet.OpenFile(r, size)
	if err != nil {
		return nil, &Error{Detail: err.Error(), Err: ErrSyntax}
	}
	p := &parquetReader{
		groups:  f.RowGroups(),
		buf:     make([]parquet.Row, 128),
		maxRows: opts.MaxRows,
		maxCell: opts.maxCell(),
	}
	leaves := f.Root().Columns()
	if len(leaves) == 0 {
		return nil, &Error{Detail: "no columns", Err: ErrEmpty}
	}
	if max := opts.maxColumns(); len(leaves) > max {
		return nil, &Error{Detail: fmt.Sprintf("%d columns, limit %d", len(leaves), max), Err: ErrTooManyColumns}
	}
	for i, c := range leaves {
		if !c.Leaf() || c.Repeated() {
			return nil, &Error{Column: i + 1, ColumnName: c.Name(), Detail: "nested or repeated column", Err: ErrUnsupported}
		}
		fn, err := cellFuncOf(c.Type())
		if err != nil {
			return nil, &Error{Column: i + 1, ColumnName: c.Name(), Detail: err.Error(), Err: ErrUnsupported}
		}
		p.cols = append(p.cols, c.Name())
		p.cells = append(p.cells, fn)
	}
	if err := checkHeader(p.cols, 0, p.maxCell); err != nil {
		return nil, err
	}
	p.out = make([]string, len(p.cols))
	return p, nil
}

func (p *parquetReader) Columns() []string { return p.cols }

func (p *parquetReader) Read() ([]string, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.bufI == p.bufN {
		if err := p.fill(); err != nil {
			if p.rows != nil {
				p.rows.Close()
				p.rows = nil
			}
			p.err = err
			return nil, err
		}
	}
	row := p.buf[p.bufI]
	p.bufI++
	p.n++
	if p.maxRows > 0 && p.n > p.maxRows {
		p.err = &Error{Row: p.n, Detail: fmt.Sprintf("limit %d", p.maxRows), Err: ErrTooManyRows}
		return nil, p.err
	}
	clear(p.out)
	for _, v := range row {
		i := v.Column()
		if i < 0 || i >= len(p.out) {
			p.err = &Error{Row: p.n, Detail: fmt.Sprintf("value for column %d", i+1), Err: ErrSyntax}
			return nil, p.err
		}
		if v.IsNull() {
			continue
		}
		cell, err := p.cells[i](v)
		e := &Error{Row: p.n, Column: i + 1, ColumnName: p.cols[i]}
		switch {
		case err != nil:
			e.Err = err
		case len(cell) > p.maxCell:
			e.Detail, e.Err = fmt.Sprintf("a cell of %s, over the %s limit", errs.Size(int64(len(cell))), errs.Size(int64(p.maxCell))), ErrCellTooLarge
		default:
			p.out[i] = cell
			continue
		}
		p.err = e
		return nil, e
	}
	return p.out, nil
}

// fill reads the next batch of rows, moving through the row groups.
func (p *parquetReader) fill() (err error) {
	defer protect(&err)
	for {
		if p.rows == nil {
			if p.g == len(p.groups) {
				return io.EOF
			}
			p.rows = p.groups[p.g].Rows()
			p.g++
		}
		n, err := p.rows.ReadRows(p.buf)
		if n > 0 {
			p.bufN, p.bufI = n, 0
			return nil
		}
		if err == io.EOF {
			p.rows.Close()
			p.rows = nil
			continue
		}
		if err != nil {
			return &Error{Row: p.n + 1, Detail: err.Error(), Err: ErrSyntax}
		}
	}
}

func cellFuncOf(t parquet.Type) (cellFunc, error) {
	lt := t.LogicalType()
	var ltv format.LogicalTypeValue
	if lt != nil {
		ltv = lt.Value
	}
	if d, ok := ltv.(*format.DecimalType); ok {
		return decimalCell(t.Kind(), int(d.Scale)), nil
	}
	switch t.Kind() {
	case parquet.Boolean:
		return func(v parquet.Value) (string, error) { return strconv.FormatBool(v.Boolean()), nil }, nil
	case parquet.Int32:
		switch l := ltv.(type) {
		case *format.DateType:
			return func(v parquet.Value) (string, error) {
				return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly), nil
			}, nil
		case *format.IntType:
			if !l.IsSigned {
				return func(v parquet.Value) (string, error) { return strconv.FormatUint(uint64(v.Uint32()), 10), nil }, nil
			}
		}
		return func(v parquet.Value) (string, error) { return strconv.FormatInt(int64(v.Int32()), 10), nil }, nil
	case parquet.Int64:
		switch l := ltv.(type) {
		case *format.TimestampType:
			unit := l.Unit.Value.Duration()
			return func(v parquet.Value) (string, error) { return timestamp(v.Int64(), unit), nil }, nil
		case *format.IntType:
			if !l.IsSigned {
				return func(v parquet.Value) (string, error) { return strconv.FormatUint(v.Uint64(), 10), nil }, nil
			}
		}
		return func(v parquet.Value) (string, error) { return strconv.FormatInt(v.Int64(), 10), nil }, nil
	case parquet.Int96:
		return func(v parquet.Value) (string, error) {
			x := v.Int96()
			nanos := int64(uint64(x[1])<<32 | uint64(x[0]))
			days := int64(x[2]) - 2440588 // Julian day of the Unix epoch
			return time.Unix(days*86400, nanos).UTC().Format(time.RFC3339Nano), nil
		}, nil
	case parquet.Float:
		return func(v parquet.Value) (string, error) {
			return strconv.FormatFloat(float64(v.Float()), 'g', -1, 32), nil
		}, nil
	case parquet.Double:
		return func(v parquet.Value) (string, error) { return strconv.FormatFloat(v.Double(), 'g', -1, 64), nil }, nil
	case parquet.ByteArray, parquet.FixedLenByteArray:
		if _, ok := ltv.(*format.UUIDType); ok && t.Length() == 16 {
			return uuidCell, nil
		}
		return func(v parquet.Value) (string, error) {
			b := v.ByteArray()
			if !utf8.Valid(b) {
				return "", ErrInvalidUTF8
			}
			return string(b), nil
		}, nil
	}
	return nil, fmt.Errorf("parquet type %v", t)
}

// timestamp renders n units after the Unix epoch as RFC 3339 in UTC.
func timestamp(n int64, unit time.Duration) string {
	var t time.Time
	switch unit {
	case time.Millisecond:
		t = time.UnixMilli(n)
	case time.Microsecond:
		t = time.UnixMicro(n)
	default:
		t = time.Unix(0, n)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func uuidCell(v parquet.Value) (string, error) {
	b := v.ByteArray()
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	hex.Encode(s[9:13], b[4:6])
	hex.Encode(s[14:18], b[6:8])
	hex.Encode(s[19:23], b[8:10])
	hex.Encode(s[24:], b[10:])
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return string(s[:]), nil
}

// decimalCell renders an unscaled decimal (INT32, INT64 or big-endian two's
// complement bytes) with scale digits after the point.
func decimalCell(kind parquet.Kind, scale int) cellFunc {
	return func(v parquet.Value) (string, error) {
		var x big.Int
		switch kind {
		case parquet.Int32:
			x.SetInt64(int64(v.Int32()))
		case parquet.Int64:
			x.SetInt64(v.Int64())
		default:
			b := v.ByteArray()
			x.SetBytes(b)
			if len(b) > 0 && b[0]&0x80 != 0 {
				x.Sub(&x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
			}
		}
		s := x.String()
		if scale <= 0 {
			return s, nil
		}
		neg := s[0] == '-'
		if neg {
			s = s[1:]
		}
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
		if neg {
			s = "-" + s
		}
		return s, nil
	}
}

// group is a Parquet group whose fields keep the columns' order;
// parquet.Group is a map and would sort them by name.
type group struct {
	parquet.Group
	fields []parquet.Field
}

func (g group) Fields() []parquet.Field { return g.fields }

type field struct {
	parquet.Node
	name string
}

func (f field) Name() string { return f.name }

// Value is only used by parquet-go's reflection paths, which these writers
// never take: rows are built as parquet.Row values.
func (f field) Value(reflect.Value) reflect.Value { return reflect.Value{} }

// parquetBatch is how many rows the encoder hands parquet-go at once, and
// parquetGroupRows how many rows go in one row group (bounding memory).
const (
	parquetBatch     = 1024
	parquetGroupRows = 128 << 10
)

// parquetEncoder writes typed optional columns: Int as INT64, Float as
// DOUBLE, Bool as BOOLEAN, String as BYTE_ARRAY (STRING), Snappy-compressed.
// Empty cells of Int, Float and Bool columns are null; an empty String cell
// is the empty string. A cell that does not parse as its column's kind is
// ErrType naming the row and column.
type parquetEncoder struct {
	pw    *parquet.Writer
	cols  []Column
	batch []parquet.Row
	nb    int
	arena []byte // copies of string cells until the batch is written
}

func newParquetEncoder(w io.Writer, cols []Column) (_ *parquetEncoder, err error) {
	defer protect(&err)
	g := group{Group: parquet.Group{}}
	for _, c := range cols {
		var n parquet.Node
		switch c.Kind {
		case Int:
			n = parquet.Int(64)
		case Float:
			n = parquet.Leaf(parquet.DoubleType)
		case Bool:
			n = parquet.Leaf(parquet.BooleanType)
		default:
			n = parquet.String()
		}
		n = parquet.Optional(n)
		g.Group[c.Name] = n
		g.fields = append(g.fields, field{Node: n, name: c.Name})
	}
	schema := parquet.NewSchema("table", g)
	e := &parquetEncoder{
		pw: parquet.NewWriter(w, schema,
			parquet.Compression(&snappy.Codec{}),
			parquet.MaxRowsPerRowGroup(parquetGroupRows),
			parquet.CreatedBy("synthos", "", "")),
		cols:  cols,
		batch: make([]parquet.Row, parquetBatch),
		arena: make([]byte, 0, 256<<10),
	}
	for i := range e.batch {
		e.batch[i] = make(parquet.Row, 0, len(cols))
	}
	return e, nil
}

func (e *parquetEncoder) encode(row []string, n int) error {
	r := e.batch[e.nb][:0]
	for i, cell := range row {
		var v parquet.Value
		var err error
		switch k := e.cols[i].Kind; {
		case k == String:
			if !utf8.ValidString(cell) {
				return &Error{Row: n, Column: i + 1, ColumnName: e.cols[i].Name, Err: ErrInvalidUTF8}
			}
			start := len(e.arena)
			e.arena = append(e.arena, cell...)
			v = parquet.ByteArrayValue(e.arena[start:len(e.arena):len(e.arena)])
		case cell == "":
			r = append(r, parquet.NullValue().Level(0, 0, i))
			continue
		case k == Int:
			var x int64
			x, err = strconv.ParseInt(cell, 10, 64)
			v = parquet.Int64Value(x)
		case k == Float:
			var x float64
			x, err = strconv.ParseFloat(cell, 64)
			v = parquet.DoubleValue(x)
		default:
			var x bool
			x, err = strconv.ParseBool(cell)
			v = parquet.BooleanValue(x)
		}
		if err != nil {
			return cellError(n, i, e.cols[i], cell)
		}
		r = append(r, v.Level(0, 1, i))
	}
	e.batch[e.nb] = r
	e.nb++
	if e.nb == len(e.batch) {
		return e.flush()
	}
	return nil
}

func (e *parquetEncoder) flush() (err error) {
	defer protect(&err)
	if e.nb == 0 {
		return nil
	}
	_, err = e.pw.WriteRows(e.batch[:e.nb])
	e.nb = 0
	e.arena = e.arena[:0]
	if err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}

func (e *parquetEncoder) finish() (err error) {
	if err := e.flush(); err != nil {
		return err
	}
	defer protect(&err)
	if err := e.pw.Close(); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	return nil
}
