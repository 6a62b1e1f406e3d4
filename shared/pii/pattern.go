package pii

import (
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Pattern is the regular-expression subset a profile can state for the
// values of a PII or key column: a sequence of atoms, each a literal or a
// character class, with a repeat count. Its text form is ordinary regex
// syntax ("[0-9]{3}-[0-9]{2}-[0-9]{4}", "GB[0-9]{2}[A-Z]{4}[0-9]{14}"), so
// a user can edit it in the schema and check it with any regex tool.
//
// Supported: literal characters, escapes (\d \. \- \\ …), bracket classes of
// ASCII characters and ranges ([A-Za-z0-9_]), and the quantifiers {n},
// {n,m}, ? and nothing. Alternation, groups and unbounded repeats are not:
// a generator must know how long a value can be.
type Pattern []Atom

// Atom is one position run of a Pattern: Lit (a literal, possibly
// multi-byte) or Set (the ASCII characters it draws from), repeated between
// Min and Max times.
type Atom struct {
	Lit      string `json:",omitempty"`
	Set      string `json:",omitempty"`
	Min, Max int
}

// ErrPattern reports a pattern outside the supported subset.
var ErrPattern = errors.New("pii: unsupported pattern")

// maxRepeat bounds a quantifier so that a pattern cannot ask for huge values.
const maxRepeat = 256

const (
	digits09 = "0123456789"
	upperAZ  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerAZ  = "abcdefghijklmnopqrstuvwxyz"
)

// ParsePattern reads a pattern in the subset described on Pattern.
func ParsePattern(s string) (Pattern, error) {
	var p Pattern
	for i := 0; i < len(s); {
		var a Atom
		switch c := s[i]; c {
		case '[':
			end := strings.IndexByte(s[i+1:], ']')
			if end <= 0 {
				return nil, fmt.Errorf("%w %q: unclosed [", ErrPattern, s)
			}
			set, err := expandClass(s[i+1 : i+1+end])
			if err != nil {
				return nil, fmt.Errorf("%w %q: %w", ErrPattern, s, err)
			}
			a.Set = set
			i += end + 2
		case '\\':
			if i+1 >= len(s) {
				return nil, fmt.Errorf("%w %q: trailing \\", ErrPattern, s)
			}
			switch e := s[i+1]; {
			case e == 'd':
				a.Set = digits09
			case e == 'w' || e == 's' || e == 'D' || e == 'W' || e == 'S' || isAlnum(e):
				return nil, fmt.Errorf("%w %q: escape \\%c", ErrPattern, s, e)
			default:
				a.Lit = string(e)
			}
			i += 2
		case '(', ')', '|', '*', '+', '{', '}', '?', '^', '$', '.':
			return nil, fmt.Errorf("%w %q: %q at %d", ErrPattern, s, c, i)
		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			a.Lit = s[i : i+size]
			i += size
		}
		a.Min, a.Max = 1, 1
		if i < len(s) && s[i] == '?' {
			a.Min = 0
			i++
		} else if i < len(s) && s[i] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("%w %q: unclosed {", ErrPattern, s)
			}
			lo, hi, ok := strings.Cut(s[i+1:i+end], ",")
			var err1, err2 error
			a.Min, err1 = strconv.Atoi(lo)
			a.Max = a.Min
			if ok {
				a.Max, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || a.Min < 0 || a.Max < a.Min || a.Max > maxRepeat || a.Max == 0 {
				return nil, fmt.Errorf("%w %q: bad repeat %q", ErrPattern, s, s[i:i+end+1])
			}
			i += end + 1
		}
		p = append(p, a)
	}
	if len(p) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrPattern)
	}
	return p, nil
}

// expandClass lists the characters of a bracket class body such as "A-Za-z0-9_".
func expandClass(body string) (string, error) {
	if body[0] == '^' {
		return "", errors.New("negated classes are not supported")
	}
	var seen [128]bool
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\\' && i+1 < len(body) {
			i++
			c = body[i]
			if c == 'd' {
				for _, d := range []byte(digits09) {
					seen[d] = true
				}
				continue
			}
		}
		if c >= 0x80 {
			return "", errors.New("classes hold ASCII characters only")
		}
		if i+2 < len(body) && body[i+1] == '-' {
			hi := body[i+2]
			if hi < c || hi >= 0x80 {
				return "", fmt.Errorf("bad range %c-%c", c, hi)
			}
			for x := c; x <= hi; x++ {
				seen[x] = true
			}
			i += 2
			continue
		}
		seen[c] = true
	}
	var b []byte
	for c, ok := range seen {
		if ok {
			b = append(b, byte(c))
		}
	}
	return string(b), nil
}

// String writes p back in regex syntax; ParsePattern(p.String()) equals p.
func (p Pattern) String() string {
	var b strings.Builder
	for _, a := range p {
		if a.Lit != "" {
			if len(a.Lit) == 1 && strings.ContainsAny(a.Lit, `\[]{}()|*+?^$.`) {
				b.WriteByte('\\')
			}
			b.WriteString(a.Lit)
		} else {
			b.WriteString(classString(a.Set))
		}
		switch {
		case a.Min == 1 && a.Max == 1:
		case a.Min == 0 && a.Max == 1:
			b.WriteByte('?')
		case a.Min == a.Max:
			fmt.Fprintf(&b, "{%d}", a.Min)
		default:
			fmt.Fprintf(&b, "{%d,%d}", a.Min, a.Max)
		}
	}
	return b.String()
}

// classString writes a sorted ASCII set as a bracket class with ranges.
func classString(set string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := 0; i < len(set); {
		j := i
		for j+1 < len(set) && set[j+1] == set[j]+1 {
			j++
		}
		writeClassChar(&b, set[i])
		if j-i >= 2 {
			b.WriteByte('-')
			writeClassChar(&b, set[j])
		} else if j > i {
			writeClassChar(&b, set[j])
		}
		i = j + 1
	}
	b.WriteByte(']')
	return b.String()
}

func writeClassChar(b *strings.Builder, c byte) {
	if c == ']' || c == '\\' || c == '-' || c == '^' || c == '[' {
		b.WriteByte('\\')
	}
	b.WriteByte(c)
}

// ShapeOf is the pattern of one value: each run of digits, upper-case or
// lower-case letters becomes a class with its length; anything else is
// literal. The first keep bytes stay literal (an IBAN's country code).
func ShapeOf(v string, keep int) Pattern {
	var p Pattern
	for i, r := range v {
		a := Atom{Min: 1, Max: 1}
		switch {
		case i < keep:
			a.Lit = string(r)
		case r >= '0' && r <= '9':
			a.Set = digits09
		case r >= 'A' && r <= 'Z':
			a.Set = upperAZ
		case r >= 'a' && r <= 'z':
			a.Set = lowerAZ
		default:
			a.Lit = string(r)
		}
		if n := len(p); n > 0 && a.Set != "" && p[n-1].Set == a.Set {
			p[n-1].Min++
			p[n-1].Max++
			continue
		}
		p = append(p, a)
	}
	return p
}

// Append draws one value matching p. A leading digit is never 0 when the
// first atom draws digits, so that a number-like value keeps its length
// when a reader parses it.
func (p Pattern) Append(buf []byte, rng *rand.Rand) []byte {
	for k, a := range p {
		n := a.Min
		if a.Max > a.Min {
			n += rng.IntN(a.Max - a.Min + 1)
		}
		for i := range n {
			if a.Lit != "" {
				buf = append(buf, a.Lit...)
				continue
			}
			set := a.Set
			if k == 0 && i == 0 && set == digits09 {
				set = digits09[1:]
			}
			buf = append(buf, set[rng.IntN(len(set))])
		}
	}
	return buf
}

// space is the number of distinct values of a fixed-length pattern, and
// false when the pattern varies in length or has more than 2^62 values.
func (p Pattern) space() (uint64, bool) {
	total := uint64(1)
	for _, a := range p {
		if a.Min != a.Max {
			return 0, false
		}
		if a.Lit != "" {
			continue
		}
		for range a.Min {
			hi, lo := bits.Mul64(total, uint64(len(a.Set)))
			if hi != 0 || lo > 1<<62 {
				return 0, false
			}
			total = lo
		}
	}
	return total, true
}

// appendIndex writes the x-th value (0 <= x < space) of a fixed-length
// pattern, read as a mixed-radix number, last position least significant.
func (p Pattern) appendIndex(buf []byte, x uint64) []byte {
	for _, a := range p {
		for range a.Min {
			if a.Lit != "" {
				buf = append(buf, a.Lit...)
			} else {
				buf = append(buf, 0)
			}
		}
	}
	// Fill class positions from the right.
	i := len(buf) - 1
	for k := len(p) - 1; k >= 0; k-- {
		a := p[k]
		for range a.Min {
			if a.Lit != "" {
				i -= len(a.Lit)
				continue
			}
			n := uint64(len(a.Set))
			buf[i] = a.Set[x%n]
			x /= n
			i--
		}
	}
	return buf
}

// Matches reports whether v is a value of p (greedy per atom, which is
// exact for the patterns ShapeOf and the id formats produce, where
// neighbouring atoms do not share characters).
func (p Pattern) Matches(v string) bool {
	return p.match(v, 0)
}

func (p Pattern) match(v string, k int) bool {
	if k == len(p) {
		return v == ""
	}
	a := p[k]
	n := 0
	for n < a.Max {
		if a.Lit != "" {
			if !strings.HasPrefix(v[n*len(a.Lit):], a.Lit) {
				break
			}
		} else if n >= len(v) || strings.IndexByte(a.Set, v[n]) < 0 {
			break
		}
		n++
	}
	w := len(a.Lit)
	if a.Lit == "" {
		w = 1
	}
	for ; n >= a.Min; n-- {
		if p.match(v[n*w:], k+1) {
			return true
		}
	}
	return false
}
