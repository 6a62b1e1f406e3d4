package parallel

import "testing"

func TestEach(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 2, 7, 100} {
		got := make([]int, n)
		Each(n, func(k int) { got[k] += k + 1 })
		for k, v := range got {
			if v != k+1 {
				t.Fatalf("n=%d: piece %d got %d, want %d (called once)", n, k, v, k+1)
			}
		}
	}
}
