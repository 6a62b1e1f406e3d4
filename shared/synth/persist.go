package synth

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"io"
)

// Model files are the magic bytes, a big-endian uint32 format version, and a
// gob-encoded envelope holding the exported fields of one model. gob
// tolerates added and removed fields, so the version only changes when the
// meaning of a field or of sampling (BlockRows, the random streams) does.
// A model file holds training values (quantile tables, tree leaves): treat it
// as sensitive as the data.
var magic = []byte("SYNTHOS-MODEL\n")

// FormatVersion is the model file version this build writes and reads.
const FormatVersion = 1

// envelope is the gob body of a model file.
type envelope struct {
	Kind   string
	Tree   *Tree
	Copula *Copula
}

// Save writes m in the versioned model format.
func Save(w io.Writer, m Model) error {
	env := envelope{Kind: m.Kind()}
	switch mm := m.(type) {
	case *Tree:
		env.Tree = mm
	case *Copula:
		env.Copula = mm
	default:
		return fmt.Errorf("synth.Save: model type %T: %w", m, ErrInvalid)
	}
	bw := bufio.NewWriter(w)
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], FormatVersion)
	if _, err := bw.Write(magic); err != nil {
		return fmt.Errorf("synth.Save: %w", err)
	}
	if _, err := bw.Write(hdr[:]); err != nil {
		return fmt.Errorf("synth.Save: %w", err)
	}
	if err := gob.NewEncoder(bw).Encode(&env); err != nil {
		return fmt.Errorf("synth.Save: encode: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("synth.Save: %w", err)
	}
	return nil
}

// Load reads a model written by Save. Files of another version, or that are
// not model files, fail with ErrFormat.
func Load(r io.Reader) (Model, error) {
	head := make([]byte, len(magic)+4)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, fmt.Errorf("synth.Load: read header: %v: %w", err, ErrFormat)
	}
	if !bytes.Equal(head[:len(magic)], magic) {
		return nil, fmt.Errorf("synth.Load: not a synthos model file: %w", ErrFormat)
	}
	if v := binary.BigEndian.Uint32(head[len(magic):]); v != FormatVersion {
		return nil, fmt.Errorf("synth.Load: model format version %d, this build reads version %d: %w", v, FormatVersion, ErrFormat)
	}
	var env envelope
	if err := gob.NewDecoder(r).Decode(&env); err != nil {
		return nil, fmt.Errorf("synth.Load: decode: %v: %w", err, ErrFormat)
	}
	switch {
	case env.Kind == KindTree && env.Tree != nil:
		if err := env.Tree.validate(); err != nil {
			return nil, fmt.Errorf("synth.Load: %w", err)
		}
		env.Tree.prepare()
		return env.Tree, nil
	case env.Kind == KindCopula && env.Copula != nil:
		if err := env.Copula.validate(); err != nil {
			return nil, fmt.Errorf("synth.Load: %w", err)
		}
		env.Copula.prepare()
		return env.Copula, nil
	}
	return nil, fmt.Errorf("synth.Load: model kind %q without a body: %w", env.Kind, ErrFormat)
}
