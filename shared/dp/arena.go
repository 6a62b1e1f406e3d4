package dp

import "unsafe"

// arenaChunk is the size of the byte chunks formatted cells live in.
const arenaChunk = 64 << 10

// maxCell is the room reserved for one formatted cell: more than a float's
// shortest form, a usual datetime layout, a key or a PII value needs (a
// longer one still works: see cut).
const maxCell = 96

// arena hands out strings backed by large byte chunks, so that a formatted
// cell costs no allocation of its own (the same trick as package synth's).
// Bytes are only ever appended to a chunk and never rewritten once a
// string refers to them, so every string stays immutable (a RowWriter may
// keep them); a full chunk is dropped, for the collector to free once no
// string refers to it, and a fresh one started.
type arena struct{ buf []byte }

// reserve makes room for at least n more bytes in the current chunk.
func (a *arena) reserve(n int) {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(arenaChunk, n))
	}
}

// cut returns as a string what was appended to a.buf to make b, and keeps
// b as the chunk. When the cell outgrew the room reserved, append moved it
// to a new array: strings handed out before keep the old one, which nothing
// rewrites, so they stay valid.
func (a *arena) cut(b []byte) string {
	start := len(a.buf)
	a.buf = b
	if len(b) == start {
		return ""
	}
	return unsafe.String(&b[start], len(b)-start)
}
