package synth

import (
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// rowHash hashes the modelled cells of row, as the training rows were
// hashed (xxhash.Sum64 of the cells each followed by sep, xor the salt;
// the model file holds those hashes, so the sum must stay xxhash's).
// The cells are gathered with word stores rather than append's copy: a cell of 8 bytes or more as whole words, the last
// one overlapping the previous; one of 4 to 7 bytes as two overlapping
// 4-byte words; a shorter one byte by byte. No store writes past the
// cell's end.
func (s *Schema) rowHash(buf *hashBuf, row []string) uint64 {
	p := 0
	for _, j := range s.Modelled {
		c := row[j]
		n := len(c)
		if p+n+1 > len(buf) {
			return s.rowHashLong(row)
		}
		if n >= 8 {
			for i := 0; i < n-8; i += 8 {
				*(*uint64)(unsafe.Pointer(&buf[p+i])) = le64s(c, i)
			}
			*(*uint64)(unsafe.Pointer(&buf[p+n-8])) = le64s(c, n-8)
		} else if n >= 4 {
			*(*uint32)(unsafe.Pointer(&buf[p])) = le32s(c, 0)
			*(*uint32)(unsafe.Pointer(&buf[p+n-4])) = le32s(c, n-4)
		} else if n > 0 {
			buf[p] = c[0]
			buf[p+n>>1] = c[n>>1]
			buf[p+n-1] = c[n-1]
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

// le32s reads 4 bytes of s from i on, as one unaligned load.
func le32s(s string, i int) uint32 {
	_ = s[i+3]
	return *(*uint32)(unsafe.Add(unsafe.Pointer(unsafe.StringData(s)), i))
}
