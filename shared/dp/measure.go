package dp

import (
	"fmt"
	"math"
	"slices"

	"synthos.dev/synthos/shared/relations"
)

// mst runs the three measured steps of MST and the estimation.
func (f *fitter) mst() error {
	attrs := f.m.Attrs
	d := len(attrs)
	n := len(f.t.Rows)
	rho1, rhoSel, rho2 := f.plan.rho1, f.plan.rhoSel, f.plan.rho2

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
		if g1, err = NewDiscreteGaussian(float64(d1) / (2 * rho1)); err != nil {
			return err
		}
		f.steps = append(f.steps, Step{Name: "1-way marginals", Rho: float64(d1) * g1.Rho(), Sigma2: g1.Sigma2(), Count: d1})
	}
	one := make([]measurement, d)
	comp := make([][]int32, d)
	noisy := make([][]int64, d) // the 1-way step's noisy fine counts
	recode := func(i int, back []int32) {
		c := make([]int32, n)
		for r, fb := range fine[i] {
			c[r] = back[fb]
		}
		comp[i] = c
	}
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
			noisy[i] = slices.Clone(counts)
			one[i], back = compress(a, counts, g1.Sigma2(), !f.publicBounds(a), f.ownLevels(a))
		}
		recode(i, back)
	}
	if err := f.ctx.Err(); err != nil {
		return err
	}

	// Steps 2 and 3, pair by pair: select a pair of the spanning tree and
	// measure its 2-way marginal, until a measured pair shows no more
	// dependence than its own noise (selectAndMeasure). The budget of the
	// rounds not run measures the 1-way marginals again.
	edges, two, run, err := f.selectAndMeasure(comp, one, rhoSel, rho2)
	if err != nil {
		return err
	}
	if d < 2 || run == d-1 {
		f.estimate(one, nil, edges, two)
		return nil
	}
	spare := (rhoSel + rho2) * float64(d-1-run) / float64(d-1)
	if d1 == 0 || len(edges) > 0 {
		// The kept pairs were measured on the compressed bins: measure
		// those again.
		extra, err := f.remeasure(comp, spare)
		if err != nil {
			return err
		}
		f.estimate(one, extra, edges, two)
		return nil
	}
	// No pair kept: measure the fine bins again and compress the combined
	// counts afresh, to finer bins than the first measurement alone allows.
	g, err := NewDiscreteGaussian(float64(d1) / (2 * spare))
	if err != nil {
		return err
	}
	f.steps = append(f.steps, Step{Name: "1-way marginals, again", Rho: float64(d1) * g.Rho(), Sigma2: g.Sigma2(), Count: d1,
		Note: "the budget of the pairs not measured"})
	w1, w2 := 1/g1.Sigma2(), 1/g.Sigma2()
	for i := range attrs {
		if f.fromDomain(i) {
			continue
		}
		a := &attrs[i]
		counts := make([]int64, a.fine())
		for _, k := range fine[i] {
			counts[k]++
		}
		if err := g.AddNoise(counts); err != nil {
			return err
		}
		for k := range counts {
			counts[k] = int64(math.Round((float64(noisy[i][k])*w1 + float64(counts[k])*w2) / (w1 + w2)))
		}
		var back []int32
		one[i], back = compress(a, counts, 1/(w1+w2), !f.publicBounds(a), f.ownLevels(a))
		recode(i, back)
	}
	f.estimate(one, nil, nil, nil)
	return nil
}

// selectAndMeasure is MST's select and measure, interleaved: up to d-1
// rounds, each an exponential mechanism over the pairs that join two
// components (eps = sqrt(8 rhoSel/(d-1))) and then the chosen pair's 2-way
// marginal with discrete Gaussian noise (rho2/(d-1)), so that d-1 rounds
// compose to rhoSel + rho2 as in MST. A pair's score is the L1 distance
// between its true 2-way marginal and the product of the noisy 1-way
// estimates (sensitivity 1) less AIM's expected noise of measuring it.
// After each measurement a function of noisy outputs alone decides whether
// the pair was worth it: whether its noisy L1 distance from the 1-way
// product exceeds the L1 distance the noise alone shows on average. The
// first pair that was not ends the rounds and is dropped: the pairs left
// score below it, and would add noise rather than structure (on credit,
// 800 rows at epsilon 1, the first pair already fails, and the budget of
// the rounds not run goes back to the 1-way marginals). It returns the
// kept edges, their measurements and the number of rounds run.
func (f *fitter) selectAndMeasure(comp [][]int32, one []measurement, rhoSel, rho2 float64) ([][2]int, []measurement, int, error) {
	d := len(comp)
	if d < 2 {
		return nil, nil, 0, nil
	}
	attrs := f.m.Attrs
	total := estimateTotal(one, nil)
	p := make([][]float64, d)
	for i := range one {
		p[i] = projectSimplex(one[i].Y, total)
	}
	g2, err := NewDiscreteGaussian(float64(d-1) / (2 * rho2))
	if err != nil {
		return nil, nil, 0, err
	}
	// AIM's (McKenna et al. 2022) correction: measuring a pair pays off by
	// the error it removes minus the noise it adds, whose expected L1 size
	// is sqrt(2/pi) sigma per cell. It is public, so the score keeps
	// sensitivity 1.
	perCell := math.Sqrt(2/math.Pi) * math.Sqrt(g2.Sigma2())
	noisePenalty := 0.0
	if selectPenalty {
		noisePenalty = perCell
	}
	type pair struct {
		a, b  int
		score float64
	}
	var cand []pair
	for a := 0; a < d; a++ {
		if err := f.ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		for b := a + 1; b < d; b++ {
			na, nb := len(p[a]), len(p[b])
			x := pairCounts(comp[a], comp[b], nb, na)
			cand = append(cand, pair{a, b, l1FromProduct(x, p[a], p[b], total) - noisePenalty*float64(na*nb)})
		}
	}
	eps := math.Sqrt(8 * rhoSel / float64(d-1))
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
	var two []measurement
	run := 0
	for run < d-1 {
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
			return nil, nil, 0, fmt.Errorf("tree selection: %w", err)
		}
		e := live[k]
		na, nb := len(attrs[e.a].Groups), len(attrs[e.b].Groups)
		counts := pairCounts(comp[e.a], comp[e.b], nb, na)
		if err := g2.AddNoise(counts); err != nil {
			return nil, nil, 0, err
		}
		run++
		if stopEarly && l1FromProduct(counts, p[e.a], p[e.b], total) <= nullL1(one[e.a], one[e.b], p[e.a], p[e.b], total, g2.Sigma2()) {
			break
		}
		y := make([]float64, len(counts))
		v := make([]float64, len(counts))
		for k, c := range counts {
			y[k], v[k] = float64(c), g2.Sigma2()
		}
		comps[root(e.a)] = root(e.b)
		edges = append(edges, [2]int{e.a, e.b})
		two = append(two, measurement{Y: y, Var: v})
	}
	f.steps = append(f.steps,
		Step{Name: "tree selection", Rho: float64(run) * ExponentialRho(eps), Epsilon: eps, Count: run},
		Step{Name: "2-way marginals", Rho: float64(run) * g2.Rho(), Sigma2: g2.Sigma2(), Count: run,
			Note: fmt.Sprintf("%d kept", len(edges))})
	return edges, two, run, nil
}

// stopZ is how many standard deviations of its null L1 size a measured
// pair must stand above the mean to be kept (nullL1).
var stopZ = 3.0

// nullL1 is what a pair's noisy L1 distance from the product of the noisy
// 1-way estimates reaches when the two columns are independent: cell (i, j)
// then deviates by the 2-way noise (variance sigma2) less the 1-way
// estimates' errors carried through the product (variances va_i pb_j² /
// total² and vb_j pa_i² / total²); each |deviation| has mean sqrt(2/pi) s
// and variance (1 - 2/pi) s² for its standard deviation s. It returns the
// sum of the means plus stopZ standard deviations of the sum. Only noisy
// outputs and public variances enter it.
func nullL1(ma, mb measurement, pa, pb []float64, total, sigma2 float64) float64 {
	mean, v := 0.0, 0.0
	for i := range pa {
		for j := range pb {
			s2 := sigma2 + ma.Var[i]*(pb[j]/total)*(pb[j]/total) + mb.Var[j]*(pa[i]/total)*(pa[i]/total)
			mean += math.Sqrt(2 / math.Pi * s2)
			v += (1 - 2/math.Pi) * s2
		}
	}
	return mean + stopZ*math.Sqrt(v)
}

// stopEarly switches on selectAndMeasure's test of each measured pair.
var stopEarly = true

// l1FromProduct is the L1 distance between a row-major table of counts and
// the product of two marginals scaled to total.
func l1FromProduct(x []int64, pa, pb []float64, total float64) float64 {
	nb := len(pb)
	s := 0.0
	for i := range pa {
		for j := range pb {
			s += math.Abs(float64(x[i*nb+j]) - pa[i]*pb[j]/total)
		}
	}
	return s
}

// remeasure measures 1-way marginals again on their compressed bins with
// rho (histograms of sensitivity 1 each): the budget of the pairs that were
// not worth measuring. It measures the attributes of the 1-way step, whose
// noise is the largest (a discovered categorical column's marginal comes
// from the smaller noise of the domain step), or every attribute when the
// 1-way step measured none. The estimate combines the two measurements by
// inverse variance.
func (f *fitter) remeasure(comp [][]int32, rho float64) ([]measurement, error) {
	d := len(comp)
	var which []int
	for i := range d {
		if !f.fromDomain(i) || f.oneWayCount() == 0 {
			which = append(which, i)
		}
	}
	g, err := NewDiscreteGaussian(float64(len(which)) / (2 * rho))
	if err != nil {
		return nil, err
	}
	f.steps = append(f.steps, Step{Name: "1-way marginals, again", Rho: float64(len(which)) * g.Rho(), Sigma2: g.Sigma2(), Count: len(which),
		Note: "the budget of the pairs not measured"})
	out := make([]measurement, d)
	for _, i := range which {
		counts := make([]int64, len(f.m.Attrs[i].Groups))
		for _, k := range comp[i] {
			counts[k]++
		}
		if err := g.AddNoise(counts); err != nil {
			return nil, err
		}
		m := measurement{Y: make([]float64, len(counts)), Var: make([]float64, len(counts))}
		for k, c := range counts {
			m.Y[k], m.Var[k] = float64(c), g.Sigma2()
		}
		out[i] = m
	}
	return out, nil
}

// compress re-expresses a noisy 1-way measurement over the compressed
// domain and returns the map from fine bins to compressed bins by which the
// data are counted in the 2-way step. It is post-processing of the noisy
// counts. Categorical and boolean columns follow MST's compress_domain:
// fine bins whose noisy count is at least compressThreshold sigma keep a bin
// each, the others are merged into one bin whose measurement is their sum,
// of variance (their number) sigma², except the first keep bins (ownLevels),
// which keep one each. Numeric and datetime columns use compressRange
// instead.
func compress(a *Attr, counts []int64, sigma2 float64, trim bool, keep int) (measurement, []int32) {
	if a.isNumber() {
		return compressRange(a, counts, sigma2, trim)
	}
	thr := compressThreshold * math.Sqrt(sigma2)
	var m measurement
	var rare []int
	rareSum := 0.0
	a.Groups = a.Groups[:0]
	for k, c := range counts {
		if k < keep || float64(c) >= thr {
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
// merged into one, as in compress (but for ownLevels).
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
	keep := f.ownLevels(a)
	for k := range y {
		if k < keep || y[k] >= compressThreshold*math.Sqrt(v[k]) {
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

// selectPenalty switches on AIM's noise penalty in selectAndMeasure.
var selectPenalty = true

// estimateTotal is the inverse-variance weighted estimate of the number of
// rows from the sums of the 1-way and 2-way measurements, at least 1.
func estimateTotal(one, two []measurement) float64 {
	num, den := 0.0, 0.0
	for _, ms := range [][]measurement{one, two} {
		for _, m := range ms {
			if len(m.Y) == 0 {
				continue // an attribute not measured again
			}
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
func (f *fitter) estimate(one, extra []measurement, edges [][2]int, two []measurement) {
	m := f.m
	d := len(m.Attrs)
	total := estimateTotal(append(slices.Clone(one), extra...), two)
	// 1-way: own measurements plus the margins of incident edge
	// measurements.
	obs := make([][]measurement, d)
	for i := range one {
		obs[i] = []measurement{one[i]}
		if extra != nil && extra[i].Y != nil {
			obs[i] = append(obs[i], extra[i])
		}
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

// ownLevels is how many of a's first fine bins (its released or public
// levels) keep a compressed bin each whatever their noisy count: all of
// them when a is a column of one of the profile's functional dependencies,
// none otherwise. Merging rare levels would make them one bin in every
// 2-way marginal, so that the model, and the dependency map package model
// reads from its pilot sample, could not tell which dependent value goes
// with which of them (adult's 12th and 5th-6th shared one bin, and one of
// the two was mapped to the other's education-num in about 1% of rows).
// The relation statements are public schema and the bins a function of
// them and of noisy counts: post-processing, no extra cost.
func (f *fitter) ownLevels(a *Attr) int {
	if a.isNumber() {
		return 0
	}
	for _, r := range f.p.Relations {
		if r.Kind == relations.FD && slices.Contains(r.Columns, a.Name) {
			return len(a.Levels)
		}
	}
	return 0
}
