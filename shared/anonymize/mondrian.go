package anonymize

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// KAnonymity reports the equivalence classes Mondrian made.
type KAnonymity struct {
	K         int      `json:"k"`
	L         int      `json:"l"`
	Quasi     []string `json:"quasi"`
	Sensitive []string `json:"sensitive,omitempty"`
	Classes   int      `json:"classes"`
	MinClass  int      `json:"min_class_size"`
	// MinDiversity is the fewest distinct values of a sensitive column in
	// a class.
	MinDiversity   int `json:"min_diversity,omitempty"`
	SuppressedRows int `json:"suppressed_rows"`
	// Discernibility is Σ|E|² over the classes plus rows·suppressed (each
	// suppressed row is indistinguishable from all); GIL is the
	// generalised information loss in [0, 1]: the mean over rows and
	// quasi-identifiers of a cell's generalised width (range over the
	// column's range; categories covered minus one over the column's
	// distinct values minus one).
	Discernibility float64 `json:"discernibility"`
	GIL            float64 `json:"gil"`
}

// qiCol is one quasi-identifier column held for partitioning: numbers, or
// category ranks (most frequent first) with their values.
type qiCol struct {
	name    string
	numeric bool
	num     []float64 // per row; NaN when missing
	rank    []int32   // per row, categorical
	values  []string  // rank -> value
	lo, hi  float64   // numeric domain
	ndomain int
}

func newQICol(name string, cells []string) *qiCol {
	c := &qiCol{name: name, numeric: true, num: make([]float64, len(cells))}
	seen := 0
	for i, s := range cells {
		s = strings.TrimSpace(s)
		if s == "" {
			c.num[i] = math.NaN()
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			c.numeric = false
			break
		}
		c.num[i] = v
		seen++
	}
	if c.numeric && seen > 0 {
		c.lo, c.hi = math.Inf(1), math.Inf(-1)
		for _, v := range c.num {
			if v == v {
				c.lo, c.hi = min(c.lo, v), max(c.hi, v)
			}
		}
		return c
	}
	c.numeric, c.num = false, nil
	freq := map[string]int{}
	for _, s := range cells {
		freq[strings.TrimSpace(s)]++
	}
	for v := range freq {
		c.values = append(c.values, v)
	}
	sort.Slice(c.values, func(i, j int) bool {
		a, b := c.values[i], c.values[j]
		return freq[a] > freq[b] || freq[a] == freq[b] && a < b
	})
	idx := map[string]int32{}
	for r, v := range c.values {
		idx[v] = int32(r)
	}
	c.rank = make([]int32, len(cells))
	for i, s := range cells {
		c.rank[i] = idx[strings.TrimSpace(s)]
	}
	c.ndomain = len(c.values)
	return c
}

func (c *qiCol) key(i int32) float64 {
	if c.numeric {
		if v := c.num[i]; v == v {
			return v
		}
		return math.Inf(-1)
	}
	return float64(c.rank[i])
}

// span is the share of the column's domain the rows cover.
func (c *qiCol) span(rows []int32) float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, i := range rows {
		k := c.key(i)
		lo, hi = min(lo, k), max(hi, k)
	}
	if c.numeric {
		if c.hi <= c.lo || math.IsInf(lo, -1) {
			return 0
		}
		return (hi - lo) / (c.hi - c.lo)
	}
	if c.ndomain <= 1 {
		return 0
	}
	distinct := map[int32]bool{}
	for _, i := range rows {
		distinct[c.rank[i]] = true
	}
	return float64(len(distinct)-1) / float64(c.ndomain-1)
}

// label is the generalised value of the rows: the value, a "lo-hi" range,
// or the set of categories joined by '|' (Suppressed for the whole domain).
func (c *qiCol) label(rows []int32) string {
	if c.numeric {
		lo, hi, miss := math.Inf(1), math.Inf(-1), false
		for _, i := range rows {
			if v := c.num[i]; v == v {
				lo, hi = min(lo, v), max(hi, v)
			} else {
				miss = true
			}
		}
		var s string
		switch {
		case math.IsInf(lo, 1):
			return ""
		case lo == hi:
			s = strconv.FormatFloat(lo, 'f', -1, 64)
		default:
			s = strconv.FormatFloat(lo, 'f', -1, 64) + "-" + strconv.FormatFloat(hi, 'f', -1, 64)
		}
		if miss {
			s += "|"
		}
		return s
	}
	set := map[int32]bool{}
	for _, i := range rows {
		set[c.rank[i]] = true
	}
	if len(set) == c.ndomain && c.ndomain > 1 {
		return Suppressed
	}
	vals := make([]string, 0, len(set))
	for r := range set {
		vals = append(vals, c.values[r])
	}
	slices.Sort(vals)
	return strings.Join(vals, "|")
}

// mondrian partitions rows so that every class has at least k rows and at
// least l distinct values of every sensitive column (distinct l-diversity),
// by LeFevre, DeWitt and Ramakrishnan's multidimensional strict partitioning
// (ICDE 2006): split the partition at the median of the quasi-identifier
// with the widest normalised span, trying the next widest when a side would
// break k or l, until no split is allowed.
func mondrian(qis []*qiCol, sens [][]int32, n, k, l int) [][]int32 {
	all := make([]int32, n)
	for i := range all {
		all[i] = int32(i)
	}
	ok := func(rows []int32) bool {
		if len(rows) < k {
			return false
		}
		for _, s := range sens {
			seen := map[int32]bool{}
			for _, i := range rows {
				seen[s[i]] = true
				if len(seen) >= l {
					break
				}
			}
			if len(seen) < l {
				return false
			}
		}
		return true
	}
	if !ok(all) {
		return nil // the whole table cannot be k-anonymous and l-diverse: suppress it
	}
	var classes [][]int32
	stack := [][]int32{all}
	for len(stack) > 0 {
		part := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		order := make([]int, len(qis))
		spans := make([]float64, len(qis))
		for d := range qis {
			order[d], spans[d] = d, qis[d].span(part)
		}
		sort.SliceStable(order, func(a, b int) bool { return spans[order[a]] > spans[order[b]] })
		split := false
		for _, d := range order {
			if spans[d] == 0 {
				break
			}
			c := qis[d]
			sorted := slices.Clone(part)
			sort.Slice(sorted, func(a, b int) bool { return c.key(sorted[a]) < c.key(sorted[b]) })
			med := c.key(sorted[(len(sorted)-1)/2])
			// Rows at the median value go left; if that leaves the right
			// too small, they go right instead.
			cut := sort.Search(len(sorted), func(i int) bool { return c.key(sorted[i]) > med })
			if len(sorted)-cut < k {
				cut = sort.Search(len(sorted), func(i int) bool { return c.key(sorted[i]) >= med })
			}
			left, right := sorted[:cut], sorted[cut:]
			if ok(left) && ok(right) {
				stack = append(stack, left, right)
				split = true
				break
			}
		}
		if !split {
			classes = append(classes, part)
		}
	}
	return classes
}

// measure fills the report's class statistics and information loss.
func measure(rep *KAnonymity, qis []*qiCol, sens [][]int32, classes [][]int32, n int) {
	rep.Classes = len(classes)
	rep.MinClass, rep.MinDiversity = n, 0
	var gil float64
	for ci, cl := range classes {
		rep.MinClass = min(rep.MinClass, len(cl))
		rep.Discernibility += float64(len(cl)) * float64(len(cl))
		for _, s := range sens {
			seen := map[int32]bool{}
			for _, i := range cl {
				seen[s[i]] = true
			}
			if ci == 0 && rep.MinDiversity == 0 || len(seen) < rep.MinDiversity {
				rep.MinDiversity = len(seen)
			}
		}
		for _, c := range qis {
			gil += c.span(cl) * float64(len(cl))
		}
	}
	if len(classes) == 0 {
		rep.MinClass = 0
	}
	rep.Discernibility += float64(rep.SuppressedRows) * float64(n)
	gil += float64(rep.SuppressedRows * len(qis)) // a suppressed cell loses everything
	if n > 0 && len(qis) > 0 {
		rep.GIL = gil / float64(n*len(qis))
	}
}
