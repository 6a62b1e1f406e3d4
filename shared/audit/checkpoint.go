package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"synthos.dev/synthos/shared/errs"
	"synthos.dev/synthos/shared/state"
)

// A checkpoint is a log's size and root hash, signed in the Go checksum
// database's note format (golang.org/x/mod/sumdb/note) with the body of a
// transparency-log checkpoint:
//
//	synthos.dev/audit/<log>
//	<size>
//	<base64 root hash>
//
// followed by a blank line and one "— <key name> <base64 signature>" line.
// A customer who holds the verifier key checks it with note.Open, and a
// record's inclusion proof against its root, without trusting Synthos.

// OriginPrefix starts every checkpoint's origin line.
const OriginPrefix = "synthos.dev/audit/"

// SigningKeySecret names the secret holding the embedded checkpoint
// signer: a note private key ("PRIVATE+KEY+<name>+<hash>+<key>", as
// note.GenerateKey or `synthos audit keygen` writes it).
const SigningKeySecret = "audit-signing-key"

// Checkpoint is a log's state as a signed checkpoint states it.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
}

// Log returns the log the checkpoint describes.
func (c Checkpoint) Log() string { return strings.TrimPrefix(c.Origin, OriginPrefix) }

// Text is the checkpoint's note body.
func (c Checkpoint) Text() string {
	return fmt.Sprintf("%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Root))
}

// ParseCheckpoint reads a note body written by Text.
func ParseCheckpoint(text string) (Checkpoint, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 || lines[3] != "" || !strings.HasPrefix(lines[0], OriginPrefix) {
		return Checkpoint{}, errs.Errorf(errs.InvalidArgument, "audit: not a Synthos audit checkpoint (want origin, size and root lines)")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return Checkpoint{}, errs.Errorf(errs.InvalidArgument, "audit: checkpoint size %q: %w", lines[1], err)
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || (size > 0 && len(root) != hasher.Size()) {
		return Checkpoint{}, errs.Errorf(errs.InvalidArgument, "audit: checkpoint root %q is not a base64 SHA-256 hash", lines[2])
	}
	return Checkpoint{Origin: lines[0], Size: size, Root: root}, nil
}

// SignCheckpoint returns the signed note of c.
func SignCheckpoint(c Checkpoint, signer note.Signer) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: c.Text()}, signer)
	if err != nil {
		return nil, errs.Errorf(errs.Unavailable, "audit: sign checkpoint of %s at %d: %w", c.Origin, c.Size, err)
	}
	return msg, nil
}

// OpenCheckpoint verifies a signed checkpoint with verifier and parses it.
func OpenCheckpoint(msg []byte, verifier note.Verifier) (Checkpoint, error) {
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		return Checkpoint{}, errs.Errorf(errs.PermissionDenied, "audit: checkpoint signature does not verify with key %s: %w", verifier.Name(), err)
	}
	return ParseCheckpoint(n.Text)
}

// storedCheckpoint is a signed checkpoint kept in the state store.
type storedCheckpoint struct {
	Log  string `json:"log"`
	Size int64  `json:"size"`
	Note string `json:"note"`
}

func checkpointID(log string, size uint64) string { return fmt.Sprintf("%s:%d", log, size) }

// Checkpoint returns a signed checkpoint of log's current head, signing and
// storing one if none was stored at that size (a KMS signature is a network
// call: the proof route should not make one per request).
func (l *Log) Checkpoint(ctx context.Context, log string, signer note.Signer) (Checkpoint, []byte, error) {
	h, err := l.head(ctx, log)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	if h.Seq == 0 {
		return Checkpoint{}, nil, errs.Errorf(errs.NotFound, "audit: log %s has no records yet", log)
	}
	return l.CheckpointAt(ctx, log, uint64(h.Seq), signer)
}

// CheckpointAt returns log's signed checkpoint at size, which must be a
// size the log had; a signer is needed only if none was stored yet.
func (l *Log) CheckpointAt(ctx context.Context, log string, size uint64, signer note.Signer) (Checkpoint, []byte, error) {
	var sc storedCheckpoint
	err := l.store.Get(ctx, CollCheckpoints, checkpointID(log, size), &sc)
	if err == nil {
		n, err := note.Open([]byte(sc.Note), acceptAny{})
		if err != nil {
			return Checkpoint{}, nil, errs.Errorf(errs.Internal, "audit: stored checkpoint %s: %w", checkpointID(log, size), err)
		}
		c, err := ParseCheckpoint(n.Text)
		return c, []byte(sc.Note), err
	}
	if !errors.Is(err, state.ErrNotFound) {
		return Checkpoint{}, nil, fmt.Errorf("audit: read checkpoint %s: %w", checkpointID(log, size), err)
	}
	if signer == nil {
		return Checkpoint{}, nil, errs.Errorf(errs.NotFound, "audit: no checkpoint of %s at %d is stored, and no signer to make one", log, size)
	}
	root, err := l.rootAt(ctx, log, size)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	c := Checkpoint{Origin: OriginPrefix + log, Size: size, Root: root}
	msg, err := SignCheckpoint(c, signer)
	if err != nil {
		return Checkpoint{}, nil, err
	}
	sc = storedCheckpoint{Log: log, Size: int64(size), Note: string(msg)}
	if err := l.store.Create(ctx, CollCheckpoints, checkpointID(log, size), sc); err != nil && !errors.Is(err, state.ErrAlreadyExists) {
		return Checkpoint{}, nil, fmt.Errorf("audit: store checkpoint %s: %w", checkpointID(log, size), err)
	}
	return c, msg, nil
}

// rootAt is the root hash of log's first size records, from the head when
// size is the head's, else from the stored subtrees.
func (l *Log) rootAt(ctx context.Context, log string, size uint64) ([]byte, error) {
	h, err := l.head(ctx, log)
	if err != nil {
		return nil, err
	}
	if size == uint64(h.Seq) {
		return bytes.Clone(h.Root), nil
	}
	if size > uint64(h.Seq) || size == 0 {
		return nil, errs.Errorf(errs.InvalidArgument, "audit: log %s holds %d records; no root at %d", log, h.Seq, size)
	}
	return rootFromNodes(newNodeReader(ctx, l.store, log), size)
}

// acceptAny opens stored notes without checking the signature: they were
// signed by this process's signer (a reader verifies with its own key).
type acceptAny struct{}

func (acceptAny) Verifier(name string, hash uint32) (note.Verifier, error) {
	return anyVerifier{name, hash}, nil
}

type anyVerifier struct {
	name string
	hash uint32
}

func (v anyVerifier) Name() string                { return v.name }
func (v anyVerifier) KeyHash() uint32             { return v.hash }
func (v anyVerifier) Verify(msg, sig []byte) bool { return true }
