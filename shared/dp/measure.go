package dp

import (
	"fmt"
	"math"
)

// mst runs the three measured steps of MST and the estimation.
func (f *fitter) mst() error {
	attrs := f.m.Attrs
	d := len(attrs)
	n := len(f.t.Rows)
	rho := f.plan.rhoMST / 3
	if f.oneWayCount() == 0 {
		// Every 1-way marginal comes from the domain step: selection and
		// the 2-way marginals share the 1-way third.
		rho = f.plan.rhoMST / 2
	}

	// Fine codes of every row.
	fine := make([][]int32, d)
	for i := range attrs {
		b := newBinner(&attrs[i])
		col := make([]int32, n)
		for r, row := range f.t.Rows {
			col[r] = int32(b.bin(row[attrs[i].Source]))
		}
		fine[i] = col
	}
	if err := f.ctx.Err(); err != nil {
		return err
	}

	// Step 1: 1-way marginals. d1 measurements of sensitivity 1 share rho,
	// so each has variance d1/(2 rho) (MST's sigma*sqrt(d)). A categorical
	// column whose categories were discovered is not measured again: the
	// domain step's noisy histogram is its 1-way marginal (fromDomain).
	d1 := f.oneWayCount()
	var g1 *DiscreteGaussian
	if d1 > 0 {
		var err error
		if g1, err = NewDiscreteGaussian(float64(d1) / (2 * rho)); err != nil {
			return err
		}
		f.steps = append(f.steps, Step{Name: "1-way marginals", Rho: float64(d1) * g1.Rho(), Sigma2: g1.Sigma2(), Count: d1})
	}
	one := make([]measurement, d)
	comp := make([][]int32, d)
	for i := range attrs {
		a := &attrs[i]
		var back []int32
		if f.fromDomain(i) {
			one[i], back = f.domainMarginal(i)
		} else {
			counts := make([]int64, a.fine())
			for _, k := range fine[i] {
				counts[k]++
			}
			if err := g1.AddNoise(counts); err != nil {
				return err
			}
			one[i], back = compress(a, counts, g1.Sigma2(), !f.publicBounds(a))
		}
		c := make([]int32, n)
		for r, fb := range fine[i] {
			c[r] = back[fb]
		}
		comp[i] = c
	}
	if err := f.ctx.Err(); err != nil {
		return err
	}

	// Step 2: select a spanning tree.
	edges, err := f.selectTree(comp, one, rho)
	if err != nil {
		return err
	}

	// Step 3: measure the chosen 2-way marginals.
	two := make([]measurement, len(edges))
	if len(edges) > 0 {
		g2, err := NewDiscreteGaussian(float64(len(edges)) / (2 * rho))
		if err != nil {
			return err
		}
		f.steps = append(f.steps, Step{Name: "2-way marginals", Rho: float64(len(edges)) * g2.Rho(), Sigma2: g2.Sigma2(), Count: len(edges)})
		for e, ed := range edges {
			counts := pairCounts(comp[ed[0]], comp[ed[1]], len(attrs[ed[1]].Groups), len(attrs[ed[0]].Groups))
			if err := g2.AddNoise(counts); err != nil {
				return err
			}
			y := make([]float64, len(counts))
			v := make([]float64, len(counts))
			for k, c := range counts {
				y[k], v[k] = float64(c), g2.Sigma2()
			}
			two[e] = measurement{Y: y, Var: v}
		}
	}
	f.estimate(one, edges, two)
	return nil
}

// compress re-expresses a noisy 1-way measurement over the compressed
// domain and returns the map from fine bins to compressed bins by which the
// data are counted in the 2-way step. It is post-processing of the noisy
// counts. Categorical and boolean columns follow MST's compress_domain:
// fine bins whose noisy count is at least compressThreshold sigma keep a bin
// each, the others are merged into one bin whose measurement is their sum,
// of variance (their number) sigma². Numeric and datetime columns use
// compressRange instead.
func compress(a *Attr, counts []int64, sigma2 float64, trim bool) (measurement, []int32) {
	if a.isNumber() {
		return compressRange(a, counts, sigma2, trim)
	}
	thr := compressThreshold * math.Sqrt(sigma2)
	var m measurement
	var rare []int
	rareSum := 0.0
	a.Groups = a.Groups[:0]
	for k, c := range counts {
		if float64(c) >= thr {
			a.Groups = append(a.Groups, []int{k})
			m.Y = append(m.Y, float64(c))
			m.Var = append(m.Var, sigma2)
			continue
		}
		rare = append(rare, k)
		rareSum += float64(c)
	}
	if len(rare) > 0 {
		a.Groups = append(a.Groups, rare)
		m.Y = append(m.Y, rareSum)
		m.Var = append(m.Var, float64(len(rare))*sigma2)
	}
	return m, backMap(a, nil)
}

// domainMarginal is the 1-way measurement of a categorical column whose
// categories the domain step released, read from that step's outputs
// alone (post-processing): each released level's noisy count, the missing
// cells' noisy count, and for OtherBin the noisy row count less both. Bins
// whose estimate is under compressThreshold of their own deviation are
// merged into one, as in compress.
func (f *fitter) domainMarginal(i int) (measurement, []int32) {
	a := &f.m.Attrs[i]
	y := make([]float64, a.fine())
	v := make([]float64, a.fine())
	other := f.plan.rows
	for k, c := range f.levelCounts[i] {
		y[k], v[k] = float64(c), f.levelSigma2
		other -= float64(c)
	}
	ob := a.otherBin()
	v[ob] = f.plan.rowsSigma2 + float64(len(a.Levels))*f.levelSigma2
	if mb := a.missingBin(); mb >= 0 {
		y[mb], v[mb] = float64(f.missingCounts[a.Source]), f.levelSigma2
		other -= y[mb]
		v[ob] += f.levelSigma2
	}
	y[ob] = other
	var m measurement
	var rare []int
	rareSum, rareVar := 0.0, 0.0
	a.Groups = a.Groups[:0]
	for k := range y {
		if y[k] >= compressThreshold*math.Sqrt(v[k]) {
			a.Groups = append(a.Groups, []int{k})
			m.Y = append(m.Y, y[k])
			m.Var = append(m.Var, v[k])
			continue
		}
		rare = append(rare, k)
		rareSum += y[k]
		rareVar += v[k]
	}
	if len(rare) > 0 {
		a.Groups = append(a.Groups, rare)
		m.Y = append(m.Y, rareSum)
		m.Var = append(m.Var, rareVar)
	}
	return m, backMap(a, nil)
}

// backMap inverts a.Groups; dead lists fine bins in no group with the group
// that counts them.
func backMap(a *Attr, dead map[int]int) []int32 {
	back := make([]int32, a.fine())
	for k, grp := range a.Groups {
		for _, fb := range grp {
			back[fb] = int32(k)
		}
	}
	for fb, k := range dead {
		back[fb] = int32(k)
	}
	return back
}

// compressRange compresses a numeric or datetime column's value bins in
// two steps that keep bins contiguous, so that a merged bin decompresses to
// an interval rather than to values scattered over the range (MST's merge of
// every rare bin into one would spread their mass evenly over the range):
//
//  1. trim (private bounds only: public ones are the user's word): the
//     value bins at either end that look empty are cut (the rule is in the
//     code); their rows count in the nearest kept bin and the model never draws
//     them. This is what keeps a 1/2 column from growing 3s and 4s when its
//     private range is [1, 4], and a datetime column inside the months it
//     spans;
//  2. merge: a bin whose noisy count reaches compressThreshold sigma keeps
//     a group of its own, as in MST; each run of rarer bins between them
//     is cut, from the low end, into groups whose noisy sums reach it (the
//     last may fall short).
//
// The missing bin, when the column has one, keeps a group of its own.
func compressRange(a *Attr, counts []int64, sigma2 float64, trim bool) (measurement, []int32) {
	sigma := math.Sqrt(sigma2)
	vb := a.valueBins()
	// One bin per integer: an end bin is a value the data may not hold at
	// all (a 1/2 column's private range is [1, 4]); it goes while its own
	// count is under 2 sigma. Interval bins: an end bin goes while it, and
	// everything cut so far with it, stays under 1 sigma, so that what is
	// cut looks like no data at all and a thin real tail is kept.
	perValue := a.perValue()
	z := 1.0
	if perValue {
		z = 2
	}
	lo, hi := 0, vb-1
	if trim {
		cut := 0.0
		for lo < hi && float64(counts[lo]) < z*sigma && (perValue || cut+float64(counts[lo]) < z*sigma) {
			cut += float64(counts[lo])
			lo++
		}
		cut = 0
		for hi > lo && float64(counts[hi]) < z*sigma && (perValue || cut+float64(counts[hi]) < z*sigma) {
			cut += float64(counts[hi])
			hi--
		}
	}
	thr := compressThreshold * sigma
	var m measurement
	a.Groups = a.Groups[:0]
	var run []int
	acc := 0.0
	flush := func() {
		if len(run) > 0 {
			a.Groups = append(a.Groups, run)
			m.Y = append(m.Y, acc)
			m.Var = append(m.Var, float64(len(run))*sigma2)
		}
		run, acc = nil, 0
	}
	for k := lo; k <= hi; k++ {
		c := float64(counts[k])
		if c >= thr {
			flush()
			a.Groups = append(a.Groups, []int{k})
			m.Y = append(m.Y, c)
			m.Var = append(m.Var, sigma2)
			continue
		}
		run = append(run, k)
		acc += c
		if acc >= thr {
			flush()
		}
	}
	flush()
	dead := map[int]int{}
	for k := 0; k < lo; k++ {
		dead[k] = 0
	}
	for k := hi + 1; k < vb; k++ {
		dead[k] = len(a.Groups) - 1
	}
	if mb := a.missingBin(); mb >= 0 {
		a.Groups = append(a.Groups, []int{mb})
		m.Y = append(m.Y, float64(counts[mb]))
		m.Var = append(m.Var, sigma2)
	}
	return m, backMap(a, dead)
}

// pairCounts is the contingency table of two code columns, row-major with
// nb columns.
func pairCounts(x, y []int32, nb, na int) []int64 {
	out := make([]int64, na*nb)
	for r := range x {
		out[int(x[r])*nb+int(y[r])]++
	}
	return out
}

// selectPenalty switches on AIM's noise penalty in selectTree.
var selectPenalty = true

// selectTree is MST's select: d-1 rounds of the exponential mechanism over
// the pairs that join two components, each eps = sqrt(8 rho/(d-1)) so that
// they compose to rho. A pair's score is the L1 distance between its true
// 2-way marginal and the product of the noisy 1-way estimates; adding or
// removing a row moves it by at most 1.
func (f *fitter) selectTree(comp [][]int32, one []measurement, rho float64) ([][2]int, error) {
	d := len(comp)
	if d < 2 {
		return nil, nil
	}
	total := estimateTotal(one, nil)
	p := make([][]float64, d)
	for i := range one {
		p[i] = projectSimplex(one[i].Y, total)
	}
	type pair struct {
		a, b  int
		score float64
	}
	// AIM's (McKenna et al. 2022) correction: measuring a pair pays off by
	// the error it removes minus the noise it adds, whose expected L1 size
	// is sqrt(2/pi) sigma per cell. The penalty is public, so the score
	// keeps sensitivity 1.
	noisePenalty := 0.0
	if selectPenalty {
		noisePenalty = math.Sqrt(2/math.Pi) * math.Sqrt(float64(d-1)/(2*rho))
	}
	var cand []pair
	for a := 0; a < d; a++ {
		if err := f.ctx.Err(); err != nil {
			return nil, err
		}
		for b := a + 1; b < d; b++ {
			na, nb := len(p[a]), len(p[b])
			x := pairCounts(comp[a], comp[b], nb, na)
			s := 0.0
			for i := range na {
				for j := range nb {
					s += math.Abs(float64(x[i*nb+j]) - p[a][i]*p[b][j]/total)
				}
			}
			cand = append(cand, pair{a, b, s - noisePenalty*float64(na*nb)})
		}
	}
	eps := math.Sqrt(8 * rho / float64(d-1))
	f.steps = append(f.steps, Step{Name: "tree selection", Rho: float64(d-1) * ExponentialRho(eps), Epsilon: eps, Count: d - 1})
	comps := make([]int, d)
	for i := range comps {
		comps[i] = i
	}
	var root func(int) int
	root = func(i int) int {
		for comps[i] != i {
			comps[i] = comps[comps[i]]
			i = comps[i]
		}
		return i
	}
	var edges [][2]int
	for range d - 1 {
		var live []pair
		var scores []float64
		for _, c := range cand {
			if root(c.a) != root(c.b) {
				live = append(live, c)
				scores = append(scores, c.score)
			}
		}
		k, err := Exponential(scores, eps, 1)
		if err != nil {
			return nil, fmt.Errorf("tree selection: %w", err)
		}
		e := live[k]
		comps[root(e.a)] = root(e.b)
		edges = append(edges, [2]int{e.a, e.b})
	}
	return edges, nil
}

// estimateTotal is the inverse-variance weighted estimate of the number of
// rows from the sums of the 1-way and 2-way measurements, at least 1.
func estimateTotal(one, two []measurement) float64 {
	num, den := 0.0, 0.0
	for _, ms := range [][]measurement{one, two} {
		for _, m := range ms {
			s, v := 0.0, 0.0
			for k := range m.Y {
				s += m.Y[k]
				v += m.Var[k]
			}
			num += s / v
			den += 1 / v
		}
	}
	return math.Max(num/den, 1)
}

// estimate builds the consistent tree model from the measurements (see
// estimate.go) and orients it from attribute 0.
func (f *fitter) estimate(one []measurement, edges [][2]int, two []measurement) {
	m := f.m
	d := len(m.Attrs)
	total := estimateTotal(one, two)
	// 1-way: own measurement plus the margins of incident edge measurements.
	obs := make([][]measurement, d)
	for i := range one {
		obs[i] = []measurement{one[i]}
	}
	for e, ed := range edges {
		a, b := ed[0], ed[1]
		na, nb := len(m.Attrs[a].Groups), len(m.Attrs[b].Groups)
		ra, rb := measurement{Y: make([]float64, na), Var: make([]float64, na)}, measurement{Y: make([]float64, nb), Var: make([]float64, nb)}
		for i := range na {
			for j := range nb {
				ra.Y[i] += two[e].Y[i*nb+j]
				ra.Var[i] += two[e].Var[i*nb+j]
				rb.Y[j] += two[e].Y[i*nb+j]
				rb.Var[j] += two[e].Var[i*nb+j]
			}
		}
		obs[a] = append(obs[a], ra)
		obs[b] = append(obs[b], rb)
	}
	m.Marginal = make([][]float64, d)
	for i := range d {
		m.Marginal[i] = projectSimplex(combine(obs[i]), total)
	}
	// Orient the tree from attribute 0 by breadth-first search.
	adj := make([][]int, d)
	for e, ed := range edges {
		adj[ed[0]] = append(adj[ed[0]], e)
		adj[ed[1]] = append(adj[ed[1]], e)
	}
	m.Parent = make([]int, d)
	m.Tables = make([][]float64, d)
	for i := range m.Parent {
		m.Parent[i] = -1
	}
	seen := make([]bool, d)
	m.Order = m.Order[:0]
	for start := range d {
		if seen[start] {
			continue
		}
		seen[start] = true
		queue := []int{start}
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			m.Order = append(m.Order, u)
			for _, e := range adj[u] {
				a, b := edges[e][0], edges[e][1]
				v := b
				if v == u {
					v = a
				}
				if seen[v] {
					continue
				}
				seen[v] = true
				queue = append(queue, v)
				m.Parent[v] = u
				y := two[e].Y
				if a != u {
					y = transpose(y, len(m.Attrs[a].Groups), len(m.Attrs[b].Groups))
				}
				m.Tables[v] = fitTable(y, m.Marginal[u], m.Marginal[v])
			}
		}
	}
}

// transpose returns the nb×na transpose of a row-major na×nb table.
func transpose(y []float64, na, nb int) []float64 {
	out := make([]float64, len(y))
	for i := range na {
		for j := range nb {
			out[j*na+i] = y[i*nb+j]
		}
	}
	return out
}
