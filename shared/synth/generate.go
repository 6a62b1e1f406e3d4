package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/cespare/xxhash/v2"

	"synthos.dev/synthos/shared/profile"
	"synthos.dev/synthos/shared/table"
)

// Generator makes fresh values for a PII, key or free-text column. It never
// looks at a training value when generating: what it keeps from training is
// the shape of the values (digit and letter positions), the key format and
// the next free key number, and for free text a vocabulary of words used in
// at least two rows. Seen holds salted hashes of the training values so that
// a generated value that happens to equal one is redrawn.
type Generator struct {
	// Shape is the commonest layout of the training values with digits as
	// shapeDigit, upper- and lower-case letters as shapeUpper/shapeLower and
	// everything else literal ("" when the kind does not use one).
	Shape string
	IPv6  bool

	// Keys: either UUIDs or Prefix + number (zero-padded to Width) + Suffix,
	// numbered from Start + global row index.
	UUID   bool
	Prefix string
	Suffix string
	Width  int
	Start  int64

	// Free text: words and cumulative weights; cumulative weights of the
	// number of words per cell (index = count).
	Words   []string
	WordCum []float64
	LenCum  []float64

	Seen []uint64 // sorted salted hashes of training values
}

const (
	shapeDigit = '\x01'
	shapeUpper = '\x02'
	shapeLower = '\x03'
	// seenRetries bounds redraws of a generated value equal to a training one.
	seenRetries = 1000
	// maxTextWords caps the length of generated free text.
	maxTextWords = 256
	// keepWords is the number of words a text cell needs before the guard
	// treats a reproduction of it as a copy.
	keepWords = 4
)

// fit learns shapes, key formats and vocabularies from column j.
func (g *Generator) fit(t *table.Table, j int, pc *profile.Column, missing map[string]bool, salt uint64) error {
	var vals []string
	for _, r := range t.Rows {
		if v := r[j]; v != "" && !missing[v] {
			vals = append(vals, v)
		}
	}
	for _, v := range vals {
		if pc.Kind == profile.Text && len(strings.Fields(v)) < keepWords {
			continue
		}
		g.Seen = append(g.Seen, xxhash.Sum64String(v)^salt)
	}
	slices.Sort(g.Seen)
	g.Seen = slices.Compact(g.Seen)
	switch pc.Kind {
	case profile.ID:
		return g.fitID(pc.IDFormat, vals)
	case profile.Text:
		g.fitText(vals)
		return nil
	}
	switch pc.PII {
	case profile.Email, profile.PersonName, profile.Address, profile.URL:
	case profile.IP:
		for _, v := range vals {
			g.IPv6 = strings.Contains(v, ":")
			break
		}
	default: // phone, national id, card, IBAN and unknown kinds keep a shape
		g.Shape = commonShape(vals, pc.PII)
	}
	return nil
}

// commonShape is the commonest shape of vals, or a default for the kind.
func commonShape(vals []string, kind profile.PIIKind) string {
	counts := map[string]int{}
	for i, v := range vals {
		if i >= 5000 {
			break
		}
		counts[shapeOf(v, kind)]++
	}
	best, bestN := "", 0
	for s, n := range counts {
		if n > bestN || (n == bestN && s < best) {
			best, bestN = s, n
		}
	}
	if best != "" {
		return best
	}
	switch kind {
	case profile.Phone:
		return shapeOf("(555) 555-5555", kind)
	case profile.NationalID:
		return shapeOf("555-55-5555", kind)
	case profile.Card:
		return shapeOf("5555 5555 5555 5555", kind)
	case profile.IBAN:
		return shapeOf("GB00AAAA55555555555555", kind)
	}
	return shapeOf("AAAA5555", kind)
}

// shapeOf replaces digits and letters of v by shape classes. An IBAN keeps
// its country code literal: it is not personal.
func shapeOf(v string, kind profile.PIIKind) string {
	var b strings.Builder
	for i, r := range v {
		switch {
		case kind == profile.IBAN && i < 2 && unicode.IsUpper(r):
			b.WriteRune(r)
		case unicode.IsDigit(r):
			b.WriteByte(shapeDigit)
		case unicode.IsUpper(r):
			b.WriteByte(shapeUpper)
		case unicode.IsLower(r):
			b.WriteByte(shapeLower)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fitID parses a key format such as "CUST-%06d", "%d" or "uuid" and finds
// the first number above every training key, so fresh keys never repeat one.
func (g *Generator) fitID(format string, vals []string) error {
	if format == "" {
		format = inferIDFormat(vals)
	}
	if strings.EqualFold(format, "uuid") {
		g.UUID = true
		return nil
	}
	i := strings.IndexByte(format, '%')
	if i < 0 {
		return fmt.Errorf("id format %q has no %%d verb: %w", format, ErrInvalid)
	}
	k := i + 1
	for k < len(format) && format[k] >= '0' && format[k] <= '9' {
		k++
	}
	if k >= len(format) || format[k] != 'd' || strings.Contains(format[k+1:], "%") {
		return fmt.Errorf("id format %q: want one %%d or %%0Nd verb: %w", format, ErrInvalid)
	}
	g.Prefix, g.Suffix = format[:i], format[k+1:]
	if k > i+1 {
		w, err := strconv.Atoi(format[i+1 : k])
		if err != nil || w > 40 {
			return fmt.Errorf("id format %q: bad width: %w", format, ErrInvalid)
		}
		g.Width = w
	}
	var top int64
	for _, v := range vals {
		if !strings.HasPrefix(v, g.Prefix) || !strings.HasSuffix(v, g.Suffix) || len(v) < len(g.Prefix)+len(g.Suffix) {
			continue
		}
		if n, err := strconv.ParseInt(v[len(g.Prefix):len(v)-len(g.Suffix)], 10, 64); err == nil && n > top {
			top = n
		}
	}
	g.Start = top + 1
	return nil
}

// inferIDFormat guesses a key format from the first key: a UUID, or a
// non-digit prefix followed by digits.
func inferIDFormat(vals []string) string {
	if len(vals) == 0 {
		return "%d"
	}
	v := vals[0]
	if len(v) == 36 && strings.Count(v, "-") == 4 {
		return "uuid"
	}
	k := len(v)
	for k > 0 && v[k-1] >= '0' && v[k-1] <= '9' {
		k--
	}
	digits := v[k:]
	prefix := strings.ReplaceAll(v[:k], "%", "%%")
	if len(digits) > 1 && digits[0] == '0' {
		return prefix + "%0" + strconv.Itoa(len(digits)) + "d"
	}
	return prefix + "%d"
}

// fitText keeps the words used in at least two rows, with their frequency,
// and the distribution of words per cell.
func (g *Generator) fitText(vals []string) {
	rows := map[string]int{}
	freq := map[string]int{}
	var lens []float64
	for _, v := range vals {
		ws := strings.Fields(v)
		n := min(len(ws), maxTextWords)
		for len(lens) <= n {
			lens = append(lens, 0)
		}
		lens[n]++
		seen := map[string]bool{}
		for _, w := range ws {
			freq[w]++
			if !seen[w] {
				seen[w] = true
				rows[w]++
			}
		}
	}
	for w, n := range rows {
		if n >= 2 {
			g.Words = append(g.Words, w)
		}
	}
	slices.Sort(g.Words)
	acc := 0.0
	for _, w := range g.Words {
		acc += float64(freq[w])
		g.WordCum = append(g.WordCum, acc)
	}
	acc = 0
	for _, n := range lens {
		acc += n
		g.LenCum = append(g.LenCum, acc)
	}
}

// genState is what generating needs per block of rows.
type genState struct {
	rng   *rand.Rand
	faker *gofakeit.Faker
	a     *arena
	buf   []byte
	salt  uint64
}

// generate returns a fresh value for global row index row of column c.
func (c *Col) generate(st *genState, row int64) (string, error) {
	if c.Kind != profile.ID && c.MissingRate > 0 && st.rng.Float64() < c.MissingRate {
		return c.Missing, nil
	}
	g := &c.Gen
	if c.Kind == profile.ID && !g.UUID {
		st.buf = append(st.buf[:0], g.Prefix...)
		num := strconv.AppendInt(nil, g.Start+row, 10)
		for k := len(num); k < g.Width; k++ {
			st.buf = append(st.buf, '0')
		}
		st.buf = append(st.buf, num...)
		st.buf = append(st.buf, g.Suffix...)
		return st.a.bytes(st.buf), nil
	}
	for range seenRetries {
		v := c.draw(st)
		if _, hit := slices.BinarySearch(g.Seen, xxhash.Sum64String(v)^st.salt); !hit {
			return v, nil
		}
	}
	return "", fmt.Errorf("column %q: %d generated values in a row equal training values: %w", c.Name, seenRetries, ErrRejected)
}

// draw makes one candidate value of column c.
func (c *Col) draw(st *genState) string {
	g, f := &c.Gen, st.faker
	switch {
	case c.Kind == profile.ID: // UUID v4 from the block's stream
		var b [16]byte
		for i := 0; i < 16; i += 8 {
			x := st.rng.Uint64()
			for k := range 8 {
				b[i+k] = byte(x >> (8 * k))
			}
		}
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		const hex = "0123456789abcdef"
		st.buf = st.buf[:0]
		for i, x := range b {
			if i == 4 || i == 6 || i == 8 || i == 10 {
				st.buf = append(st.buf, '-')
			}
			st.buf = append(st.buf, hex[x>>4], hex[x&15])
		}
		return st.a.bytes(st.buf)
	case c.Kind == profile.Text:
		return c.drawText(st)
	}
	switch c.PII {
	case profile.Email:
		return f.Email()
	case profile.PersonName:
		return f.Name()
	case profile.Address:
		return f.Address().Address
	case profile.URL:
		return f.URL()
	case profile.IP:
		if g.IPv6 {
			return f.IPv6Address()
		}
		return f.IPv4Address()
	}
	st.buf = fillShape(st.buf[:0], g.Shape, st.rng)
	switch c.PII {
	case profile.Card:
		luhnFix(st.buf)
	case profile.IBAN:
		ibanFix(st.buf)
	}
	return st.a.bytes(st.buf)
}

// fillShape writes random digits and letters into the shape's classes. A
// leading digit is never 0, so numbers keep their length when parsed.
func fillShape(buf []byte, shape string, rng *rand.Rand) []byte {
	first := true
	for i := 0; i < len(shape); i++ {
		switch ch := shape[i]; ch {
		case shapeDigit:
			d := byte(rng.IntN(10))
			if first {
				d = byte(1 + rng.IntN(9))
				first = false
			}
			buf = append(buf, '0'+d)
		case shapeUpper:
			buf = append(buf, 'A'+byte(rng.IntN(26)))
		case shapeLower:
			buf = append(buf, 'a'+byte(rng.IntN(26)))
		default:
			buf = append(buf, ch)
		}
	}
	return buf
}

// luhnFix sets the last digit of a card number so that it passes Luhn.
func luhnFix(b []byte) {
	last := -1
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] >= '0' && b[i] <= '9' {
			last = i
			break
		}
	}
	if last < 0 {
		return
	}
	sum, double := 0, true
	for i := last - 1; i >= 0; i-- {
		if b[i] < '0' || b[i] > '9' {
			continue
		}
		d := int(b[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	b[last] = '0' + byte((10-sum%10)%10)
}

// luhnValid reports whether the digits of s pass the Luhn check.
func luhnValid(s string) bool {
	sum, double, n := 0, false, 0
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] < '0' || s[i] > '9' {
			continue
		}
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
		n++
	}
	return n > 1 && sum%10 == 0
}

// ibanFix sets the two check digits (after the country code) of an IBAN
// written in b, ignoring spaces, so that it passes ISO 13616's mod-97 check.
func ibanFix(b []byte) {
	var idx []int
	for i, ch := range b {
		if ch != ' ' {
			idx = append(idx, i)
		}
	}
	if len(idx) < 5 {
		return
	}
	b[idx[2]], b[idx[3]] = '0', '0'
	r := ibanMod97(b, idx)
	check := 98 - r
	b[idx[2]], b[idx[3]] = '0'+byte(check/10), '0'+byte(check%10)
}

// ibanMod97 is the remainder of the rearranged IBAN (idx are the positions
// of its non-space characters) modulo 97.
func ibanMod97(b []byte, idx []int) int {
	r := 0
	add := func(ch byte) {
		switch {
		case ch >= '0' && ch <= '9':
			r = (r*10 + int(ch-'0')) % 97
		case ch >= 'A' && ch <= 'Z':
			r = (r*100 + int(ch-'A') + 10) % 97
		case ch >= 'a' && ch <= 'z':
			r = (r*100 + int(ch-'a') + 10) % 97
		}
	}
	for _, i := range idx[4:] {
		add(b[i])
	}
	for _, i := range idx[:4] {
		add(b[i])
	}
	return r
}

// ibanValid reports whether s (spaces allowed) passes the mod-97 check.
func ibanValid(s string) bool {
	b := []byte(s)
	var idx []int
	for i, ch := range b {
		if ch != ' ' {
			idx = append(idx, i)
		}
	}
	return len(idx) >= 5 && ibanMod97(b, idx) == 1
}

// drawText draws a word count and that many words by training frequency.
func (c *Col) drawText(st *genState) string {
	g := &c.Gen
	n := 1
	if len(g.LenCum) > 0 {
		n = searchCum(g.LenCum, st.rng.Float64()*g.LenCum[len(g.LenCum)-1])
	}
	st.buf = st.buf[:0]
	for i := range n {
		if i > 0 {
			st.buf = append(st.buf, ' ')
		}
		if len(g.Words) == 0 {
			st.buf = append(st.buf, st.faker.Word()...)
			continue
		}
		w := searchCum(g.WordCum, st.rng.Float64()*g.WordCum[len(g.WordCum)-1])
		st.buf = append(st.buf, g.Words[w]...)
	}
	return st.a.bytes(st.buf)
}

// searchCum returns the first index whose cumulative weight exceeds x.
func searchCum(cum []float64, x float64) int {
	lo, hi := 0, len(cum)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if cum[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}
