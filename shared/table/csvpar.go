package table

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"unicode/utf8"
)

// A large CSV file is parsed by several goroutines (parCSV): one cuts the
// byte stream into chunks at record boundaries, workers parse the chunks
// (encoding/csv and the same checks as Read), and Read hands their rows
// over in input order. The rows, and any error with its row and line, are
// the same as the serial reader's; only the parsing runs on every core.
//
// A record boundary is a newline outside quotes. Outside a quoted field a
// quote can only open one (encoding/csv rejects a bare quote), and inside
// one quotes come in pairs ("") until the closing one, so a newline is
// outside quotes exactly when an even number of quotes precede it. A
// malformed quote makes that count wrong only after the first error, which
// the chunk holding it reports as the serial reader would. A chunk that
// finds no boundary within parMaxChunk bytes (a huge record, an open
// quote) hands the rest of the stream back to the serial reader.
const (
	// parChunk is the bytes read for one chunk (about 9,000 rows of a
	// 15-column adult-shaped table): large enough that handing it over
	// costs nothing a row, small enough that the chunks in flight take a
	// few MB.
	parChunk = 1 << 20
	// parMaxChunk is the most bytes a chunk may grow to while looking for
	// a record boundary before the serial reader takes over.
	parMaxChunk = 8 << 20
)

// parConfig is a parallel read's settings (tests shrink them).
type parConfig struct {
	chunk, maxChunk int
	workers         int
	// anySize reads even a stream the sniffer saw whole in parallel
	// (tests; a small file is not worth the goroutines).
	anySize bool
}

func defaultParConfig() parConfig {
	return parConfig{chunk: parChunk, maxChunk: parMaxChunk, workers: min(runtime.GOMAXPROCS(0), 4)}
}

// fit is the configuration for records of ncols cells of at most maxCell
// bytes, and whether they may be read in parallel: a chunk may grow only
// to what the serial reader's guard lets one record pull in (else a
// record the guard fails would parse in a chunk), and that must leave
// room for more than one chunk.
func (p *parConfig) fit(maxCell, ncols int) (parConfig, bool) {
	if p == nil {
		return parConfig{}, false
	}
	cfg := *p
	// The guard's limit less its slack, which covers read-ahead.
	if lim := recordLimit(maxCell, ncols) - 64<<10; lim < int64(cfg.maxChunk) {
		cfg.maxChunk = int(max(lim, 0))
	}
	return cfg, cfg.maxChunk >= 2*cfg.chunk
}

// parJob is one chunk to parse, or the hand-over to the serial reader.
type parJob struct {
	data     []byte
	lineBase int // newlines before data since the start of the stream
	res      chan *parResult
}

// parResult is a parsed chunk: row k is cells[ends[k-1]:ends[k]], on
// line lines[k] (of the whole stream). err, after the rows, is the
// chunk's first error (an *Error with the row counted within the chunk,
// or errParSerial), rest the bytes not parsed when the serial reader
// takes over.
type parResult struct {
	cells []string
	ends  []int
	lines []int
	err   error
	// serial: the rows from rest on are the serial reader's to parse;
	// rest holds the bytes already read past the last chunk.
	serial   bool
	rest     []byte
	lineBase int
}

// parCSV is the state of a parallel read.
type parCSV struct {
	order chan chan *parResult // one per chunk, in input order
	// free holds parsed chunks Read is done with, for workers to fill
	// again: a chunk's cells are most of what a read allocates.
	free chan *parResult
	quit chan struct{}
	wg   sync.WaitGroup
	cur  *parResult
	k    int
	once sync.Once
}

// startPar starts reading br (positioned after the header, which ended on
// line lineBase) in parallel for c.
func (c *csvReader) startPar(br io.Reader, lineBase int, cfg parConfig) {
	p := &parCSV{order: make(chan chan *parResult, 2*cfg.workers+2), quit: make(chan struct{}),
		free: make(chan *parResult, 2*cfg.workers+4)}
	jobs := make(chan parJob, cfg.workers)
	p.wg.Add(1 + cfg.workers)
	for range cfg.workers {
		go func() {
			defer p.wg.Done()
			for j := range jobs {
				var r *parResult
				select {
				case r = <-p.free:
				default:
					r = &parResult{}
				}
				j.res <- c.parseChunk(j, r)
			}
		}()
	}
	go func() {
		defer p.wg.Done()
		defer close(jobs)
		c.cut(br, lineBase, cfg, p, jobs)
	}()
	c.par = p
}

// cut reads br into chunks that end on record boundaries and queues them
// for the workers and, in the same order, for Read.
func (c *csvReader) cut(br io.Reader, lineBase int, cfg parConfig, p *parCSV, jobs chan<- parJob) {
	send := func(j parJob, r *parResult) bool {
		j.res = make(chan *parResult, 1)
		select {
		case p.order <- j.res:
		case <-p.quit:
			return false
		}
		if r != nil {
			j.res <- r
			return true
		}
		select {
		case jobs <- j:
			return true
		case <-p.quit:
			return false
		}
	}
	var carry []byte
	for {
		buf := make([]byte, len(carry), max(cfg.chunk, 2*len(carry)))
		copy(buf, carry)
		var err error
		for len(buf) < cap(buf) && err == nil {
			var n int
			n, err = br.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
		}
		if err != nil && err != io.EOF {
			// Rows before the failure are still delivered, then the error.
			send(parJob{}, &parResult{err: err})
			return
		}
		end := len(buf)
		if err == nil {
			end = lastBoundary(buf)
			if end < 0 {
				if len(buf) >= cfg.maxChunk {
					send(parJob{}, &parResult{serial: true, rest: buf, lineBase: lineBase})
					return
				}
				carry = buf // no boundary yet: read more into a larger chunk
				continue
			}
		}
		if end > 0 && !send(parJob{data: buf[:end], lineBase: lineBase}, nil) {
			return
		}
		lineBase += bytes.Count(buf[:end], []byte{'\n'})
		if err == io.EOF {
			send(parJob{}, &parResult{err: io.EOF})
			return
		}
		carry = buf[end:]
	}
}

// lastBoundary is the index after the last newline of b outside quotes (b
// starts outside quotes), or -1.
func lastBoundary(b []byte) int {
	last := -1
	for at, quoted := 0, false; at < len(b); quoted = !quoted {
		q := bytes.IndexByte(b[at:], '"')
		end := len(b)
		if q >= 0 {
			end = at + q
		}
		if !quoted {
			if i := bytes.LastIndexByte(b[at:end], '\n'); i >= 0 {
				last = at + i + 1
			}
		}
		if q < 0 {
			break
		}
		at = end + 1
	}
	return last
}

// parseChunk parses one chunk with the serial reader's checks; rows and
// lines are counted within the chunk (Read adds what came before).
func (c *csvReader) parseChunk(j parJob, r *parResult) *parResult {
	r.cells, r.ends, r.lines = r.cells[:0], r.ends[:0], r.lines[:0]
	// Cells are the chunk's bytes less quotes and carriage returns: when
	// the chunk is valid UTF-8 (one fast pass), so is every cell.
	utf8OK := utf8.Valid(j.data)
	if bytes.IndexByte(j.data, '"') < 0 {
		c.parsePlain(j, r, utf8OK)
		return r
	}
	cr := c.newCSV(bytes.NewReader(j.data))
	for n := 1; ; n++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return r
		}
		if err != nil {
			r.err = c.wrap(err, n, j.lineBase)
			return r
		}
		line, _ := cr.FieldPos(0)
		line += j.lineBase
		if err := c.check(rec, n, line, utf8OK); err != nil {
			r.err = err
			return r
		}
		r.cells = append(r.cells, rec...)
		r.ends = append(r.ends, len(r.cells))
		r.lines = append(r.lines, line)
	}
}

// parsePlain parses a chunk without quotes as encoding/csv does, at a
// fraction of its cost (no rune decoding, no quote handling, no positions
// kept for every field): every newline ends a line, one carriage return
// before it (or before the end) is dropped, empty lines are skipped, and
// the delimiter splits the rest into cells, which share one string a row.
func (c *csvReader) parsePlain(j parJob, r *parResult, utf8OK bool) {
	var sep [utf8.UTFMax]byte
	delim := string(sep[:utf8.EncodeRune(sep[:], c.comma)])
	data, line, n := j.data, j.lineBase, 0
	for len(data) > 0 {
		line++
		b := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			b, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if k := len(b); k > 0 && b[k-1] == '\r' {
			b = b[:k-1]
		}
		if len(b) == 0 {
			continue
		}
		n++
		str := string(b)
		start := len(r.cells)
		for {
			i := strings.Index(str, delim)
			if i < 0 {
				r.cells = append(r.cells, str)
				break
			}
			r.cells = append(r.cells, str[:i])
			str = str[i+len(delim):]
		}
		if err := c.check(r.cells[start:], n, line, utf8OK); err != nil {
			r.cells = r.cells[:start]
			r.err = err
			return
		}
		r.ends = append(r.ends, len(r.cells))
		r.lines = append(r.lines, line)
	}
}

// readPar is Read's parallel path.
func (c *csvReader) readPar() ([]string, error) {
	p := c.par
	for {
		if p.cur != nil {
			if p.k < len(p.cur.ends) {
				start := 0
				if p.k > 0 {
					start = p.cur.ends[p.k-1]
				}
				end := p.cur.ends[p.k]
				line := p.cur.lines[p.k]
				p.k++
				n := c.rows + 1
				if c.maxRows > 0 && n > c.maxRows {
					c.stopPar()
					c.err = &Error{Row: n, Line: line, Detail: fmt.Sprintf("limit %d", c.maxRows), Err: ErrTooManyRows}
					return nil, c.err
				}
				c.rows = n
				// Each chunk has its own cells: the row needs no copy.
				return p.cur.cells[start:end:end], nil
			}
			if err := p.cur.err; err != nil {
				return nil, c.parEnd(p.cur)
			}
		}
		if p.cur != nil {
			// The caller is done with the chunk's last row (lent until
			// this Read): its cells may be filled again.
			p.recycle(p.cur)
		}
		p.cur, p.k = <-<-p.order, 0
		if p.cur.serial {
			c.toSerial(p.cur)
			return c.Read()
		}
	}
}

// parEnd turns a chunk's error into the serial reader's: the failing row
// is the one after those delivered, and a record that parsed but failed a
// check is first over Options.MaxRows, as the serial reader checks that
// first.
func (c *csvReader) parEnd(r *parResult) error {
	c.stopPar()
	err := r.err
	n := c.rows + 1
	var e *Error
	switch {
	case err == io.EOF:
	case errors.As(err, &e):
		e.Row = n
		if !errors.Is(e.Err, ErrSyntax) && c.maxRows > 0 && n > c.maxRows {
			err = &Error{Row: n, Line: e.Line, Detail: fmt.Sprintf("limit %d", c.maxRows), Err: ErrTooManyRows}
		}
	default:
		err = fmt.Errorf("table: read csv row %d: %w", n, err)
	}
	c.err = err
	return err
}

// toSerial hands the rest of the stream to the serial reader: the bytes
// the cutter read and what the stream still holds.
func (c *csvReader) toSerial(r *parResult) {
	c.stopPar()
	c.par = nil
	c.guard.r = io.MultiReader(bytes.NewReader(r.rest), c.guard.r)
	c.guard.n = 0
	c.cr = c.newCSV(c.guard)
	c.lineBase = r.lineBase
}

// stopPar ends the goroutines of a parallel read and waits for them.
func (c *csvReader) stopPar() {
	p := c.par
	if p == nil {
		return
	}
	p.once.Do(func() {
		close(p.quit)
		// The cutter may be blocked handing a chunk to a worker; the
		// workers finish their chunks into buffered channels.
		p.wg.Wait()
	})
}

// firstBoundary is the index after the first newline of b outside quotes
// (b starts outside quotes), or -1.
func firstBoundary(b []byte) int {
	for at, quoted := 0, false; at < len(b); quoted = !quoted {
		q := bytes.IndexByte(b[at:], '"')
		end := len(b)
		if q >= 0 {
			end = at + q
		}
		if !quoted {
			if i := bytes.IndexByte(b[at:end], '\n'); i >= 0 {
				return at + i + 1
			}
		}
		if q < 0 {
			break
		}
		at = end + 1
	}
	return -1
}

// ReadRows appends the rest of the parsed chunk the reader is in (or the
// next one) to dst, at least one row, and lends them until release is
// called, when their chunk goes back to the parsing workers: a caller
// that holds rows across reads (package sample's pipe) takes them a chunk
// at a time without copying them. Its errors are Read's; a reader that is
// not parsing in parallel (a small input, a row limit, a record too large
// for a chunk) returns ErrNoBatch, and its rows are then read with Read.
func (c *csvReader) ReadRows(dst [][]string) (rows [][]string, release func(), err error) {
	if c.err != nil {
		return dst, nil, c.err
	}
	p := c.par
	if p == nil || c.maxRows > 0 {
		return dst, nil, ErrNoBatch
	}
	for {
		if r := p.cur; r != nil {
			if p.k < len(r.ends) {
				start := 0
				if p.k > 0 {
					start = r.ends[p.k-1]
				}
				c.rows += len(r.ends) - p.k
				for ; p.k < len(r.ends); p.k++ {
					end := r.ends[p.k]
					dst = append(dst, r.cells[start:end:end])
					start = end
				}
				if r.err == nil {
					p.cur = nil // the caller's until release
				}
				return dst, func() { p.recycle(r) }, nil
			}
			if r.err != nil {
				return dst, nil, c.parEnd(r)
			}
			p.recycle(r) // read whole by Read
		}
		p.cur, p.k = <-<-p.order, 0
		if p.cur.serial {
			c.toSerial(p.cur)
			return dst, nil, ErrNoBatch
		}
	}
}

// recycle gives a chunk no one reads any longer back to the workers.
func (p *parCSV) recycle(r *parResult) {
	clear(r.cells) // drop the strings, not the slice
	select {
	case p.free <- r:
	default:
	}
}

// ErrNoBatch is ReadRows' report that rows are to be read with Read.
var ErrNoBatch = errors.New("table: rows are read one at a time")

// RowsReader is a Reader that may lend rows a parsed chunk at a time (see
// csvReader.ReadRows); Open's CSV readers are.
type RowsReader interface {
	Reader
	ReadRows(dst [][]string) (rows [][]string, release func(), err error)
}

// ReadRows is the CSV reader's ReadRows; other formats return ErrNoBatch.
func (r fileReader) ReadRows(dst [][]string) ([][]string, func(), error) {
	if c, ok := r.Reader.(*csvReader); ok {
		return c.ReadRows(dst)
	}
	return dst, nil, ErrNoBatch
}
