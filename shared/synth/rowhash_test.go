package synth

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// TestRowHashMatchesXXHash checks rowHash against xxhash.Sum64 of the
// modelled cells joined with sep (how trainingHashes hashes a training
// row) on rows of every length class: empty cells, cells shorter and
// longer than a word, rows under and over one 32-byte stripe and rows too
// long for hashBuf.
func TestRowHashMatchesXXHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	buf := new(hashBuf)
	for trial := range 20000 {
		ncol := 1 + rng.IntN(24)
		s := &Schema{Salt: rng.Uint64()}
		row := make([]string, ncol+2)
		for j := range ncol {
			if rng.IntN(4) != 0 {
				s.Modelled = append(s.Modelled, j+1)
			}
		}
		var want []byte
		for j := range row {
			n := rng.IntN(12)
			if rng.IntN(8) == 0 {
				n = rng.IntN(80)
			}
			if trial%50 == 0 {
				n = rng.IntN(300) // rows past hashBuf: rowHashLong
			}
			var b strings.Builder
			for range n {
				b.WriteByte(byte(rng.IntN(256)))
			}
			// A cell cut from a longer string, as arena cells are.
			row[j] = (b.String() + "tail")[:n]
		}
		for _, j := range s.Modelled {
			want = append(want, row[j]...)
			want = append(want, sep...)
		}
		if got, w := s.rowHash(buf, row), xxhash.Sum64(want)^s.Salt; got != w {
			t.Fatalf("trial %d: rowHash %x, xxhash of the joined cells %x (cells %q, modelled %v)", trial, got, w, row, s.Modelled)
		}
	}
}

func BenchmarkRowHash(b *testing.B) {
	row := []string{"39", "State-gov", "77516", "Bachelors", "13", "Never-married", "Adm-clerical", "Not-in-family", "White", "Male", "2174", "0", "40", "United-States", "<=50K"}
	s := &Schema{}
	for j := range row {
		s.Modelled = append(s.Modelled, j)
	}
	var x uint64
	buf := new(hashBuf)
	for b.Loop() {
		x += s.rowHash(buf, row)
	}
	_ = x
}
