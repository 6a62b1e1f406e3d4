package profile

import (
	"fmt"
	"strings"
	"testing"
)

// TestCellIndex: the index finds every cell it holds, of every length
// (those of at most 16 bytes by their words alone, longer ones that share
// their first and last 8 bytes by their bytes), and no other, through its
// growth.
func TestCellIndex(t *testing.T) {
	cells := []string{""}
	for n := 1; n < 40; n++ {
		cells = append(cells, strings.Repeat("a", n), strings.Repeat("b", n))
		if n >= 3 {
			// Differs from the run of a's in one middle byte.
			cells = append(cells, strings.Repeat("a", n/2)+"z"+strings.Repeat("a", n-n/2-1))
		}
	}
	for i := range 3000 {
		cells = append(cells, fmt.Sprint(i), fmt.Sprintf("prefix-%d-suffix-value", i))
	}
	var x cellIndex
	for i, c := range cells {
		if x.get(c) != nil {
			t.Fatalf("%q found before it was put", c)
		}
		x.put(c, &cellVal{id: int32(i), raw: c})
		for _, k := range []int{0, i / 2, i} {
			if cv := x.get(cells[k]); cv == nil || cv.id != int32(k) {
				t.Fatalf("after %d puts, %q gives %+v, want id %d", i+1, cells[k], cv, k)
			}
		}
	}
	for _, miss := range []string{"c", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "prefix-1-suffix-valuf", "3000", "azaaa"} {
		if cv := x.get(miss); cv != nil {
			t.Errorf("%q found as %q", miss, cv.raw)
		}
	}
	if x.len() != len(cells) {
		t.Errorf("len %d, want %d", x.len(), len(cells))
	}
}
