package privacy

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

// bruteNearest is the reference k-nearest-neighbour search: a full scan of
// every row of m, keeping the k (≤ 2) smallest distances.
func bruteNearest(m, q *matrix, i, k int) [2]float32 {
	best := [2]float32{float32(math.Inf(1)), float32(math.Inf(1))}
	for j := 0; j < m.n; j++ {
		d := q.dist(i, m, j)
		switch {
		case d < best[0]:
			best[1], best[0] = best[0], d
		case k > 1 && d < best[1]:
			best[1] = d
		}
	}
	if k == 1 {
		best[1] = float32(math.Inf(1))
	}
	return best
}

// randomMatrix makes n rows of coarse values so that ties, duplicate rows
// and missing cells are common, the cases where a tree search most easily
// goes wrong.
func randomMatrix(rng *rand.Rand, n, nNum, nCat int) *matrix {
	m := &matrix{n: n, nNum: nNum, nCat: nCat, num: make([]float32, n*nNum), cat: make([]int32, n*nCat)}
	for i := range m.num {
		if rng.IntN(10) == 0 {
			m.num[i] = nan32
		} else {
			m.num[i] = float32(rng.IntN(6)) / 4 // 0 .. 1.25: beyond the range too
		}
	}
	for i := range m.cat {
		m.cat[i] = int32(rng.IntN(4))
	}
	m.rehash()
	return m
}

// TestVPTreeMatchesScan checks the tree against a full scan on random
// matrices of several shapes, for k = 1 and 2: the distances must be equal
// exactly.
func TestVPTreeMatchesScan(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		n, q, nNum, nCat int
	}{
		{"numeric only", 500, 200, 3, 0},
		{"categorical only", 500, 200, 0, 4},
		{"mixed", 2000, 300, 3, 4},
		{"tiny", 3, 20, 1, 1},
		{"one row", 1, 10, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(1, 2))
			m := randomMatrix(rng, tt.n, tt.nNum, tt.nCat)
			q := randomMatrix(rng, tt.q, tt.nNum, tt.nCat)
			tree := newVPTree(m, rng)
			rows := make([]int, q.n)
			for i := range rows {
				rows[i] = i
			}
			for _, k := range []int{1, 2} {
				got, err := tree.batch(context.Background(), q, rows, k)
				if err != nil {
					t.Fatal(err)
				}
				for i := range rows {
					want := bruteNearest(m, q, i, k)
					if got[i].d[0] != want[0] || (k == 2 && got[i].d[1] != want[1]) {
						t.Fatalf("k=%d query %d: tree %v, scan %v", k, i, got[i].d, want)
					}
					if g := got[i].group[0]; g < 0 || q.dist(i, m, int(tree.g.rep[g])) != got[i].d[0] {
						t.Fatalf("k=%d query %d: group %d is not at distance %v", k, i, g, got[i].d[0])
					}
				}
			}
		})
	}
}

// TestVPTreeCancel checks that a cancelled context stops a search with its
// error.
func TestVPTreeCancel(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	m := randomMatrix(rng, 100, 2, 2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := newVPTree(m, rng).batch(ctx, m, []int{0, 1, 2}, 1); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestNeighboursPush checks the bounded neighbour list: multiplicity fills
// slots, and equal distances keep the lower group first.
func TestNeighboursPush(t *testing.T) {
	t.Parallel()
	type push struct {
		d       float32
		g, mult int32
	}
	inf := float32(math.Inf(1))
	tests := []struct {
		name   string
		k      int
		pushes []push
		d      [2]float32
		group  [2]int32
	}{
		{"one", 2, []push{{3, 5, 1}}, [2]float32{3, inf}, [2]int32{5, -1}},
		{"sorted", 2, []push{{3, 5, 1}, {1, 7, 1}, {2, 9, 1}}, [2]float32{1, 2}, [2]int32{7, 9}},
		{"multiplicity fills", 2, []push{{3, 5, 1}, {1, 7, 2}}, [2]float32{1, 1}, [2]int32{7, 7}},
		{"tie keeps lower group", 1, []push{{1, 9, 1}, {1, 4, 1}, {1, 6, 1}}, [2]float32{1, inf}, [2]int32{4, -1}},
		{"farther ignored", 1, []push{{1, 9, 1}, {2, 1, 3}}, [2]float32{1, inf}, [2]int32{9, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := neighbours{k: tt.k, d: [2]float32{inf, inf}, group: [2]int32{-1, -1}, seen: -1}
			for _, p := range tt.pushes {
				h.push(p.d, p.g, p.mult)
			}
			if h.d != tt.d || h.group != tt.group {
				t.Errorf("got %v %v, want %v %v", h.d, h.group, tt.d, tt.group)
			}
		})
	}
}
