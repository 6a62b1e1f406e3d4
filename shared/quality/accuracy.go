package quality

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"synthos.dev/synthos/shared/profile"
)

// Binning for accuracy and for the per-column distributions, following
// MOSTLY AI's quality assurance: continuous columns in (up to) accBins
// quantile bins of the real data, discrete columns as their accTop most
// frequent real categories plus "(other)", missing as a bin of its own.
const (
	accBins    = 10
	accTop     = 10
	otherLabel = "(other)"
	// DefaultTriples is how many column triples trivariate accuracy samples
	// when the table has more.
	DefaultTriples = 100
)

// accCodes are a column's accuracy-bin codes; code 0 is always missing.
type accCodes struct {
	real, syn []int32
	labels    []string
}

func makeAccCodes(c *column) accCodes {
	if c.continuous {
		return quantileCodes(c)
	}
	return topCodes(c)
}

// quantileCodes bins a continuous column at the distinct real deciles:
// bin k holds edges[k-1] <= v < edges[k], the outer bins are open so that
// synthetic values outside the real range still land somewhere.
func quantileCodes(c *column) accCodes {
	s := sortedFinite(c.real)
	var edges []float64
	for i := 1; i < accBins && len(s) > 0; i++ {
		e := s[i*len(s)/accBins]
		if e > s[0] && (len(edges) == 0 || e > edges[len(edges)-1]) {
			edges = append(edges, e)
		}
	}
	enc := func(x []float64) []int32 {
		out := make([]int32, len(x))
		for i, v := range x {
			if math.IsNaN(v) {
				continue
			}
			out[i] = 1 + int32(sort.Search(len(edges), func(k int) bool { return edges[k] > v }))
		}
		return out
	}
	format := func(v float64) string {
		if c.kind == profile.Datetime {
			sec, frac := math.Modf(v)
			return time.Unix(int64(sec), int64(frac*1e9)).UTC().Format(time.RFC3339)
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	labels := []string{missingLabel}
	switch {
	case len(s) == 0:
		labels = append(labels, "(any)")
	case len(edges) == 0:
		labels = append(labels, "≈ "+format(s[0]))
	default:
		labels = append(labels, "< "+format(edges[0]))
		for k := 1; k < len(edges); k++ {
			labels = append(labels, "["+format(edges[k-1])+", "+format(edges[k])+")")
		}
		labels = append(labels, "≥ "+format(edges[len(edges)-1]))
	}
	return accCodes{real: enc(c.real), syn: enc(c.syn), labels: labels}
}

// topCodes keeps the accTop most frequent real categories (ties broken by
// first appearance) and folds the rest, and labels only the synthetic table
// uses, into "(other)".
func topCodes(c *column) accCodes {
	counts := make([]int, len(c.labels))
	for _, v := range c.realCode {
		counts[v]++
	}
	order := make([]int32, 0, len(c.labels))
	for code := 1; code < len(c.labels); code++ {
		if counts[code] > 0 {
			order = append(order, int32(code))
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int { return cmp.Compare(counts[b], counts[a]) })
	if len(order) > accTop {
		order = order[:accTop]
	}
	other := int32(len(order) + 1)
	remap := make([]int32, len(c.labels))
	for i := range remap {
		remap[i] = other
	}
	remap[0] = 0
	labels := []string{missingLabel}
	for i, code := range order {
		remap[code] = int32(i + 1)
		labels = append(labels, c.labels[code])
	}
	labels = append(labels, otherLabel)
	enc := func(x []int32) []int32 {
		out := make([]int32, len(x))
		for i, v := range x {
			out[i] = remap[v]
		}
		return out
	}
	return accCodes{real: enc(c.realCode), syn: enc(c.synCode), labels: labels}
}

// distribution returns the share of real and synthetic rows in each bin.
func (a accCodes) distribution() Distribution {
	d := Distribution{Bins: a.labels, Real: make([]float64, len(a.labels)), Synthetic: make([]float64, len(a.labels))}
	share := func(dst []float64, codes []int32) {
		if len(codes) == 0 {
			return
		}
		w := 1 / float64(len(codes))
		for _, v := range codes {
			dst[v] += w
		}
	}
	share(d.Real, a.real)
	share(d.Synthetic, a.syn)
	return d
}

// triples returns up to n distinct column triples (i<j<k) of m columns: all
// of them when there are at most n, otherwise a sample drawn with rng.
func triples(m, n int, rng *rand.Rand) [][3]int {
	var all [][3]int
	total := m * (m - 1) * (m - 2) / 6
	if total <= 0 || n <= 0 {
		return nil
	}
	if total <= max(n, 20000) {
		for i := 0; i < m; i++ {
			for j := i + 1; j < m; j++ {
				for k := j + 1; k < m; k++ {
					all = append(all, [3]int{i, j, k})
				}
			}
		}
		if len(all) <= n {
			return all
		}
		rng.Shuffle(len(all), func(a, b int) { all[a], all[b] = all[b], all[a] })
		out := all[:n]
		slices.SortFunc(out, cmpTriple)
		return out
	}
	seen := map[[3]int]bool{}
	for len(all) < n {
		t := [3]int{rng.IntN(m), rng.IntN(m), rng.IntN(m)}
		slices.Sort(t[:])
		if t[0] == t[1] || t[1] == t[2] || seen[t] {
			continue
		}
		seen[t] = true
		all = append(all, t)
	}
	slices.SortFunc(all, cmpTriple)
	return all
}

func cmpTriple(a, b [3]int) int {
	for i := range a {
		if c := cmp.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// accuracy1 is 1 − TVD of one column's accuracy bins.
func accuracy1(a accCodes) float64 {
	return 1 - jointTVD([][]int32{a.real}, [][]int32{a.syn}, []int{len(a.labels)})
}

// accuracy2 is 1 − TVD of two columns' joint accuracy bins.
func accuracy2(a, b accCodes) float64 {
	return 1 - jointTVD([][]int32{a.real, b.real}, [][]int32{a.syn, b.syn}, []int{len(a.labels), len(b.labels)})
}

// accuracy3 is 1 − TVD of three columns' joint accuracy bins.
func accuracy3(a, b, c accCodes) float64 {
	return 1 - jointTVD([][]int32{a.real, b.real, c.real}, [][]int32{a.syn, b.syn, c.syn},
		[]int{len(a.labels), len(b.labels), len(c.labels)})
}
