package table

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// encoder is one format's row encoding under writer's state machine.
type encoder interface {
	// encode writes one row of the right width; n is its 1-based number.
	encode(row []string, n int) error
	// finish flushes buffered rows and writes any footer.
	finish() error
}

const (
	open = iota
	failed
	done
)

// writer enforces the Writer contract for every format: rows of the right
// width, no Close after a failed Write, no use after Close or Abort, and, for
// files, the temp-file-and-rename dance that keeps partial output invisible.
type writer struct {
	enc   encoder
	cols  []Column
	rows  int
	state int
	file  *tempFile // nil for streams
}

func (w *writer) Write(row []string) error {
	switch w.state {
	case failed:
		return fmt.Errorf("table: write: %w", ErrFailed)
	case done:
		return fmt.Errorf("table: write: %w", ErrClosed)
	}
	w.rows++
	var err error
	if len(row) != len(w.cols) {
		err = errRow(w.rows, len(row), w.cols)
	} else {
		err = w.enc.encode(row, w.rows)
	}
	if err != nil {
		w.state = failed
		return fmt.Errorf("table: write: %w", err)
	}
	return nil
}

// Close makes the output complete: it flushes, writes any footer and, for
// a file from Create, syncs it and renames it into place. After a failed
// Write, Close refuses (ErrFailed) and discards the output as Abort would.
func (w *writer) Close() error {
	switch w.state {
	case failed:
		w.state = done
		if err := w.discard(); err != nil {
			return fmt.Errorf("table: close: %w; discarding: %w", ErrFailed, err)
		}
		return fmt.Errorf("table: close: %w", ErrFailed)
	case done:
		return fmt.Errorf("table: close: %w", ErrClosed)
	}
	w.state = done
	if err := w.enc.finish(); err != nil {
		return errors.Join(fmt.Errorf("table: close: %w", err), w.discard())
	}
	if w.file != nil {
		if err := w.file.commit(); err != nil {
			return fmt.Errorf("table: close: %w", err)
		}
	}
	return nil
}

// Abort discards the output: a file from Create is removed; a stream from
// NewWriter gets nothing more (its owner must cancel it). Abort after Close
// or Abort does nothing.
func (w *writer) Abort() error {
	if w.state == done {
		return nil
	}
	w.state = done
	if err := w.discard(); err != nil {
		return fmt.Errorf("table: abort: %w", err)
	}
	return nil
}

func (w *writer) discard() error {
	if w.file == nil {
		return nil
	}
	return w.file.remove()
}

// Create writes a table file atomically: rows go to a hidden temp file in
// path's directory, which Close syncs and renames over path (mode 0644) and
// Abort removes. Readers of path see the old file or the complete new one,
// never a partial one. An Auto format is taken from path's extension.
func Create(path string, format Format, cols []Column) (Writer, error) {
	if format == Auto {
		var err error
		if format, err = FormatOf(path); err != nil {
			return nil, err
		}
	}
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	tf, err := newTempFile(path)
	if err != nil {
		return nil, err
	}
	w, err := NewWriter(tf.f, format, cols)
	if err != nil {
		return nil, errors.Join(err, tf.remove())
	}
	w.(*writer).file = tf
	return w, nil
}

// tempFile is a file written under a temporary name and renamed on commit.
type tempFile struct {
	f    *os.File
	path string
}

func newTempFile(path string) (*tempFile, error) {
	f, err := CreateTemp(path)
	if err != nil {
		return nil, err
	}
	return &tempFile{f: f, path: path}, nil
}

func (t *tempFile) commit() error {
	name := t.f.Name()
	err := t.f.Chmod(0o644)
	if err == nil {
		err = t.f.Sync()
	}
	if cerr := t.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, t.path)
	}
	if err != nil {
		os.Remove(name)
		return fmt.Errorf("commit %s: %w", filepath.Base(t.path), err)
	}
	return syncDir(filepath.Dir(t.path))
}

func (t *tempFile) remove() error {
	t.f.Close()
	if err := os.Remove(t.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove temp file: %w", err)
	}
	return nil
}

// syncDir makes a rename durable. File systems that cannot sync a directory
// (EINVAL) are tolerated: the rename is as durable as they allow.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("sync dir: %w", err)
	}
	return nil
}

// RowEncoder encodes rows exactly as the writer it came from would write
// them, into caller-owned bytes, on any goroutine: AppendRow appends row's
// encoding to dst, or returns dst unchanged and an error when the writer's
// Write would refuse the row (n is the 1-based row number errors name).
type RowEncoder interface {
	AppendRow(dst []byte, row []string, n int) ([]byte, error)
}

// Encoding is implemented by the writers of line formats (CSV, TSV, JSON
// Lines): rows encoded ahead on other goroutines with RowEncoder are handed
// over as bytes with WriteEncoded, which is what lets a parallel sampler
// keep the formatting off its one ordered writer goroutine.
type Encoding interface {
	// RowEncoder returns nil when the format cannot encode rows apart
	// (Parquet is columnar).
	RowEncoder() RowEncoder
	// WriteEncoded writes the bytes of `rows` rows encoded by RowEncoder,
	// as if each had been passed to Write, in order.
	WriteEncoded(b []byte, rows int) error
}

// encodedSink is an encoder that can encode rows apart and take their bytes.
type encodedSink interface {
	appendRow(dst []byte, row []string, n int) ([]byte, error)
	writeEncoded(b []byte) error
}

// rowEncoder checks the row width as writer.Write does, then encodes.
type rowEncoder struct {
	sink  encodedSink
	width int
	cols  []Column
}

func (r rowEncoder) AppendRow(dst []byte, row []string, n int) ([]byte, error) {
	if len(row) != r.width {
		return dst, errRow(n, len(row), r.cols)
	}
	return r.sink.appendRow(dst, row, n)
}

// RowEncoder implements Encoding.
func (w *writer) RowEncoder() RowEncoder {
	s, ok := w.enc.(encodedSink)
	if !ok {
		return nil
	}
	return rowEncoder{sink: s, width: len(w.cols), cols: w.cols}
}

// WriteEncoded implements Encoding.
func (w *writer) WriteEncoded(b []byte, rows int) error {
	switch w.state {
	case failed:
		return fmt.Errorf("table: write: %w", ErrFailed)
	case done:
		return fmt.Errorf("table: write: %w", ErrClosed)
	}
	s, ok := w.enc.(encodedSink)
	if !ok {
		w.state = failed
		return fmt.Errorf("table: write encoded rows: %w", ErrUnsupported)
	}
	w.rows += rows
	if err := s.writeEncoded(b); err != nil {
		w.state = failed
		return fmt.Errorf("table: write: %w", err)
	}
	return nil
}
