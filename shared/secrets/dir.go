package secrets

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// dirSource reads one file per secret from a directory.
type dirSource struct {
	root *os.Root
}

// Dir returns a Source that reads secret NAME from the file dir/NAME, with
// one trailing newline ("\n" or "\r\n") removed so that files written by
// editors and `echo` work. This is the layout of Kubernetes and Cloud Run
// secret volumes. Names are checked, and files are opened through an os.Root,
// so neither a name nor a symbolic link can reach outside dir. dir must exist.
func Dir(dir string) (Source, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("secrets.Dir: %w", err)
	}
	return &dirSource{root: root}, nil
}

func (s *dirSource) Get(_ context.Context, name string) ([]byte, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	f, err := s.root.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("secrets: %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("secrets: %q: %w", name, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSize+3)) // room for a trailing "\r\n"
	if err != nil {
		return nil, fmt.Errorf("secrets: %q: %w", name, err)
	}
	if bytes.HasSuffix(b, []byte("\r\n")) {
		b = b[:len(b)-2]
	} else {
		b = bytes.TrimSuffix(b, []byte("\n"))
	}
	if len(b) > maxSize {
		return nil, fmt.Errorf("secrets: %q: %w: larger than %d bytes", name, ErrCorrupt, maxSize)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("secrets: %q: %w: the file is empty", name, ErrNotFound)
	}
	return b, nil
}

func (s *dirSource) Close() error {
	if err := s.root.Close(); err != nil {
		return fmt.Errorf("secrets: close: %w", err)
	}
	return nil
}
