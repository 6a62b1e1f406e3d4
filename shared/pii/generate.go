// Package pii detects and generates personal data and keys: every PII kind
// a profile can name, the key formats of package profile (UUIDs, numbered,
// hexadecimal, alphanumeric and pattern tokens) and the check-digit schemes
// (Luhn, IBAN mod 97, US SSN and UK NINO rules) they carry. Every model
// generates these columns through it, in the format the profile found in the
// source, so that no model invents its own.
package pii

import (
	"fmt"
	"math/rand/v2"

	"github.com/brianvoe/gofakeit/v7"
)

// Kind names the kind of personal data a PII column holds.
type Kind string

const (
	Email      Kind = "email"
	Phone      Kind = "phone"
	PersonName Kind = "name"
	Address    Kind = "address"
	NationalID Kind = "national_id" // US SSN, UK NINO or any shape the source shows
	Card       Kind = "card"        // payment card, Luhn-valid
	IBAN       Kind = "iban"
	IP         Kind = "ip"
	URL        Kind = "url"
)

// Kinds lists every kind.
var Kinds = []Kind{Email, Phone, PersonName, Address, NationalID, Card, IBAN, IP, URL}

// Shaped reports whether values of kind k are generated from a Pattern (the
// source's layout) rather than from a word list.
func Shaped(k Kind) bool {
	switch k {
	case Email, PersonName, Address, URL, IP:
		return false
	}
	return true
}

// defaultPatterns are used for a shaped kind whose profile states no pattern.
var defaultPatterns = map[Kind]string{
	Phone:      `\([0-9]{3}\) [0-9]{3}-[0-9]{4}`,
	NationalID: `[0-9]{3}-[0-9]{2}-[0-9]{4}`,
	Card:       `[0-9]{4} [0-9]{4} [0-9]{4} [0-9]{4}`,
	IBAN:       `GB[0-9]{2}[A-Z]{4}[0-9]{14}`,
}

// Spec says how to generate fresh values of one PII column.
type Spec struct {
	Kind    Kind
	Pattern Pattern // shaped kinds
	IPv6    bool    // IP columns
}

// NewSpec builds the generator of kind k from a profile's pattern (regex
// subset; "" means the kind's default layout).
func NewSpec(k Kind, pattern string) (Spec, error) {
	s := Spec{Kind: k}
	if !Shaped(k) {
		return s, nil
	}
	if pattern == "" {
		pattern = defaultPatterns[k]
		if pattern == "" {
			pattern = `[A-Z]{4}[0-9]{4}`
		}
	}
	p, err := ParsePattern(pattern)
	if err != nil {
		return s, fmt.Errorf("pii %s: %w", k, err)
	}
	s.Pattern = p
	return s, nil
}

// InferPattern is the commonest layout of vals (the first 5,000 looked at)
// as a pattern, for the shaped kinds; "" when vals is empty. An IBAN keeps
// its country code literal: it is not personal, and it fixes the length.
func InferPattern(vals []string, k Kind) string {
	keep := 0
	if k == IBAN {
		keep = 2
	}
	counts := map[string]int{}
	best, bestN := "", 0
	for i, v := range vals {
		if i >= 5000 {
			break
		}
		s := ShapeOf(v, keep).String()
		counts[s]++
		if n := counts[s]; n > bestN || n == bestN && s < best {
			best, bestN = s, n
		}
	}
	return best
}

// Append writes one fresh value. rng drives shaped values, f the word-list
// kinds; both come from the caller's per-block stream, so output is
// deterministic.
func (s *Spec) Append(buf []byte, rng *rand.Rand, f *gofakeit.Faker) []byte {
	switch s.Kind {
	case Email:
		return append(buf, f.Email()...)
	case PersonName:
		return append(buf, f.Name()...)
	case Address:
		return append(buf, f.Address().Address...)
	case URL:
		return append(buf, f.URL()...)
	case IP:
		if s.IPv6 {
			return append(buf, f.IPv6Address()...)
		}
		return append(buf, f.IPv4Address()...)
	}
	start := len(buf)
	buf = s.Pattern.Append(buf, rng)
	v := buf[start:]
	switch s.Kind {
	case Card:
		LuhnFix(v)
	case IBAN:
		IBANFix(v)
	case NationalID:
		fixSSN(v)
		fixNINO(v)
	}
	return buf
}

// fixSSN makes a value shaped like a US SSN (ddd-dd-dddd or nine digits)
// one: area 001-899 but not 666, group not 00, serial not 0000.
func fixSSN(v []byte) {
	var at []int
	for i, c := range v {
		switch {
		case isDigit(c):
			at = append(at, i)
		case c != '-':
			return
		}
	}
	if len(at) != 9 || len(v) != 9 && !(len(v) == 11 && v[3] == '-' && v[6] == '-') {
		return
	}
	area := int(v[at[0]]-'0')*100 + int(v[at[1]]-'0')*10 + int(v[at[2]]-'0')
	area = 1 + area%899
	if area == 666 {
		area = 665
	}
	v[at[0]], v[at[1]], v[at[2]] = '0'+byte(area/100), '0'+byte(area/10%10), '0'+byte(area%10)
	if v[at[3]] == '0' && v[at[4]] == '0' {
		v[at[4]] = '1'
	}
	if v[at[5]] == '0' && v[at[6]] == '0' && v[at[7]] == '0' && v[at[8]] == '0' {
		v[at[8]] = '1'
	}
}

// NINO prefix letters: the first is never D, F, I, Q, U or V, the second
// never D, F, I, O, Q, U or V; the suffix is A to D.
const (
	ninoFirst  = "ABCEGHJKLMNOPRSTWXYZ"
	ninoSecond = "ABCEGHJKLMNPRSTWXYZ"
)

// IsNINO reports whether s is a UK National Insurance number: two prefix
// letters, six digits (optionally in pairs separated by spaces) and a suffix
// A-D, with the prefixes HMRC never issues (BG, GB, NK, KN, TN, NT, ZZ)
// refused.
func IsNINO(s string) bool {
	var b [9]byte
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			continue
		}
		if n == len(b) {
			return false
		}
		b[n] = s[i]
		n++
	}
	if n != 9 || !isNINOLetters(b[0], b[1]) || b[8] < 'A' || b[8] > 'D' {
		return false
	}
	return allDigits(string(b[2:8]))
}

func isNINOLetters(a, b byte) bool {
	if !contains(ninoFirst, a) || !contains(ninoSecond, b) {
		return false
	}
	switch string([]byte{a, b}) {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return false
	}
	return true
}

// fixNINO makes a value shaped like a NINO (two letters, six digits, one
// letter, spaces allowed) a valid one.
func fixNINO(v []byte) {
	var at []int
	for i, c := range v {
		if c != ' ' {
			at = append(at, i)
		}
	}
	if len(at) != 9 || !isUpper(v[at[0]]) || !isUpper(v[at[1]]) || !isUpper(v[at[8]]) {
		return
	}
	for _, i := range at[2:8] {
		if !isDigit(v[i]) {
			return
		}
	}
	a, b := v[at[0]], v[at[1]]
	if !contains(ninoFirst, a) {
		a = ninoFirst[int(a)%len(ninoFirst)]
	}
	if !contains(ninoSecond, b) {
		b = ninoSecond[int(b)%len(ninoSecond)]
	}
	if !isNINOLetters(a, b) {
		a, b = 'A', 'B'
	}
	v[at[0]], v[at[1]] = a, b
	v[at[8]] = 'A' + (v[at[8]]-'A')%4
}

func contains(set string, c byte) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}
