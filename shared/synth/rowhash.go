package synth

import (
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// rowHash hashes the modelled cells of row, as the training rows were
// hashed (xxhash.Sum64 of the cells each followed by sep, xor the salt;
// the model file holds those hashes, so the sum must stay xxhash's).
// The cells are gathered with word stores rather
// than append's copy: a cell of 8 bytes or more as whole words, the last
// one overlapping the previous, a shorter one as one word holding its
// bytes. A word may write past the cell's end; the next cell or sep
// overwrites those bytes, and a cell is only stored with 8 bytes of room
// left after it.
func (s *Schema) rowHash(buf *hashBuf, row []string) uint64 {
	p := 0
	for _, j := range s.Modelled {
		c := row[j]
		n := len(c)
		if p+n+9 > len(buf) {
			return s.rowHashLong(row)
		}
		if n >= 8 {
			for i := 0; i < n-8; i += 8 {
				*(*uint64)(unsafe.Pointer(&buf[p+i])) = le64s(c, i)
			}
			*(*uint64)(unsafe.Pointer(&buf[p+n-8])) = le64s(c, n-8)
		} else {
			*(*uint64)(unsafe.Pointer(&buf[p])) = shortWord(c)
		}
		buf[p+n] = sepByte
		p += n + 1
	}
	return xxhash.Sum64(buf[:p]) ^ s.Salt
}

// hashBuf is rowHash's scratch space: rows whose modelled cells need more
// are hashed by rowHashLong.
type hashBuf [1024]byte

// rowHashLong is rowHash by append, for rows longer than hashBuf.
func (s *Schema) rowHashLong(row []string) uint64 {
	var b []byte
	for _, j := range s.Modelled {
		b = append(b, row[j]...)
		b = append(b, sepByte)
	}
	return xxhash.Sum64(b) ^ s.Salt
}

// le64s reads 8 bytes of s from i on, as one unaligned load.
func le64s(s string, i int) uint64 {
	_ = s[i+7]
	return *(*uint64)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))
}

// shortWord is s (shorter than 8 bytes) as a word holding its bytes in
// memory order, the bytes past len(s) zero: three loads at most.
func shortWord(s string) uint64 {
	n := len(s)
	switch {
	case n == 0:
		return 0
	case n >= 4:
		lo := uint64(*(*uint32)(unsafe.Pointer(unsafe.StringData(s))))
		hi := uint64(*(*uint32)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), n-4)))
		return lo | hi<<(8*uint(n-4))
	}
	return uint64(s[0]) | uint64(s[n>>1])<<(8*uint(n>>1)) | uint64(s[n-1])<<(8*uint(n-1))
}
