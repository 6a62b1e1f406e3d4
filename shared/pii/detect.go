package pii

import (
	"net/netip"
	"strings"
	"sync"

	"github.com/brianvoe/gofakeit/v7/data"
)

// The validators below take a trimmed, non-missing cell and report whether it
// is a value of one PII kind. They are strict where a check digit allows it
// (cards, IBANs, SSNs) and shape-based otherwise; none allocates on the
// common path, because Infer runs them on every distinct value of a column.

// IsEmail reports whether s looks like local@domain.tld: one '@', a local part
// without spaces, and a domain of at least two dot-separated labels of
// letters, digits and hyphens whose last label is at least two letters.
func IsEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at > 64 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	for i := 0; i < at; i++ {
		if c := s[i]; c <= ' ' || c == '"' || c == ',' || c == '<' || c == '>' || c >= 0x7f {
			return false
		}
	}
	domain := s[at+1:]
	labels := 0
	last := ""
	for domain != "" {
		label, rest, found := strings.Cut(domain, ".")
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
		labels++
		last = label
		if !found {
			break
		}
		domain = rest
		if domain == "" {
			return false // trailing dot
		}
	}
	if labels < 2 || len(last) < 2 {
		return false
	}
	for i := 0; i < len(last); i++ {
		if !isLetter(last[i]) {
			return false
		}
	}
	return true
}

// IsURL reports whether s is an http, https or ftp URL with a dotted host (or
// localhost), or starts with "www.", and holds no whitespace.
func IsURL(s string) bool {
	if strings.ContainsAny(s, " \t\n\r") {
		return false
	}
	rest := ""
	switch {
	case hasPrefixFold(s, "http://"):
		rest = s[len("http://"):]
	case hasPrefixFold(s, "https://"):
		rest = s[len("https://"):]
	case hasPrefixFold(s, "ftp://"):
		rest = s[len("ftp://"):]
	case hasPrefixFold(s, "www."):
		rest = s
	default:
		return false
	}
	host := rest
	if i := strings.IndexAny(host, "/?#"); i >= 0 {
		host = host[:i]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	if host == "" {
		return false
	}
	return strings.HasPrefix(host, "[") || strings.Contains(host, ".") || strings.EqualFold(host, "localhost")
}

// IsIP reports whether s is an IPv4 or IPv6 address. A cheap character check
// comes first so that ordinary words never reach netip's error path.
func IsIP(s string) bool {
	if len(s) < 2 || len(s) > 45 {
		return false
	}
	colons, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			colons++
		case c == '.':
			dots++
		case c == '%':
			// zone: letters allowed after it; netip decides.
		case isHex(c):
		default:
			if colons == 0 {
				return false
			}
		}
	}
	if colons < 2 && dots != 3 {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// IsSSN reports whether s is a US social security number: ddd-dd-dddd (or,
// when bare is true, nine bare digits) with a valid area (001-899, not 666),
// a group other than 00 and a serial other than 0000.
func IsSSN(s string, bare bool) bool {
	var d [9]byte
	switch {
	case len(s) == 11 && s[3] == '-' && s[6] == '-':
		copy(d[0:3], s[0:3])
		copy(d[3:5], s[4:6])
		copy(d[5:9], s[7:11])
	case bare && len(s) == 9:
		copy(d[:], s)
	default:
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	area := int(d[0]-'0')*100 + int(d[1]-'0')*10 + int(d[2]-'0')
	group := int(d[3]-'0')*10 + int(d[4]-'0')
	serial := int(d[5]-'0')*1000 + int(d[6]-'0')*100 + int(d[7]-'0')*10 + int(d[8]-'0')
	return area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

// IsCard reports whether s is a payment card number: 13 to 19 digits, in
// groups separated by single spaces or hyphens, that pass the Luhn check.
func IsCard(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '-' {
			if i == len(s)-1 || i == 0 || s[i+1] == ' ' || s[i+1] == '-' {
				return false
			}
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
		digits++
	}
	return digits >= 13 && digits <= 19 && LuhnValid(s)
}

// IsIBAN reports whether s is an International Bank Account Number: two
// letters, two check digits and 11 to 30 letters or digits (spaces allowed
// between groups, letters in either case), whose ISO 13616 mod-97 remainder
// is 1.
func IsIBAN(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			continue
		}
		switch {
		case n < 2 && !isLetter(c), n >= 2 && n < 4 && !isDigit(c), !isAlnum(c):
			return false
		}
		n++
	}
	return n >= 15 && n <= 34 && IBANValid(s)
}

// IsPhone reports whether s looks like a telephone number: 7 to 15 digits
// with the separators " -.()/" and an optional leading '+' and extension
// ("x123", "ext. 123"). Unless bare is true it must hold a separator or the
// leading '+', so that plain integers are not mistaken for phones.
func IsPhone(s string, bare bool) bool {
	if s == "" || s[0] == '-' || s[0] == '.' {
		return false
	}
	if i := indexFold(s, "x"); i > 0 {
		ext := strings.TrimLeft(s[i:], "xXeEtT. ")
		if ext == "" || !allDigits(ext) || len(ext) > 6 {
			return false
		}
		s = strings.TrimRight(s[:i], " ,.;")
		s = strings.TrimSuffix(strings.TrimSuffix(s, "e"), "E")
	}
	digits, seps := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case isDigit(c):
			digits++
		case c == '+':
			if i != 0 {
				return false
			}
			seps++
		case c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '/':
			seps++
		default:
			return false
		}
	}
	if digits < 7 || digits > 15 {
		return false
	}
	if s[0] != '+' && looksDecimal(s) && !(bare && allDigits(s)) {
		return false // a number such as 1234567.89
	}
	return seps > 0 || bare
}

// streetSuffixes are the words that mark a street address ("12 Main St").
var streetSuffixes = []string{
	"street", "st", "avenue", "ave", "av", "road", "rd", "boulevard", "blvd", "lane", "ln",
	"drive", "dr", "court", "ct", "way", "place", "pl", "square", "sq", "terrace", "ter",
	"parkway", "pkwy", "highway", "hwy", "circle", "cir", "trail", "trl", "plaza", "plz",
	"alley", "aly", "crescent", "cres", "loop", "row", "close", "walk", "path", "pike",
}

// IsAddress reports whether s looks like a street address: a house number (up
// to six digits, optionally a letter), then at least one word, then, unless
// loose is true, a street suffix among the following words.
func IsAddress(s string, loose bool) bool {
	num, rest, ok := strings.Cut(s, " ")
	if !ok || len(num) == 0 || len(num) > 7 {
		return false
	}
	nd := 0
	for nd < len(num) && isDigit(num[nd]) {
		nd++
	}
	if nd == 0 || nd > 6 || len(num)-nd > 1 || (nd < len(num) && !isLetter(num[nd])) {
		return false
	}
	words := 0
	suffix := false
	for rest != "" {
		var w string
		w, rest, _ = strings.Cut(rest, " ")
		w = strings.Trim(w, ".,#")
		if w == "" {
			continue
		}
		if !isLetter(w[0]) && !isDigit(w[0]) {
			return false
		}
		words++
		if words > 1 && !suffix {
			for _, sfx := range streetSuffixes {
				if strings.EqualFold(w, sfx) {
					suffix = true
					break
				}
			}
		}
	}
	if words < 1 {
		return false
	}
	return suffix || (loose && words >= 1 && hasLetterWord(s))
}

func hasLetterWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if isLetter(s[i]) {
			return true
		}
	}
	return false
}

var (
	namesOnce sync.Once
	names     map[string]struct{} // lower-case first and last names
)

// loadNames builds the name set from gofakeit's person data once.
func loadNames() {
	names = make(map[string]struct{}, len(data.Person["first"])+len(data.Person["last"]))
	for _, k := range []string{"first", "last"} {
		for _, n := range data.Person[k] {
			names[strings.ToLower(n)] = struct{}{}
		}
	}
}

// NameShape reports whether s is shaped like a person's name (one to four
// capitalised words of letters, apostrophes, hyphens and dots, optionally
// "Last, First") and whether one of its words is a known first or last name.
func NameShape(s string) (shaped, known bool) {
	if len(s) < 2 || len(s) > 60 {
		return false, false
	}
	namesOnce.Do(loadNames)
	words := 0
	rest := s
	for rest != "" {
		var w string
		w, rest, _ = strings.Cut(rest, " ")
		w = strings.TrimSuffix(w, ",")
		if w == "" {
			return false, false
		}
		words++
		if words > 4 || !isUpper(w[0]) && w[0] < 0x80 {
			return false, false
		}
		for i := 0; i < len(w); i++ {
			c := w[i]
			if !isLetter(c) && c != '\'' && c != '-' && c != '.' && c < 0x80 {
				return false, false
			}
		}
		if !known && len(w) <= 32 {
			var buf [32]byte
			for i := 0; i < len(w); i++ {
				c := w[i]
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf[i] = c
			}
			_, known = names[string(buf[:len(w)])]
		}
	}
	return true, known
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isUpper(c byte) bool  { return c >= 'A' && c <= 'Z' }
func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnum(c byte) bool  { return isDigit(c) || isLetter(c) }
func isHex(c byte) bool    { return isDigit(c) || c|0x20 >= 'a' && c|0x20 <= 'f' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// indexFold returns the index of the ASCII substring sub in s ignoring case,
// or -1.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// looksDecimal reports whether s reads as a plain decimal number (digits
// without a leading zero, at most one point), which a phone never is.
func looksDecimal(s string) bool {
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" || len(intPart) > 1 && intPart[0] == '0' {
		return false
	}
	return (intPart == "" || allDigits(intPart)) && (frac == "" || allDigits(frac))
}
