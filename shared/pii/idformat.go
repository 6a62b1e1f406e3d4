package pii

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
)

// ID formats, as a profile states them (Column.IDFormat):
//
//	"uuid"          RFC 4122 UUIDs in their 36-character form
//	"%d"            plain integers
//	"%06d"          zero-padded integers of a fixed width
//	"CUST-%06d"     a fixed prefix and suffix (a literal % is written %%) around an integer
//	"hex:N"         tokens of N lower-case hexadecimal digits
//	"alnum:N"       tokens of N letters and digits
//	"re:PATTERN"    tokens matching a Pattern, e.g. "re:[0-9A-F]{16}" or "re:[A-Z]{3}-[a-z0-9]{6,8}"
//
// Numbered forms count up from a start above every training key, so fresh
// keys are unique and never repeat one; token forms of a fixed length with
// at most 2^62 values give row r the r-th value of a seeded permutation
// (unique until the space runs out), longer ones draw at random.
const (
	UUIDFormat = "uuid"
	hexPrefix  = "hex:"
	alnumPref  = "alnum:"
	rePrefix   = "re:"
)

// IDFormat is a parsed key format. Its fields are exported so that models
// can serialize it; build one with ParseIDFormat.
type IDFormat struct {
	UUID bool
	// Numbered keys: Prefix + number (zero-padded to Width) + Suffix,
	// numbered from Start + row.
	Numbered       bool
	Prefix, Suffix string
	Width          int
	Start          int64
	// Tokens.
	Token Pattern
	// Mul and Add permute row indexes into a fixed-length token space of
	// Space values (see Seed); Space is 0 for random tokens.
	Space, Mul, Add uint64
}

// ParseIDFormat reads one of the forms listed above.
func ParseIDFormat(f string) (IDFormat, error) {
	var id IDFormat
	tokenLen := func(prefix string) (int, error) {
		n, err := strconv.Atoi(f[len(prefix):])
		if err != nil || n <= 0 || n > 128 {
			return 0, fmt.Errorf("%w: id format %q: want a length of 1 to 128", ErrPattern, f)
		}
		return n, nil
	}
	switch {
	case strings.EqualFold(f, UUIDFormat):
		id.UUID = true
		return id, nil
	case strings.HasPrefix(f, hexPrefix):
		n, err := tokenLen(hexPrefix)
		id.Token = Pattern{{Set: digits09 + "abcdef", Min: n, Max: n}}
		return id, err
	case strings.HasPrefix(f, alnumPref):
		n, err := tokenLen(alnumPref)
		id.Token = Pattern{{Set: digits09 + upperAZ + lowerAZ, Min: n, Max: n}}
		return id, err
	case strings.HasPrefix(f, rePrefix):
		p, err := ParsePattern(f[len(rePrefix):])
		if err != nil {
			return id, fmt.Errorf("id format %q: %w", f, err)
		}
		id.Token = p
		return id, nil
	}
	// Exactly one integer verb, %d or %0Nd; every other % doubled.
	verb, end := -1, -1
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		if i+1 < len(f) && f[i+1] == '%' {
			i++
			continue
		}
		k := i + 1
		width := 0
		if k < len(f) && f[k] == '0' {
			k++
			j := k
			for k < len(f) && isDigit(f[k]) {
				k++
			}
			w, err := strconv.Atoi(f[j:k])
			if err != nil || w < 1 || w > 40 {
				return id, fmt.Errorf("%w: id format %q: bad width", ErrPattern, f)
			}
			width = w
		}
		if k >= len(f) || f[k] != 'd' || verb >= 0 {
			return id, fmt.Errorf("%w: id format %q: want uuid, hex:N, alnum:N, re:PATTERN or text with one %%d or %%0Nd", ErrPattern, f)
		}
		verb, end, id.Width = i, k+1, width
		i = k
	}
	if verb < 0 {
		return id, fmt.Errorf("%w: id format %q has no %%d verb: want uuid, hex:N, alnum:N, re:PATTERN or text with one %%d", ErrPattern, f)
	}
	id.Numbered, id.Start = true, 1
	id.Prefix = strings.ReplaceAll(f[:verb], "%%", "%")
	id.Suffix = strings.ReplaceAll(f[end:], "%%", "%")
	return id, nil
}

// IsTokenFormat reports whether f is a random-token form (hex:, alnum:, re:)
// rather than a UUID or a numbered key.
func IsTokenFormat(f string) bool {
	return strings.HasPrefix(f, hexPrefix) || strings.HasPrefix(f, alnumPref) || strings.HasPrefix(f, rePrefix)
}

// ValidIDFormat reports whether f is one of the forms listed above.
func ValidIDFormat(f string) bool {
	_, err := ParseIDFormat(f)
	return err == nil
}

// Number reads the number of a numbered key, or false.
func (id *IDFormat) Number(v string) (int64, bool) {
	if !id.Numbered || len(v) < len(id.Prefix)+len(id.Suffix) || !strings.HasPrefix(v, id.Prefix) || !strings.HasSuffix(v, id.Suffix) {
		return 0, false
	}
	n, err := strconv.ParseInt(v[len(id.Prefix):len(v)-len(id.Suffix)], 10, 64)
	return n, err == nil
}

// Continue makes numbered keys start above every key in vals.
func (id *IDFormat) Continue(vals []string) {
	if !id.Numbered {
		return
	}
	var top int64
	for _, v := range vals {
		if n, ok := id.Number(v); ok && n > top {
			top = n
		}
	}
	id.Start = top + 1
}

// Seed fixes the permutation of a fixed-length token space from a model's
// salt, so that rows get distinct tokens in an order no one can guess.
func (id *IDFormat) Seed(salt uint64) {
	space, ok := id.Token.space()
	if len(id.Token) == 0 || !ok || space < 2 {
		id.Space = 0
		return
	}
	id.Space = space
	id.Mul = (splitmix(salt)%space | 1) % space
	for gcd(id.Mul, space) != 1 {
		id.Mul = (id.Mul + 1) % space
	}
	id.Add = splitmix(salt^0x9e3779b97f4a7c15) % space
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// splitmix is the SplitMix64 finalizer.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// mulMod is a*b mod m without overflow.
func mulMod(a, b, m uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	_, r := bits.Div64(hi%m, lo, m)
	return r
}

// Append writes the key of global row index row; rng draws UUIDs and the
// tokens of spaces too large to permute.
func (id *IDFormat) Append(buf []byte, row int64, rng *rand.Rand) []byte {
	switch {
	case id.UUID:
		return AppendUUID(buf, rng)
	case id.Numbered:
		buf = append(buf, id.Prefix...)
		var nb [20]byte
		num := strconv.AppendInt(nb[:0], id.Start+row, 10)
		for k := len(num); k < id.Width; k++ {
			buf = append(buf, '0')
		}
		buf = append(buf, num...)
		return append(buf, id.Suffix...)
	case id.Space > 0:
		x := (mulMod(uint64(row)%id.Space, id.Mul, id.Space) + id.Add) % id.Space
		return id.Token.appendIndex(buf, x)
	}
	return id.Token.Append(buf, rng)
}

// AppendUUID writes a version 4 UUID drawn from rng.
func AppendUUID(buf []byte, rng *rand.Rand) []byte {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		x := rng.Uint64()
		for k := range 8 {
			b[i+k] = byte(x >> (8 * k))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hex = "0123456789abcdef"
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, hex[x>>4], hex[x&15])
	}
	return buf
}

// IsUUID reports whether s is 8-4-4-4-12 hexadecimal digits.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// InferIDFormat finds the format shared by every value of a key column, or
// "" when the values follow none of the forms listed above. Every value must
// be a non-empty token without whitespace. Tokens keep their case and the
// classes each position uses: lower-case hex is "hex:N", anything else a
// "re:" pattern.
func InferIDFormat(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	if all(vals, IsUUID) {
		return UUIDFormat
	}
	// Longest common prefix, cut back so that it ends before any digits: the
	// rest of each value must then be an integer.
	prefix := vals[0]
	for _, v := range vals[1:] {
		i := 0
		for i < len(prefix) && i < len(v) && prefix[i] == v[i] {
			i++
		}
		prefix = prefix[:i]
	}
	prefix = strings.TrimRight(prefix, "0123456789")
	if f, ok := numberFormat(vals, len(prefix)); ok {
		return strings.ReplaceAll(prefix, "%", "%%") + f
	}
	return tokenFormat(vals)
}

// tokenFormat describes random tokens of letters and digits: per position
// when every value has one length, else one class with a length range.
func tokenFormat(vals []string) string {
	lo, hi := len(vals[0]), len(vals[0])
	lowerHex, hexOnly := true, true
	for _, v := range vals {
		lo, hi = min(lo, len(v)), max(hi, len(v))
		for i := 0; i < len(v); i++ {
			c := v[i]
			if !isAlnum(c) {
				return ""
			}
			lowerHex = lowerHex && (isDigit(c) || c >= 'a' && c <= 'f')
			hexOnly = hexOnly && isHex(c)
		}
	}
	if lowerHex && lo == hi {
		return hexPrefix + strconv.Itoa(hi)
	}
	if hi > 128 {
		return ""
	}
	var p Pattern
	if lo == hi {
		for i := 0; i < hi; i++ {
			var class [3]bool
			for _, v := range vals {
				class[classOf(v[i])] = true
			}
			set := classSet(class, hexOnly)
			if n := len(p); n > 0 && p[n-1].Set == set {
				p[n-1].Min++
				p[n-1].Max++
				continue
			}
			p = append(p, Atom{Set: set, Min: 1, Max: 1})
		}
	} else {
		var class [3]bool
		for _, v := range vals {
			for i := 0; i < len(v); i++ {
				class[classOf(v[i])] = true
			}
		}
		p = Pattern{{Set: classSet(class, hexOnly), Min: lo, Max: hi}}
	}
	return rePrefix + p.String()
}

// classOf is 0 for a digit, 1 for an upper-case and 2 for a lower-case letter.
func classOf(c byte) int {
	switch {
	case isDigit(c):
		return 0
	case isUpper(c):
		return 1
	}
	return 2
}

// classSet joins the classes seen at a position; a column whose letters
// are all hexadecimal keeps the hex alphabet rather than the whole one.
func classSet(class [3]bool, hexOnly bool) string {
	var set string
	if class[0] {
		set += digits09
	}
	if class[1] {
		if hexOnly {
			set += "ABCDEF"
		} else {
			set += upperAZ
		}
	}
	if class[2] {
		if hexOnly {
			set += "abcdef"
		} else {
			set += lowerAZ
		}
	}
	return set
}

// numberFormat returns "%d" or "%0Nd" when every value's tail after cut
// bytes is a run of digits, zero-padded to one width N or not padded at all.
func numberFormat(vals []string, cut int) (string, bool) {
	width := -1
	padded, fixed := false, true
	for _, v := range vals {
		tail := v[cut:]
		if !allDigits(tail) || len(tail) > 18 {
			return "", false
		}
		if len(tail) > 1 && tail[0] == '0' {
			padded = true
		}
		if width == -1 {
			width = len(tail)
		} else if width != len(tail) {
			fixed = false
		}
	}
	switch {
	case padded && fixed:
		return "%0" + strconv.Itoa(width) + "d", true
	case !padded:
		return "%d", true
	}
	return "", false
}

func all(vals []string, f func(string) bool) bool {
	for _, v := range vals {
		if !f(v) {
			return false
		}
	}
	return true
}
