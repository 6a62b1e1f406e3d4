package synth

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/brianvoe/gofakeit/v7"
	"github.com/cespare/xxhash/v2"

	"synthos.dev/synthos/shared/pii"
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
	// PII columns: the kind and layout values are generated in (package pii).
	PII pii.Spec
	// Keys: the format and, for numbered keys, the first number above
	// every training key.
	ID pii.IDFormat

	// Free text: words and cumulative weights; cumulative weights of the
	// number of words per cell (index = count).
	Words   []string
	WordCum []float64
	LenCum  []float64

	Seen []uint64 // sorted salted hashes of training values
}

const (
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
		return g.fitID(pc.IDFormat, vals, salt)
	case profile.Text:
		g.fitText(vals)
		return nil
	}
	pattern := pc.Pattern
	if pattern == "" && pii.Shaped(pc.PII) {
		pattern = pii.InferPattern(vals, pc.PII)
	}
	spec, err := pii.NewSpec(pc.PII, pattern)
	if err != nil {
		return fmt.Errorf("column %q: %w: %w", pc.Name, err, ErrInvalid)
	}
	if pc.PII == profile.IP {
		for _, v := range vals {
			spec.IPv6 = strings.Contains(v, ":")
			break
		}
	}
	g.PII = spec
	return nil
}

// fitID parses the profile's key format (or infers one from vals) and
// makes numbered keys start above every training key, so fresh keys never
// repeat one.
func (g *Generator) fitID(format string, vals []string, salt uint64) error {
	if format == "" {
		format = pii.InferIDFormat(vals)
		if format == "" {
			format = "%d"
		}
	}
	id, err := pii.ParseIDFormat(format)
	if err != nil {
		return fmt.Errorf("%w: %w", err, ErrInvalid)
	}
	id.Continue(vals)
	id.Seed(salt)
	g.ID = id
	return nil
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
	if c.Kind == profile.ID {
		st.buf = g.ID.Append(st.buf[:0], row, st.rng)
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
	if c.Kind == profile.Text {
		return c.drawText(st)
	}
	st.buf = c.Gen.PII.Append(st.buf[:0], st.rng, st.faker)
	return st.a.bytes(st.buf)
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
