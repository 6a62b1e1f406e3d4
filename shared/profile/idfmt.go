package profile

import (
	"strconv"
	"strings"
)

// ID formats, as stored in Column.IDFormat:
//
//	"uuid"        RFC 4122 UUIDs in their 36-character form
//	"%d"          plain integers
//	"%06d"        zero-padded integers of a fixed width
//	"CUST-%06d"   a fixed prefix (a literal % is written %%) and an integer
//	"hex:N"       random hexadecimal tokens of N characters
//	"alnum:N"     random tokens of N letters and digits
//
// A generator fills the %d verb with fresh numbers and draws random tokens
// for the last two forms.
const (
	UUIDFormat = "uuid"
	hexPrefix  = "hex:"
	alnumPref  = "alnum:"
)

// isUUID reports whether s is 8-4-4-4-12 hexadecimal digits.
func isUUID(s string) bool {
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

// idFormat finds the pattern shared by every value of a key column, or ""
// when the values follow none of the forms listed above. Every value must be
// a non-empty token without whitespace.
func idFormat(vals []string) string {
	if len(vals) == 0 {
		return ""
	}
	if all(vals, isUUID) {
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
	// Random tokens: the most common length, hex if every value is.
	lengths := map[int]int{}
	hex := true
	for _, v := range vals {
		lengths[len(v)]++
		for i := 0; i < len(v); i++ {
			if !isAlnum(v[i]) {
				return ""
			}
			hex = hex && isHex(v[i])
		}
	}
	n, best := 0, 0
	for l, c := range lengths {
		if c > best || c == best && l > n {
			n, best = l, c
		}
	}
	if hex {
		return hexPrefix + strconv.Itoa(n)
	}
	return alnumPref + strconv.Itoa(n)
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

// validIDFormat reports whether f is one of the ID formats listed above.
func validIDFormat(f string) bool {
	switch {
	case f == UUIDFormat:
		return true
	case strings.HasPrefix(f, hexPrefix):
		n, err := strconv.Atoi(f[len(hexPrefix):])
		return err == nil && n > 0 && n <= 128
	case strings.HasPrefix(f, alnumPref):
		n, err := strconv.Atoi(f[len(alnumPref):])
		return err == nil && n > 0 && n <= 128
	}
	// Exactly one integer verb, %d or %0Nd; every other % doubled.
	verbs := 0
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			continue
		}
		i++
		if i < len(f) && f[i] == '%' {
			continue
		}
		if i < len(f) && f[i] == '0' {
			i++
			j := i
			for i < len(f) && isDigit(f[i]) {
				i++
			}
			if i == j {
				return false
			}
		}
		if i >= len(f) || f[i] != 'd' {
			return false
		}
		verbs++
	}
	return verbs == 1
}

func all(vals []string, f func(string) bool) bool {
	for _, v := range vals {
		if !f(v) {
			return false
		}
	}
	return true
}
