package profile

import (
	"encoding/binary"
	"unsafe"
)

// cellIndex is a column's cache of cells (colStream.vals): a hash table
// made for the short cells most columns have, where a Go map was most of
// a streamed profile's time. A cell of at most 16 bytes is stored as two
// words and its length, which say it whole: looking it up hashes and
// compares those words, without reading the stored cell's bytes (which,
// a pointer away, cost a cache miss on a column of many values). Longer
// cells compare their bytes as well.
type cellIndex struct {
	slots []cellSlot // a power of two, at most half full
	all   []*cellVal // in insertion order
}

type cellSlot struct {
	w0, w1 uint64
	n      int
	key    string // the cell, when longer than 16 bytes
	cv     *cellVal
}

// cellWords is cell's key: its bytes when at most 16, else its first and last
// 8 (and its length, which the caller keeps) with the bytes compared too.
func cellWords(cell string) (w0, w1 uint64) {
	n := len(cell)
	b := unsafe.Slice(unsafe.StringData(cell), n)
	switch {
	case n >= 8:
		// Bytes 0-7 and n-8..n-1: every byte, overlapping, up to 16.
		return binary.LittleEndian.Uint64(b), binary.LittleEndian.Uint64(b[n-8:])
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32, 0
	case n > 0:
		return uint64(b[0]) | uint64(b[n/2])<<8 | uint64(b[n-1])<<16, 0
	}
	return 0, 0
}

func slotHash(w0, w1 uint64, n int) uint64 {
	x := w0*0x9e3779b97f4a7c15 ^ (w1+uint64(n))*0xc2b2ae3d27d4eb4f
	return x ^ x>>29 ^ x>>47
}

// get is cell's value, or nil.
func (x *cellIndex) get(cell string) *cellVal {
	if len(x.slots) == 0 {
		return nil
	}
	n := len(cell)
	w0, w1 := cellWords(cell)
	mask := uint64(len(x.slots) - 1)
	for i := slotHash(w0, w1, n) & mask; ; i = (i + 1) & mask {
		sl := &x.slots[i]
		if sl.cv == nil {
			return nil
		}
		if sl.w0 == w0 && sl.w1 == w1 && sl.n == n && (n <= 16 || sl.key == cell) {
			return sl.cv
		}
	}
}

// put adds cell, which get does not find, with its value; the index keeps
// a copy of the cell only when it is longer than 16 bytes (key: the
// caller's copy).
func (x *cellIndex) put(key string, cv *cellVal) {
	if 2*(len(x.all)+1) > len(x.slots) {
		x.grow()
	}
	x.all = append(x.all, cv)
	x.insert(key, cv)
}

func (x *cellIndex) insert(key string, cv *cellVal) {
	n := len(key)
	w0, w1 := cellWords(key)
	sl := cellSlot{w0: w0, w1: w1, n: n, cv: cv}
	if n > 16 {
		sl.key = key
	}
	mask := uint64(len(x.slots) - 1)
	i := slotHash(w0, w1, n) & mask
	for x.slots[i].cv != nil {
		i = (i + 1) & mask
	}
	x.slots[i] = sl
}

func (x *cellIndex) grow() {
	old := x.slots
	x.slots = make([]cellSlot, max(16, 2*len(old)))
	for _, sl := range old {
		if sl.cv != nil {
			x.insert(sl.cv.raw, sl.cv)
		}
	}
}

func (x *cellIndex) len() int { return len(x.all) }
